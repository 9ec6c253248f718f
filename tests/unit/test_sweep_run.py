"""`dsim sweep` end to end on a tiny scenario: rows equal whatever the executor (in-process, local
process pool, a real `distributed.LocalCluster`), reruns skip finished runs, a run that crashes is
a row with its error, invalid points are rows, SIGKILL mid-sweep then a rerun gives exactly one
row per point without repeating a finished run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from model.sweep import load_sweep
from sim.cli import cli
from sim.scenario import world as world_module
from sim.sweep.engine import run_sweep
from sim.sweep.plan import build_plan
from tests.helpers.sweeps import ROOT, SWEEP, write_tiny


def table(out: Path) -> list[dict]:
    return pq.read_table(out / "results.parquet").to_pylist()


def digests(out: Path) -> dict[tuple, str]:
    return {(r["point"], r["key"]): r["digest"] for r in table(out)}


def test_pool_rows_equal_in_process_rows_and_dsim_run(tmp_path: Path) -> None:
    plan = build_plan(load_sweep(write_tiny(tmp_path)))
    serial = run_sweep(plan, tmp_path / "serial", workers=0, report=False)
    pool = run_sweep(plan, tmp_path / "pool", workers=2, keep_runs=True)
    assert serial.ran == pool.ran == 8 and serial.counts == {"ok": 8}
    assert digests(tmp_path / "serial") == digests(tmp_path / "pool")
    rows = table(tmp_path / "pool")
    assert [r["point"] for r in rows] == list(range(8))
    first = rows[0]
    assert first["workload.synthetic.rate"] == 2 and first["maxReplicas"] == 2 and first["seed"] == 1
    assert first["status"] == "ok" and first["meets_slo"] is True
    assert first["completed"] > 0 and first["e2e_p99_s"] > 0
    assert (
        first["inference.gpu_hours"] is not None and first["gpu_hours_total"] >= first["inference.gpu_hours"]
    )
    # the same run through `dsim run` has the same digest (the sweep runs the same runner)
    run_dir = tmp_path / "pool" / "runs" / first["key"]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["digest"] == first["digest"]
    assert (
        (tmp_path / "pool" / "results.csv")
        .read_text()
        .splitlines()[0]
        .startswith(
            "key,point,workload.synthetic.rate,maxReplicas,seed,profile,status,error,meets_slo,digest"
        )
    )
    html = (tmp_path / "pool" / "report.html").read_text()
    assert "Pareto front" in html and "Heatmaps" in html and "data:image/png;base64" in html
    # a rerun skips everything and rebuilds the same table
    again = run_sweep(plan, tmp_path / "pool", workers=2, report=False)
    assert (again.ran, again.skipped) == (0, 8)
    assert digests(tmp_path / "pool") == digests(tmp_path / "serial")


@pytest.mark.slow
def test_dask_local_cluster_rows_equal_local_pool_rows(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    plan = build_plan(load_sweep(write_tiny(tmp_path)))
    pool = run_sweep(plan, tmp_path / "pool", workers=2, report=False)
    dask = run_sweep(plan, tmp_path / "dask", workers=2, dask="local", report=False)
    assert pool.ran == dask.ran == 8
    assert digests(tmp_path / "dask") == digests(tmp_path / "pool")
    strip = ("wall_s",)
    a = [{k: v for k, v in r.items() if k not in strip} for r in table(tmp_path / "pool")]
    b = [{k: v for k, v in r.items() if k not in strip} for r in table(tmp_path / "dask")]
    assert a == b
    # an existing cluster, by its scheduler address (two runs are enough)
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster:
        remote = run_sweep(
            plan, tmp_path / "remote", workers=1, dask=cluster.scheduler_address, limit=2, report=False
        )
    assert remote.ran == 2
    got = digests(tmp_path / "remote")
    assert len(got) == 2 and all(digests(tmp_path / "pool")[k] == v for k, v in got.items())


def test_a_crashing_run_is_a_row_and_the_sweep_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = SWEEP.replace("values: [2, 8]", "values: [-1, 2]")
    plan = build_plan(load_sweep(write_tiny(tmp_path, text)))

    original = world_module.World._schedule_faults

    def maybe_boom(self: world_module.World) -> None:
        wl = self.resolved.scenario.workload
        if wl is not None and wl.synthetic is not None and self.resolved.scenario.seed == 2:

            def boom(world: world_module.World):  # type: ignore[no-untyped-def]
                yield world.sim.env.timeout(7)
                raise RuntimeError("injected crash at 7 s")

            self.sim.env.process(boom(self))
        original(self)

    monkeypatch.setattr(world_module.World, "_schedule_faults", maybe_boom)
    outcome = run_sweep(plan, tmp_path / "out", workers=0)
    rows = table(tmp_path / "out")
    assert len(rows) == 8
    assert outcome.counts == {"invalid": 4, "ok": 2, "error": 2}
    errors = [r for r in rows if r["status"] == "error"]
    assert {r["seed"] for r in errors} == {2}
    assert errors[0]["error"] == "RuntimeError: injected crash at 7 s"
    assert errors[0]["meets_slo"] is None and errors[0]["digest"]
    assert all(r["error"].startswith("workload.synthetic.rate: ") for r in rows if r["status"] == "invalid")
    assert "injected crash" in (tmp_path / "out" / "report.html").read_text()


def test_a_worker_exception_is_a_crashed_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sim.sweep import worker

    plan = build_plan(load_sweep(write_tiny(tmp_path)))

    def broken(summary, folder, resolved):  # type: ignore[no-untyped-def]
        raise OSError("disk full")

    monkeypatch.setattr(worker, "row_from_run", broken)
    outcome = run_sweep(plan, tmp_path / "out", workers=0, report=False)
    assert outcome.counts == {"crashed": 8}
    row = json.loads(next((tmp_path / "out" / "rows").glob("*.json")).read_text())
    assert row["error"] == "OSError: disk full" and "Traceback" in row["traceback"]
    # crashed rows are done: a rerun does not repeat them (delete rows/<key>.json to retry one)
    assert run_sweep(plan, tmp_path / "out", workers=0, report=False).ran == 0


def test_cli_summary_limit_and_exit_codes(tmp_path: Path) -> None:
    path = write_tiny(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["sweep", str(path), "--out", str(out), "--workers", "0", "--limit", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "ran 3, already done 0, 5 left" in result.output
    result = CliRunner().invoke(cli, ["sweep", str(path), "--out", str(out), "--workers", "0"])
    assert result.exit_code == 0, result.output
    assert "ran 5, already done 3" in result.output and "best: workload.synthetic.rate=" in result.output
    assert len(table(out)) == 8
    result = CliRunner().invoke(cli, ["sweep", str(path), "--out", str(tmp_path / "o2"), "--dry-run"])
    assert result.exit_code == 0 and "8 point(s), 0 invalid, 0 already done" in result.output
    assert not (tmp_path / "o2").exists()


def test_sigkill_mid_sweep_then_rerun_gives_one_row_per_point(tmp_path: Path) -> None:
    text = SWEEP.replace("seeds: [1, 2]", "seeds: [1, 2, 3]")
    path = write_tiny(tmp_path, text.replace("duration: 60", "duration: 60"))
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "sim.cli",
        "sweep",
        str(path),
        "--out",
        str(out),
        "--workers",
        "1",
        "--quiet",
    ]
    proc = subprocess.Popen(
        cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    rows_dir = out / "rows"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if rows_dir.is_dir() and len(list(rows_dir.glob("*.json"))) >= 3:
                break
            if proc.poll() is not None:
                break
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the sweep, its forkserver and its worker
        proc.wait()
    finished = {p.name: p.stat().st_mtime_ns for p in rows_dir.glob("*.json")}
    assert 3 <= len(finished) < 12, f"the sweep was not killed mid-way ({len(finished)} rows)"
    assert proc.returncode == -signal.SIGKILL
    result = CliRunner().invoke(cli, ["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"])
    assert result.exit_code == 0, result.output
    rows = table(out)
    assert sorted(r["point"] for r in rows) == list(range(12))
    assert len({r["key"] for r in rows}) == 12
    # the runs finished before the kill were not run again
    assert {p.name: p.stat().st_mtime_ns for p in rows_dir.glob("*.json") if p.name in finished} == finished


def test_ctrl_c_finishes_runs_in_flight_writes_tables_and_exits_130(tmp_path: Path) -> None:
    path = write_tiny(tmp_path, SWEEP.replace("seeds: [1, 2]", "seeds: [1, 2, 3, 4, 5, 6]"))
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [
        sys.executable,
        "-m",
        "sim.cli",
        "sweep",
        str(path),
        "--out",
        str(out),
        "--workers",
        "2",
        "--quiet",
    ]
    proc = subprocess.Popen(
        cmd,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        # a background job of a non-interactive shell starts with SIGINT ignored: undo that
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    rows_dir = out / "rows"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if rows_dir.is_dir() and list(rows_dir.glob("*.json")):
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
    output, _ = proc.communicate(timeout=120)
    text = output.decode()
    assert proc.returncode == 130, text
    assert "interrupted: finishing" in text and "rerun the same command to finish" in text
    done = len(list(rows_dir.glob("*.json")))
    assert 1 <= done < 24
    assert len(table(out)) == done  # the tables hold what is done
    result = CliRunner().invoke(cli, ["sweep", str(path), "--out", str(out), "--workers", "0", "--quiet"])
    assert result.exit_code == 0
    assert sorted(r["point"] for r in table(out)) == list(range(24))


def test_a_dying_worker_process_is_a_crashed_row_and_the_others_finish() -> None:
    from sim.sweep.executors import run_pool
    from sim.sweep.worker import RunTask
    from tests.helpers.sweeps import fake_run

    tasks = [RunTask(k, None) for k in ("a", "die", "b", "c")]  # type: ignore[arg-type]
    rows: list[dict] = []
    assert run_pool(tasks, 2, rows.append, lambda _: None, fn=fake_run) is False
    by_key = {r["key"]: r for r in rows}
    assert sorted(by_key) == ["a", "b", "c", "die"] and len(rows) == 4
    assert by_key["die"]["status"] == "crashed" and "worker process died" in by_key["die"]["error"]
    assert all(by_key[k]["status"] == "ok" for k in "abc")

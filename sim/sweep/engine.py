"""Run a planned sweep: skip what is done, execute the rest, keep every finished row on disk.

The output folder:

    DIR/rows/<key>.json     one file per finished run, written atomically (temp file + os.replace)
                            as soon as its result arrives: the source of truth
    DIR/results.parquet     one row per point of the plan, rebuilt from rows/ (tidy table)
    DIR/results.csv         the same table as CSV
    DIR/report.html         Pareto front, heatmaps, marginals, best configurations
    DIR/sweep.json          the sweep's name, plan size, code version and counts
    DIR/runs/<key>/         each run's folder (--keep-runs)

A rerun of the same sweep skips every key that has a row, so a sweep killed at any moment (even
with SIGKILL) resumes without repeating or losing a finished run; runs that were in flight are
simply run again."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model.sweep import evaluate_condition
from sim.sweep.columns import ordered_columns
from sim.sweep.plan import Plan
from sim.sweep.worker import RunTask

ROWS = "rows"
RUNS = "runs"
RESULTS_PARQUET = "results.parquet"
RESULTS_CSV = "results.csv"
REPORT = "report.html"
META = "sweep.json"
TABLE_EXCLUDED = ("traceback",)
"""Row fields kept in rows/<key>.json but not in the tables."""
NOT_RUN = ("invalid",)


def atomic_write(path: Path, data: bytes) -> None:
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}"
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class RowStore:
    """rows/<key>.json: a row exists once its run has finished."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def has(self, key: str) -> bool:
        return self.path(key).is_file()

    def write(self, row: Mapping[str, Any]) -> None:
        text = json.dumps(row, sort_keys=True, indent=1, default=_json_default) + "\n"
        atomic_write(self.path(str(row["key"])), text.encode("utf-8"))

    def read(self, key: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


@dataclass
class SweepOutcome:
    out: Path
    rows: list[dict[str, Any]]
    columns: list[str]
    ran: int
    skipped: int
    interrupted: bool
    left: int
    """Runs of the plan still without a row (interrupted, or beyond --limit)."""
    counts: dict[str, int] = field(default_factory=dict)


class Progress:
    """What the engine tells the command line (no-op by default)."""

    def start(self, total: int, done: int) -> None: ...

    def advance(self, row: Mapping[str, Any]) -> None: ...

    def message(self, text: str) -> None: ...

    def stop(self) -> None: ...


def run_sweep(
    plan: Plan,
    out: Path,
    *,
    workers: int,
    dask: str | None = None,
    keep_runs: bool = False,
    limit: int | None = None,
    progress: Progress | None = None,
    report: bool = True,
) -> SweepOutcome:
    from sim.sweep import executors

    bar = progress or Progress()
    out.mkdir(parents=True, exist_ok=True)
    store = RowStore(out / ROWS)
    todo: list[RunTask] = []
    queued: set[str] = set()
    skipped = 0
    for run in plan.runs:
        if run.key is None or run.resolved is None or run.key in queued:
            continue
        queued.add(run.key)
        if store.has(run.key):
            skipped += 1
            continue
        keep = str(out / RUNS / run.key) if keep_runs else None
        todo.append(RunTask(run.key, run.resolved, keep))
    if limit is not None:
        todo = todo[: max(0, limit)]
    ran = 0
    mismatched: set[str] = set()

    def on_row(row: dict[str, Any]) -> None:
        nonlocal ran
        worker_code = row.get("code_version")
        if worker_code is not None and worker_code != plan.code:
            # a worker with other code would file its result under a key it does not match: keep
            # no row (a rerun retries it) and say why once
            if str(worker_code) not in mismatched:
                mismatched.add(str(worker_code))
                bar.message(
                    f"a worker runs disagg-sim {worker_code}, this sweep {plan.code}: its results are "
                    "not kept; install the same code on every worker"
                )
            bar.advance({"status": "crashed"})
            return
        store.write(row)
        ran += 1
        bar.advance(row)

    bar.start(len(todo), 0)
    try:
        if workers == 0:
            interrupted = executors.run_serial(todo, on_row, bar.message)
        elif dask is not None:
            interrupted = executors.run_dask(todo, dask, workers, on_row, bar.message)
        else:
            interrupted = executors.run_pool(todo, workers, on_row, bar.message)
    finally:
        bar.stop()
    rows, columns = write_tables(plan, out, store)
    if report:
        from sim.sweep.report import write_report

        write_report(plan, rows, out / REPORT)
    counts: dict[str, int] = {}
    for row in rows:
        counts[str(row.get("status"))] = counts.get(str(row.get("status")), 0) + 1
    left = sum(1 for k in queued if not store.has(k))
    _write_meta(plan, out, counts, left)
    return SweepOutcome(out, rows, columns, ran, skipped, interrupted, left, counts)


# --------------------------------------------------------------------------- tables


def meets_slo(conditions: Sequence[Mapping[str, Any]], row: Mapping[str, Any]) -> bool | None:
    if not conditions or row.get("status") not in ("ok", "failed"):
        return None
    results = [evaluate_condition(c, row) for c in conditions]
    if False in results:
        return False
    return None if None in results else True


def table_rows(plan: Plan, store: RowStore) -> list[dict[str, Any]]:
    """One row per point of the plan that has a result (or is invalid), in plan order."""
    rows: list[dict[str, Any]] = []
    slo = plan.loaded.sweep.slo
    cache: dict[str, dict[str, Any] | None] = {}
    for run in plan.runs:
        point = run.point
        head: dict[str, Any] = {"key": run.key, "point": point.index, **point.params}
        head["seed"] = point.seed
        head["profile"] = point.profile
        if run.key is None:
            rows.append({**head, "status": "invalid", "error": run.invalid})
            continue
        if run.key not in cache:
            cache[run.key] = store.read(run.key)
        result = cache[run.key]
        if result is None:
            continue
        row = {**head, **{k: v for k, v in result.items() if k not in TABLE_EXCLUDED and k not in head}}
        row["meets_slo"] = meets_slo(slo, row)
        rows.append(row)
    return rows


def write_tables(
    plan: Plan, out: Path, store: RowStore | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    store = store or RowStore(out / ROWS)
    rows = table_rows(plan, store)
    columns = ordered_columns(plan.params, plan.roles, rows)
    atomic_write(out / RESULTS_CSV, _csv_bytes(rows, columns))
    atomic_write(out / RESULTS_PARQUET, _parquet_bytes(rows, columns))
    return rows, columns


def _csv_bytes(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else _cell(row.get(c)) for c in columns])
    return buf.getvalue().encode("utf-8")


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _parquet_bytes(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = []
    for col in columns:
        values = [row.get(col) for row in rows]
        try:
            arr = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
            arr = pa.array([None if v is None else str(v) for v in values], type=pa.string())
        if pa.types.is_null(arr.type):
            arr = pa.array(values, type=pa.float64())
        arrays.append(arr)
    table = pa.Table.from_arrays(arrays, names=list(columns))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return bytes(sink.getvalue().to_pybytes())


def _write_meta(plan: Plan, out: Path, counts: Mapping[str, int], left: int) -> None:
    sweep = plan.loaded.sweep
    meta = {
        "sweep": sweep.name,
        "file": str(plan.loaded.file),
        "base": str(plan.base.file),
        "points": len(plan.runs),
        "dropped_by_constraints": plan.dropped_by_constraints,
        "parameters": plan.params,
        "roles": list(plan.roles),
        "code_version": plan.code,
        "status_counts": dict(sorted(counts.items())),
        "runs_left": left,
    }
    atomic_write(out / META, (json.dumps(meta, indent=1, sort_keys=True) + "\n").encode("utf-8"))


ProgressFactory = Callable[[], Progress]

"""`dsim serve`: --speed runs the clock on its own; SIGINT writes the run's artefacts as `dsim run`;
a non-loopback --host without --token is refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sim.scenario.load import load_scenario
from sim.serve import Driver, ServeServer

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "llm-prefill-decode.yaml"


def test_speed_mode_advances_by_itself_and_refuses_manual_steps() -> None:
    driver = Driver(load_scenario(SCENARIO), speed=200.0)
    with ServeServer(driver) as server:
        deadline = time.monotonic() + 10
        while driver.now < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert driver.now >= 20
        req = urllib.request.Request(f"{server.url}/dsim/v1/advance?seconds=5", method="POST")
        try:
            urllib.request.urlopen(req, timeout=5)
            raise AssertionError("advance must be refused under --speed")
        except urllib.error.HTTPError as err:
            assert err.code == 409
        clock = json.loads(urllib.request.urlopen(f"{server.url}/dsim/v1/clock", timeout=5).read())
        assert clock["mode"] == "speed" and clock["speed"] == 200.0


def test_sigint_writes_the_artefacts(tmp_path: Path) -> None:
    out = tmp_path / "out"
    kc = tmp_path / "kc"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "serve",
            str(SCENARIO),
            "--step",
            "--kubeconfig",
            str(kc),
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.split(" on ")[1].split(" ")[0]
        assert url.startswith("http://127.0.0.1:") and url in kc.read_text()
        req = urllib.request.Request(f"{url}/dsim/v1/advance?seconds=45", method="POST")
        assert json.loads(urllib.request.urlopen(req, timeout=30).read())["now"] == 45.0
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["sim_seconds"] == 45.0 and summary["scenario"] == "llm-prefill-decode"
    assert (out / "events.jsonl").stat().st_size > 0


def test_non_loopback_host_needs_a_token(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sim.cli", "serve", str(SCENARIO), "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--token" in done.stderr and "Traceback" not in done.stderr

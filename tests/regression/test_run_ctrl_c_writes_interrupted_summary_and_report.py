"""Regression (issue 21, case 7): Ctrl-C during `dsim run` printed "interrupted; ... was left as it
was" and wrote nothing, so an interrupted one-hour replay lost everything. Now SIGINT mid-run
writes the artefacts up to the simulated time reached (summary.json `"status": "interrupted"` with
`sim_seconds`, report.html without plots) and exits promptly with 130 (128 + SIGINT)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers.badinput import copy_scenario, edit

PROMPT_EXIT_SECONDS = 2.0


def test_run_ctrl_c_writes_interrupted_summary_and_report(tmp_path: Path) -> None:
    scenario = copy_scenario(tmp_path)
    edit(scenario, "duration: 5m", "duration: 168h")  # far longer than the test waits
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.cli", "run", str(scenario), "--out", str(out), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".out.partial-*")):  # the run folder exists: simulating
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.0)  # mid-run
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    _, stderr = proc.communicate()
    assert proc.returncode == 130, stderr
    assert took < PROMPT_EXIT_SECONDS, took
    assert b"Traceback" not in stderr
    assert b"interrupted at" in stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["status"] == "interrupted"
    assert 0 < summary["sim_seconds"] < 168 * 3600
    assert (out / "report.html").stat().st_size > 0
    assert "INTERRUPTED" in (out / "report.html").read_text(encoding="utf-8")
    assert not (out / "error.txt").exists()
    assert not list(tmp_path.glob(".out.*"))  # no partial folder left behind

"""The one place `dsim serve` reads wall time (exempt from the banned-api rule in pyproject):
pacing `--speed`, watch `timeoutSeconds` deadlines and the artefacts' wall_seconds."""

from __future__ import annotations

import time


def monotonic() -> float:
    return time.monotonic()  # wall-clock-ok


def sleep(seconds: float) -> None:
    time.sleep(seconds)  # wall-clock-ok

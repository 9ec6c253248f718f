"""The one wall-clock read in the simulator: how long a run took, for `wall_seconds` and the
progress bar. Never part of the digest or of any simulated decision."""

from __future__ import annotations

import time


def wall_seconds() -> float:
    """Monotonic wall-clock seconds (only differences are meaningful)."""
    # wall-clock-ok: measures the run's real duration for summary.json wall_seconds and the
    # progress bar; it never reaches simulated state, the event log or the digest.
    return time.perf_counter()  # wall-clock-ok: run duration only, never simulated state

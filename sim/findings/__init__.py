"""Findings: what went wrong in a run, named. Pure functions over the recorded time series and
events (sim/findings/detect.py); each `Finding` says which role, when, what the numbers were and
what to try (docs/findings.md)."""

from sim.findings.detect import FindingInputs, detect_all
from sim.findings.types import Finding

__all__ = ["Finding", "FindingInputs", "detect_all"]

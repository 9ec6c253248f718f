"""Adapter from the API server's admission hook to `model.admission.admit` (validation in model/)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sim.apiserver.server import AdmissionIssue


def model_admission(obj: dict[str, Any]) -> Sequence[AdmissionIssue]:
    """Validate `obj` with the project's pydantic models; issues of severity "error" reject it.

    Imported lazily so the API server works (with admission=None) before model.admission exists."""
    from model.admission import admit  # type: ignore[import-not-found,unused-ignore]

    issues: Sequence[AdmissionIssue] = admit(obj)
    return issues

"""Adapter from the API server's admission hook to `model.admission.admit` (validation in model/)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sim.apiserver.server import AdmissionIssue


def model_admission(obj: dict[str, Any]) -> Sequence[AdmissionIssue]:
    """Validate `obj` with the project's pydantic models; issues of severity "error" reject it.

    Imported lazily: runs without admission (the default) never load the pydantic models."""
    from model.admission import admit

    issues: Sequence[AdmissionIssue] = admit(obj)
    return issues

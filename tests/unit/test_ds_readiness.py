"""Truth tables for role readiness in both profiles (Quirk.DS_READY_REQUIRES_NONZERO on/off)."""

from __future__ import annotations

from typing import Any

import pytest

from sim.decisions.disaggregated import deployment_ready


def _dep(
    spec: int, status_replicas: int, ready: int, generation: int = 1, observed: int = 1
) -> dict[str, Any]:
    return {
        "metadata": {"name": "d", "generation": generation},
        "spec": {"replicas": spec},
        "status": {"replicas": status_replicas, "readyReplicas": ready, "observedGeneration": observed},
    }


# (spec.replicas, status.replicas, status.readyReplicas, generation, observedGeneration) -> (upstream, corrected)
TABLE = [
    ((0, 0, 0, 1, 1), (False, True)),  # scale-to-zero: the review's bug, never Ready upstream
    ((1, 1, 1, 1, 1), (True, True)),
    ((3, 3, 3, 1, 1), (True, True)),
    ((3, 3, 2, 1, 1), (False, False)),
    ((3, 1, 1, 2, 1), (True, False)),  # status lags spec: upstream Ready with 1 of 3 pods
    ((3, 3, 3, 2, 1), (True, False)),  # spec changed, controller has not observed it yet
    ((3, 4, 3, 1, 1), (False, True)),  # surge pod during rollout: corrected counts ready vs spec
    ((2, 0, 0, 1, 1), (False, False)),
    ((0, 1, 0, 2, 2), (False, True)),  # scaling down to zero, last pod terminating (not ready)
]


@pytest.mark.parametrize(("row", "expected"), TABLE)
def test_readiness_truth_table(row: tuple[int, int, int, int, int], expected: tuple[bool, bool]) -> None:
    dep = _dep(*row)
    assert (
        deployment_ready(dep, requires_nonzero=True),
        deployment_ready(dep, requires_nonzero=False),
    ) == expected


def test_missing_deployment_is_never_ready() -> None:
    assert deployment_ready(None, requires_nonzero=True) is False
    assert deployment_ready(None, requires_nonzero=False) is False


def test_fresh_deployment_without_status() -> None:
    fresh = {"metadata": {"name": "d", "generation": 1}, "spec": {"replicas": 2}}
    assert deployment_ready(fresh, requires_nonzero=True) is False
    assert deployment_ready(fresh, requires_nonzero=False) is False
    # zero desired but the Deployment controller has not observed generation 1 yet
    zero = {"metadata": {"name": "d", "generation": 1}, "spec": {"replicas": 0}}
    assert deployment_ready(zero, requires_nonzero=False) is False
    zero["status"] = {"observedGeneration": 1}
    assert deployment_ready(zero, requires_nonzero=False) is True
    assert deployment_ready(zero, requires_nonzero=True) is False

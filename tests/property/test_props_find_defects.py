"""Hypothesis, searching random pipelines (role DAGs, scaler sets, a request rate) through the whole
control plane, finds each upstream defect a property can express: an example whose invariant fails
under `upstream` and holds under `corrected` (so the quirk, not the example, is to blame).

The zero-replica search is cheap and runs in every profile; the other three search a larger space
and run under the `deep` profile (make deep). Their shrunk examples are the scenarios kept in
tests/regression/upstream_defects/."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, find, settings
from hypothesis import strategies as st

from sim.testing.cluster import SimCluster
from sim.testing.strategies import disaggregated_service, role_dags, scaler_sets

ROLES = ("router", "tokenizer", "inference")
DEEP = os.environ.get("HYPOTHESIS_PROFILE") == "deep"
SEARCH = settings(
    max_examples=300 if DEEP else 30,
    database=None,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

Case = tuple[list[dict[str, Any]], list[dict[str, Any]], float]

# The deep searches assert what the defect needs, not the fully shrunk form: Hypothesis stops
# shrinking after a time limit, which a busy machine can reach (an unshrunk example with an extra
# scaler is still the defect).


def violated(case: Case, profile: str, seconds: float = 150.0) -> set[str]:
    roles, scalers, rate = case
    cluster = SimCluster(seed=0, profile=profile, nodes=3)
    cluster.apply(disaggregated_service("pipe", roles))
    for s in scalers:
        cluster.apply(s)
    if rate:
        cluster.load("pipe", rate)
    cluster.advance(seconds)
    return {v.name for v in cluster.violations()}


def quirk_caused(name: str) -> Any:
    def predicate(case: Case) -> bool:
        return name in violated(case, "upstream") and name not in violated(case, "corrected")

    return predicate


def cases(**scalers: Any) -> st.SearchStrategy[Case]:
    return st.tuples(
        role_dags(max_roles=3, names=ROLES),
        scaler_sets("pipe", ROLES, **scalers),
        st.sampled_from([0.0, 5.0, 20.0]),
    )


def test_finds_zero_replica_dependency_blocking_dependents() -> None:
    roles, scalers, _rate = find(cases(max_size=0), quirk_caused("dependents_start"), settings=SEARCH)
    assert scalers == []
    assert [(r["replicas"], r.get("dependsOn")) for r in roles] == [(0, None), (0, ["router"])]


@pytest.mark.skipif(not DEEP, reason="a larger search: HYPOTHESIS_PROFILE=deep (make deep)")
def test_finds_no_scale_up_from_zero() -> None:
    roles, scalers, rate = find(
        cases(min_size=1, max_size=2), quirk_caused("wakes_from_zero"), settings=SEARCH
    )
    assert rate > 0 and scalers
    at_zero = {r["name"] for r in roles if r["replicas"] == 0}
    assert any(s["spec"].get("subTargetSelector", {}).get("roleName") in at_zero for s in scalers)


@pytest.mark.skipif(not DEEP, reason="a larger search: HYPOTHESIS_PROFILE=deep (make deep)")
def test_finds_cross_kind_double_control() -> None:
    _roles, scalers, _rate = find(cases(min_size=2, max_size=3), quirk_caused("no_fights"), settings=SEARCH)
    kinds = {s["spec"]["scaleTargetRef"]["kind"] for s in scalers}
    assert kinds == {"Deployment", "DisaggregatedService"}


@pytest.mark.skipif(not DEEP, reason="a larger search: HYPOTHESIS_PROFILE=deep (make deep)")
def test_finds_panic_at_two_percent_of_target() -> None:
    _roles, scalers, rate = find(
        cases(min_size=1, max_size=2, strategies=("KPA", "BudScaler")),
        quirk_caused("panic_threshold"),
        settings=SEARCH,
    )
    assert rate > 0 and "KPA" in [s["spec"]["scalingStrategy"] for s in scalers]

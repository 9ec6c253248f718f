"""Truth tables for the BudAIScaler conflict rules in both profiles."""

from __future__ import annotations

import pytest

from sim.decisions.bud_controller.conflicts import (
    ScalerRef,
    check_conflict,
    effective_deployments,
    pr_rule_conflicts,
    resolve_conflicts,
)


def ref(
    name: str,
    kind: str,
    target: str,
    role: str | None = None,
    ts: str = "2026-01-01T00:00:00Z",
    ns: str = "ns",
) -> ScalerRef:
    return ScalerRef(
        namespace=ns, name=name, creation_timestamp=ts, target_kind=kind, target_name=target, role_name=role
    )


DS = "DisaggregatedService"


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (ref("a", DS, "p", "router"), ref("b", DS, "p", "tokenizer"), False),
        (ref("a", DS, "p", "router"), ref("b", DS, "p", "router"), True),
        (ref("a", DS, "p", "router"), ref("b", DS, "p"), True),
        (ref("a", DS, "p"), ref("b", DS, "p"), True),
        (ref("a", DS, "p", "router"), ref("b", DS, "q", "router"), False),
        (ref("a", "Deployment", "p-router"), ref("b", DS, "p", "router"), False),
        (ref("a", "Deployment", "d"), ref("b", "Deployment", "d"), True),
        (ref("a", "Deployment", "d"), ref("b", "StatefulSet", "d"), False),
        (ref("a", "Deployment", "d", ns="x"), ref("b", "Deployment", "d", ns="y"), False),
        (ref("a", "Deployment", "d"), ref("a", "Deployment", "d"), False),
    ],
)
def test_pr_rule_truth_table(a: ScalerRef, b: ScalerRef, expected: bool) -> None:
    assert pr_rule_conflicts(a, b) is expected
    assert pr_rule_conflicts(b, a) is expected


def test_effective_targets_map_roles_to_generated_deployments() -> None:
    assert effective_deployments(ref("a", DS, "p", "router")) == frozenset({("ns", "p-router")})
    assert effective_deployments(ref("a", DS, "p")) == frozenset()
    assert effective_deployments(ref("a", DS, "p"), {("ns", "p"): ["router", "tok"]}) == frozenset(
        {("ns", "p-router"), ("ns", "p-tok")}
    )
    assert effective_deployments(ref("a", "Deployment", "d")) == frozenset({("ns", "d")})
    assert effective_deployments(ref("a", "StatefulSet", "s")) == frozenset()


def test_upstream_symmetric_both_lose() -> None:
    scalers = [ref("b", DS, "p", "router"), ref("a", DS, "p", "router", ts="2026-01-01T00:00:05Z")]
    v = resolve_conflicts(scalers, symmetric=True, blind_to_generated_deployment=True)
    assert v[("ns", "a")].conflicted and v[("ns", "b")].conflicted
    assert (
        v[("ns", "a")].message
        == "conflict: BudAIScaler b is already targeting DisaggregatedService/p role router"
    )
    assert (
        v[("ns", "b")].message
        == "conflict: BudAIScaler a is already targeting DisaggregatedService/p role router"
    )
    assert v[("ns", "a")].winner is None


def test_upstream_blind_to_generated_deployment_both_scale() -> None:
    scalers = [ref("on-role", DS, "p", "router"), ref("on-dep", "Deployment", "p-router")]
    v = resolve_conflicts(scalers, symmetric=True, blind_to_generated_deployment=True)
    assert [x.conflicted for x in v.values()] == [False, False]


def test_corrected_oldest_wins_and_loser_names_winner() -> None:
    scalers = [
        ref("young", DS, "p", "router", ts="2026-01-01T00:00:09Z"),
        ref("old", "Deployment", "p-router", ts="2026-01-01T00:00:01Z"),
    ]
    v = resolve_conflicts(scalers, symmetric=False, blind_to_generated_deployment=False)
    assert v[("ns", "old")].conflicted is False
    assert v[("ns", "young")].conflicted is True
    assert v[("ns", "young")].winner == "old"
    assert "BudAIScaler old (created 2026-01-01T00:00:01Z)" in v[("ns", "young")].message


def test_corrected_same_timestamp_name_breaks_tie() -> None:
    scalers = [ref("b", "Deployment", "d"), ref("a", "Deployment", "d")]
    v = resolve_conflicts(scalers, symmetric=False, blind_to_generated_deployment=False)
    assert (v[("ns", "a")].conflicted, v[("ns", "b")].conflicted, v[("ns", "b")].winner) == (False, True, "a")


def test_corrected_whole_ds_between_two_roles_greedy() -> None:
    # router(t1) < whole(t2) < tok(t3): whole loses to router; tok does not conflict with router -> wins.
    scalers = [
        ref("router", DS, "p", "router", ts="2026-01-01T00:00:01Z"),
        ref("whole", DS, "p", ts="2026-01-01T00:00:02Z"),
        ref("tok", DS, "p", "tok", ts="2026-01-01T00:00:03Z"),
    ]
    v = resolve_conflicts(scalers, symmetric=False, blind_to_generated_deployment=False)
    assert {k[1]: (x.conflicted, x.winner) for k, x in v.items()} == {
        "router": (False, None),
        "whole": (True, "router"),
        "tok": (False, None),
    }


def test_check_conflict_ignores_other_namespaces_and_self() -> None:
    me = ref("me", "Deployment", "d")
    others = [me, ref("x", "Deployment", "d", ns="other")]
    assert check_conflict(me, others, symmetric=True, blind_to_generated_deployment=True).conflicted is False


def test_from_object_reads_wire_form() -> None:
    obj = {
        "metadata": {"namespace": "ns", "name": "s", "creationTimestamp": "2026-01-01T00:00:03Z"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "scaler.bud.studio/v1alpha1", "kind": DS, "name": "p"},
            "subTargetSelector": {"roleName": "router"},
        },
    }
    assert ScalerRef.from_object(obj) == ref("s", DS, "p", "router", ts="2026-01-01T00:00:03Z")
    obj["spec"]["subTargetSelector"] = {"roleName": ""}
    assert ScalerRef.from_object(obj).role_name is None

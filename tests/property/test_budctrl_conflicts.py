"""Hypothesis: BudAIScaler conflict rules over random sets of 1-6 scalers, creation orders and
reconcile interleavings, in both profiles.

Targets mix Deployments, DisaggregatedService roles, a whole DS, and the Deployment `<ds>-<role>`
a role generates. Each scaler is created at a distinct simulated second (creation order = age),
and reconciles happen in a random interleaving; a reconcile sees every scaler created so far.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import find, given
from hypothesis import strategies as st

from sim.decisions.bud_controller.conflicts import (
    ScalerRef,
    check_conflict,
    effective_deployments,
    pr_rule_conflicts,
    resolve_conflicts,
    scalers_conflict,
)

DS = "DisaggregatedService"
DS_ROLES = {("ns", "pipe"): ["router", "inference"]}
TARGETS: list[tuple[str, str, str | None]] = [
    (DS, "pipe", "router"),
    (DS, "pipe", "inference"),
    (DS, "pipe", None),
    ("Deployment", "pipe-router", None),
    ("Deployment", "pipe-inference", None),
    ("Deployment", "other", None),
]


@dataclass(frozen=True)
class Profile:
    symmetric: bool
    blind: bool


UPSTREAM = Profile(symmetric=True, blind=True)
CORRECTED = Profile(symmetric=False, blind=False)


@st.composite
def scaler_sets(draw: st.DrawFn) -> list[ScalerRef]:
    n = draw(st.integers(1, 6))
    names = draw(st.lists(st.sampled_from("abcdefgh"), min_size=n, max_size=n, unique=True))
    targets = draw(st.lists(st.sampled_from(TARGETS), min_size=n, max_size=n))
    # names[i] is created at second i: a random creation order relative to the names.
    return [
        ScalerRef(
            namespace="ns",
            name=names[i],
            creation_timestamp=f"2026-01-01T00:00:{i:02d}Z",
            target_kind=k,
            target_name=t,
            role_name=r,
        )
        for i, (k, t, r) in enumerate(targets)
    ]


def verdicts(scalers: Sequence[ScalerRef], p: Profile) -> dict[str, bool]:
    v = resolve_conflicts(
        scalers, symmetric=p.symmetric, blind_to_generated_deployment=p.blind, ds_roles=DS_ROLES
    )
    return {k[1]: x.conflicted for k, x in v.items()}


def replay(
    scalers: Sequence[ScalerRef], p: Profile, schedule: Sequence[int]
) -> tuple[dict[str, bool], list[tuple[str, str]]]:
    """Create scalers in age order; between creations, reconcile a random subset in a random order,
    then reconcile everybody in the order `schedule` permutes. Returns the last verdict per scaler
    and every (deployment, writer) pair a non-conflicted reconcile wrote."""
    live: list[ScalerRef] = []
    last: dict[str, bool] = {}
    writes: list[tuple[str, str]] = []

    def reconcile(s: ScalerRef) -> None:
        v = check_conflict(
            s, live, symmetric=p.symmetric, blind_to_generated_deployment=p.blind, ds_roles=DS_ROLES
        )
        last[s.name] = v.conflicted
        # A DS target without roleName never writes (generic scale not implemented).
        if not v.conflicted and not (s.target_kind == DS and s.role_name is None):
            writes.extend((dep[1], s.name) for dep in sorted(effective_deployments(s)))

    for i, s in enumerate(scalers):
        live.append(s)
        for j in schedule[: i + 1]:
            reconcile(live[j % len(live)])
    for j in schedule:
        reconcile(scalers[j % len(scalers)])
    for s in scalers:  # everyone settles at least once after the last creation
        reconcile(s)
    final = {s.name: last[s.name] for s in scalers}
    # The settled verdict is the last reconcile's: recompute it in a schedule-permuted order.
    for j in reversed(schedule):
        reconcile(scalers[j % len(scalers)])
    assert {s.name: last[s.name] for s in scalers} == final
    return final, writes


@given(scaler_sets())
def test_upstream_reports_exactly_the_pr_rule(scalers: list[ScalerRef]) -> None:
    expected = {s.name: any(pr_rule_conflicts(s, o) for o in scalers) for s in scalers}
    assert verdicts(scalers, UPSTREAM) == expected


@given(scaler_sets())
def test_corrected_winners_are_the_greedy_oldest_first_independent_set(scalers: list[ScalerRef]) -> None:
    v = resolve_conflicts(scalers, symmetric=False, blind_to_generated_deployment=False, ds_roles=DS_ROLES)
    by_name = {s.name: s for s in scalers}
    winners = [s for s in scalers if not v[s.key].conflicted]

    def conflict(a: ScalerRef, b: ScalerRef) -> bool:
        return scalers_conflict(a, b, blind_to_generated_deployment=False, ds_roles=DS_ROLES)

    assert not any(conflict(a, b) for a in winners for b in winners)
    for s in scalers:
        if v[s.key].conflicted:
            w = by_name[str(v[s.key].winner)]
            assert w in winners and conflict(s, w) and w.rank < s.rank
            assert f"BudAIScaler {w.name} " in v[s.key].message


@given(scaler_sets(), st.permutations(range(6)))
def test_outcome_independent_of_input_and_reconcile_order(scalers: list[ScalerRef], perm: list[int]) -> None:
    for p in (UPSTREAM, CORRECTED):
        shuffled = [scalers[i % len(scalers)] for i in perm if i < len(scalers)]
        assert verdicts(shuffled, p) == verdicts(scalers, p)
        final, _ = replay(scalers, p, perm)
        assert final == verdicts(scalers, p)


def double_control(scalers: Sequence[ScalerRef], p: Profile) -> bool:
    """True when two different scalers wrote replicas for the same Deployment's pods."""
    _, writes = replay(scalers, p, list(range(6)))
    writers: dict[str, set[str]] = {}
    for dep, who in writes:
        writers.setdefault(dep, set()).add(who)
    return any(len(w) > 1 for w in writers.values())


@given(scaler_sets(), st.permutations(range(6)))
def test_corrected_at_most_one_writer_per_pod_set(scalers: list[ScalerRef], perm: list[int]) -> None:
    _, writes = replay(scalers, CORRECTED, perm)
    writers: dict[str, set[str]] = {}
    for dep, who in writes:
        writers.setdefault(dep, set()).add(who)
    assert all(len(w) == 1 for w in writers.values()), writers


def test_upstream_hypothesis_finds_double_control() -> None:
    found = find(scaler_sets(), lambda ss: double_control(ss, UPSTREAM))
    # Shrunk: two scalers, one on a DS role and one on the Deployment that role generates.
    assert len(found) == 2
    kinds = sorted((s.target_kind, s.target_name, s.role_name) for s in found)
    assert kinds in (
        [("Deployment", "pipe-router", None), (DS, "pipe", "router")],
        [("Deployment", "pipe-inference", None), (DS, "pipe", "inference")],
    )


# --- the same properties through the controller, the API server and its audit log ------------

CTRL_TARGETS: list[tuple[str, str, str | None]] = [
    (DS, "pipe", "router"),
    (DS, "pipe", None),
    ("Deployment", "pipe-router", None),
    ("Deployment", "pipe-inference", None),
    (DS, "pipe", "inference"),
]


@st.composite
def controller_runs(draw: st.DrawFn) -> tuple[list[tuple[str, str, str, str | None, float]], float]:
    """(name, kind, target, role, creation offset within its second) per scaler, plus watch latency."""
    n = draw(st.integers(1, 4))
    names = draw(st.lists(st.sampled_from("abcdef"), min_size=n, max_size=n, unique=True))
    targets = draw(st.lists(st.sampled_from(CTRL_TARGETS), min_size=n, max_size=n))
    offsets = draw(st.lists(st.sampled_from([0.0, 0.3, 0.6]), min_size=n, max_size=n))
    latency = draw(st.sampled_from([0.0, 0.2, 0.45]))
    return [(names[i], *targets[i], offsets[i]) for i in range(n)], latency


def run_controller(
    spec: tuple[list[tuple[str, str, str, str | None, float]], float], profile: str
) -> dict[str, object]:
    from model.quirks import QuirkSet
    from sim.apiserver import APIServer
    from sim.clock import Simulation
    from sim.controllers.budaiscaler import AlgorithmCall, AlgorithmOutcome, start_budaiscaler_controller
    from sim.runtime import InformerFactory

    scalers, latency = spec
    sim = Simulation(seed=3)
    api = APIServer(sim, watch_latency=latency)
    informers = InformerFactory(sim, api)
    events: list[dict[str, object]] = []

    def algo(call: AlgorithmCall) -> AlgorithmOutcome:
        snap = call.inputs.metric_snapshots.get("load")
        if snap is None or snap.count == 0:
            return AlgorithmOutcome(desired=call.inputs.current_replicas, reason="no metrics")
        # Alternate between two sizes so every non-conflicted scaler keeps writing.
        return AlgorithmOutcome(desired=2 + int(call.now // 10) % 2, reason="load")

    class Metrics:
        def pod_metric(self, namespace: str, pod: str, metric: str, now: float) -> float:
            return 10.0

    start_budaiscaler_controller(
        sim, api, informers, Metrics(), QuirkSet(profile), events=events.append, algorithm=algo
    )
    api.create(
        {
            "apiVersion": "scaler.bud.studio/v1alpha1",
            "kind": DS,
            "metadata": {"name": "pipe", "namespace": "ns"},
            "spec": {"roles": [{"name": "router", "replicas": 1}, {"name": "inference", "replicas": 1}]},
        }
    )
    for role in ("router", "inference"):
        labels = {"scaler.bud.studio/disaggregated-service": "pipe", "scaler.bud.studio/role": role}
        api.create(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": f"pipe-{role}", "namespace": "ns"},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": labels}},
                },
            }
        )
        api.create(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": f"pipe-{role}-0", "namespace": "ns", "labels": labels},
                "spec": {},
            }
        )
        pod = api.get("Pod", "ns", f"pipe-{role}-0")
        pod["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        api.update_status(pod)

    refs: list[ScalerRef] = []
    for i, (name, kind, target, role, offset) in enumerate(scalers):
        sim.run(until=1.0 + i + offset)  # one scaler per simulated second: creation order = age
        body: dict[str, object] = {
            "scaleTargetRef": {"kind": kind, "name": target},
            "minReplicas": 1,
            "maxReplicas": 5,
            "scalingStrategy": "BudScaler",
            "metricsSources": [{"metricSourceType": "pod", "targetMetric": "load", "targetValue": "10"}],
        }
        if role:
            body["subTargetSelector"] = {"roleName": role}
        created = api.create(
            {
                "apiVersion": "scaler.bud.studio/v1alpha1",
                "kind": "BudAIScaler",
                "metadata": {"name": name, "namespace": "ns"},
                "spec": body,
            }
        )
        refs.append(ScalerRef.from_object(created))
    sim.run(until=40.0)

    # Writers from the audit log, each joined to the decision event that made it.
    writers: dict[str, set[str]] = {}
    for entry in api.audit.entries:
        if entry.actor != "budaiscaler-controller" or entry.result != "ok" or entry.subresource is not None:
            continue
        if not any(f.startswith("spec") for f in entry.changed_fields):
            continue  # finalizer updates
        made_by = [
            e
            for e in events
            if e["event"] == "decision"
            and e["write"] == "ok"
            and e["t"] == entry.t
            and str(e["target"]).split("/")[0] == entry.kind
            and str(e["target"]).split("/")[2] == entry.name
        ]
        assert len(made_by) >= 1, entry
        for e in made_by:
            kind_, _ns, obj, *role_ = str(e["target"]).split("/")
            dep = f"{obj}-{role_[0]}" if kind_ == DS else obj
            writers.setdefault(dep, set()).add(str(e["scaler"]).split("/")[1])
    last: dict[str, str] = {}
    for e in events:
        if e["event"] in ("conflict", "decision", "reconcile-failed"):
            last[str(e["scaler"]).split("/")[1]] = str(e["event"])
    return {
        "refs": refs,
        "writers": writers,
        "conflicted": {n: last.get(n) == "conflict" for n, *_ in scalers},
    }


@given(controller_runs())
def test_controller_reports_the_profile_rule_and_corrected_has_one_writer(
    spec: tuple[list[tuple[str, str, str, str | None, float]], float],
) -> None:
    for profile, p in (("upstream", UPSTREAM), ("corrected", CORRECTED)):
        out = run_controller(spec, profile)
        refs = out["refs"]
        assert isinstance(refs, list)
        assert out["conflicted"] == verdicts(refs, p), profile
    writers = run_controller(spec, "corrected")["writers"]
    assert isinstance(writers, dict)
    assert all(len(w) == 1 for w in writers.values()), writers


def test_upstream_controller_double_control_found_from_audit_log() -> None:
    def double(spec: tuple[list[tuple[str, str, str, str | None, float]], float]) -> bool:
        writers = run_controller(spec, "upstream")["writers"]
        assert isinstance(writers, dict)
        return any(len(w) > 1 for w in writers.values())

    found, _latency = find(controller_runs(), double)
    assert len(found) == 2
    assert sorted((k, t, r) for _n, k, t, r, _o in found) in (
        [("Deployment", "pipe-router", None), (DS, "pipe", "router")],
        [("Deployment", "pipe-inference", None), (DS, "pipe", "inference")],
    )

"""Property tests of DisaggregatedService dependsOn ordering through the fake API server.

Random role DAGs (1-12 roles, replicas 0-5, random per-role startup delays, random watch latency and
Conflict faults on the controller's DisaggregatedService writes) run through the real controller,
informers and API server. Deployments are driven by a small test stand-in for the Deployment
controller + kubelet (`StartupDriver`): a Deployment becomes fully Ready `delay[role]` seconds after
the driver sees its generation, which makes the readiness bound exact.

Under `corrected`: (a) ordering from the audit log, (b) a readiness bound, (c) Service types.
Under `upstream`: Hypothesis must find that dependents of a zero-replica role never start, and shrink
it to two roles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from model.admission import admit
from model.quirks import QuirkSet
from sim.apiserver import APIServer, FaultWindow, WatchEvent, WatchEventType
from sim.apiserver.errors import ApiError, Invalid
from sim.clock import Simulation
from sim.controllers.disaggregated import start_disaggregated_controller
from sim.decisions.disaggregated import CONTROLLER_NAME, deployment_ready
from sim.runtime import InformerFactory

DRIVER = "test-startup-driver"
REQUEUE = 5.0
FAULT_WINDOW = 20.0


@dataclass(frozen=True)
class Role:
    replicas: int
    delay: float
    depends_on: tuple[int, ...]
    router: bool


@dataclass(frozen=True)
class Case:
    roles: tuple[Role, ...]
    watch_latency: float
    watch_jitter: float
    conflict_probability: float

    def name(self, i: int) -> str:
        return f"r{i}"


# Strategies built once (building them per draw dominated the run time).
_REPLICAS = st.integers(0, 5)
_DELAY = st.integers(0, 30)
_DEPS = st.lists(st.integers(0, 10), max_size=3, unique=True)
_BOOL = st.booleans()
_LATENCY = st.sampled_from([0.0, 0.1, 0.5, 2.0])
_JITTER = st.sampled_from([0.0, 0.25])
_CONFLICT = st.sampled_from([0.0, 0.3, 0.6])


@st.composite
def cases(draw: st.DrawFn, max_roles: int = 12) -> Case:
    """A random DAG: role i may depend only on roles 0..i-1 (indices >= i are dropped), so every
    draw is acyclic and shrinking moves dependencies towards role 0."""
    n = draw(st.integers(1, max_roles))
    roles = []
    for i in range(n):
        replicas, delay, deps, router = draw(_REPLICAS), draw(_DELAY), draw(_DEPS), draw(_BOOL)
        roles.append(Role(replicas, float(delay), tuple(sorted(j for j in deps if j < i)), router))
    return Case(
        roles=tuple(roles),
        watch_latency=draw(_LATENCY),
        watch_jitter=draw(_JITTER),
        conflict_probability=draw(_CONFLICT),
    )


def ds_manifest(case: Case) -> dict[str, Any]:
    roles = []
    for i, r in enumerate(case.roles):
        role: dict[str, Any] = {
            "name": case.name(i),
            "roleType": "Router" if r.router else "Inference",
            "replicas": r.replicas,
        }
        if r.depends_on:
            role["dependsOn"] = [case.name(j) for j in r.depends_on]
        roles.append(role)
    return {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "DisaggregatedService",
        "metadata": {"name": "ds", "namespace": "prop"},
        "spec": {"serviceType": "Custom", "roles": roles},
    }


@dataclass
class StartupDriver:
    """Test stand-in for Deployment controller + kubelet: `delay(name)` seconds after it sees a new
    generation, a Deployment reports all replicas Ready at that generation. Records, for every status
    write it made, (audit index, t, name, Ready under the corrected rule)."""

    sim: Simulation
    api: APIServer
    delay: Callable[[str], float]
    ready_log: list[tuple[int, float, str, bool]] = field(default_factory=list)
    in_flight: int = 0
    _seen: set[tuple[str, str, int]] = field(default_factory=set)

    def start(self) -> None:
        self.api.watch("Deployment", self._on_event, name=DRIVER)

    def _on_event(self, ev: WatchEvent) -> None:
        if ev.type is WatchEventType.DELETED:
            return
        meta = ev.obj["metadata"]
        key = (meta["namespace"], meta["name"], int(meta.get("generation", 1)))
        if key in self._seen:
            return
        self._seen.add(key)
        self.in_flight += 1
        self.sim.env.process(self._become_ready(*key))

    def _become_ready(self, ns: str, name: str, generation: int) -> Any:
        yield self.sim.env.timeout(self.delay(name))
        yield from self._write_ready(ns, name, generation)
        self.in_flight -= 1

    def _write_ready(self, ns: str, name: str, generation: int) -> Any:
        while True:
            obj = self.api.peek("Deployment", ns, name)
            if obj is None or int(obj["metadata"].get("generation", 1)) != generation:
                return
            want = int(obj["spec"].get("replicas", 1))
            new = {
                **obj,
                "status": {
                    "observedGeneration": generation,
                    "replicas": want,
                    "updatedReplicas": want,
                    "readyReplicas": want,
                    "availableReplicas": want,
                },
            }
            try:
                stored = self.api.update_status(new, actor=DRIVER)
            except ApiError:
                yield self.sim.env.timeout(0.1)
                continue
            idx = len(self.api.audit.entries) - 1
            self.ready_log.append((idx, self.sim.now, name, deployment_ready(stored, requires_nonzero=False)))
            return


@dataclass
class Run:
    api: APIServer
    driver: StartupDriver
    horizon: float


def build(case: Case, quirks: QuirkSet, seed: int = 7) -> tuple[Simulation, Run]:
    sim = Simulation(seed)
    api = APIServer(sim, admission=admit, watch_latency=case.watch_latency, watch_jitter=case.watch_jitter)
    if case.conflict_probability > 0:
        api.faults.add(
            FaultWindow(
                start=0.0,
                end=FAULT_WINDOW,
                kind="conflict",
                probability=case.conflict_probability,
                kinds=("DisaggregatedService",),
                actors=(CONTROLLER_NAME,),
            )
        )
    delays = {f"ds-{case.name(i)}": r.delay for i, r in enumerate(case.roles)}
    driver = StartupDriver(sim, api, lambda name: delays[name])
    driver.start()
    informers = InformerFactory(sim, api)
    start_disaggregated_controller(sim, api, informers, quirks=quirks, requeue_after=REQUEUE)
    api.create(ds_manifest(case), actor="test")
    return sim, Run(api, driver, readiness_bound(case))


def simulate(case: Case, quirks: QuirkSet, seed: int = 7, slack: float = 60.0) -> Run:
    sim, run = build(case, quirks, seed)
    run.horizon += slack
    sim.run(until=run.horizon)
    return run


def readiness_bound(case: Case) -> float:
    """Latest time by which every role must be Ready under `corrected`.

    Per role: its dependencies' bound, plus the time for the controller to notice (watch latency +
    jitter for the dependency's status, or at worst the requeue period), plus its own startup delay and
    the driver's watch delivery. Conflict faults end at FAULT_WINDOW; the rate limiter's backoff after
    failures inside it is at most the window's length again, so they add 2 * FAULT_WINDOW once."""
    lat = 2 * (case.watch_latency + case.watch_jitter)
    bound: list[float] = []
    for r in case.roles:
        start = max((bound[j] for j in r.depends_on), default=0.0)
        bound.append(start + REQUEUE + lat + r.delay + lat)
    extra = 2 * FAULT_WINDOW if case.conflict_probability > 0 else 0.0
    return max(bound) + extra + 1.0


def _creates(api: APIServer, kind: str) -> list[tuple[int, float, str]]:
    return [
        (i, e.t, e.name)
        for i, e in enumerate(api.audit.entries)
        if e.kind == kind and e.verb == "create" and e.result == "ok" and e.actor == CONTROLLER_NAME
    ]


def _first_ready(run: Run) -> dict[str, tuple[int, float]]:
    first: dict[str, tuple[int, float]] = {}
    for idx, t, name, ok in run.driver.ready_log:
        if ok and name not in first:
            first[name] = (idx, t)
    return first


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_corrected_ordering_bound_and_service_types(case: Case) -> None:
    run = simulate(case, QuirkSet.corrected())
    first_ready = _first_ready(run)
    created = {name: (idx, t) for idx, t, name in _creates(run.api, "Deployment")}
    # (a) no Deployment before every dependency was Ready earlier (audit order, simulated time)
    for i, r in enumerate(case.roles):
        idx, t = created[f"ds-{case.name(i)}"]
        for j in r.depends_on:
            dep = f"ds-{case.name(j)}"
            assert dep in first_ready, f"{case.name(i)} created but dependency {case.name(j)} never Ready"
            ridx, rt = first_ready[dep]
            assert ridx < idx and rt <= t, (case.name(i), case.name(j), (ridx, rt), (idx, t))
    # (b) every role Ready within the bound
    bound = readiness_bound(case)
    for i in range(len(case.roles)):
        name = f"ds-{case.name(i)}"
        assert name in first_ready, f"{case.name(i)} never Ready"
        assert first_ready[name][1] <= bound, (name, first_ready[name][1], bound)
    ds = run.api.get("DisaggregatedService", "prop", "ds")
    assert ds["status"]["phase"] == "Ready"
    # (c) Service types: ClusterIP for Router roles, headless otherwise
    for i, r in enumerate(case.roles):
        svc = run.api.get("Service", "prop", f"ds-{case.name(i)}")
        assert svc["spec"]["type"] == "ClusterIP"
        assert (svc["spec"].get("clusterIP") == "None") is (not r.router)


def dependents_of_zero_replica_roles_start(case: Case) -> bool:
    """The property the pull request's readiness check breaks: every role is created within the time
    the corrected controller is proven (test above) to need."""
    sim, run = build(case, QuirkSet.upstream())
    wanted = {f"ds-{case.name(i)}" for i in range(len(case.roles))}
    # Stepping with early exits only saves time: success as soon as every role exists; failure once
    # the run is at a fixed point (a whole requeue period + watch delays without any successful write,
    # no startup pending, past the Conflict window and its backoff), which no later time can change.
    step = REQUEUE + 2 * (case.watch_latency + case.watch_jitter) + 1.0
    quiet_after = 3 * FAULT_WINDOW if case.conflict_probability > 0 else 0.0
    t, writes = 0.0, -1
    while t < run.horizon:
        t = min(t + step, run.horizon)
        sim.run(until=t)
        if wanted <= {name for _, _, name in _creates(run.api, "Deployment")}:
            return True
        if run.api.writes == writes and run.driver.in_flight == 0 and t > quiet_after:
            return False
        writes = run.api.writes
    return False


def test_upstream_zero_replica_dependency_blocks_dependents() -> None:
    counterexample = find(
        cases(max_roles=12),
        lambda c: not dependents_of_zero_replica_roles_start(c),
        settings=settings(max_examples=200, database=None, derandomize=True, deadline=None),
    )
    assert len(counterexample.roles) == 2
    zero, dependent = counterexample.roles
    assert zero.replicas == 0
    assert dependent.depends_on == (0,)
    # and the same case is fine under corrected
    run = simulate(counterexample, QuirkSet.corrected())
    assert {n for _, _, n in _creates(run.api, "Deployment")} == {"ds-r0", "ds-r1"}


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        (
            [
                {"name": "a", "roleType": "Custom", "dependsOn": ["b"]},
                {"name": "b", "roleType": "Custom", "dependsOn": ["c"]},
                {"name": "c", "roleType": "Custom", "dependsOn": ["a"]},
            ],
            "dependency cycle a → b → c → a",
        ),
        ([{"name": "a", "roleType": "Custom", "dependsOn": ["a"]}], "a role cannot depend on itself"),
        (
            [{"name": "a", "roleType": "Custom", "dependsOn": ["ghost"]}],
            'Not found: "ghost": no role with this name (roles: a)',
        ),
    ],
)
def test_bad_dependencies_rejected_through_api_server(roles: list[dict[str, Any]], message: str) -> None:
    sim = Simulation(1)
    api = APIServer(sim, admission=admit)
    manifest = {
        "apiVersion": "scaler.bud.studio/v1alpha1",
        "kind": "DisaggregatedService",
        "metadata": {"name": "bad", "namespace": "prop"},
        "spec": {"roles": roles},
    }
    with pytest.raises(Invalid) as exc:
        api.create(manifest, actor="test")
    assert message in exc.value.message
    assert api.list("DisaggregatedService") == []

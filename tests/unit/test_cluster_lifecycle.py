"""Cluster behaviour as exact (event, simulated time) logs: pod lifecycle at the stage times,
scale to 0 and back, finalizers, garbage collection, unschedulable pods, crash loops, node failure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from model.scenario import DelaySpec
from sim.apiserver import APIServer, WatchEvent
from sim.clock import Simulation
from sim.cluster import Cluster, node_object, start_cluster
from sim.cluster.stages import LifecycleState, Stage, StageSet, default_stages
from sim.runtime import InformerFactory


def deployment(name: str = "web", replicas: int = 3, probe: bool = True, gpus: int = 0) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "app", "image": "img:1"}
    if probe:
        container["readinessProbe"] = {
            "httpGet": {"path": "/", "port": 80},
            "initialDelaySeconds": 5,
            "periodSeconds": 10,
        }
    if gpus:
        container["resources"] = {
            "requests": {"nvidia.com/gpu": str(gpus)},
            "limits": {"nvidia.com/gpu": str(gpus)},
        }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [container]}},
        },
    }


def pod_state(pod: dict[str, Any]) -> str:
    if pod["metadata"].get("deletionTimestamp"):
        return "Terminating"
    conds = {c["type"]: c["status"] for c in pod.get("status", {}).get("conditions", [])}
    if conds.get("Ready") == "True":
        return "Ready"
    phase = pod.get("status", {}).get("phase")
    if phase == "Running":
        return "Running"
    if pod.get("spec", {}).get("nodeName"):
        return "Scheduled"
    if conds.get("PodScheduled") == "False":
        return "Unschedulable"
    return "Pending"


class PodLog:
    """(state, t) transitions of every pod, from a raw API watch (no lag)."""

    def __init__(self, sim: Simulation, api: APIServer) -> None:
        self.sim = sim
        self.entries: list[tuple[str, str, float]] = []
        self._last: dict[str, str] = {}
        api.watch("Pod", self._on, name="test-log")

    def _on(self, e: WatchEvent) -> None:
        name = e.obj["metadata"]["name"]
        state = "Deleted" if e.type.value == "DELETED" else pod_state(e.obj)
        if self._last.get(name) != state:
            self._last[name] = state
            self.entries.append((name, state, self.sim.now))

    def states(self) -> list[tuple[str, float]]:
        return sorted((s, t) for _, s, t in self.entries)

    def per_pod(self) -> dict[str, list[tuple[str, float]]]:
        out: dict[str, list[tuple[str, float]]] = {}
        for name, s, t in self.entries:
            out.setdefault(name, []).append((s, t))
        return out


def make(
    nodes: list[dict[str, Any]] | None = None, stages: StageSet | None = None
) -> tuple[Simulation, APIServer, Cluster, PodLog]:
    sim = Simulation(seed=7)
    api = APIServer(sim)
    informers = InformerFactory(sim, api)
    log = PodLog(sim, api)
    cluster = start_cluster(sim, api, informers, nodes=nodes, stages=stages)
    return sim, api, cluster, log


def at(sim: Simulation, t: float, fn: Callable[[], Any]) -> None:
    def proc() -> Any:
        yield sim.env.timeout(t - sim.now)
        fn()

    sim.env.process(proc())


def status_log(sim: Simulation, api: APIServer, name: str = "web") -> list[tuple[int, int, float]]:
    out: list[tuple[int, int, float]] = []

    def on(e: WatchEvent) -> None:
        st = e.obj.get("status", {})
        row = (st.get("replicas", 0), st.get("readyReplicas", 0), sim.now)
        if e.obj["metadata"]["name"] == name and (not out or out[-1][:2] != row[:2]):
            out.append(row)

    api.watch("Deployment", on, name="test-status")
    return out


def test_three_replicas_pending_running_ready_at_stage_times() -> None:
    sim, api, _, log = make()
    statuses = status_log(sim, api)
    api.create(deployment())
    sim.run(until=30)
    per_pod = log.per_pod()
    assert len(per_pod) == 3
    for transitions in per_pod.values():
        # bind at 0, image pull 1 s, container start 1 s, probe at start + initialDelaySeconds (5)
        assert transitions == [("Pending", 0.0), ("Scheduled", 0.0), ("Running", 2.0), ("Ready", 7.0)]
    assert statuses == [(0, 0, 0.0), (3, 0, 0.0), (3, 3, 7.0)]
    d = api.get("Deployment", "ns", "web")
    assert d["status"] == {
        "observedGeneration": 1,
        "replicas": 3,
        "updatedReplicas": 3,
        "readyReplicas": 3,
        "availableReplicas": 3,
        "conditions": [
            {
                "type": "Available",
                "status": "True",
                "lastUpdateTime": "2026-01-01T00:00:07Z",
                "lastTransitionTime": "2026-01-01T00:00:07Z",
                "reason": "MinimumReplicasAvailable",
                "message": "Deployment has minimum availability.",
            },
            {
                "type": "Progressing",
                "status": "True",
                "lastUpdateTime": "2026-01-01T00:00:07Z",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
                "reason": "NewReplicaSetAvailable",
                "message": f'ReplicaSet "web-{api.list("Pod")[0]["metadata"]["labels"]["pod-template-hash"]}" has successfully progressed.',
            },
        ],
    }


def test_pod_wire_form() -> None:
    sim, api, _, _ = make()
    api.create(deployment(replicas=1))
    sim.run(until=30)
    pod = api.list("Pod")[0]
    assert pod["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    assert pod["metadata"]["labels"]["app"] == "web"
    assert pod["spec"]["nodeName"] == "node-0"
    st = pod["status"]
    assert st["phase"] == "Running"
    assert st["startTime"] == "2026-01-01T00:00:00Z"
    assert [(c["type"], c["status"], c["lastTransitionTime"]) for c in st["conditions"]] == [
        ("Initialized", "True", "2026-01-01T00:00:00Z"),
        ("Ready", "True", "2026-01-01T00:00:07Z"),
        ("ContainersReady", "True", "2026-01-01T00:00:07Z"),
        ("PodScheduled", "True", "2026-01-01T00:00:00Z"),
    ]
    cs = st["containerStatuses"][0]
    assert (cs["ready"], cs["restartCount"], cs["state"]) == (
        True,
        0,
        {"running": {"startedAt": "2026-01-01T00:00:02Z"}},
    )


def test_scale_to_zero_and_back() -> None:
    sim, api, _, log = make()
    statuses = status_log(sim, api)
    api.create(deployment(replicas=2))
    at(sim, 30, lambda: api.update_scale("Deployment", "ns", "web", 0))
    at(sim, 60, lambda: api.update_scale("Deployment", "ns", "web", 2))
    sim.run(until=90)
    assert log.states() == sorted(
        [("Pending", 0.0), ("Scheduled", 0.0), ("Running", 2.0), ("Ready", 7.0)] * 2
        + [("Terminating", 30.0), ("Deleted", 31.0)] * 2  # termination stage 1 s (< grace 30 s)
        + [("Pending", 60.0), ("Scheduled", 60.0), ("Running", 62.0), ("Ready", 67.0)] * 2
    )
    assert statuses == [(0, 0, 0.0), (2, 0, 0.0), (2, 2, 7.0), (0, 0, 30.0), (2, 0, 60.0), (2, 2, 67.0)]
    # at 0 replicas: counts absent (omitempty), Available=True MinimumReplicasAvailable, Progressing kept
    zero: list[dict[str, Any]] = []
    at(sim, 100, lambda: api.update_scale("Deployment", "ns", "web", 0))
    at(sim, 120, lambda: zero.append(api.get("Deployment", "ns", "web")["status"]))
    sim.run(until=121)
    st = zero[0]
    assert {k: v for k, v in st.items() if k != "conditions"} == {"observedGeneration": 4}
    assert [(c["type"], c["status"], c["reason"]) for c in st["conditions"]] == [
        ("Progressing", "True", "NewReplicaSetAvailable"),
        ("Available", "True", "MinimumReplicasAvailable"),
    ]


def test_delete_with_finalizer() -> None:
    sim, api, _, _ = make(nodes=[])
    events: list[tuple[str, float]] = []
    api.watch("Deployment", lambda e: events.append((e.type.value, sim.now)), name="t")
    d = deployment(replicas=0)
    d["metadata"]["finalizers"] = ["example.com/cleanup"]
    api.create(d)
    at(sim, 5, lambda: api.delete("Deployment", "ns", "web"))

    def drop_finalizer() -> None:
        cur = api.get("Deployment", "ns", "web")
        assert cur["metadata"]["deletionTimestamp"] == "2026-01-01T00:00:05Z"
        cur["metadata"]["finalizers"] = []
        api.update(cur)

    at(sim, 9, drop_finalizer)
    sim.run(until=20)
    assert events == [
        ("ADDED", 0.0),
        ("MODIFIED", 0.0),  # the Deployment controller's first status write
        ("MODIFIED", 5.0),  # deletionTimestamp set, object kept
        ("DELETED", 9.0),  # last finalizer removed
    ]
    assert api.peek("Deployment", "ns", "web") is None


def test_garbage_collection_of_owned_pods() -> None:
    sim, api, cluster, log = make()
    api.create(deployment(replicas=2, probe=False))
    at(sim, 10, lambda: api.delete("Deployment", "ns", "web"))
    sim.run(until=20)
    # ready stage 0 s without probe: Ready at container start (2 s); GC deletes pods at 10 s
    assert log.states() == sorted(
        [("Pending", 0.0), ("Scheduled", 0.0), ("Running", 2.0), ("Ready", 2.0)] * 2
        + [("Terminating", 10.0), ("Deleted", 11.0)] * 2
    )
    assert [(t, a, k) for t, a, k, _, _ in cluster.api.gc.log] == [
        (10.0, "delete", "Pod"),
        (10.0, "delete", "Pod"),
    ]


def test_unschedulable_pod_schedules_once_a_node_frees() -> None:
    sim, api, _, log = make(nodes=[node_object("gpu-0", gpus=1)])
    api.create(deployment("a", replicas=1, probe=False, gpus=1))
    at(sim, 5, lambda: api.create(deployment("b", replicas=1, probe=False, gpus=1)))
    at(sim, 20, lambda: api.update_scale("Deployment", "ns", "a", 0))
    sim.run(until=40)
    by_dep: dict[str, list[tuple[str, float]]] = {}
    for name, transitions in log.per_pod().items():
        by_dep[name.split("-")[0]] = transitions
    assert by_dep["a"] == [
        ("Pending", 0.0),
        ("Scheduled", 0.0),
        ("Running", 2.0),
        ("Ready", 2.0),
        ("Terminating", 20.0),
        ("Deleted", 21.0),
    ]
    assert by_dep["b"] == [
        ("Pending", 5.0),
        ("Unschedulable", 5.0),
        ("Scheduled", 21.0),
        ("Running", 23.0),
        ("Ready", 23.0),
    ]
    b = next(p for p in api.list("Pod") if p["metadata"]["name"].startswith("b-"))
    assert b["spec"]["nodeName"] == "gpu-0"


def test_unschedulable_message() -> None:
    sim, api, _, _ = make(nodes=[node_object("n0", gpus=1), node_object("n1")])
    api.create(deployment("big", replicas=1, probe=False, gpus=2))
    sim.run(until=5)
    pod = api.list("Pod")[0]
    cond = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
    assert (cond["status"], cond["reason"], cond["message"]) == (
        "False",
        "Unschedulable",
        "0/2 nodes are available: 2 Insufficient nvidia.com/gpu.",
    )


def crashy_stages(probability: float) -> StageSet:
    crash = Stage(
        name="crash",
        **{"from": LifecycleState.RUNNING, "to": LifecycleState.CRASHED},
        delay=DelaySpec(distribution="constant", value=5.0),
        probability=probability,
    )
    return default_stages().with_overrides([crash])


def test_crash_loop_backoff_doubles() -> None:
    sim, api, cluster, _ = make(stages=crashy_stages(1.0))
    api.create(deployment(replicas=1, probe=False))
    sim.run(until=200)
    crashes = [t for t, _, s in cluster.kubelet.log if s == "Crashed"]
    # start at 2, crash 5 s later; restarts: immediate, then 10, 20, 40 s backoff (+1 s container start)
    assert crashes == [7.0, 13.0, 29.0, 55.0, 101.0, 187.0]
    pod = api.list("Pod")[0]
    cs = pod["status"]["containerStatuses"][0]
    assert cs["restartCount"] == 5
    assert cs["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert cs["lastState"]["terminated"]["reason"] == "Error"


def test_gpu_model_load_stage_per_role() -> None:
    stages = default_stages().with_overrides(
        [
            Stage(
                name="ready",
                **{"from": LifecycleState.RUNNING, "to": LifecycleState.READY},
                selector={"matchLabels": {"app": "decode"}},
                delay=DelaySpec(distribution="constant", value=180.0),
            )
        ]
    )
    sim, api, _, log = make(stages=stages)
    api.create(deployment("decode", replicas=1))
    api.create(deployment("router", replicas=1))
    sim.run(until=400)
    ready = {n.split("-")[0]: t for n, s, t in log.entries if s == "Ready"}
    # decode: app ready at 2 + 180 = 182 -> probe ticks at 7, 17, ..., 187
    assert ready == {"decode": 187.0, "router": 7.0}


def test_node_failure_pods_replaced_after_grace() -> None:
    sim, api, cluster, log = make(nodes=[node_object("n0"), node_object("n1")])
    api.create(deployment(replicas=2, probe=False))
    sim.run(until=10)
    on_n0 = sorted(p["metadata"]["name"] for p in api.list("Pod") if p["spec"]["nodeName"] == "n0")
    at(sim, 10, lambda: cluster.fail_node("n0"))
    sim.run(until=400)
    # monitor grace 40 s -> NotReady at 50; eviction 300 s later -> deleted (stuck Terminating) at 350
    for name in on_n0:
        assert log.per_pod()[name][-2:] == [("Running", 50.0), ("Terminating", 350.0)]
    replacements = [n for n, s, t in log.entries if s == "Pending" and t == 350.0]
    assert len(replacements) == len(on_n0)
    assert all(api.get("Pod", "ns", n)["spec"]["nodeName"] == "n1" for n in replacements)
    node = api.get("Node", "", "n0")
    assert node["status"]["conditions"][0]["status"] == "Unknown"

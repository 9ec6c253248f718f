"""Rolling update and Recreate on a template change, as exact (group, state, time) logs."""

from __future__ import annotations

from collections import Counter
from typing import Any

from test_cluster_lifecycle import at, deployment, make, status_log

from sim.apiserver import APIServer


def bump_image(api: APIServer) -> None:
    d = api.get("Deployment", "ns", "web")
    d["spec"]["template"]["spec"]["containers"][0]["image"] = "img:2"
    api.update(d)


def grouped(entries: list[tuple[str, str, float]], old_hash: str) -> Counter[tuple[str, str, float]]:
    return Counter(("old" if old_hash in n else "new", s, t) for n, s, t in entries if t >= 20.0)


def run_rollout(
    strategy: dict[str, Any] | None,
) -> tuple[Counter[tuple[str, str, float]], list[Any], APIServer]:
    sim, api, _, log = make()
    statuses = status_log(sim, api)
    d = deployment(replicas=4, probe=False)
    if strategy is not None:
        d["spec"]["strategy"] = strategy
    api.create(d)
    sim.run(until=10)
    old_hash = api.list("Pod")[0]["metadata"]["labels"]["pod-template-hash"]
    at(sim, 20, lambda: bump_image(api))
    sim.run(until=60)
    return grouped(log.entries, old_hash), statuses, api


def test_rolling_update_default_25_percent() -> None:
    # replicas 4: maxSurge 1, maxUnavailable 1 -> at most 5 pods, at least 3 available
    groups, statuses, api = run_rollout(None)
    assert groups == Counter(
        {
            ("new", "Pending", 20.0): 2,
            ("new", "Scheduled", 20.0): 2,
            ("old", "Terminating", 20.0): 1,
            ("old", "Deleted", 21.0): 1,
            ("new", "Running", 22.0): 2,
            ("new", "Ready", 22.0): 2,
            ("old", "Terminating", 22.0): 2,
            ("new", "Pending", 22.0): 2,
            ("new", "Scheduled", 22.0): 2,
            ("old", "Deleted", 23.0): 2,
            ("new", "Running", 24.0): 2,
            ("new", "Ready", 24.0): 2,
            ("old", "Terminating", 24.0): 1,
            ("old", "Deleted", 25.0): 1,
        }
    )
    # (replicas, readyReplicas, t) as written to the Deployment's status
    assert statuses == [
        (0, 0, 0.0),
        (4, 0, 0.0),
        (4, 4, 2.0),
        (4, 3, 20.0),
        (5, 3, 20.0),
        (5, 5, 22.0),
        (3, 3, 22.0),
        (5, 3, 22.0),
        (5, 5, 24.0),
        (4, 4, 24.0),
    ]
    st = api.get("Deployment", "ns", "web")["status"]
    assert (st["observedGeneration"], st["updatedReplicas"], st["conditions"][-1]["reason"]) == (
        2,
        4,
        "NewReplicaSetAvailable",
    )


def test_recreate_deletes_all_old_pods_first() -> None:
    groups, _, _ = run_rollout({"type": "Recreate"})
    assert groups == Counter(
        {
            ("old", "Terminating", 20.0): 4,
            ("old", "Deleted", 21.0): 4,
            ("new", "Pending", 21.0): 4,
            ("new", "Scheduled", 21.0): 4,
            ("new", "Running", 23.0): 4,
            ("new", "Ready", 23.0): 4,
        }
    )


def test_progressing_conditions_during_rollout() -> None:
    sim, api, _, _ = make()
    api.create(deployment(replicas=2, probe=False))
    seen: list[tuple[str, str, float]] = []

    def on(e: Any) -> None:
        c = next(
            (c for c in e.obj.get("status", {}).get("conditions", []) if c["type"] == "Progressing"), None
        )
        row = (c["reason"], c["message"].split('"')[1][-10:], sim.now) if c else ("-", "-", sim.now)
        if not seen or seen[-1][:2] != row[:2]:
            seen.append(row)

    api.watch("Deployment", on, name="t")
    at(sim, 20, lambda: bump_image(api))
    sim.run(until=60)
    hashes = sorted({p["metadata"]["labels"]["pod-template-hash"] for p in api.list("Pod")})
    assert len(hashes) == 1
    new = hashes[0]
    assert [r for r in seen if r[2] >= 20] == [
        ("NewReplicaSetCreated", new, 20.0),
        ("ReplicaSetUpdated", new, 20.0),
        ("NewReplicaSetAvailable", new, 24.0),
    ]


def test_paused_deployment_scales_but_does_not_roll_out() -> None:
    sim, api, _, _ = make()
    d = deployment(replicas=2, probe=False)
    d["spec"]["paused"] = True
    api.create(d)
    sim.run(until=10)
    assert api.list("Pod") == []  # paused from the start: no "replica set" yet
    cur = api.get("Deployment", "ns", "web")
    cur["spec"]["paused"] = False
    api.update(cur)
    sim.run(until=20)
    first_hash = {p["metadata"]["labels"]["pod-template-hash"] for p in api.list("Pod")}
    cur = api.get("Deployment", "ns", "web")
    cur["spec"]["paused"] = True
    cur["spec"]["replicas"] = 3
    cur["spec"]["template"]["spec"]["containers"][0]["image"] = "img:2"
    api.update(cur)
    sim.run(until=40)
    pods = api.list("Pod")
    assert len(pods) == 3
    assert {p["metadata"]["labels"]["pod-template-hash"] for p in pods} == first_hash

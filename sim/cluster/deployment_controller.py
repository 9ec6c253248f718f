"""The Deployment controller, without ReplicaSet objects.

Pods are owned directly by their Deployment and carry `pod-template-hash` (computed like
Kubernetes' ComputeHash: FNV-32a of the pod template, SafeEncodeString); a "replica set" is the
group of pods sharing one hash, named `<deployment>-<hash>` in condition messages exactly as the
real ReplicaSet would be. Skipping the ReplicaSet objects halves the writes per pod and removes one
watch hop; everything a controller above the Deployment can observe (status fields, conditions,
timing of scale up/down, rolling update steps) follows
k8s.io/kubernetes pkg/controller/deployment (sync.go calculateStatus, rolling.go, recreate.go,
progress.go) and pkg/controller/replicaset (manageReplicas, expectations, ActivePodsWithRanks).

Differences (documented in docs/control-plane.md): no proportional scaling of several old
"replica sets" mid-rollout, no revision annotations or history, LogarithmicScaleDown not modelled
(ready and creation times are compared exactly)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sim.apiserver.errors import ApiError, NotFound
from sim.apiserver.watch import WatchEventType
from sim.cluster.podutil import condition, controller_ref, is_pod_active, is_pod_ready, parse_timestamp
from sim.runtime.controller import Request, Result
from sim.runtime.informer import InformerEvent, InformerFactory

if TYPE_CHECKING:
    from sim.apiserver.server import APIServer
    from sim.clock import Simulation

ACTOR = "deployment-controller"
HASH_LABEL = "pod-template-hash"
EXPECTATIONS_TIMEOUT = 300.0  # upstream: pkg/controller/controller_utils.go ExpectationsTimeout
_SAFE_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
DELETION_COST = "controller.kubernetes.io/pod-deletion-cost"


def template_hash(template: Mapping[str, Any], collision_count: int | None = None) -> str:
    """pod-template-hash: FNV-32a over the canonical template (+ collisionCount), SafeEncodeString'd.

    upstream: pkg/controller/controller_utils.go ComputeHash (the byte stream differs: canonical
    JSON instead of spew, so values differ from a real cluster but are stable and deterministic)."""
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count is not None:
        data += str(collision_count).encode()
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    # upstream: k8s.io/apimachinery/pkg/util/rand SafeEncodeString
    return "".join(_SAFE_ALPHANUMS[ord(c) % len(_SAFE_ALPHANUMS)] for c in str(h))


def resolve_int_or_percent(value: Any, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent."""
    if isinstance(value, str) and value.endswith("%"):
        pct = int(value[:-1])
        scaled = pct * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    return int(value)


def resolve_fenceposts(deployment: Mapping[str, Any]) -> tuple[int, int]:
    """(maxSurge, maxUnavailable). upstream: pkg/controller/deployment/util ResolveFenceposts."""
    spec = deployment.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    ru = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    surge = resolve_int_or_percent(ru.get("maxSurge", "25%"), replicas, True)
    unavailable = resolve_int_or_percent(ru.get("maxUnavailable", "25%"), replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_unavailable(deployment: Mapping[str, Any]) -> int:
    """upstream: deployment/util MaxUnavailable (0 for Recreate or 0 replicas; capped at replicas)."""
    spec = deployment.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    if (spec.get("strategy") or {}).get("type", "RollingUpdate") != "RollingUpdate" or replicas == 0:
        return 0
    _, unavailable = resolve_fenceposts(deployment)
    return min(unavailable, replicas)


@dataclass(slots=True)
class Expectations:
    """ControllerExpectations keyed by pod name (UIDTrackingControllerExpectations, simplified)."""

    adds: dict[str, None] = field(default_factory=dict)
    deletes: dict[str, None] = field(default_factory=dict)
    set_at: float = 0.0

    def satisfied(self, now: float) -> bool:
        return (not self.adds and not self.deletes) or now - self.set_at > EXPECTATIONS_TIMEOUT


class DeploymentReconciler:
    name = ACTOR

    def __init__(self, sim: Simulation, api: APIServer, informers: InformerFactory) -> None:
        self.sim = sim
        self.api = api
        self.deployments = informers.informer("Deployment")
        self.pods = informers.informer("Pod")
        self.expectations: dict[str, Expectations] = {}
        self.known_hashes: dict[str, list[str]] = {}
        self._hash_cache: dict[tuple[str, int, int | None], str] = {}
        self._epoch = sim.epoch.timestamp()
        # Registered before the Controller's own handler, so expectations are current when it runs.
        self.pods.add_handler(self._observe_pod)

    # ------------------------------------------------------------------ expectations

    def _observe_pod(self, event: InformerEvent) -> None:
        ref = controller_ref(event.obj)
        if ref is None or ref.get("kind") != "Deployment":
            return
        exp = self.expectations.get(ref["uid"])
        if exp is None:
            return
        name = event.obj["metadata"]["name"]
        if event.type is WatchEventType.ADDED:
            exp.adds.pop(name, None)
        if event.type is WatchEventType.DELETED or event.obj["metadata"].get("deletionTimestamp") is not None:
            exp.deletes.pop(name, None)
            exp.adds.pop(name, None)

    # ------------------------------------------------------------------ helpers

    def _sim_time(self, ts: str) -> float:
        return parse_timestamp(ts) - self._epoch

    def _is_available(self, pod: Mapping[str, Any], min_ready: int, now: float) -> bool:
        c = condition(pod, "Ready")
        if c is None or c.get("status") != "True":
            return False
        if min_ready <= 0:
            return True
        return now - self._sim_time(c["lastTransitionTime"]) >= min_ready

    def _hash(self, d: Mapping[str, Any]) -> str:
        meta = d["metadata"]
        cc = (d.get("status") or {}).get("collisionCount")
        key = (meta["uid"], meta.get("generation", 1), cc)
        h = self._hash_cache.get(key)
        if h is None:
            h = self._hash_cache[key] = template_hash((d.get("spec") or {}).get("template") or {}, cc)
        return h

    def _rank(
        self, pods: Sequence[Mapping[str, Any]], group: Sequence[Mapping[str, Any]]
    ) -> list[Mapping[str, Any]]:
        """Pods in deletion order. upstream: pkg/controller/controller_utils.go ActivePodsWithRanks.Less"""
        on_node: dict[str, int] = {}
        for p in group:
            n = (p.get("spec") or {}).get("nodeName") or ""
            on_node[n] = on_node.get(n, 0) + 1
        phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}

        def key(p: Mapping[str, Any]) -> tuple[Any, ...]:
            spec = p.get("spec") or {}
            status = p.get("status") or {}
            meta = p["metadata"]
            node = spec.get("nodeName") or ""
            ready = is_pod_ready(p)
            ready_c = condition(p, "Ready")
            ready_t = self._sim_time(ready_c["lastTransitionTime"]) if ready and ready_c else 0.0
            restarts = max(
                (c.get("restartCount", 0) for c in status.get("containerStatuses") or ()), default=0
            )
            try:
                cost = int((meta.get("annotations") or {}).get(DELETION_COST, 0))
            except ValueError:
                cost = 0
            return (
                1 if node else 0,  # unassigned first
                phase_rank.get(status.get("phase", "Pending"), 3),  # Pending < Unknown < Running
                1 if ready else 0,  # not ready first
                cost,  # lower pod-deletion-cost first
                -on_node.get(node, 0) if node else 0,  # doubled-up pods first
                -ready_t,  # ready for less time first
                -restarts,  # more restarts first
                -self._sim_time(meta["creationTimestamp"]),  # newer first
                meta["name"],
            )

        return sorted(pods, key=key)

    # ------------------------------------------------------------------ reconcile

    def reconcile(self, req: Request, now: float) -> Result:
        d = self.deployments.peek(req.namespace, req.name)
        if d is None:
            return Result()
        meta = d["metadata"]
        uid = meta["uid"]
        if meta.get("deletionTimestamp") is not None:
            return Result()
        spec = d.get("spec") or {}
        replicas = int(spec.get("replicas", 1))
        min_ready = int(spec.get("minReadySeconds", 0))
        h = self._hash(d)
        rs_name = f"{req.name}-{h}"
        owned = [p for p in self.pods.owned_by(uid) if (controller_ref(p) or {}).get("uid") == uid]
        active = [p for p in owned if is_pod_active(p)]
        new_pods = [p for p in active if (p["metadata"].get("labels") or {}).get(HASH_LABEL) == h]
        old_pods = [p for p in active if (p["metadata"].get("labels") or {}).get(HASH_LABEL) != h]
        old_any = [p for p in owned if (p["metadata"].get("labels") or {}).get(HASH_LABEL) != h]

        status = d.get("status") or {}
        conditions: list[dict[str, Any]] = [dict(c) for c in status.get("conditions") or ()]
        known = self.known_hashes.setdefault(uid, [])
        if h not in known:
            known.append(h)
            has_pods = any((p["metadata"].get("labels") or {}).get(HASH_LABEL) == h for p in owned)
            reason, msg = (
                ("FoundNewReplicaSet", f'Found new replica set "{rs_name}"')
                if has_pods
                else ("NewReplicaSetCreated", f'Created new replica set "{rs_name}"')
            )
            if not has_pods or _get(conditions, "Progressing") is None:
                _set_condition(conditions, _cond("Progressing", "True", reason, msg, self.api.timestamp()))

        exp = self.expectations.get(uid)
        if exp is None or exp.satisfied(now):
            if not spec.get("paused"):
                self._sync_pods(d, h, replicas, min_ready, now, new_pods, old_pods, old_any)
            else:
                self._scale_paused(d, replicas, active)
        exp = self.expectations.get(uid)
        pending = (len(exp.adds) - len(exp.deletes)) if exp is not None and not exp.satisfied(now) else 0

        # upstream: pkg/controller/deployment/sync.go calculateStatus
        available = sum(1 for p in active if self._is_available(p, min_ready, now))
        ready = sum(1 for p in active if is_pod_ready(p))
        total_desired = len(active) + pending
        new_status: dict[str, Any] = {"observedGeneration": meta.get("generation", 1)}
        for k, v in (
            ("replicas", len(active)),
            ("updatedReplicas", len(new_pods)),
            ("readyReplicas", ready),
            ("availableReplicas", available),
            ("unavailableReplicas", max(0, total_desired - available)),
        ):
            if v:  # omitempty: zero counts are absent in the wire form, as kubectl shows them
                new_status[k] = v
        if status.get("collisionCount") is not None:
            new_status["collisionCount"] = status["collisionCount"]
        ts = self.api.timestamp()
        if available >= replicas - max_unavailable(d):
            _set_condition(
                conditions,
                _cond(
                    "Available",
                    "True",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                    ts,
                ),
            )
        else:
            _set_condition(
                conditions,
                _cond(
                    "Available",
                    "False",
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.",
                    ts,
                ),
            )
        requeue_after = self._progress(d, status, new_status, conditions, replicas, rs_name, now, ts)
        new_status["conditions"] = conditions
        if new_status != status:
            self.api.update_status({**d, "status": new_status}, actor=ACTOR, copy_result=False)
        if min_ready > 0:
            waits = [
                min_ready - (now - self._sim_time(c["lastTransitionTime"]))
                for p in active
                if (c := condition(p, "Ready")) is not None and c.get("status") == "True"
            ]
            waits = [w for w in waits if w > 0]
            if waits:
                nxt = min(waits) + 1e-6
                requeue_after = nxt if requeue_after is None else min(requeue_after, nxt)
        return Result(requeue_after=requeue_after)

    def _progress(
        self,
        d: Mapping[str, Any],
        old_status: Mapping[str, Any],
        new_status: Mapping[str, Any],
        conditions: list[dict[str, Any]],
        replicas: int,
        rs_name: str,
        now: float,
        ts: str,
    ) -> float | None:
        """upstream: pkg/controller/deployment/progress.go syncRolloutStatus."""
        spec = d.get("spec") or {}
        deadline = spec.get("progressDeadlineSeconds")
        if deadline is None:
            return None
        current = _get(conditions, "Progressing")
        n_replicas = new_status.get("replicas", 0)
        n_updated = new_status.get("updatedReplicas", 0)
        complete_already = (
            n_replicas == n_updated
            and current is not None
            and current.get("reason") == "NewReplicaSetAvailable"
        )
        if complete_already:
            return None
        complete = (
            n_updated == replicas
            and n_replicas == replicas
            and new_status.get("availableReplicas", 0) == replicas
            and new_status.get("observedGeneration", 0) >= d["metadata"].get("generation", 1)
        )
        old_old = old_status.get("replicas", 0) - old_status.get("updatedReplicas", 0)
        new_old = n_replicas - n_updated
        progressing = (
            n_updated > old_status.get("updatedReplicas", 0)
            or new_old < old_old
            or new_status.get("readyReplicas", 0) > old_status.get("readyReplicas", 0)
            or new_status.get("availableReplicas", 0) > old_status.get("availableReplicas", 0)
        )
        if complete:
            _set_condition(
                conditions,
                _cond(
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    f'ReplicaSet "{rs_name}" has successfully progressed.',
                    ts,
                ),
            )
            return None
        if progressing:
            cond = _cond(
                "Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.', ts
            )
            if current is not None:
                if current.get("status") == "True":
                    cond["lastTransitionTime"] = current["lastTransitionTime"]
                conditions[:] = [c for c in conditions if c.get("type") != "Progressing"]
            _set_condition(conditions, cond)
        elif current is not None and current.get("reason") != "ProgressDeadlineExceeded":
            last = self._sim_time(current["lastUpdateTime"])
            if last + deadline < now:
                _set_condition(
                    conditions,
                    _cond(
                        "Progressing",
                        "False",
                        "ProgressDeadlineExceeded",
                        f'ReplicaSet "{rs_name}" has timed out progressing.',
                        ts,
                    ),
                )
                return None
        current = _get(conditions, "Progressing")
        if current is None or current.get("reason") == "ProgressDeadlineExceeded":
            return None
        # upstream: progress.go requeueStuckDeployment (after the deadline, plus one second)
        return float(max(0.0, self._sim_time(current["lastUpdateTime"]) + deadline - now) + 1.0)

    # ------------------------------------------------------------------ pods

    def _sync_pods(
        self,
        d: Mapping[str, Any],
        h: str,
        replicas: int,
        min_ready: int,
        now: float,
        new_pods: list[dict[str, Any]],
        old_pods: list[dict[str, Any]],
        old_any: list[dict[str, Any]],
    ) -> tuple[int, int]:
        spec = d.get("spec") or {}
        strategy = (spec.get("strategy") or {}).get("type", "RollingUpdate")
        created = deleted_new = 0
        if not old_pods:
            if strategy == "Recreate" and old_any:
                return 0, 0  # upstream: recreate.go waits until old pods are gone
            diff = replicas - len(new_pods)
            if diff > 0:
                created = self._create(d, h, diff)
            elif diff < 0:
                deleted_new = self._delete(d, self._rank(new_pods, new_pods)[:-diff])
            return created, deleted_new
        if strategy == "Recreate":
            self._delete(d, old_pods)  # upstream: recreate.go scaleDownOldReplicaSetsForRecreate
            return 0, 0
        # upstream: rolling.go rolloutRolling -> reconcileNewReplicaSet, reconcileOldReplicaSets
        surge, unavailable = resolve_fenceposts(d)
        total = len(new_pods) + len(old_pods)
        new_count = len(new_pods)
        if new_count > replicas:
            deleted_new = self._delete(d, self._rank(new_pods, new_pods)[: new_count - replicas])
        elif new_count < replicas:
            max_total = replicas + surge
            if total < max_total:
                created = self._create(d, h, min(max_total - total, replicas - new_count))
        new_count += created - deleted_new
        total += created - deleted_new
        min_available = replicas - unavailable
        new_available = sum(1 for p in new_pods if self._is_available(p, min_ready, now))
        max_scaled_down = total - min_available - (new_count - new_available)
        if max_scaled_down <= 0:
            return created, deleted_new
        # cleanupUnhealthyReplicas then scaleDownOldReplicaSetsForRollingUpdate, oldest group first
        known = self.known_hashes.get(d["metadata"]["uid"], [])
        order = {hh: i for i, hh in enumerate(known)}
        groups: dict[str, list[dict[str, Any]]] = {}
        for p in old_pods:
            groups.setdefault((p["metadata"].get("labels") or {}).get(HASH_LABEL, ""), []).append(p)
        group_keys = sorted(groups, key=lambda g: (order.get(g, -1), g))
        cleaned = 0
        for g in group_keys:
            unhealthy = [p for p in groups[g] if not self._is_available(p, min_ready, now)]
            take = min(max_scaled_down - cleaned, len(unhealthy))
            if take <= 0:
                continue
            victims = self._rank(unhealthy, groups[g])[:take]
            self._delete(d, victims)
            cleaned += take
            gone = {p["metadata"]["name"] for p in victims}
            groups[g] = [p for p in groups[g] if p["metadata"]["name"] not in gone]
        available_all = new_available + sum(
            1 for g in group_keys for p in groups[g] if self._is_available(p, min_ready, now)
        )
        if available_all <= min_available:
            return created, deleted_new
        remaining = available_all - min_available
        for g in group_keys:
            if remaining <= 0:
                break
            take = min(len(groups[g]), remaining)
            if take > 0:
                self._delete(d, self._rank(groups[g], groups[g])[:take])
                remaining -= take
        return created, deleted_new

    def _scale_paused(self, d: Mapping[str, Any], replicas: int, active: list[dict[str, Any]]) -> None:
        """upstream: sync.go sync() -> scale(): a paused Deployment still scales its single active
        replica set but never creates a new one. Without ReplicaSet objects, that group's template
        is taken from one of its pods."""
        hashes = sorted({(p["metadata"].get("labels") or {}).get(HASH_LABEL, "") for p in active})
        if len(hashes) != 1:
            return  # none (nothing to scale) or several (proportional scaling: not modelled)
        group = active
        diff = replicas - len(group)
        if diff < 0:
            self._delete(d, self._rank(group, group)[:-diff])
        elif diff > 0:
            sample = group[0]
            labels = {k: v for k, v in (sample["metadata"].get("labels") or {}).items() if k != HASH_LABEL}
            spec = {k: v for k, v in (sample.get("spec") or {}).items() if k != "nodeName"}
            tmeta: dict[str, Any] = {"labels": labels}
            if sample["metadata"].get("annotations"):
                tmeta["annotations"] = sample["metadata"]["annotations"]
            self._create(d, hashes[0], diff, template={"metadata": tmeta, "spec": spec})

    def _expect(self, uid: str, now: float) -> Expectations:
        exp = self.expectations.get(uid)
        if exp is None or exp.satisfied(now):
            exp = self.expectations[uid] = Expectations(set_at=now)
        return exp

    def _create(
        self, d: Mapping[str, Any], h: str, count: int, template: Mapping[str, Any] | None = None
    ) -> int:
        meta = d["metadata"]
        if template is None:
            template = (d.get("spec") or {}).get("template") or {}
        tmeta = template.get("metadata") or {}
        labels = dict(tmeta.get("labels") or {})
        labels[HASH_LABEL] = h
        pod_meta: dict[str, Any] = {
            "generateName": f"{meta['name']}-{h}-",
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        }
        if tmeta.get("annotations"):
            pod_meta["annotations"] = tmeta["annotations"]
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": template.get("spec") or {}}
        exp = self._expect(meta["uid"], self.sim.now)
        made = 0
        for _ in range(count):
            # upstream: replica_set.go manageReplicas (slowStartBatch); an error stops the batch
            created = self.api.create(pod, actor=ACTOR, copy_result=False, fresh_input=True)
            exp.adds[created["metadata"]["name"]] = None
            made += 1
        return made

    def _delete(self, d: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> int:
        exp = self._expect(d["metadata"]["uid"], self.sim.now)
        n = 0
        for p in pods:
            name = p["metadata"]["name"]
            exp.deletes[name] = None
            try:
                self.api.delete("Pod", p["metadata"]["namespace"], name, actor=ACTOR)
            except NotFound:
                exp.deletes.pop(name, None)
            except ApiError:
                exp.deletes.pop(name, None)
                raise
            n += 1
        return n


def _cond(ctype: str, status: str, reason: str, message: str, ts: str) -> dict[str, Any]:
    return {
        "type": ctype,
        "status": status,
        "lastUpdateTime": ts,
        "lastTransitionTime": ts,
        "reason": reason,
        "message": message,
    }


def _get(conditions: list[dict[str, Any]], ctype: str) -> dict[str, Any] | None:
    for c in conditions:
        if c.get("type") == ctype:
            return c
    return None


def _set_condition(conditions: list[dict[str, Any]], cond: dict[str, Any]) -> None:
    """upstream: deployment/util SetDeploymentCondition (same status+reason: keep as is)."""
    current = _get(conditions, cond["type"])
    if (
        current is not None
        and current.get("status") == cond["status"]
        and current.get("reason") == cond["reason"]
    ):
        return
    if current is not None and current.get("status") == cond["status"]:
        cond["lastTransitionTime"] = current["lastTransitionTime"]
    conditions[:] = [c for c in conditions if c.get("type") != cond["type"]]
    conditions.append(cond)

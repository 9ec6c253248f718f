"""Records what the invariants need from a running API server, without taking part in the run.

`Observer.attach(api)` chains onto the server's audit log (keeping any recorder already attached):
after every successful write it peeks (no copy, no audit entry, no fault draw, no latency) and keeps
a snapshot of the objects whose history matters (DisaggregatedServices, Deployments, BudAIScalers,
HPAs, Services) and the removal time of every object. Peeking never changes what is simulated, so a
run with an observer has the same digest as one without.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from model.quirks import QuirkSet
from sim.apiserver.audit import AuditEntry, AuditLog
from sim.invariants import HUMAN_ACTORS, Disturbance, Observation, Snapshot

TRACKED_KINDS = frozenset(
    {"DisaggregatedService", "Deployment", "BudAIScaler", "HorizontalPodAutoscaler", "Service", "ReplicaSet"}
)


class ChainedAuditLog(AuditLog):
    """Shares the entries list of the log it replaces and calls it first, then `hook`."""

    def __init__(self, inner: AuditLog, hook: Callable[[AuditEntry], None]) -> None:
        super().__init__()
        self.inner = inner
        self.entries = inner.entries
        self._hook = hook

    def record(self, entry: AuditEntry) -> None:
        self.inner.record(entry)
        self._hook(entry)


class Observer:
    """Collects snapshots and disturbances; `observation()` packages them for `sim.invariants`."""

    def __init__(self, api: Any, *, gc_delay: float | None = None) -> None:
        self.api = api
        self.gc_delay = float(api.gc.delay if gc_delay is None else gc_delay)
        self.history: list[Snapshot] = []
        self.disturbances: list[Disturbance] = []
        self._pending: list[tuple[int, AuditEntry]] = []

    @classmethod
    def attach(cls, api: Any, **kwargs: Any) -> Observer:
        """Start observing `api`; objects already stored are snapshotted as they are now."""
        obs = cls(api, **kwargs)
        index = len(api.audit.entries) - 1
        for kind in sorted(TRACKED_KINDS):
            for o in api.all_objects(kind):
                meta = o.get("metadata") or {}
                obs.history.append(
                    Snapshot(
                        index, api.sim.now, kind, str(meta.get("namespace", "")), str(meta.get("name")), o
                    )
                )
        api.audit = ChainedAuditLog(api.audit, obs._on_entry)
        return obs

    def _on_entry(self, e: AuditEntry) -> None:
        self._flush()
        if e.result != "ok":
            return
        if e.actor in HUMAN_ACTORS and e.verb in ("create", "update", "patch", "delete"):
            self.disturbances.append(Disturbance(e.t, e.t, f"{e.actor} {e.verb} {e.kind}/{e.name}"))
        index = len(self.api.audit.entries) - 1
        if e.verb == "delete":
            # the server audits a delete before it removes the object: look once it is done
            self._pending.append((index, e))
            return
        self._snapshot(index, e)

    def _snapshot(self, index: int, e: AuditEntry) -> None:
        obj = self.api.peek(e.kind, e.namespace, e.name)
        if e.kind in TRACKED_KINDS or obj is None:
            self.history.append(Snapshot(index, e.t, e.kind, e.namespace, e.name, obj))
        elif e.verb == "create":
            # keep uids of every object, so removals can be matched to ownerReferences
            self.history.append(Snapshot(index, e.t, e.kind, e.namespace, e.name, _uid_only(obj)))

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for index, e in pending:
            self._snapshot(index, e)

    def disturb(self, start: float, end: float, what: str) -> None:
        """A disturbance the API server cannot see (load change, pod kill, node failure, outage)."""
        self.disturbances.append(Disturbance(start, end, what))

    def _fault_windows(self) -> list[Disturbance]:
        return [
            Disturbance(float(w.start), float(w.end), f"fault {w.kind}")
            for w in self.api.faults.windows
            if w.probability > 0
        ]

    def live_objects(self) -> dict[str, list[dict[str, Any]]]:
        return {
            kind: list(self.api.all_objects(kind))
            for kind in sorted(self.api.store.objects)
            if kind != "Event"
        }

    def observation(
        self,
        quirks: QuirkSet,
        *,
        events: Iterable[Mapping[str, Any]] = (),
        requests: Mapping[str, int] | None = None,
        load_samples: Sequence[Any] = (),
        settle_window: float = 120.0,
        start_bound: float = 60.0,
        wake_bound: float = 60.0,
        extra_disturbances: Sequence[Disturbance] = (),
    ) -> Observation:
        self._flush()
        return Observation(
            now=float(self.api.sim.now),
            quirks=quirks,
            audit=list(self.api.audit.entries),
            history=list(self.history),
            objects=self.live_objects(),
            events=[e for e in events if "actor" in e or e.get("type") == "reconcile"],
            requests=requests,
            load_samples=list(load_samples),
            disturbances=sorted(
                [*self.disturbances, *self._fault_windows(), *extra_disturbances],
                key=lambda d: (d.start, d.end, d.what),
            ),
            gc_delay=self.gc_delay,
            settle_window=settle_window,
            start_bound=start_bound,
            wake_bound=wake_bound,
        )


def _uid_only(obj: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if obj is None:
        return None
    meta = obj.get("metadata") or {}
    return {
        "metadata": {"uid": meta.get("uid"), "name": meta.get("name"), "namespace": meta.get("namespace")}
    }

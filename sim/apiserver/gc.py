"""Background garbage collection of dependents through ownerReferences.

upstream: k8s.io/kubernetes pkg/controller/garbagecollector/garbagecollector.go attemptToDeleteItem.
A dependent whose owners are all gone is deleted (background propagation); a dependent that still
has a live owner only loses its dangling ownerReferences. The collector acts `gc_delay` simulated
seconds after it notices (owner removed, or dependent created pointing at a missing owner)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.apiserver.errors import ApiError

if TYPE_CHECKING:
    from sim.apiserver.server import APIServer

GC_ACTOR = "generic-garbage-collector"
RETRY_DELAY = 1.0  # seconds before retrying after an API error (injected faults)


class GarbageCollector:
    def __init__(self, api: APIServer, delay: float) -> None:
        self.api = api
        self.delay = delay
        self.log: list[tuple[float, str, str, str, str]] = []  # (t, action, kind, ns, name)

    def owner_removed(self, uid: str) -> None:
        if self.api.store.dependents.get(uid):
            self.api.sim.env.process(self._collect_after_delay(uid))

    def dangling_owner(self, kind: str, namespace: str, name: str, delay: float | None = None) -> None:
        self.api.sim.env.process(
            self._check_after_delay(kind, namespace, name, self.delay if delay is None else delay)
        )

    def _collect_after_delay(self, uid: str) -> Any:
        yield self.api.sim.env.timeout(self.delay)
        for kind, ns, name in self.api.store.dependents_of(uid):
            self._attempt(kind, ns, name)

    def _check_after_delay(self, kind: str, namespace: str, name: str, delay: float) -> Any:
        yield self.api.sim.env.timeout(delay)
        self._attempt(kind, namespace, name)

    def _attempt(self, kind: str, namespace: str, name: str) -> None:
        store = self.api.store
        obj = store.get(kind, namespace, name)
        if obj is None:
            return
        refs = obj["metadata"].get("ownerReferences") or []
        live = [r for r in refs if r.get("uid") in store.by_uid]
        if len(live) == len(refs):
            return
        try:
            if not live:
                if obj["metadata"].get("deletionTimestamp") is None:
                    self.log.append((self.api.sim.now, "delete", kind, namespace, name))
                    self.api.delete(kind, namespace, name, actor=GC_ACTOR)
            else:
                self.log.append((self.api.sim.now, "orphan-dangling", kind, namespace, name))
                self.api.patch(kind, namespace, name, {"metadata": {"ownerReferences": live}}, actor=GC_ACTOR)
        except ApiError:
            # The real collector requeues with backoff; retry after another delay.
            self.dangling_owner(kind, namespace, name, delay=max(self.delay, RETRY_DELAY))

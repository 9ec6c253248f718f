"""Background garbage collection of dependents through ownerReferences.

upstream: k8s.io/kubernetes pkg/controller/garbagecollector/garbagecollector.go attemptToDeleteItem.
A dependent whose owners are all gone is deleted (background propagation); a dependent that still
has a live owner only loses its dangling ownerReferences. The collector acts `gc_delay` simulated
seconds after it notices (owner removed, or dependent created pointing at a missing owner)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from sim.apiserver.errors import ApiError
from sim.apiserver.store import Store, owner_uids


class _Api(Protocol):
    """What the collector needs of the API server (a protocol: no import cycle with server.py)."""

    store: Store
    sim: Any

    def delete(
        self,
        kind: str,
        namespace: str,
        name: str,
        actor: str = ...,
        grace_period_seconds: int | None = ...,
        propagation_policy: str = ...,
        resource_version: str | None = ...,
    ) -> None: ...

    def patch(
        self,
        kind: str,
        namespace: str,
        name: str,
        merge_patch: Mapping[str, Any],
        actor: str = ...,
        subresource: str | None = ...,
        copy_result: bool = ...,
        fresh_input: bool = ...,
    ) -> dict[str, Any]: ...


GC_ACTOR = "generic-garbage-collector"
RETRY_DELAY = 1.0  # seconds before retrying after an API error (injected faults)


class GarbageCollector:
    def __init__(self, api: _Api, delay: float) -> None:
        self.api = api
        self.delay = delay
        # owners in foreground deletion: uid -> None (insertion-ordered)
        self.waiting: dict[str, None] = {}
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

    # ------------------------------------------------------------------ foreground deletion

    def foreground(self, uid: str) -> None:
        """An owner entered foreground deletion: delete its dependents, then drop its finalizer."""
        self.waiting[uid] = None
        self.api.sim.env.process(self._foreground_after_delay(uid))

    def dependent_removed(self, final: dict[str, Any]) -> None:
        for uid in owner_uids(final):
            if uid in self.waiting:
                self.api.sim.env.process(self._finish_after_delay(uid))

    def _foreground_after_delay(self, uid: str) -> Any:
        yield self.api.sim.env.timeout(self.delay)
        store = self.api.store
        for kind, ns, name in store.dependents_of(uid):
            dep = store.get(kind, ns, name)
            if dep is None or dep["metadata"].get("deletionTimestamp") is not None:
                continue
            # upstream: attemptToDeleteItem deletes a dependent of a foreground-deleting owner in
            # the foreground too when it has dependents of its own, else in the background
            policy = "Foreground" if store.dependents.get(dep["metadata"]["uid"]) else "Background"
            self.log.append((self.api.sim.now, "delete-foreground-dependent", kind, ns, name))
            try:
                self.api.delete(kind, ns, name, actor=GC_ACTOR, propagation_policy=policy)
            except ApiError:
                self.api.sim.env.process(self._retry_foreground(uid))
                return
        self._finish(uid)

    def _retry_foreground(self, uid: str) -> Any:
        yield self.api.sim.env.timeout(max(self.delay, RETRY_DELAY))
        if uid in self.waiting:
            yield from self._foreground_after_delay(uid)

    def _finish_after_delay(self, uid: str) -> Any:
        yield self.api.sim.env.timeout(self.delay)
        self._finish(uid)

    def _finish(self, uid: str) -> None:
        """Remove the foregroundDeletion finalizer once no dependent blocks the owner."""
        store = self.api.store
        ref = store.by_uid.get(uid)
        if ref is None or uid not in self.waiting:
            self.waiting.pop(uid, None)
            return
        for kind, ns, name in store.dependents_of(uid):
            dep = store.get(kind, ns, name)
            refs = (dep or {}).get("metadata", {}).get("ownerReferences") or []
            if any(r.get("uid") == uid and r.get("blockOwnerDeletion") for r in refs):
                return  # dependent_removed calls back when it is gone
        kind, ns, name = ref
        owner = store.get(kind, ns, name)
        assert owner is not None
        rest = [f for f in owner["metadata"].get("finalizers") or [] if f != "foregroundDeletion"]
        try:
            self.log.append((self.api.sim.now, "foreground-done", kind, ns, name))
            self.api.patch(kind, ns, name, {"metadata": {"finalizers": rest or None}}, actor=GC_ACTOR)
        except ApiError:
            self.api.sim.env.process(self._finish_after_delay(uid))
            return
        self.waiting.pop(uid, None)

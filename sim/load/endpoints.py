"""Who may receive requests: the Ready pods of each role.

`StaticEndpoints` is set by hand (tests, fixed-replica benchmarks); `InformerEndpoints` derives the ready
set from a Pod informer cache, as kube-proxy derives EndpointSlices: pods labelled with the
DisaggregatedService and role whose `Ready` condition is `True`. This module is the only one in
`sim/load` that may touch the controller runtime, and only through the informer's duck-typed interface."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

ROLE_LABEL = "scaler.bud.studio/role"
SERVICE_LABEL = "scaler.bud.studio/disaggregated-service"


DEFAULT_GRACE_S = 30.0
"""A pod's terminationGracePeriodSeconds when its spec gives none (the Kubernetes default)."""


class Endpoints(Protocol):
    """Optionally also `take_terminating(role) -> {pod: grace seconds}`: pods of the role that left the
    endpoints because they are being deleted since the last call; the load layer lets each drain for its
    grace period, then fails what it still holds (the client may retry)."""

    def ready_pods(self, role: str) -> Sequence[str]: ...
    def subscribe(self, fn: Callable[[str], None]) -> None: ...


class StaticEndpoints:
    """Ready pods set explicitly; `set_ready` notifies subscribers like an EndpointSlice update."""

    def __init__(self, ready: Mapping[str, Sequence[str]] | None = None) -> None:
        self._ready: dict[str, list[str]] = {r: sorted(p) for r, p in (ready or {}).items()}
        self._subs: list[Callable[[str], None]] = []
        self._terminating: dict[str, dict[str, float]] = {}

    @classmethod
    def replicas(cls, counts: Mapping[str, int], prefix: str = "") -> StaticEndpoints:
        """`{"decode": 2}` -> pods `decode-0`, `decode-1` (names zero-padded so sorting keeps order)."""
        return cls({r: [f"{prefix}{r}-{i:03d}" for i in range(n)] for r, n in counts.items()})

    def ready_pods(self, role: str) -> Sequence[str]:
        return self._ready.get(role, [])

    def subscribe(self, fn: Callable[[str], None]) -> None:
        self._subs.append(fn)

    def set_ready(self, role: str, pods: Sequence[str]) -> None:
        new = sorted(pods)
        if new == self._ready.get(role, []):
            return
        self._ready[role] = new
        for fn in list(self._subs):
            fn(role)

    def terminate(self, role: str, pods: Sequence[str], grace: float = DEFAULT_GRACE_S) -> None:
        """Delete pods: they leave the endpoints at once and may drain for `grace` seconds."""
        gone = self._terminating.setdefault(role, {})
        for pod in sorted(pods):
            gone[pod] = grace
        self._ready[role] = [p for p in self._ready.get(role, []) if p not in gone]
        for fn in list(self._subs):
            fn(role)

    def take_terminating(self, role: str) -> dict[str, float]:
        return self._terminating.pop(role, {})


def pod_is_ready(pod: Mapping[str, Any]) -> bool:
    """Ready condition True (what EndpointSlices use) and not terminating."""
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return False
    for cond in pod.get("status", {}).get("conditions", []) or []:
        if cond.get("type") == "Ready":
            return bool(cond.get("status") == "True")
    return False


class InformerEndpoints:
    """Ready pods per role of one DisaggregatedService, read from a Pod informer cache.

    `cache` needs `list(namespace, selector)` (sim.runtime.informer.Informer; its read-only `peek_list`
    is used when present). If it offers `add_handler(fn)` (sim.runtime) or `add_event_handler(fn)`, the
    ready sets refresh on every Pod event; otherwise call `refresh()` (e.g. poll once per second)."""

    def __init__(self, cache: Any, namespace: str, service: str, roles: Sequence[str]) -> None:
        self.cache = cache
        self.namespace = namespace
        self.service = service
        self.roles = list(roles)
        self._ready: dict[str, list[str]] = {r: [] for r in self.roles}
        self._subs: list[Callable[[str], None]] = []
        self._terminating: dict[str, dict[str, float]] = {}
        self._seen_terminating: set[tuple[str, str]] = set()
        self._list_fn = getattr(cache, "peek_list", None) or cache.list
        self.refresh()
        add = getattr(cache, "add_handler", None) or getattr(cache, "add_event_handler", None)
        if callable(add):
            add(self._on_event)

    def _on_event(self, *args: Any) -> None:
        """Apply one Pod event incrementally (no re-list): only the pod's own role can change."""
        event = args[0] if args else None
        obj = getattr(event, "obj", None)
        if not isinstance(obj, Mapping):
            self.refresh()
            return
        deleted = str(getattr(event, "type", "")) == "DELETED"
        self._apply(obj, deleted)
        old = getattr(event, "old", None)
        if isinstance(old, Mapping):
            old_role = (old.get("metadata", {}).get("labels") or {}).get(ROLE_LABEL)
            if old_role != (obj.get("metadata", {}).get("labels") or {}).get(ROLE_LABEL):
                self._apply(old, True)  # relabelled away from its old role

    def _apply(self, obj: Mapping[str, Any], deleted: bool) -> None:
        meta = obj.get("metadata", {})
        labels = meta.get("labels") or {}
        role = labels.get(ROLE_LABEL)
        if labels.get(SERVICE_LABEL) != self.service or role not in self._ready:
            return  # another service's pod, or a role outside the pipeline
        if meta.get("namespace", "") != self.namespace:
            return
        name = str(meta.get("name"))
        ready = not deleted and pod_is_ready(obj)
        current = self._ready[role]
        i = bisect.bisect_left(current, name)
        present = i < len(current) and current[i] == name
        leaving = self._note_terminating(role, name, meta, deleted)
        if ready == present:
            if leaving:
                for fn in list(self._subs):
                    fn(role)
            return
        new = list(current)
        if ready:
            new.insert(i, name)
        else:
            del new[i]
        self._ready[role] = new
        for fn in list(self._subs):
            fn(role)

    def _note_terminating(self, role: str, name: str, meta: Mapping[str, Any], deleted: bool) -> bool:
        """Record a pod that started terminating (deletionTimestamp: its grace period) or vanished (0 s)."""
        key = (role, name)
        if deleted:
            self._seen_terminating.discard(key)
            self._terminating.setdefault(role, {})[name] = 0.0
            return True
        if not meta.get("deletionTimestamp") or key in self._seen_terminating:
            return False
        self._seen_terminating.add(key)
        grace = meta.get("deletionGracePeriodSeconds")
        self._terminating.setdefault(role, {})[name] = DEFAULT_GRACE_S if grace is None else float(grace)
        return True

    def take_terminating(self, role: str) -> dict[str, float]:
        return self._terminating.pop(role, {})

    def _list(self, role: str) -> list[str]:
        selector = {"matchLabels": {SERVICE_LABEL: self.service, ROLE_LABEL: role}}
        pods = self._list_fn(self.namespace, selector)
        return sorted(p["metadata"]["name"] for p in pods if pod_is_ready(p))

    def refresh(self) -> None:
        for role in self.roles:
            new = self._list(role)
            if new != self._ready[role]:
                self._ready[role] = new
                for fn in list(self._subs):
                    fn(role)

    def ready_pods(self, role: str) -> Sequence[str]:
        return self._ready.get(role, [])

    def subscribe(self, fn: Callable[[str], None]) -> None:
        self._subs.append(fn)

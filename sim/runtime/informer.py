"""Shared informers: a per-kind cache fed by the API server's watch.

Reads from the cache lag the server by the watch latency, exactly as controller-runtime's default
(cache-backed) client does; that lag is what produces real resourceVersion Conflicts. Cached
objects are the server's read-only snapshots: `get`/`list` return copies, `peek*` do not (for hot
paths that only read)."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from sim.apiserver.errors import ApiError
from sim.apiserver.jsondata import copy_json
from sim.apiserver.selectors import selector_matches
from sim.apiserver.watch import Watch, WatchEvent, WatchEventType

if TYPE_CHECKING:
    from sim.apiserver.server import APIServer
    from sim.clock import Simulation

Key = tuple[str, str]

RELIST_BACKOFF = 1.0  # seconds between relist attempts after a dropped watch (reflector backoff, simplified)


class InformerEvent(NamedTuple):
    """What an event handler sees (immutable). `old` is the previously cached object (MODIFIED/DELETED)."""

    type: WatchEventType
    obj: dict[str, Any]
    old: dict[str, Any] | None = None


EventHandler = Callable[[InformerEvent], None]


class Informer:
    def __init__(self, sim: Simulation, api: APIServer, kind: str) -> None:
        self.sim = sim
        self.api = api
        self.kind = kind
        self.name = f"informer-{kind.lower()}"
        self._cache: dict[Key, dict[str, Any]] = {}
        self._by_owner: dict[str, dict[Key, None]] = {}
        self._handlers: list[EventHandler] = []
        self._watch: Watch | None = None
        self.synced = False
        self.relists = 0
        self.last_resource_version = "0"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Informer:
        if self._watch is None and not self.synced:
            self._list_and_watch()
        return self

    def _list_and_watch(self) -> None:
        items = self.api.list(self.kind, actor=self.name)
        self._watch = self.api.watch(
            self.kind, self._on_watch_event, name=self.name, on_disconnect=self._on_disconnect
        )
        fresh = {(o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in items}
        if self.synced:
            self._replace(fresh)
        else:
            for key in sorted(fresh):
                self._store(key, fresh[key])
            self.synced = True
        self.last_resource_version = self.api.resource_version

    def _replace(self, fresh: dict[Key, dict[str, Any]]) -> None:
        """Reconcile the cache with a relist, notifying handlers of what changed while disconnected."""
        for key in sorted(set(self._cache) - set(fresh)):
            old = self._cache[key]
            self._evict(key, old)
            self._notify(InformerEvent(WatchEventType.DELETED, old, old))
        for key in sorted(fresh):
            obj = fresh[key]
            prev = self._cache.get(key)
            if prev is None:
                self._store(key, obj)
                self._notify(InformerEvent(WatchEventType.ADDED, obj))
            elif prev["metadata"]["resourceVersion"] != obj["metadata"]["resourceVersion"]:
                self._store(key, obj, prev)
                self._notify(InformerEvent(WatchEventType.MODIFIED, obj, prev))

    def _on_disconnect(self) -> None:
        self._watch = None
        self.sim.env.process(self._relist())

    def _relist(self) -> Any:
        while True:
            yield self.sim.env.timeout(RELIST_BACKOFF)
            try:
                self._list_and_watch()
            except ApiError:
                continue
            self.relists += 1
            return

    # ------------------------------------------------------------------ events

    def _on_watch_event(self, event: WatchEvent) -> None:
        obj = event.obj
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        old = self._cache.get(key)
        self.last_resource_version = meta["resourceVersion"]
        if event.type is WatchEventType.DELETED:
            if old is not None:
                self._evict(key, old)
            self._notify(InformerEvent(WatchEventType.DELETED, obj, old))
            return
        self._store(key, obj, old)
        etype = WatchEventType.ADDED if old is None else WatchEventType.MODIFIED
        self._notify(InformerEvent(etype, obj, old))

    def _store(self, key: Key, obj: dict[str, Any], old: dict[str, Any] | None = None) -> None:
        self._cache[key] = obj
        if old is not None and old["metadata"].get("ownerReferences") is obj["metadata"].get(
            "ownerReferences"
        ):
            return  # shared by the server's copy-on-write: owner index unchanged
        if old is not None:
            for uid in _owner_uids(old):
                idx = self._by_owner.get(uid)
                if idx is not None:
                    idx.pop(key, None)
        for uid in _owner_uids(obj):
            self._by_owner.setdefault(uid, {})[key] = None

    def _evict(self, key: Key, old: dict[str, Any]) -> None:
        del self._cache[key]
        for uid in _owner_uids(old):
            idx = self._by_owner.get(uid)
            if idx is not None:
                idx.pop(key, None)
                if not idx:
                    del self._by_owner[uid]

    def _notify(self, event: InformerEvent) -> None:
        for h in self._handlers:
            h(event)

    def add_handler(self, handler: EventHandler) -> None:
        """Register a handler; like client-go, it first receives ADDED for every cached object."""
        self.start()
        self._handlers.append(handler)
        for key in sorted(self._cache):
            handler(InformerEvent(WatchEventType.ADDED, self._cache[key]))

    def add_event_handler(self, fn: Callable[..., None]) -> None:
        """Duck-typed alias used by `sim.load.endpoints`: `fn(event)` on every change."""
        self.add_handler(fn)

    # ------------------------------------------------------------------ reads

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        obj = self._cache.get((namespace, name))
        return None if obj is None else copy_json(obj)  # type: ignore[no-any-return]

    def list(
        self, namespace: str | None = None, selector: Mapping[str, Any] | None = None
    ) -> builtins.list[dict[str, Any]]:
        return [copy_json(o) for o in self.peek_list(namespace, selector)]

    def peek(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The cached snapshot itself: read-only, do not mutate."""
        return self._cache.get((namespace, name))

    def peek_list(
        self, namespace: str | None = None, selector: Mapping[str, Any] | None = None
    ) -> builtins.list[dict[str, Any]]:
        """Cached snapshots sorted by (namespace, name): read-only, do not mutate."""
        out = []
        for key in sorted(self._cache):
            if namespace is not None and key[0] != namespace:
                continue
            obj = self._cache[key]
            if selector and not selector_matches(selector, obj["metadata"].get("labels")):
                continue
            out.append(obj)
        return out

    def owned_by(self, owner_uid: str) -> builtins.list[dict[str, Any]]:
        """Cached snapshots with an ownerReference to `owner_uid`, sorted by (namespace, name); read-only."""
        idx = self._by_owner.get(owner_uid)
        if not idx:
            return []
        return [self._cache[k] for k in sorted(idx)]

    def __len__(self) -> int:
        return len(self._cache)


def _owner_uids(obj: dict[str, Any]) -> tuple[str, ...]:
    refs = obj["metadata"].get("ownerReferences")
    if not refs:
        return ()
    return tuple(r["uid"] for r in refs if "uid" in r)


class InformerFactory:
    """One shared informer per kind, like controller-runtime's manager cache."""

    def __init__(self, sim: Simulation, api: APIServer) -> None:
        self.sim = sim
        self.api = api
        self._informers: dict[str, Informer] = {}

    def informer(self, kind: str) -> Informer:
        inf = self._informers.get(kind)
        if inf is None:
            inf = self._informers[kind] = Informer(self.sim, self.api, kind).start()
        return inf

    def kinds(self) -> list[str]:
        return sorted(self._informers)

"""The object store: kind -> (namespace, name) -> stored object, plus uid and owner indexes.

Stored objects are never mutated after they are stored (every write stores a new dict), so watch
events and informer caches can share them safely as read-only snapshots."""

from __future__ import annotations

from typing import Any

Key = tuple[str, str]  # (namespace, name)
ObjectRef = tuple[str, str, str]  # (kind, namespace, name)


class Store:
    def __init__(self) -> None:
        self.objects: dict[str, dict[Key, dict[str, Any]]] = {}
        self.by_uid: dict[str, ObjectRef] = {}
        # owner uid -> dependents (kept as dict for insertion order; callers sort anyway)
        self.dependents: dict[str, dict[ObjectRef, None]] = {}

    def table(self, kind: str) -> dict[Key, dict[str, Any]]:
        t = self.objects.get(kind)
        if t is None:
            t = self.objects[kind] = {}
        return t

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        t = self.objects.get(kind)
        return None if t is None else t.get((namespace, name))

    def put(self, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        meta = obj["metadata"]
        ref = (kind, meta.get("namespace", ""), meta["name"])
        self.table(kind)[(ref[1], ref[2])] = obj
        self.by_uid[meta["uid"]] = ref
        if old is not None and old["metadata"].get("ownerReferences") is meta.get("ownerReferences"):
            return  # unchanged (shared by copy-on-write): the owner index is still right
        old_owners = _owner_uids(old) if old is not None else ()
        new_owners = _owner_uids(obj)
        if old_owners != new_owners:
            for uid in old_owners:
                deps = self.dependents.get(uid)
                if deps is not None:
                    deps.pop(ref, None)
                    if not deps:
                        del self.dependents[uid]
            for uid in new_owners:
                self.dependents.setdefault(uid, {})[ref] = None

    def remove(self, kind: str, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        ref = (kind, meta.get("namespace", ""), meta["name"])
        del self.table(kind)[(ref[1], ref[2])]
        self.by_uid.pop(meta["uid"], None)
        for uid in _owner_uids(obj):
            deps = self.dependents.get(uid)
            if deps is not None:
                deps.pop(ref, None)
                if not deps:
                    del self.dependents[uid]

    def dependents_of(self, uid: str) -> list[ObjectRef]:
        return sorted(self.dependents.get(uid, {}))


def _owner_uids(obj: dict[str, Any]) -> tuple[str, ...]:
    refs = obj["metadata"].get("ownerReferences")
    if not refs:
        return ()
    if len(refs) == 1:
        uid = refs[0].get("uid")
        return () if uid is None else (uid,)
    return tuple([r["uid"] for r in refs if "uid" in r])


def owner_uids(obj: dict[str, Any]) -> tuple[str, ...]:
    return _owner_uids(obj)

"""Stateful Hypothesis test of the fake API server against a plain dictionary model.

Rules: create (optionally owned by another object), update with a fresh or stale resourceVersion,
status update, merge patch, delete, add/remove finalizers, advance time. Invariants:
resourceVersion strictly increases; generation changes exactly when spec changes; no object
outlives its owner by more than the GC delay; list equals the model."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from sim.apiserver import APIServer
from sim.apiserver.errors import AlreadyExists, Conflict, Invalid, NotFound
from sim.clock import Simulation

NAMES = st.sampled_from(["a", "b", "c", "d"])
GC_DELAY = 2.0
KIND = "Service"
NS = "ns"


@dataclass
class Obj:
    uid: str
    rv: str
    generation: int
    spec: dict[str, Any]
    status: dict[str, Any]
    finalizers: list[str]
    owner_uid: str | None
    deleting: bool = False
    seen_rvs: list[str] = field(default_factory=list)


class APIServerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.sim = Simulation(seed=0)
        self.api = APIServer(self.sim, gc_delay=GC_DELAY)
        self.model: dict[str, Obj] = {}
        self.removed_at: dict[str, float] = {}  # uid -> removal time
        self.gc_queue: list[tuple[float, int, str, str]] = []  # (due, seq, name, uid)
        self.seq = 0
        self.last_rv = 0

    # ------------------------------------------------------------------ model helpers

    def _live_uids(self) -> set[str]:
        return {o.uid for o in self.model.values()}

    def _removed(self, name: str) -> None:
        obj = self.model.pop(name)
        self.removed_at[obj.uid] = self.sim.now
        for dep_name, dep in sorted(self.model.items()):
            if dep.owner_uid == obj.uid:
                self._schedule_gc(dep_name, dep.uid, self.sim.now + GC_DELAY)

    def _schedule_gc(self, name: str, uid: str, due: float) -> None:
        self.seq += 1
        heapq.heappush(self.gc_queue, (due, self.seq, name, uid))

    def _model_delete(self, name: str) -> None:
        obj = self.model[name]
        if obj.finalizers:
            if not obj.deleting:
                obj.generation += 1  # setting deletionTimestamp bumps generation (and resourceVersion)
            obj.deleting = True
        else:
            self._removed(name)

    def _check_rv(self, rv: str) -> None:
        assert int(rv) > self.last_rv, (rv, self.last_rv)
        self.last_rv = int(rv)

    def _apply(self, name: str, stored: dict[str, Any]) -> None:
        obj = self.model[name]
        if stored["metadata"]["resourceVersion"] != obj.rv:
            self._check_rv(stored["metadata"]["resourceVersion"])
            obj.seen_rvs.append(obj.rv)
            obj.rv = stored["metadata"]["resourceVersion"]
        assert stored["metadata"]["generation"] == obj.generation
        assert stored.get("spec") == obj.spec
        assert stored.get("status") == obj.status
        assert stored["metadata"].get("finalizers", []) == obj.finalizers

    # ------------------------------------------------------------------ rules

    @rule(name=NAMES, x=st.integers(0, 3), owner=st.one_of(st.none(), NAMES))
    def create(self, name: str, x: int, owner: str | None) -> None:
        meta: dict[str, Any] = {"name": name, "namespace": NS}
        owner_uid = None
        if owner is not None and owner in self.model and owner != name:
            owner_uid = self.model[owner].uid
            meta["ownerReferences"] = [{"apiVersion": "v1", "kind": KIND, "name": owner, "uid": owner_uid}]
        body = {
            "apiVersion": "v1",
            "kind": KIND,
            "metadata": meta,
            "spec": {"x": x},
            "status": {"ignored": True},
        }
        if name in self.model:
            try:
                self.api.create(body)
                raise AssertionError("expected AlreadyExists")
            except AlreadyExists:
                return
        out = self.api.create(body)
        self._check_rv(out["metadata"]["resourceVersion"])
        self.model[name] = Obj(
            uid=out["metadata"]["uid"],
            rv=out["metadata"]["resourceVersion"],
            generation=1,
            spec={"x": x},
            status={},
            finalizers=[],
            owner_uid=owner_uid,
        )
        assert out["metadata"]["generation"] == 1 and out["status"] == {}

    @rule(name=NAMES, x=st.integers(0, 3), stale=st.booleans())
    def update(self, name: str, x: int, stale: bool) -> None:
        if name not in self.model:
            try:
                self.api.update({"kind": KIND, "metadata": {"name": name, "namespace": NS}, "spec": {"x": x}})
                raise AssertionError("expected NotFound")
            except NotFound:
                return
        obj = self.model[name]
        cur = self.api.get(KIND, NS, name)
        cur["spec"] = {"x": x}
        cur["status"] = {"written": "through-spec"}  # ignored
        if stale and obj.seen_rvs:
            cur["metadata"]["resourceVersion"] = obj.seen_rvs[-1]
            try:
                self.api.update(cur)
                raise AssertionError("expected Conflict")
            except Conflict:
                return
        out = self.api.update(cur)
        if obj.spec != {"x": x}:
            obj.generation += 1
            obj.spec = {"x": x}
        self._apply(name, out)

    @rule(name=NAMES, s=st.integers(0, 3))
    def update_status(self, name: str, s: int) -> None:
        if name not in self.model:
            return
        obj = self.model[name]
        cur = self.api.get(KIND, NS, name)
        cur["status"] = {"s": s}
        cur["spec"] = {"x": 99}  # ignored
        out = self.api.update_status(cur)
        obj.status = {"s": s}
        self._apply(name, out)

    @rule(name=NAMES, x=st.integers(0, 3))
    def patch(self, name: str, x: int) -> None:
        if name not in self.model:
            return
        obj = self.model[name]
        out = self.api.patch(KIND, NS, name, {"spec": {"x": x}, "status": {"nope": 1}})
        if obj.spec != {"x": x}:
            obj.generation += 1
            obj.spec = {"x": x}
        self._apply(name, out)

    @rule(name=NAMES)
    def delete(self, name: str) -> None:
        if name not in self.model:
            try:
                self.api.delete(KIND, NS, name)
                raise AssertionError("expected NotFound")
            except NotFound:
                return
        self.api.delete(KIND, NS, name)
        self._model_delete(name)
        if name in self.model:
            self._apply(name, self.api.get(KIND, NS, name))

    @rule(name=NAMES, fin=st.sampled_from(["x.io/a", "x.io/b"]))
    def add_finalizer(self, name: str, fin: str) -> None:
        if name not in self.model:
            return
        obj = self.model[name]
        cur = self.api.get(KIND, NS, name)
        if fin in obj.finalizers:
            return
        cur["metadata"]["finalizers"] = [*obj.finalizers, fin]
        if obj.deleting:
            try:
                self.api.update(cur)
                raise AssertionError("expected Invalid")
            except Invalid:
                return
        out = self.api.update(cur)
        obj.finalizers = [*obj.finalizers, fin]
        self._apply(name, out)

    @rule(name=NAMES)
    def remove_finalizer(self, name: str) -> None:
        if name not in self.model or not self.model[name].finalizers:
            return
        obj = self.model[name]
        cur = self.api.get(KIND, NS, name)
        cur["metadata"]["finalizers"] = obj.finalizers[1:]
        out = self.api.update(cur)
        obj.finalizers = obj.finalizers[1:]
        if obj.deleting and not obj.finalizers:
            self._check_rv(out["metadata"]["resourceVersion"])
            self._removed(name)
        else:
            self._apply(name, out)

    @rule(dt=st.sampled_from([0.5, 1.0, 2.0, 5.0]))
    def advance_time(self, dt: float) -> None:
        target = self.sim.now + dt
        self.sim.run(until=target)
        # replay the garbage collector in the model, in due-time order
        marked: list[str] = []
        while self.gc_queue and self.gc_queue[0][0] < target:  # run(until) stops before events at `until`
            due, _, name, uid = heapq.heappop(self.gc_queue)
            obj = self.model.get(name)
            if obj is None or obj.uid != uid or obj.owner_uid in self._live_uids() or obj.deleting:
                continue
            if obj.finalizers:
                obj.deleting = True
                obj.generation += 1
                marked.append(name)
            else:
                obj_uid = obj.uid
                self.model.pop(name)
                self.removed_at[obj_uid] = due
                for dep_name, dep in sorted(self.model.items()):
                    if dep.owner_uid == obj_uid:
                        self._schedule_gc(dep_name, dep.uid, due + GC_DELAY)
        # the GC's DELETE of an object with finalizers is a write: a newer resourceVersion
        for name in marked:
            obj = self.model[name]
            stored = self.api.get(KIND, NS, name)
            assert int(stored["metadata"]["resourceVersion"]) > int(obj.rv), (stored["metadata"], obj.rv)
            obj.seen_rvs.append(obj.rv)
            obj.rv = stored["metadata"]["resourceVersion"]
            assert stored["metadata"]["generation"] == obj.generation
        self.last_rv = max(self.last_rv, int(self.api.resource_version))

    # ------------------------------------------------------------------ invariants

    @invariant()
    def list_equals_model(self) -> None:
        listed = self.api.list(KIND, NS)
        assert [o["metadata"]["name"] for o in listed] == sorted(self.model)
        for o in listed:
            m = self.model[o["metadata"]["name"]]
            assert o["metadata"]["uid"] == m.uid
            assert o["metadata"]["generation"] == m.generation
            assert o["spec"] == m.spec
            assert (o["metadata"].get("deletionTimestamp") is not None) == m.deleting

    @invariant()
    def resource_versions_strictly_increase(self) -> None:
        rvs = [
            int(e.rv_after) for e in self.api.audit.entries if e.result == "ok" and e.rv_after != e.rv_before
        ]
        assert rvs == sorted(rvs) and len(rvs) == len(set(rvs))

    @invariant()
    def no_object_outlives_its_owner_beyond_gc_delay(self) -> None:
        live = {o["metadata"]["uid"] for o in self.api.all_objects(KIND)}
        for o in self.api.all_objects(KIND):
            for ref in o["metadata"].get("ownerReferences") or ():
                if ref["uid"] in live:
                    continue
                gone = self.removed_at.get(ref["uid"])
                assert gone is not None
                # past the delay an orphan may only remain while its finalizers hold it (terminating)
                if self.sim.now > gone + GC_DELAY:
                    assert o["metadata"].get("deletionTimestamp") is not None, (o["metadata"], gone)


TestAPIServerMachine = APIServerMachine.TestCase

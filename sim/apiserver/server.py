"""The in-memory fake API server: verbs, optimistic concurrency, finalizers, subresources, watches.

Objects are plain dicts in wire form. Every write validates the caller's dict as JSON, copies it,
and stores a *new* dict; stored dicts are never mutated afterwards, so watch events can share them.
Reads return copies. Semantics follow k8s.io/apiserver pkg/registry/generic/registry/store.go
(Create, Update, Delete) and the per-kind strategies cited inline."""

from __future__ import annotations

import builtins
import functools
import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

from sim.apiserver.audit import AuditEntry, AuditLog
from sim.apiserver.defaults import apply_defaults, pod_qos_class
from sim.apiserver.errors import (
    AlreadyExists,
    ApiError,
    Conflict,
    Invalid,
    MethodNotAllowed,
    NotFound,
    ServerTimeout,
    StatusCause,
    Unsupported,
    conflict_message,
)
from sim.apiserver.faults import FaultInjector, FaultKind, FaultWindow
from sim.apiserver.gc import GarbageCollector
from sim.apiserver.jsondata import changed_paths, checked_copy, copy_json
from sim.apiserver.merge_patch import apply_merge_patch
from sim.apiserver.resources import ResourceInfo, resource_info
from sim.apiserver.selectors import selector_matches, selector_string
from sim.apiserver.store import Store, owner_uids
from sim.apiserver.watch import DisconnectHandler, Watch, WatchEvent, WatchEventType, WatchHandler

if TYPE_CHECKING:
    from sim.clock import Simulation

_ABSENT: dict[str, Any] = {}

# upstream: k8s.io/apimachinery pkg/apis/meta/v1 FinalizerDeleteDependents
FOREGROUND_FINALIZER = "foregroundDeletion"

# Alphabet Kubernetes uses for generateName suffixes (k8s.io/apimachinery/pkg/util/rand String).
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _write_verb(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """A write verb: a `timeout` fault that let the write through raises once it is stored (only
    at the outermost verb: writes a verb makes on its own behalf, such as orphaning, finish first)."""

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        api: APIServer = args[0]  # type: ignore[assignment]
        faults = api.faults
        api._depth += 1
        try:
            result = fn(*args, **kwargs)
        except BaseException:
            if api._depth == 1:
                faults.pending_timeout = None
            raise
        finally:
            api._depth -= 1
        if api._depth == 0 and faults.pending_timeout is not None:
            err, faults.pending_timeout = faults.pending_timeout, None
            raise err
        return result

    return wrapper


class AdmissionIssue(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def severity(self) -> str: ...


Admission = Callable[[dict[str, Any]], Sequence[AdmissionIssue]]


class APIServer:
    """A single-process stand-in for kube-apiserver + etcd, driven by the simulation clock."""

    def __init__(
        self,
        sim: Simulation,
        admission: Admission | None = None,
        gc_delay: float = 0.0,
        watch_latency: float = 0.0,
        watch_jitter: float = 0.0,
        request_latency: float = 0.0,
    ) -> None:
        if gc_delay < 0 or watch_latency < 0 or watch_jitter < 0 or request_latency < 0:
            raise ValueError("gc_delay, watch_latency, watch_jitter and request_latency must be >= 0")
        self.sim = sim
        self.admission = admission
        self.watch_latency = watch_latency
        self.watch_jitter = watch_jitter
        self.request_latency = request_latency
        self.store = Store()
        self.audit = AuditLog()
        self.faults = FaultInjector(sim)
        self.faults.on_disconnect_window(self._disconnect_watches)
        self.gc = GarbageCollector(self, gc_delay)
        self._rv = 0
        self._ts_sec: int | None = None
        self._ts_str = ""
        self._uid_counter = 0
        self._watches: dict[str, list[Watch]] = {}
        self._depth = 0  # nesting of write verbs (see _write_verb)
        self._latency: dict[str, float] = {}
        self.writes = 0  # successful state-changing writes (benchmarks)
        # Called synchronously with every watch event, in write order (`dsim serve`'s HTTP watches).
        self.emit_hook: Callable[[str, WatchEventType, dict[str, Any]], None] | None = None

    # ------------------------------------------------------------------ helpers

    @property
    def resource_version(self) -> str:
        """The latest resourceVersion handed out (what a list would report)."""
        return str(self._rv)

    def timestamp(self, at: float | None = None) -> str:
        """`Simulation.timestamp` (RFC 3339, seconds), memoised per whole second: it is needed on
        most writes, by the server and by the simulated kubelet and controllers."""
        t = self.sim.env.now if at is None else at
        sec = math.floor(t)
        if sec != self._ts_sec:
            self._ts_sec = sec
            self._ts_str = self.sim.timestamp(sec)
        return self._ts_str

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def _uid(self, kind: str, namespace: str, name: str) -> str:
        self._uid_counter += 1
        h = hashlib.sha256(f"{self._uid_counter}/{kind}/{namespace}/{name}".encode()).hexdigest()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"

    def _generated_name(self, prefix: str, attempt: int) -> str:
        digest = hashlib.sha256(f"{prefix}/{self._uid_counter}/{attempt}".encode()).digest()
        return prefix + "".join(_SUFFIX_ALPHABET[b % len(_SUFFIX_ALPHABET)] for b in digest[:5])

    def _enter(self, verb: str, kind: str, actor: str) -> None:
        """Per-request bookkeeping: injected faults and simulated call latency."""
        extra = self.faults.check(verb, kind, actor) if self.faults.windows else 0.0
        total = self.request_latency + extra
        if total:
            self._latency[actor] = self._latency.get(actor, 0.0) + total

    def take_latency(self, actor: str) -> float:
        """Simulated seconds `actor` spent in API calls since the last call (controllers sleep it)."""
        return self._latency.pop(actor, 0.0)

    def _namespace(self, info: ResourceInfo, namespace: str | None) -> str:
        if not info.namespaced:
            return ""
        return namespace or "default"

    def _audit(
        self,
        actor: str,
        verb: str,
        kind: str,
        namespace: str,
        name: str,
        rv_before: str | None,
        rv_after: str | None,
        changed: Sequence[str] = (),
        subresource: str | None = None,
        result: str = "ok",
    ) -> None:
        self.audit.record(
            AuditEntry(
                t=float(self.sim.env.now),
                actor=actor,
                verb=verb,
                kind=kind,
                namespace=namespace,
                name=name,
                rv_before=rv_before,
                rv_after=rv_after,
                changed_fields=tuple(sorted(changed)),
                subresource=subresource,
                result=result,
            )
        )

    def _fail(
        self,
        err: ApiError,
        actor: str,
        verb: str,
        kind: str,
        namespace: str,
        name: str,
        rv_before: str | None,
        subresource: str | None = None,
    ) -> ApiError:
        self._audit(actor, verb, kind, namespace, name, rv_before, None, (), subresource, err.reason.value)
        return err

    def _emit(self, kind: str, etype: WatchEventType, obj: dict[str, Any]) -> None:
        hook = self.emit_hook
        if hook is not None:
            hook(kind, etype, obj)
        watches = self._watches.get(kind)
        if not watches:
            return
        event = WatchEvent(etype, obj)
        base = self.watch_latency
        if self.faults.windows:
            base += self.faults.watch_latency(kind)
        jitter = self.watch_jitter
        rng = self.sim.seeds.stream("watch") if jitter else None
        for w in watches:
            if not w.open:
                continue
            delay = base + (float(rng.uniform(0.0, jitter)) if rng is not None else 0.0)
            w.push(event, delay)

    def _admit(self, info: ResourceInfo, obj: dict[str, Any]) -> None:
        if self.admission is None:
            return
        issues = [i for i in self.admission(obj) if getattr(i, "severity", "error") == "error"]
        if not issues:
            return
        name = obj["metadata"].get("name", "")
        details = ", ".join(f"{i.path}: {i.message}" for i in issues)
        raise Invalid(
            f'{info.qualified_kind} "{name}" is invalid: {details}',
            kind=info.kind,
            name=name,
            causes=tuple(StatusCause(field=i.path, message=i.message) for i in issues),
        )

    def _existing(self, info: ResourceInfo, namespace: str, name: str) -> dict[str, Any]:
        obj = self.store.get(info.kind, namespace, name)
        if obj is None:
            raise NotFound(f'{info.resource} "{name}" not found', kind=info.kind, name=name)
        return obj

    # ------------------------------------------------------------------ reads

    def get(self, kind: str, namespace: str, name: str, actor: str = "client") -> dict[str, Any]:
        info = resource_info(kind)
        self._enter("get", kind, actor)
        return copy_json(self._existing(info, self._namespace(info, namespace), name))  # type: ignore[no-any-return]

    def list(
        self,
        kind: str,
        namespace: str | None = None,
        selector: Mapping[str, Any] | None = None,
        actor: str = "client",
    ) -> builtins.list[dict[str, Any]]:
        """Objects of `kind` (all namespaces if `namespace` is None), sorted by (namespace, name)."""
        info = resource_info(kind)
        self._enter("list", kind, actor)
        table = self.store.objects.get(kind) or {}
        out = []
        for key in sorted(table):
            if namespace is not None and info.namespaced and key[0] != namespace:
                continue
            obj = table[key]
            if selector and not selector_matches(selector, obj["metadata"].get("labels")):
                continue
            out.append(copy_json(obj))
        return out

    def peek(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """The stored object itself (no copy, no faults, no latency): for tests and invariants only."""
        return self.store.get(kind, namespace, name)

    def all_objects(self, kind: str) -> builtins.list[dict[str, Any]]:
        """Stored objects of `kind` sorted by (namespace, name), uncopied: tests and invariants only."""
        table = self.store.objects.get(kind) or {}
        return [table[k] for k in sorted(table)]

    # ------------------------------------------------------------------ create

    @_write_verb
    def create(
        self,
        obj: Mapping[str, Any],
        actor: str = "client",
        copy_result: bool = True,
        fresh_input: bool = False,
    ) -> dict[str, Any]:
        """POST. `fresh_input=True` (in-simulator callers): `obj` is JSON the caller never mutates
        again and whose nested values may be shared with stored objects; it is not validated or
        deep-copied."""
        kind = obj.get("kind")
        if not isinstance(kind, str):
            raise Unsupported(f"object has no string 'kind': {obj!r:.200}")
        info = resource_info(kind)
        new: dict[str, Any]
        if fresh_input:
            new = dict(obj)
            new["metadata"] = dict(obj.get("metadata") or {})
            if isinstance(new.get("spec"), dict):
                new["spec"] = dict(new["spec"])  # defaulting may add top-level spec keys
        else:
            new = checked_copy(obj)
        meta = new.get("metadata")
        if not isinstance(meta, dict):
            meta = new["metadata"] = {}
        namespace = self._namespace(info, meta.get("namespace"))
        name = meta.get("name") or ""
        try:
            self._enter("create", kind, actor)
        except ApiError as exc:
            raise self._fail(exc, actor, "create", kind, namespace, name, None) from None
        if not name:
            prefix = meta.get("generateName")
            if not prefix:
                err = Invalid(
                    f'{info.qualified_kind} "" is invalid: metadata.name: Required value: '
                    "name or generateName is required",
                    kind=kind,
                    causes=(StatusCause("metadata.name", "name or generateName is required"),),
                )
                raise self._fail(err, actor, "create", kind, namespace, name, None)
            for attempt in range(100):
                name = self._generated_name(prefix, attempt)
                if self.store.get(kind, namespace, name) is None:
                    break
        if self.store.get(kind, namespace, name) is not None:
            dup = AlreadyExists(f'{info.resource} "{name}" already exists', kind=kind, name=name)
            raise self._fail(dup, actor, "create", kind, namespace, name, None)
        new.setdefault("apiVersion", info.api_version)
        meta["name"] = name
        if info.namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        for k in ("deletionTimestamp", "deletionGracePeriodSeconds", "resourceVersion"):
            meta.pop(k, None)
        meta["uid"] = self._uid(kind, namespace, name)
        meta["generation"] = 1
        meta["creationTimestamp"] = self.timestamp()
        apply_defaults(kind, new)
        if info.status_subresource:
            # upstream: pkg/registry/*/strategy.go PrepareForCreate (status is reset on create)
            if kind == "Pod":
                new["status"] = {"phase": "Pending", "qosClass": pod_qos_class(new.get("spec") or {})}
            elif kind == "Node":
                pass  # pkg/registry/core/node/strategy.go: nodes may set status on create
            elif info.requires_resource_version:
                new.pop("status", None)
            else:
                new["status"] = {}
        try:
            self._admit(info, new)
        except Invalid as exc:
            raise self._fail(exc, actor, "create", kind, namespace, name, None) from None
        rv = self._next_rv()
        meta["resourceVersion"] = rv
        self.store.put(kind, new, None)
        self.writes += 1
        changed: list[str] = []
        changed_paths({}, new, "", changed)
        self._audit(actor, "create", kind, namespace, name, None, rv, [c for c in changed if c != "metadata"])
        self._emit(kind, WatchEventType.ADDED, new)
        for uid in owner_uids(new):
            if uid not in self.store.by_uid:
                self.gc.dangling_owner(kind, namespace, name)
                break
        return copy_json(new) if copy_result else new  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ updates

    @_write_verb
    def update(
        self, obj: Mapping[str, Any], actor: str = "client", copy_result: bool = True
    ) -> dict[str, Any]:
        """PUT: spec and metadata; status is ignored for kinds with a status subresource."""
        return self._put(obj, actor, None, copy_result)

    @_write_verb
    def update_status(
        self, obj: Mapping[str, Any], actor: str = "client", copy_result: bool = True
    ) -> dict[str, Any]:
        """PUT .../status: status only; spec and metadata changes are ignored."""
        return self._put(obj, actor, "status", copy_result)

    def _put(
        self, obj: Mapping[str, Any], actor: str, subresource: str | None, copy_result: bool
    ) -> dict[str, Any]:
        kind = obj.get("kind")
        if not isinstance(kind, str):
            raise Unsupported(f"object has no string 'kind': {obj!r:.200}")
        info = resource_info(kind)
        if subresource == "status" and not info.status_subresource:
            raise MethodNotAllowed(f"{info.resource} has no status subresource", kind=kind)
        meta = obj.get("metadata") or {}
        namespace = self._namespace(info, meta.get("namespace"))
        name = meta.get("name") or ""
        try:
            self._enter("update", kind, actor)
            old = self._existing(info, namespace, name)
        except ApiError as exc:
            raise self._fail(exc, actor, "update", kind, namespace, name, None, subresource) from None
        old_rv = old["metadata"]["resourceVersion"]
        rv = meta.get("resourceVersion")
        if not rv and info.requires_resource_version:
            err = Invalid(
                f'{info.qualified_kind} "{name}" is invalid: metadata.resourceVersion: Invalid value: '
                "0x0: must be specified for an update",
                kind=kind,
                name=name,
                causes=(StatusCause("metadata.resourceVersion", "must be specified for an update"),),
            )
            raise self._fail(err, actor, "update", kind, namespace, name, old_rv, subresource)
        if (rv and rv != old_rv) or self.faults.conflict("update", kind, actor):
            c_err = Conflict(conflict_message(info.resource, name), kind=kind, name=name)
            raise self._fail(c_err, actor, "update", kind, namespace, name, old_rv, subresource)
        incoming: dict[str, Any] = checked_copy(obj)
        return self._write(info, old, incoming, actor, "update", subresource, copy_result)

    @_write_verb
    def patch(
        self,
        kind: str,
        namespace: str,
        name: str,
        merge_patch: Mapping[str, Any],
        actor: str = "client",
        subresource: str | None = None,
        copy_result: bool = True,
        fresh_input: bool = False,
    ) -> dict[str, Any]:
        """JSON merge patch (RFC 7386). A `metadata.resourceVersion` in the patch is a precondition.

        Fast paths for in-simulator components that only read results: `copy_result=False` returns
        the stored (read-only) object; `fresh_input=True` promises the patch is freshly built JSON
        the caller never mutates again, so it is neither validated nor copied."""
        info = resource_info(kind)
        namespace = self._namespace(info, namespace)
        if subresource not in (None, "status", "scale"):
            raise Unsupported(f"patch subresource {subresource!r}; allowed: None, 'status', 'scale'")
        if subresource == "status" and not info.status_subresource:
            raise MethodNotAllowed(f"{info.resource} has no status subresource", kind=kind)
        if subresource == "scale":
            self._require_scale(info)
        try:
            self._enter("patch", kind, actor)
            old = self._existing(info, namespace, name)
        except ApiError as exc:
            raise self._fail(exc, actor, "patch", kind, namespace, name, None, subresource) from None
        old_rv = old["metadata"]["resourceVersion"]
        patch_meta = merge_patch.get("metadata")
        want_rv = patch_meta.get("resourceVersion") if isinstance(patch_meta, dict) else None
        if want_rv is not None and (want_rv != old_rv or self.faults.conflict("patch", kind, actor)):
            err = Conflict(conflict_message(info.resource, name), kind=kind, name=name)
            raise self._fail(err, actor, "patch", kind, namespace, name, old_rv, subresource)
        if subresource == "scale":
            scale = apply_merge_patch(self._scale_of(info, old), merge_patch)
            replicas = (scale.get("spec") or {}).get("replicas")
            incoming = copy_json(old)
            incoming["spec"]["replicas"] = replicas
            return self._write(info, old, incoming, actor, "patch", "scale", copy_result)
        patched = apply_merge_patch(old, merge_patch, fresh_input)
        return self._write(info, old, patched, actor, "patch", subresource, copy_result)

    def _write(
        self,
        info: ResourceInfo,
        old: dict[str, Any],
        incoming: dict[str, Any],
        actor: str,
        verb: str,
        subresource: str | None,
        copy_result: bool = True,
    ) -> dict[str, Any]:
        """Merge `incoming` onto `old` per the subresource rules, admit, and store (or no-op)."""
        kind = info.kind
        old_meta = old["metadata"]
        namespace = old_meta.get("namespace", "")
        name = old_meta["name"]
        old_rv = old_meta["resourceVersion"]
        if subresource == "status":
            # upstream: metav1 ResetObjectMetaForStatus + strategy PrepareForUpdate: only status moves.
            # Stored objects are immutable: share every subtree but metadata (copy-on-write).
            new = dict(old)
            new["metadata"] = dict(old_meta)
            if "status" in incoming:
                new["status"] = incoming["status"]
            else:
                new.pop("status", None)
        else:
            new = incoming
            new.setdefault("apiVersion", old.get("apiVersion", info.api_version))
            new["kind"] = kind
            meta = new.get("metadata")
            meta = new["metadata"] = dict(meta) if isinstance(meta, dict) else {}
            for k in ("name", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
                if k in old_meta:
                    meta[k] = old_meta[k]
                else:
                    meta.pop(k, None)
            if info.namespaced:
                meta["namespace"] = namespace
            meta["generation"] = old_meta.get("generation", 1)
            if info.status_subresource:
                if "status" in old:
                    new["status"] = old["status"]
                else:
                    new.pop("status", None)
            apply_defaults(kind, new)
            if old_meta.get("deletionTimestamp") is not None:
                added = set(meta.get("finalizers") or ()) - set(old_meta.get("finalizers") or ())
                if added:
                    err = Invalid(
                        f'{info.qualified_kind} "{name}" is invalid: metadata.finalizers: Forbidden: '
                        "no new finalizers can be added if the object is being deleted",
                        kind=kind,
                        name=name,
                        causes=(StatusCause("metadata.finalizers", "no new finalizers can be added"),),
                    )
                    raise self._fail(err, actor, verb, kind, namespace, name, old_rv, subresource)
            if new.get("spec") != old.get("spec"):
                meta["generation"] = old_meta.get("generation", 1) + 1
        new["metadata"]["resourceVersion"] = old_rv
        if new == old:
            # etcd3 GuaranteedUpdate short-circuits identical objects: no new resourceVersion, no event.
            self._audit(actor, verb, kind, namespace, name, old_rv, old_rv, (), subresource)
            return copy_json(old) if copy_result else old  # type: ignore[no-any-return]
        try:
            self._admit(info, new)
        except Invalid as exc:
            raise self._fail(exc, actor, verb, kind, namespace, name, old_rv, subresource) from None
        changed: list[str] = []
        if subresource == "status":
            # only status can differ (metadata was copied, spec shared)
            changed_paths(old.get("status", _ABSENT), new.get("status", _ABSENT), "status", changed)
        else:
            changed_paths(old, new, "", changed)
        rv = self._next_rv()
        new["metadata"]["resourceVersion"] = rv
        self.writes += 1
        if new["metadata"].get("deletionTimestamp") is not None and not new["metadata"].get("finalizers"):
            # upstream: registry/store.go Update -> deleteWithoutFinalizers (last finalizer removed)
            self._audit(actor, verb, kind, namespace, name, old_rv, rv, changed, subresource)
            self._remove(info, new)
            return copy_json(new) if copy_result else new  # type: ignore[no-any-return]
        self.store.put(kind, new, old)
        self._audit(actor, verb, kind, namespace, name, old_rv, rv, changed, subresource)
        self._emit(kind, WatchEventType.MODIFIED, new)
        return copy_json(new) if copy_result else new  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ delete

    @_write_verb
    def delete(
        self,
        kind: str,
        namespace: str,
        name: str,
        actor: str = "client",
        grace_period_seconds: int | None = None,
        propagation_policy: str = "Background",
        resource_version: str | None = None,
    ) -> None:
        """Delete. Finalizers -> deletionTimestamp (object stays); bound Pods terminate gracefully
        (deletionTimestamp = now + grace; the kubelet finishes with grace 0); dependents are garbage
        collected in the background (`Orphan` strips their ownerReferences instead)."""
        info = resource_info(kind)
        namespace = self._namespace(info, namespace)
        if propagation_policy not in ("Background", "Orphan", "Foreground"):
            raise Unsupported(
                f"propagationPolicy {propagation_policy!r}; allowed: Background, Foreground, Orphan"
            )
        try:
            self._enter("delete", kind, actor)
            old = self._existing(info, namespace, name)
        except ApiError as exc:
            raise self._fail(exc, actor, "delete", kind, namespace, name, None) from None
        old_meta = old["metadata"]
        old_rv = old_meta["resourceVersion"]
        if resource_version is not None and resource_version != old_rv:
            err = Conflict(conflict_message(info.resource, name), kind=kind, name=name)
            raise self._fail(err, actor, "delete", kind, namespace, name, old_rv)
        grace = 0
        if kind == "Pod":
            # upstream: pkg/registry/core/pod/strategy.go CheckGracefulDelete
            spec = old.get("spec") or {}
            grace = (
                grace_period_seconds
                if grace_period_seconds is not None
                else int(spec.get("terminationGracePeriodSeconds", 30))
            )
            phase = (old.get("status") or {}).get("phase")
            if not spec.get("nodeName") or phase in ("Succeeded", "Failed"):
                grace = 0
        if propagation_policy == "Orphan":
            self._orphan_dependents(old_meta["uid"], actor)
        finalizers = old_meta.get("finalizers") or []
        terminating = old_meta.get("deletionTimestamp") is not None
        if propagation_policy == "Foreground" and FOREGROUND_FINALIZER not in finalizers:
            self._delete_foreground(info, old, grace, actor)
            return
        if not finalizers and grace == 0:
            rv = self._next_rv()
            final = {**old, "metadata": {**old_meta, "resourceVersion": rv}}
            self.writes += 1
            self._audit(actor, "delete", kind, namespace, name, old_rv, rv, ())
            self._remove(info, final)
            return
        now = self.sim.env.now
        if terminating:
            current = old_meta.get("deletionGracePeriodSeconds", 0)
            if grace >= current:
                self._audit(actor, "delete", kind, namespace, name, old_rv, old_rv, ())
                return  # already terminating with an equal or shorter grace period
        meta = dict(old_meta)
        new = {**old, "metadata": meta}
        meta["deletionTimestamp"] = self.timestamp(now + grace)
        meta["deletionGracePeriodSeconds"] = grace
        changed: list[str] = []
        changed_paths(old, new, "", changed)
        rv = self._next_rv()
        meta["resourceVersion"] = rv
        self.writes += 1
        self.store.put(kind, new, old)
        self._audit(actor, "delete", kind, namespace, name, old_rv, rv, changed)
        self._emit(kind, WatchEventType.MODIFIED, new)

    def _delete_foreground(self, info: ResourceInfo, old: dict[str, Any], grace: int, actor: str) -> None:
        """Foreground propagation: the object stays, terminating, with the foregroundDeletion
        finalizer until the garbage collector has deleted every dependent that blocks it
        (ownerReferences with blockOwnerDeletion) and removed the finalizer.

        upstream: k8s.io/apiserver pkg/registry/generic/registry/store.go Delete ->
        updateForGracefulDeletionAndFinalizers (deletionFinalizersForGarbageCollection adds the
        finalizer, deletionTimestamp is set at once) and garbagecollector.go
        processDeletingDependentsItem (removes it when no blocking dependent is left)."""
        kind = info.kind
        old_meta = old["metadata"]
        namespace, name, old_rv = old_meta.get("namespace", ""), old_meta["name"], old_meta["resourceVersion"]
        meta = dict(old_meta)
        new = {**old, "metadata": meta}
        meta["finalizers"] = [*(old_meta.get("finalizers") or []), FOREGROUND_FINALIZER]
        if old_meta.get("deletionTimestamp") is None:
            meta["deletionTimestamp"] = self.timestamp(self.sim.env.now + grace)
            meta["deletionGracePeriodSeconds"] = grace
        # an object already terminating keeps its deletionTimestamp; generation moves (store.go
        # BeforeDelete bumps it when deletion starts on an object with finalizers)
        meta["generation"] = int(old_meta.get("generation", 1)) + 1
        changed: list[str] = []
        changed_paths(old, new, "", changed)
        rv = self._next_rv()
        meta["resourceVersion"] = rv
        self.writes += 1
        self.store.put(kind, new, old)
        self._audit(actor, "delete", kind, namespace, name, old_rv, rv, changed)
        self._emit(kind, WatchEventType.MODIFIED, new)
        self.gc.foreground(meta["uid"])

    def _remove(self, info: ResourceInfo, final: dict[str, Any]) -> None:
        self.store.remove(info.kind, final)
        self._emit(info.kind, WatchEventType.DELETED, final)
        self.gc.owner_removed(final["metadata"]["uid"])
        if self.gc.waiting:
            self.gc.dependent_removed(final)

    def _orphan_dependents(self, uid: str, actor: str) -> None:
        for dkind, dns, dname in self.store.dependents_of(uid):
            dep = self.store.get(dkind, dns, dname)
            if dep is None:
                continue
            keep = [r for r in dep["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            self.patch(dkind, dns, dname, {"metadata": {"ownerReferences": keep or None}}, actor=actor)

    # ------------------------------------------------------------------ pods/binding

    @_write_verb
    def bind(
        self,
        namespace: str,
        name: str,
        node_name: str,
        actor: str = "default-scheduler",
        copy_result: bool = True,
    ) -> dict[str, Any]:
        """POST pods/binding: set spec.nodeName and PodScheduled=True.

        upstream: pkg/registry/core/pod/storage/storage.go BindingREST.setPodNodeAndMetadata"""
        info = resource_info("Pod")
        try:
            self._enter("bind", "Pod", actor)
            old = self._existing(info, namespace, name)
        except ApiError as exc:
            raise self._fail(exc, actor, "create", "Pod", namespace, name, None, "binding") from None
        old_rv = old["metadata"]["resourceVersion"]
        if old["metadata"].get("deletionTimestamp") is not None or (old.get("spec") or {}).get("nodeName"):
            current = (old.get("spec") or {}).get("nodeName")
            msg = (
                f'Operation cannot be fulfilled on pods/binding "{name}": pod {name} is already assigned '
                f'to node "{current}"'
                if current
                else f'Operation cannot be fulfilled on pods/binding "{name}": pod {name} is being deleted'
            )
            raise self._fail(
                Conflict(msg, kind="Pod", name=name),
                actor,
                "create",
                "Pod",
                namespace,
                name,
                old_rv,
                "binding",
            )
        status = dict(old.get("status") or {})
        new = {
            **old,
            "metadata": dict(old["metadata"]),
            "spec": {**(old.get("spec") or {}), "nodeName": node_name},
            "status": status,
        }
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
        conditions.insert(
            0,
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": self.timestamp(),
            },
        )
        status["conditions"] = conditions
        changed: list[str] = []
        changed_paths(old, new, "", changed)
        rv = self._next_rv()
        new["metadata"]["resourceVersion"] = rv
        self.writes += 1
        self.store.put("Pod", new, old)
        self._audit(actor, "create", "Pod", namespace, name, old_rv, rv, changed, "binding")
        self._emit("Pod", WatchEventType.MODIFIED, new)
        return copy_json(new) if copy_result else new  # type: ignore[no-any-return]

    # ------------------------------------------------------------------ scale subresource

    def _require_scale(self, info: ResourceInfo) -> None:
        if not info.scale_subresource:
            raise MethodNotAllowed(
                f"{info.resource} has no scale subresource; kinds with one: Deployment, ReplicaSet, StatefulSet",
                kind=info.kind,
            )

    def _scale_of(self, info: ResourceInfo, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        scale_status: dict[str, Any] = {"replicas": status.get("replicas", 0)}
        sel = selector_string(spec.get("selector"))
        if sel:
            scale_status["selector"] = sel
        return {
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {
                "name": meta["name"],
                "namespace": meta.get("namespace", ""),
                "uid": meta["uid"],
                "resourceVersion": meta["resourceVersion"],
                "creationTimestamp": meta["creationTimestamp"],
            },
            "spec": {"replicas": spec.get("replicas", 0)},
            "status": scale_status,
        }

    def get_scale(self, kind: str, namespace: str, name: str, actor: str = "client") -> dict[str, Any]:
        """GET .../scale as autoscaling/v1 Scale."""
        info = resource_info(kind)
        self._require_scale(info)
        self._enter("get", kind, actor)
        return self._scale_of(info, self._existing(info, self._namespace(info, namespace), name))

    @_write_verb
    def update_scale(
        self,
        kind: str,
        namespace: str,
        name: str,
        replicas: int,
        actor: str = "client",
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        """PUT .../scale: set spec.replicas; returns the new Scale."""
        info = resource_info(kind)
        self._require_scale(info)
        namespace = self._namespace(info, namespace)
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
            err = Invalid(
                f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value: {replicas!r}: '
                "must be greater than or equal to 0",
                kind="Scale",
                name=name,
                causes=(StatusCause("spec.replicas", "must be greater than or equal to 0"),),
            )
            raise self._fail(err, actor, "update", kind, namespace, name, None, "scale")
        try:
            self._enter("update", kind, actor)
            old = self._existing(info, namespace, name)
        except ApiError as exc:
            raise self._fail(exc, actor, "update", kind, namespace, name, None, "scale") from None
        old_rv = old["metadata"]["resourceVersion"]
        if (resource_version and resource_version != old_rv) or self.faults.conflict("update", kind, actor):
            c_err = Conflict(conflict_message(info.resource, name), kind=kind, name=name)
            raise self._fail(c_err, actor, "update", kind, namespace, name, old_rv, "scale")
        incoming = copy_json(old)
        incoming.setdefault("spec", {})["replicas"] = replicas
        stored = self._write(info, old, incoming, actor, "update", "scale")
        return self._scale_of(info, stored)

    # ------------------------------------------------------------------ watch

    def watch(
        self,
        kind: str,
        handler: WatchHandler,
        name: str = "informer",
        on_disconnect: DisconnectHandler | None = None,
    ) -> Watch:
        """Open a watch on every object of `kind`; events are delivered from the next event onwards.

        Raises ServerTimeout while a watch_disconnect fault window covers `kind`."""
        resource_info(kind)
        self._enter("watch", kind, name)
        if self.faults.windows and self.faults.watch_refused(kind):
            raise ServerTimeout(f"watch of {kind} refused (injected watch_disconnect window)", kind=kind)
        w = Watch(self.sim, kind, handler, name, on_disconnect)
        watches = self._watches.setdefault(kind, [])
        watches[:] = [x for x in watches if x.open]
        watches.append(w)
        return w

    def _disconnect_watches(self, window: FaultWindow) -> None:
        assert FaultKind(window.kind) is FaultKind.WATCH_DISCONNECT
        for kind in sorted(self._watches):
            if window.kinds is not None and kind not in window.kinds:
                continue
            for w in list(self._watches[kind]):
                if w.open and (window.probability >= 1.0 or self.faults._draw(window)):
                    w.close(notify=True)

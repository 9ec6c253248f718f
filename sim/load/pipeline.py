"""Pipelines derived from a DisaggregatedService, and the per-role routing of requests to Ready pods.

Request paths (by role type, as the pull request's examples describe them):
- embeddings: Router -> Tokenizer -> Inference (batched embedding model);
- LLM prefill/decode: Router -> Prefill -> KV transfer -> Decode;
- anything else: every role, in dependency order (`dependsOn`, ties in declaration order).

A role forwards a request only to its Ready pods (round-robin or least-loaded). With no Ready pod the request
waits in a bounded FIFO buffer in front of the role (the activator / router queue); if it is full, or the
request waits longer than the timeout, the request is dropped and counted, never silently lost."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from model.errors import InputError
from sim.load.accounting import RoleAccount
from sim.load.engine import EngineServer
from sim.load.request import DropReason, Request
from sim.load.service_models import (
    PARAMS_FOR_KIND,
    BatchServer,
    DecodeServer,
    KVTransferParams,
    ModelKind,
    PodServer,
    ServiceParams,
    make_server,
)

if TYPE_CHECKING:
    from sim.load.service_models import Done, Dropped, Host


class PipelineError(InputError, ValueError):
    """A DisaggregatedService that does not describe a request path; names the YAML path and the value."""

    def __init__(self, path: str, value: object, allowed: str) -> None:
        super().__init__(f"bad value {value!r}: {allowed}", path=path, value=value, allowed=allowed)


class Balancing(StrEnum):
    """How a role picks a Ready pod (docs/load.md "Routing")."""

    ROUND_ROBIN = "roundRobin"
    """The next pod in turn (kube-proxy / a plain Service); work already sent to a pod stays there."""
    LEAST_LOADED = "leastLoaded"
    """Fewest queued + running; the no-pod buffer is released all at once (the pre-issue-15 behaviour)."""
    LEAST_OUTSTANDING = "leastOutstanding"
    """Fewest outstanding requests; a backlog held at the entrance is released only into free slots."""
    KV_AWARE = "kvAware"
    """Lowest KV-cache usage (ties: fewest outstanding); backlog released only into free slots."""
    ROUTER_QUEUE = "routerQueue"
    """Requests wait at the role's entrance until a pod has a free slot (llm-d / Dynamo flow control)."""

    @classmethod
    def _missing_(cls, value: object) -> Balancing | None:
        # the scenario file spells them kebab-case ("round-robin", "least-loaded")
        key = str(value).replace("-", "").replace("_", "").lower()
        return next((m for m in cls if m.value.lower() == key), None)


@dataclass(frozen=True)
class RoleStep:
    role: str
    role_type: str
    kind: ModelKind


@dataclass(frozen=True)
class TransferStep:
    """KV-cache transfer between prefill and decode: a delay, not a role (no pods, no queue)."""

    name: str = "kv-transfer"


Step = RoleStep | TransferStep


@dataclass(frozen=True)
class PipelineSpec:
    name: str
    namespace: str
    steps: tuple[Step, ...]

    @property
    def roles(self) -> list[str]:
        return [s.role for s in self.steps if isinstance(s, RoleStep)]


_KIND_FOR_TYPE = {
    "Router": ModelKind.ROUTER,
    "Tokenizer": ModelKind.TOKENIZER,
    "Prefill": ModelKind.PREFILL,
    "Decode": ModelKind.DECODE,
    "Custom": ModelKind.FIXED,
}


def _dependency_order(roles: list[dict[str, Any]]) -> list[int]:
    names = [str(r.get("name")) for r in roles]
    index = {n: i for i, n in enumerate(names)}
    for i, r in enumerate(roles):
        for j, dep in enumerate(r.get("dependsOn") or []):
            if dep not in index:
                raise PipelineError(f"spec.roles[{i}].dependsOn[{j}]", dep, f"one of the role names {names}")
    order: list[int] = []
    placed: set[int] = set()
    while len(order) < len(roles):
        progressed = False
        for i, r in enumerate(roles):  # declaration order breaks ties
            if i not in placed and all(index[d] in placed for d in r.get("dependsOn") or []):
                order.append(i)
                placed.add(i)
                progressed = True
                break
        if not progressed:
            cyc = sorted(names[i] for i in range(len(roles)) if i not in placed)
            raise PipelineError("spec.roles[*].dependsOn", cyc, "dependencies must not form a cycle")
    return order


def pipeline_from_service(ds: Mapping[str, Any]) -> PipelineSpec:
    """The request path through a DisaggregatedService object (Kubernetes wire-form dict)."""
    meta = ds.get("metadata", {})
    spec = ds.get("spec", {})
    roles: list[dict[str, Any]] = list(spec.get("roles") or [])
    if not roles:
        raise PipelineError("spec.roles", roles, "at least one role")
    for i, r in enumerate(roles):
        rt = r.get("roleType")
        if rt not in ("Router", "Tokenizer", "Inference", "Prefill", "Decode", "Custom"):
            raise PipelineError(
                f"spec.roles[{i}].roleType",
                rt,
                "one of Router, Tokenizer, Inference, Prefill, Decode, Custom",
            )
    order = _dependency_order(roles)
    by_type: dict[str, list[dict[str, Any]]] = {}
    for i in order:
        by_type.setdefault(roles[i]["roleType"], []).append(roles[i])
    service_type = str(spec.get("serviceType", ""))
    steps: list[Step] = []

    def add(role: dict[str, Any], kind: ModelKind) -> None:
        steps.append(RoleStep(str(role["name"]), str(role["roleType"]), kind))

    if "Prefill" in by_type and "Decode" in by_type:
        for r in by_type.get("Router", [])[:1]:
            add(r, ModelKind.ROUTER)
        add(by_type["Prefill"][0], ModelKind.PREFILL)
        steps.append(TransferStep())
        add(by_type["Decode"][0], ModelKind.DECODE)
    elif "Inference" in by_type and ("Tokenizer" in by_type or service_type == "Embedding"):
        for r in by_type.get("Router", [])[:1]:
            add(r, ModelKind.ROUTER)
        for r in by_type.get("Tokenizer", [])[:1]:
            add(r, ModelKind.TOKENIZER)
        add(by_type["Inference"][0], ModelKind.EMBEDDING)
    else:
        for i in order:
            rt = roles[i]["roleType"]
            add(roles[i], _KIND_FOR_TYPE.get(rt, ModelKind.DECODE))
    return PipelineSpec(str(meta.get("name", "")), str(meta.get("namespace", "default")), tuple(steps))


def _validated(cls: type[Any], overrides: Mapping[str, Any], where: str) -> Any:
    """`cls` from user overrides; a bad field becomes a PipelineError naming `services.<role>.<field>`."""
    try:
        return cls.model_validate(dict(overrides))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err.get("loc", ()))
        fields = ", ".join(sorted(f.alias or n for n, f in cls.model_fields.items()))
        allowed = f"{err.get('msg', 'invalid')}; fields of {cls.__name__}: {fields}"
        raise PipelineError(f"{where}.{loc}" if loc else where, err.get("input"), allowed) from None


def params_for(
    kind: ModelKind, overrides: Mapping[str, Any] | ServiceParams | None, where: str = "services"
) -> ServiceParams:
    """Default parameters of a model kind, with per-role overrides (camelCase or snake_case keys)."""
    cls = PARAMS_FOR_KIND[kind]
    if overrides is None:
        return cls()  # type: ignore[return-value]
    if isinstance(overrides, cls):
        return overrides  # type: ignore[return-value]
    if not isinstance(overrides, Mapping):
        raise PipelineError(where, overrides, f"a mapping of {cls.__name__} fields")
    return _validated(cls, overrides, where)  # type: ignore[no-any-return]


class RoleStage:
    """One role of the pipeline at run time: its pods' servers, the ready list and the no-pod buffer."""

    def __init__(
        self,
        step: RoleStep,
        params: ServiceParams,
        host: Host,
        account: RoleAccount,
        forward: Callable[[Request, float], None],
        drop: Callable[[Request, float, DropReason, str | None], None],
        balancing: Balancing,
        buffer_size: int,
        buffer_timeout: float,
        server_factory: Callable[[str, str, Host, Done, Dropped], PodServer] | None = None,
    ) -> None:
        self.name = step.role
        self.server_factory = server_factory
        """Builds the pods' servers instead of `make_server` (engine roles: `sim.load.engine`)."""
        self.kind = step.kind
        self.params = params
        self.host = host
        self.acc = account
        self.forward = forward
        self._drop = drop
        self.balancing = balancing
        self.least_loaded = balancing is Balancing.LEAST_LOADED
        self.hold = balancing in _HOLDING
        """Backlog waits at the entrance and is released only into free slots."""
        self.gate = balancing is Balancing.ROUTER_QUEUE
        """Every request waits at the entrance unless a pod has a free slot."""
        self.buffer_size = buffer_size
        self.buffer_timeout = buffer_timeout
        self.servers: dict[str, PodServer] = {}
        self.ready: list[PodServer] = []
        self.buffer: deque[Request] = deque()
        self._rr = 0
        self.ready_area = 0.0
        """Integral of the number of Ready pods over time (pod-seconds of capacity offered)."""
        self._ready_t: float | None = None
        self._retired_used = 0.0

    # -- endpoints
    def set_ready(self, pods: Sequence[str], now: float) -> None:
        if self._ready_t is not None:
            self.ready_area += len(self.ready) * (now - self._ready_t)
        self._ready_t = now
        ready = []
        for name in pods:
            srv = self.servers.get(name)
            if srv is None:
                if self.server_factory is not None:
                    srv = self.server_factory(name, self.name, self.host, self._done, self._pod_drop)
                else:
                    srv = make_server(
                        self.kind, self.params, name, self.name, self.host, self._done, self._pod_drop
                    )
                srv._t = srv.born = now
                self.servers[name] = srv
            ready.append(srv)
        self.ready = ready
        self._retire_idle(now)
        if self.hold:
            self.pull(now)
            return
        while self.buffer and self.ready:
            req = self.buffer.popleft()
            self.acc.buffered -= 1
            self._dispatch(req, now)

    # -- request path
    def enter(self, req: Request, now: float) -> None:
        acc = self.acc
        acc.entered += 1
        acc.win_entered += 1
        acc.change(now, 1)
        req.stamps[self.name] = [now, -1.0, -1.0]
        if self.ready and not (self.hold and self.buffer):
            if not self.gate:
                self._dispatch(req, now)
                return
            srv = self._slot_for(req, now)
            if srv is not None:
                req.pod = srv
                srv.submit(req, now)
                return
        if len(self.buffer) >= self.buffer_size:
            acc.change(now, -1)
            self._drop(req, now, DropReason.BUFFER_FULL, self.name)
        else:
            self.buffer.append(req)
            acc.buffered += 1
            self.host.after(self.buffer_timeout, self._expire, (req, req.attempt))

    def _slot_for(self, req: Request, now: float) -> PodServer | None:
        """The Ready pod with a free slot for `req` this mode prefers (None if every pod is busy)."""
        best: PodServer | None = None
        best_key: tuple[float, int] = (0.0, 0)
        kv = self.balancing is Balancing.KV_AWARE
        for srv in self.ready:
            if not srv.has_slot(req):
                continue
            key = (srv.kv_usage(now) if kv else 0.0, srv.outstanding())
            if best is None or key < best_key:
                best, best_key = srv, key
        return best

    def pull(self, now: float) -> None:
        """Release the entrance backlog into free slots (holding modes), oldest first."""
        buf = self.buffer
        while buf and self.ready:
            srv = self._slot_for(buf[0], now)
            if srv is None:
                return
            req = buf.popleft()
            self.acc.buffered -= 1
            req.pod = srv
            srv.submit(req, now)

    def cancel(self, req: Request, now: float) -> bool:
        """Abort `req` in this role (entrance buffer or its pod); it leaves the role as cancelled."""
        srv = req.pod
        if srv is not None:
            req.pod = None
            found = bool(srv.cancel(req, now))  # type: ignore[attr-defined]
        else:
            try:
                self.buffer.remove(req)
            except ValueError:
                found = False
            else:
                found = True
                self.acc.buffered -= 1
        if found:
            acc = self.acc
            acc.change(now, -1)
            acc.cancelled += 1
            acc.win_cancelled += 1
            if self.hold and self.buffer:
                self.pull(now)
        return found

    def _dispatch(self, req: Request, now: float) -> None:
        ready = self.ready
        if self.balancing is Balancing.LEAST_OUTSTANDING or self.balancing is Balancing.KV_AWARE:
            kv = self.balancing is Balancing.KV_AWARE
            best = ready[0]
            best_key = (best.kv_usage(now) if kv else 0.0, best.outstanding())
            for srv in ready:
                key = (srv.kv_usage(now) if kv else 0.0, srv.outstanding())
                if key < best_key:
                    best, best_key = srv, key
        elif self.least_loaded:
            best = ready[0]
            best_load = best.load()
            for srv in ready:
                load = srv.load()
                if load < best_load:
                    best, best_load = srv, load
        else:
            best = ready[self._rr % len(ready)]
            self._rr += 1
        req.pod = best
        best.submit(req, now)

    def _expire(self, arg: object) -> None:
        pair: tuple[Request, int] = arg  # type: ignore[assignment]
        req, attempt = pair
        if req.attempt != attempt:
            return  # an earlier attempt's timer
        buf = self.buffer
        if buf and buf[0] is req:
            buf.popleft()
        elif req in buf:
            buf.remove(req)
        else:
            return  # already dispatched
        now = self.host.now()
        self.acc.buffered -= 1
        self.acc.change(now, -1)
        self._drop(req, now, DropReason.BUFFER_TIMEOUT, self.name)

    def _done(self, req: Request, now: float) -> None:
        acc = self.acc
        req.pod = None
        st = req.stamps[self.name]
        st[2] = now
        acc.left += 1
        acc.win_left += 1
        acc.change(now, -1)
        wait = st[1] - st[0]
        soj = now - st[0]
        acc.sum_wait += wait
        acc.sum_sojourn += soj
        acc.sum_service += req.service_time.get(self.name, 0.0)
        acc.wait.add(wait)
        acc.sojourn.add(soj)
        acc.win_sojourn.append(soj)
        if self.hold and self.buffer:
            self.pull(now)
        self.forward(req, now)

    def _pod_drop(self, req: Request, now: float, reason: DropReason) -> None:
        req.pod = None
        self.acc.change(now, -1)
        self._drop(req, now, reason, self.name)

    def terminate_pod(self, name: str, now: float) -> list[Request]:
        """The pod's grace period ended: abort what it still holds (returned, for the client to see
        a failed request) and forget it."""
        srv = self.servers.get(name)
        if srv is None or srv in self.ready:
            return []
        held = getattr(srv, "held", None)
        victims = list(held()) if callable(held) else []
        for req in victims:
            self.cancel(req, now)
        self._retire_idle(now)
        return victims

    # -- state for metrics and samples
    def waiting(self) -> int:
        return len(self.buffer) + sum(s.waiting for s in self.servers.values())

    def running(self) -> int:
        return sum(s.running for s in self.servers.values())

    def capacity_units(self, srv: PodServer) -> tuple[float, bool]:
        """(service units per pod, use active area): what utilization divides by."""
        if isinstance(srv, (BatchServer, EngineServer)):
            return 1.0, True  # one batch at a time (engine servers: the GPU busy fraction)
        if isinstance(srv, DecodeServer):
            return float(srv.max_seqs), False
        return float(getattr(srv, "concurrency", 1)), False

    def ready_pod_seconds(self, now: float) -> float:
        if self._ready_t is None:
            return 0.0
        return self.ready_area + len(self.ready) * (now - self._ready_t)

    def _retire_idle(self, now: float) -> None:
        """Forget servers of pods that left the ready set and hold no work (memory stays bounded
        under pod churn); their busy time is kept for utilization."""
        keep = {id(s) for s in self.ready}
        for name in [n for n, s in self.servers.items() if id(s) not in keep and s.load() == 0]:
            srv = self.servers.pop(name)
            units, active = self.capacity_units(srv)
            busy, act = srv.areas(now)
            self._retired_used += act if active else busy / units

    def utilization(self, now: float) -> float:
        """Busy service capacity / offered capacity (Ready pod-seconds x units per pod) so far.

        Pods draining after leaving the ready set still count their busy time, so under scale-down
        this may slightly exceed what the ready pods alone did."""
        offered = self.ready_pod_seconds(now)
        if offered <= 0:
            return 0.0
        used = self._retired_used
        for srv in self.servers.values():
            units, active = self.capacity_units(srv)
            busy, act = srv.areas(now)
            used += act if active else busy / units
        return used / offered


_HOLDING = frozenset({Balancing.LEAST_OUTSTANDING, Balancing.KV_AWARE, Balancing.ROUTER_QUEUE})

KV_TRANSFER = "kv-transfer"
"""The `services:` key that overrides the prefill -> decode KV transfer parameters."""


def kv_transfer_params(
    overrides: Mapping[str, Any] | KVTransferParams | None, where: str = f"services.{KV_TRANSFER}"
) -> KVTransferParams:
    if overrides is None:
        return KVTransferParams()
    if isinstance(overrides, KVTransferParams):
        return overrides
    return _validated(KVTransferParams, overrides, where)  # type: ignore[no-any-return]

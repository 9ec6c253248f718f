"""The controller loop: For/Owns/Watches event sources -> work queue -> reconcile, one SimPy process
per worker.

Mirrors controller-runtime (pkg/internal/controller/controller.go reconcileHandler): an ApiError
from reconcile -> rate-limited requeue; Result.requeue_after -> forget + add_after;
Result.requeue -> rate-limited requeue; success -> forget. Any other exception is a bug and
propagates (the run fails loudly). After each reconcile the worker is busy for `reconcile_cost`
plus the simulated latency of the API calls it made."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from sim.apiserver.errors import ApiError
from sim.apiserver.watch import WatchEventType
from sim.runtime.informer import InformerEvent, InformerFactory
from sim.runtime.workqueue import WorkQueue

if TYPE_CHECKING:
    from sim.clock import Simulation


@dataclass(frozen=True, slots=True, order=True)
class Request:
    """reconcile.Request: the namespaced name of the object to reconcile."""

    namespace: str
    name: str


@dataclass(frozen=True, slots=True)
class Result:
    """reconcile.Result."""

    requeue: bool = False
    requeue_after: float | None = None


class Reconciler(Protocol):
    name: str

    def reconcile(self, req: Request, now: float) -> Result: ...


Predicate = Callable[[InformerEvent], bool]
Mapper = Callable[[dict[str, Any]], Iterable[Request]]


def generation_changed(event: InformerEvent) -> bool:
    """predicate.GenerationChangedPredicate: drop updates that did not change metadata.generation."""
    if event.type is not WatchEventType.MODIFIED or event.old is None:
        return True
    return bool(event.old["metadata"].get("generation") != event.obj["metadata"].get("generation"))


GenerationChanged: Predicate = generation_changed


class ReconcileOutcome(StrEnum):
    SUCCESS = "success"
    REQUEUE = "requeue"
    REQUEUE_AFTER = "requeue_after"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ReconcileRecord:
    t: float
    controller: str
    namespace: str
    name: str
    outcome: ReconcileOutcome
    requeue_after: float | None = None
    error: str | None = None


def _controller_owner(obj: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for ref in obj["metadata"].get("ownerReferences") or ():
        if ref.get("controller") and ref.get("kind") == kind:
            return ref  # type: ignore[no-any-return]
    return None


class Controller:
    def __init__(
        self,
        sim: Simulation,
        reconciler: Reconciler,
        informers: InformerFactory,
        for_kind: str,
        owns: Sequence[str] = (),
        reconcile_cost: float = 0.0,
        for_predicates: Sequence[Predicate] = (),
        owns_predicates: Sequence[Predicate] = (),
        watches: Sequence[tuple[str, Mapper]] = (),
        workers: int = 1,
        keep_log: bool = True,
    ) -> None:
        if reconcile_cost < 0:
            raise ValueError(f"reconcile_cost must be >= 0, got {reconcile_cost}")
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.sim = sim
        self.reconciler = reconciler
        self.informers = informers
        self.api = informers.api
        self.name: str = reconciler.name
        self.for_kind = for_kind
        self.owns = tuple(owns)
        self.reconcile_cost = reconcile_cost
        self.for_predicates = tuple(for_predicates)
        self.owns_predicates = tuple(owns_predicates)
        self.watches = tuple(watches)
        self.workers = workers
        self.keep_log = keep_log
        self.queue: WorkQueue[Request] = WorkQueue(sim.env)
        self.log: list[ReconcileRecord] = []
        self.reconciles = 0
        self._started = False

    # ------------------------------------------------------------------ event sources

    def _on_for(self, event: InformerEvent) -> None:
        for p in self.for_predicates:
            if not p(event):
                return
        meta = event.obj["metadata"]
        self.queue.add(Request(meta.get("namespace", ""), meta["name"]))

    def _on_owned(self, event: InformerEvent) -> None:
        for p in self.owns_predicates:
            if not p(event):
                return
        # upstream: controller-runtime pkg/handler/enqueue_owner.go (old and new owners on update)
        new = event.obj
        old = event.old
        objs: tuple[dict[str, Any], ...] = (new,)
        if old is not None and old["metadata"].get("ownerReferences") is not new["metadata"].get(
            "ownerReferences"
        ):
            objs = (old, new)
        for obj in objs:
            ref = _controller_owner(obj, self.for_kind)
            if ref is not None:
                self.queue.add(Request(obj["metadata"].get("namespace", ""), ref["name"]))

    def _mapped(self, mapper: Mapper) -> Callable[[InformerEvent], None]:
        def handler(event: InformerEvent) -> None:
            for req in mapper(event.obj):
                self.queue.add(req)

        return handler

    # ------------------------------------------------------------------ loop

    def start(self) -> Controller:
        if self._started:
            return self
        self._started = True
        self.informers.informer(self.for_kind).add_handler(self._on_for)
        for kind in self.owns:
            self.informers.informer(kind).add_handler(self._on_owned)
        for kind, mapper in self.watches:
            self.informers.informer(kind).add_handler(self._mapped(mapper))
        for _ in range(self.workers):
            self.sim.env.process(self._worker())
        return self

    def _worker(self) -> Any:
        env = self.sim.env
        queue = self.queue
        while True:
            req: Request = yield queue.get()
            now = float(env.now)
            self.reconciles += 1
            try:
                result = self.reconciler.reconcile(req, now)
            except ApiError as err:
                queue.add_rate_limited(req)
                self._record(now, req, ReconcileOutcome.ERROR, error=f"{err.reason.value}: {err.message}")
            else:
                if result is None:
                    result = Result()
                if result.requeue_after is not None and result.requeue_after > 0:
                    queue.forget(req)
                    queue.add_after(req, result.requeue_after)
                    self._record(now, req, ReconcileOutcome.REQUEUE_AFTER, requeue_after=result.requeue_after)
                elif result.requeue:
                    queue.add_rate_limited(req)
                    self._record(now, req, ReconcileOutcome.REQUEUE)
                else:
                    queue.forget(req)
                    self._record(now, req, ReconcileOutcome.SUCCESS)
            busy = self.reconcile_cost + self.api.take_latency(self.name)
            if busy > 0:
                yield env.timeout(busy)
            queue.done(req)

    def _record(
        self,
        now: float,
        req: Request,
        outcome: ReconcileOutcome,
        requeue_after: float | None = None,
        error: str | None = None,
    ) -> None:
        if self.keep_log:
            self.log.append(
                ReconcileRecord(now, self.name, req.namespace, req.name, outcome, requeue_after, error)
            )

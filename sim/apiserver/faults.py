"""Fault injection by simulated time window (random draws from the seeded stream "faults").

A window only draws random numbers for requests it matches, so adding a window never shifts the
draws of any other stream."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from sim.apiserver.errors import (
    ApiError,
    InternalError,
    ServerTimeout,
    StatusReason,
    TooManyRequests,
)

if TYPE_CHECKING:
    from sim.clock import Simulation


class FaultKind(StrEnum):
    CONFLICT = "conflict"  # Conflict on update/patch/update_status/update_scale
    ERROR = "error"  # InternalError (or `reason`) on any matching verb
    # ServerTimeout on any matching verb; a write may still have been applied (`applied_probability`)
    TIMEOUT = "timeout"
    LATENCY = "latency"  # extra latency on API calls and on watch delivery
    WATCH_DISCONNECT = "watch_disconnect"  # open watches drop at window start; re-watch refused inside


WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "bind"})
ALL_VERBS = frozenset({"create", "get", "list", "update", "patch", "delete", "bind", "watch"})


@dataclass(frozen=True, slots=True)
class FaultWindow:
    start: float
    end: float
    kind: FaultKind | str
    probability: float = 1.0
    verbs: frozenset[str] | tuple[str, ...] | None = None  # None = every verb the kind applies to
    kinds: frozenset[str] | tuple[str, ...] | None = None  # None = every kind
    actors: frozenset[str] | tuple[str, ...] | None = None  # None = every actor
    latency: float = 0.0
    reason: StatusReason = StatusReason.INTERNAL_ERROR  # for kind="error"
    # for kind="timeout" on a write: the chance the write was applied before the client gave up, as
    # when kube-apiserver's request timeout fires while etcd commits. Drawn from the Seeds stream
    # "fault-timeout-applied"; the client sees ServerTimeout either way (docs/control-plane.md).
    applied_probability: float = 0.5

    def __post_init__(self) -> None:
        FaultKind(self.kind)  # raises ValueError naming the bad kind
        if not self.end > self.start:
            raise ValueError(f"fault window end {self.end} must be after start {self.start}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"fault probability must be in [0, 1], got {self.probability}")
        if self.latency < 0:
            raise ValueError(f"fault latency must be >= 0, got {self.latency}")
        if not 0.0 <= self.applied_probability <= 1.0:
            raise ValueError(f"applied_probability must be in [0, 1], got {self.applied_probability}")
        if self.verbs is not None:
            bad = sorted(set(self.verbs) - ALL_VERBS)
            if bad:
                raise ValueError(f"unknown verbs {bad}; allowed: {sorted(ALL_VERBS)}")

    def active(self, now: float) -> bool:
        return self.start <= now < self.end

    def matches(self, verb: str, kind: str, actor: str) -> bool:
        return (
            (self.verbs is None or verb in self.verbs)
            and (self.kinds is None or kind in self.kinds)
            and (self.actors is None or actor in self.actors)
        )


_ERRORS: dict[StatusReason, type[ApiError]] = {
    StatusReason.INTERNAL_ERROR: InternalError,
    StatusReason.TOO_MANY_REQUESTS: TooManyRequests,
    StatusReason.SERVER_TIMEOUT: ServerTimeout,
}

_CONFLICT_VERBS = frozenset({"update", "patch"})


class FaultInjector:
    """The server consults this on every request. `add` schedules windows."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.windows: list[FaultWindow] = []
        self._disconnect_listeners: list[Callable[[FaultWindow], None]] = []
        self.injected: list[tuple[float, str, str, str, str]] = []  # (t, fault, verb, kind, actor)
        # a timeout whose write goes ahead: raised by the API server once the write is stored
        self.pending_timeout: ServerTimeout | None = None

    def add(self, window: FaultWindow) -> FaultWindow:
        self.windows.append(window)
        if FaultKind(window.kind) is FaultKind.WATCH_DISCONNECT:
            self.sim.env.process(self._disconnect_at_start(window))
        return window

    def on_disconnect_window(self, fn: Callable[[FaultWindow], None]) -> None:
        self._disconnect_listeners.append(fn)

    def _disconnect_at_start(self, window: FaultWindow):  # type: ignore[no-untyped-def]
        env = self.sim.env
        if window.start > env.now:
            yield env.timeout(window.start - env.now)
        for fn in self._disconnect_listeners:
            fn(window)

    def _draw(self, window: FaultWindow) -> bool:
        if window.probability >= 1.0:
            return True
        if window.probability <= 0.0:
            return False
        return bool(self.sim.seeds.stream("faults").random() < window.probability)

    def _applied(self, window: FaultWindow) -> bool:
        p = window.applied_probability
        if p <= 0.0:
            return False
        if p >= 1.0:
            return True
        return bool(self.sim.seeds.stream("fault-timeout-applied").random() < p)

    def check(self, verb: str, kind: str, actor: str) -> float:
        """Raise the injected error for this request, if any; else return the added latency."""
        if not self.windows:
            return 0.0
        now = self.sim.env.now
        latency = 0.0
        for w in self.windows:
            if not (w.start <= now < w.end) or not w.matches(verb, kind, actor):
                continue
            fk = FaultKind(w.kind)
            if fk is FaultKind.LATENCY:
                if self._draw(w):
                    latency += w.latency
            elif fk is FaultKind.TIMEOUT:
                if self._draw(w):
                    err = ServerTimeout(
                        f"The {verb} operation against {kind} could not be completed at this time, "
                        "please try again.",
                        kind=kind,
                        retry_after_seconds=1,
                    )
                    if verb in WRITE_VERBS and self._applied(w):
                        self.injected.append((now, "timeout-applied", verb, kind, actor))
                        self.pending_timeout = err
                        continue
                    self.injected.append((now, fk.value, verb, kind, actor))
                    raise err
            elif fk is FaultKind.ERROR and self._draw(w):
                self.injected.append((now, fk.value, verb, kind, actor))
                cls = _ERRORS.get(w.reason, InternalError)
                raise cls(f"injected {w.reason.value} fault on {verb} {kind}", kind=kind)
        return latency

    def conflict(self, verb: str, kind: str, actor: str) -> bool:
        """Should this update fail with an injected Conflict?"""
        if not self.windows or verb not in _CONFLICT_VERBS:
            return False
        now = self.sim.env.now
        for w in self.windows:
            if (
                FaultKind(w.kind) is FaultKind.CONFLICT
                and w.start <= now < w.end
                and w.matches(verb, kind, actor)
                and self._draw(w)
            ):
                self.injected.append((now, "conflict", verb, kind, actor))
                return True
        return False

    def watch_refused(self, kind: str) -> bool:
        """True while a watch_disconnect window covering `kind` is active (re-watch fails)."""
        now = self.sim.env.now
        return any(
            FaultKind(w.kind) is FaultKind.WATCH_DISCONNECT
            and w.start <= now < w.end
            and (w.kinds is None or kind in w.kinds)
            for w in self.windows
        )

    def watch_latency(self, kind: str) -> float:
        """Extra watch-delivery latency from active latency windows that cover the `watch` verb."""
        if not self.windows:
            return 0.0
        now = self.sim.env.now
        return sum(
            w.latency
            for w in self.windows
            if FaultKind(w.kind) is FaultKind.LATENCY
            and w.start <= now < w.end
            and (w.verbs is None or "watch" in w.verbs)
            and (w.kinds is None or kind in w.kinds)
        )

"""A client-go style rate-limited work queue on the SimPy clock.

Semantics of k8s.io/client-go/util/workqueue: an item is queued at most once (dirty set); an item
added while being processed is re-queued when `done` is called; `add_after` keeps the earliest
due time; `add_rate_limited` waits `5 ms * 2**failures` capped at 1000 s
(ItemExponentialFailureRateLimiter, client-go DefaultItemBasedRateLimiter)."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import simpy

T = TypeVar("T", bound=Hashable)

BASE_DELAY = 0.005
MAX_DELAY = 1000.0


class ItemExponentialFailureRateLimiter(Generic[T]):
    # upstream: k8s.io/client-go/util/workqueue/default_rate_limiters.go ItemExponentialFailureRateLimiter.When
    def __init__(self, base_delay: float = BASE_DELAY, max_delay: float = MAX_DELAY) -> None:
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._failures: dict[T, int] = {}

    def when(self, item: T) -> float:
        exp = self._failures.get(item, 0)
        self._failures[item] = exp + 1
        if exp > 64:  # 2**exp overflows any sensible cap; client-go guards the same way
            return self.max_delay
        return float(min(self.base_delay * (2**exp), self.max_delay))

    def forget(self, item: T) -> None:
        self._failures.pop(item, None)

    def num_requeues(self, item: T) -> int:
        return self._failures.get(item, 0)


class WorkQueue(Generic[T]):
    def __init__(
        self, env: simpy.Environment, rate_limiter: ItemExponentialFailureRateLimiter[T] | None = None
    ):
        self.env = env
        self.rate_limiter: ItemExponentialFailureRateLimiter[T] = (
            rate_limiter or ItemExponentialFailureRateLimiter()
        )
        self._queue: deque[T] = deque()
        self._dirty: set[T] = set()
        self._processing: set[T] = set()
        self._waiters: deque[Any] = deque()
        self._delayed: dict[T, float] = {}
        self._handoff_pending = False
        self.adds = 0

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, item: T) -> None:
        self.adds += 1
        if item in self._dirty:
            return
        self._dirty.add(item)
        if item in self._processing:
            return
        self._queue.append(item)
        if self._waiters and not self._handoff_pending:
            # Hand items to idle workers after the events already due at this instant, so that
            # simultaneous notifications for one item coalesce into one reconcile.
            self._handoff_pending = True
            self.env.timeout(0).callbacks.append(self._handoff)

    def _handoff(self, _event: Any) -> None:
        self._handoff_pending = False
        while self._waiters and self._queue:
            item = self._queue.popleft()
            self._dirty.discard(item)
            self._processing.add(item)
            self._waiters.popleft().succeed(item)

    def get(self) -> Any:
        """A SimPy event whose value is the next item (yield it)."""
        ev = self.env.event()
        if self._queue:
            item = self._queue.popleft()
            self._dirty.discard(item)
            self._processing.add(item)
            ev.succeed(item)
        else:
            self._waiters.append(ev)
        return ev

    def done(self, item: T) -> None:
        self._processing.discard(item)
        if item in self._dirty:
            self._dirty.discard(item)
            self.add(item)

    def add_after(self, item: T, delay: float) -> None:
        if delay <= 0:
            self.add(item)
            return
        due = self.env.now + delay
        current = self._delayed.get(item)
        if current is not None and current <= due:
            return
        self._delayed[item] = due
        self.env.process(self._fire(item, due))

    def _fire(self, item: T, due: float) -> Any:
        yield self.env.timeout(due - self.env.now)
        if self._delayed.get(item) == due:
            del self._delayed[item]
            self.add(item)

    def add_rate_limited(self, item: T) -> None:
        self.add_after(item, self.rate_limiter.when(item))

    def forget(self, item: T) -> None:
        self.rate_limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return self.rate_limiter.num_requeues(item)

    def waiting(self) -> int:
        """Items scheduled by add_after / add_rate_limited that are not yet due."""
        return len(self._delayed)

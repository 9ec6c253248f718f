"""Watch streams: ADDED/MODIFIED/DELETED events delivered after a latency with seeded jitter.

Each watch is one ordered stream, like one HTTP watch connection: an event is never delivered
before an earlier event of the same stream, so events of one object always arrive in order.
Event objects are shared, read-only snapshots of the stored object (copy before mutating)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from sim.clock import Simulation


class WatchEventType(StrEnum):
    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"


class WatchEvent(NamedTuple):
    """One watch event (immutable). `obj` is the server's stored snapshot: treat it as read-only."""

    type: WatchEventType
    obj: dict[str, Any]


WatchHandler = Callable[[WatchEvent], None]
DisconnectHandler = Callable[[], None]


class Watch:
    """One open watch stream on a kind; delivers queued events in order at their delivery time."""

    def __init__(
        self,
        sim: Simulation,
        kind: str,
        handler: WatchHandler,
        name: str,
        on_disconnect: DisconnectHandler | None,
    ) -> None:
        self.sim = sim
        self.kind = kind
        self.handler = handler
        self.name = name
        self.on_disconnect = on_disconnect
        self.open = True
        self._queue: deque[tuple[float, WatchEvent]] = deque()
        self._last_due = 0.0
        self._wakeup: Any = None
        self._process = sim.env.process(self._run())

    def push(self, event: WatchEvent, delay: float) -> None:
        if not self.open:
            return
        due = self.sim.env.now + delay
        if due < self._last_due:  # keep the stream ordered
            due = self._last_due
        self._last_due = due
        self._queue.append((due, event))
        wake = self._wakeup
        if wake is not None and not wake.triggered:
            wake.succeed()

    def close(self, notify: bool) -> None:
        """Stop delivering (pending events are lost, as on a dropped connection)."""
        if not self.open:
            return
        self.open = False
        self._queue.clear()
        wake = self._wakeup
        if wake is not None and not wake.triggered:
            wake.succeed()
        if notify and self.on_disconnect is not None:
            self.on_disconnect()

    def _run(self) -> Any:
        env = self.sim.env
        queue = self._queue
        while self.open:
            if not queue:
                self._wakeup = env.event()
                yield self._wakeup
                self._wakeup = None
                continue
            due = queue[0][0]
            if due > env.now:
                yield env.timeout(due - env.now)
                continue
            while queue and queue[0][0] <= env.now and self.open:
                _, event = queue.popleft()
                self.handler(event)

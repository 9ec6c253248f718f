"""Every write's watch event, in resourceVersion order, for the HTTP watches.

The API server calls `EventHub.record` synchronously from `_emit` (under the driver lock), so the
history is exactly the order of writes. HTTP watch threads wait on the condition and read slices
of the history; a resourceVersion older than the retained window gets 410 Gone."""

from __future__ import annotations

import threading
from typing import Any, NamedTuple


class HubEvent(NamedTuple):
    rv: int
    kind: str
    type: str
    obj: dict[str, Any]  # the server's stored snapshot: read-only
    t: float  # virtual time of the write


class EventHub:
    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self.cond = threading.Condition()
        self._events: list[HubEvent] = []
        self._base = 0  # sequence number of _events[0]
        self.dropped_before_rv = 0  # events with rv <= this were dropped from the window
        self.closed = False

    def record(self, kind: str, etype: str, obj: dict[str, Any], t: float) -> None:
        rv = int(obj["metadata"]["resourceVersion"])
        with self.cond:
            self._events.append(HubEvent(rv, kind, etype, obj, t))
            if len(self._events) > 2 * self.capacity:  # trim in bulk: reads stay O(new events)
                cut = len(self._events) - self.capacity
                self.dropped_before_rv = self._events[cut - 1].rv
                del self._events[:cut]
                self._base += cut
            self.cond.notify_all()

    @property
    def next_seq(self) -> int:
        return self._base + len(self._events)

    def too_old(self, rv: int) -> bool:
        """True if events after `rv` are no longer all retained (the watch must relist: 410)."""
        return rv < self.dropped_before_rv

    def seq_after_rv(self, rv: int) -> int:
        """The sequence number of the first retained event with resourceVersion > rv."""
        with self.cond:
            lo, hi = 0, len(self._events)
            while lo < hi:
                mid = (lo + hi) // 2
                if self._events[mid].rv <= rv:
                    lo = mid + 1
                else:
                    hi = mid
            return self._base + lo

    def read(self, seq: int, wait: float) -> tuple[list[HubEvent], int]:
        """Events from sequence `seq` on (waiting up to `wait` wall seconds for one); new seq."""
        with self.cond:
            if seq >= self.next_seq and not self.closed and wait > 0:
                self.cond.wait(wait)
            start = max(seq, self._base) - self._base
            out = self._events[start:]
            return out, self._base + len(self._events)

    def history(self, kind: str, namespace: str, name: str) -> list[HubEvent]:
        with self.cond:
            return [
                e
                for e in self._events
                if e.kind == kind
                and e.obj["metadata"]["name"] == name
                and e.obj["metadata"].get("namespace", "") == namespace
            ]

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()

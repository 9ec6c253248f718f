"""Clients: per-attempt deadlines, retries with exponential backoff, and the single-timer deadline watch.

A client sends a request and waits at most `timeout_s` for the whole answer (and optionally `ttft_timeout_s`
for the first token). When it gives up, the request is cancelled wherever it sits (role buffer, router
queue, pod queue, running batch, decode batch, KV transfer): the engine aborts it and frees its slot and
KV, as vLLM does when the HTTP client disconnects (upstream: vllm/v1/engine/async_llm.py
`AsyncLLM.generate`, whose task is cancelled on disconnect and calls `abort(request_id)`; the scheduler
then frees the request's blocks). The client then retries after a backoff (from the first role again) or
counts the request once as `timed_out`.

The parameters are the scenario's `workload.client` block (`model.scenario.ClientSpec`; default timeout
`DEFAULT_CLIENT_TIMEOUT_S`, 600 s, no retries).

Deadlines cost no SimPy event per request: every attempt's deadline is `entry time + a constant`, so
deadlines are appended in non-decreasing order and one FIFO per deadline kind, watched by one timer armed
for its oldest live entry, is enough (finished entries are discarded lazily, in O(1) amortized)."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

import numpy as np

from model.scenario import DEFAULT_CLIENT_TIMEOUT_S, ClientSpec, RetryOn, RetrySpec
from sim.load.request import Request
from sim.load.service_models import Host

RETRY_STREAM = "client-retry"
"""The Seeds stream retry jitter is drawn from."""

ClientParams = ClientSpec
RetryParams = RetrySpec


def backoff_delay(retry: RetryParams, k: int, rng: np.random.Generator | None) -> float:
    """The wait before retry number `k` (1 = the first retry)."""
    base = min(retry.max_backoff_seconds, retry.backoff_seconds * retry.multiplier ** (k - 1))
    if retry.jitter > 0 and rng is not None:
        base *= 1.0 + retry.jitter * (2.0 * float(rng.random()) - 1.0)
    return max(0.0, base)


class DeadlineWatch:
    """One FIFO of (deadline, request, attempt) in non-decreasing deadline order, one timer.

    `expire(req, now)` is called at each live entry's deadline; an entry is live while the request's
    current attempt is the one it was pushed for and the request has not ended (`completed_at < 0`)."""

    __slots__ = ("_armed", "_expire", "_host", "entries", "fires")

    def __init__(self, host: Host, expire: Callable[[Request, float], None]) -> None:
        self._host = host
        self._expire = expire
        self.entries: deque[tuple[float, Request, int]] = deque()
        self._armed = math.inf
        self.fires = 0
        """Timer events so far (the event budget: about one per timeout period when nothing expires)."""

    def push(self, deadline: float, req: Request) -> None:
        self.entries.append((deadline, req, req.attempt))
        if self._armed == math.inf:
            self._arm(deadline)

    def prune(self) -> None:
        """Discard finished entries at the head (called when a request ends, so the FIFO only spans
        what is in flight: memory stays flat however long the run)."""
        entries = self.entries
        while entries:
            _, req, attempt = entries[0]
            if req.attempt == attempt and req.completed_at < 0:
                return
            entries.popleft()

    def _arm(self, deadline: float) -> None:
        self._armed = deadline
        now = self._host.now()
        self._host.after(deadline - now if deadline > now else 0.0, self._fire, None)

    def _fire(self, _arg: object) -> None:
        self.fires += 1
        self._armed = math.inf
        now = self._host.now()
        entries = self.entries
        while entries:
            deadline, req, attempt = entries[0]
            if req.attempt != attempt or req.completed_at >= 0:
                entries.popleft()  # finished, cancelled or retried since: discard
                continue
            if deadline > now:
                self._arm(deadline)
                return
            entries.popleft()
            self._expire(req, now)


__all__ = [
    "DEFAULT_CLIENT_TIMEOUT_S",
    "RETRY_STREAM",
    "ClientParams",
    "DeadlineWatch",
    "RetryOn",
    "RetryParams",
    "backoff_delay",
]

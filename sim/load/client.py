"""Clients: per-attempt deadlines, retries with exponential backoff, and the single-timer deadline watch.

A client sends a request and waits at most `timeout_s` for the whole answer (and optionally `ttft_timeout_s`
for the first token). When it gives up, the request is cancelled wherever it sits (role buffer, router
queue, pod queue, running batch, decode batch, KV transfer): the engine aborts it and frees its slot and
KV, as vLLM does when the HTTP client disconnects (upstream vllm: vllm/entrypoints/openai/api_server.py
aborts the request on disconnect; vllm/v1/engine/async_llm.py `abort`). The client then retries after a
backoff (from the first role again) or counts the request once as `timed_out`.

Deadlines cost no SimPy event per request: every attempt's deadline is `entry time + a constant`, so
deadlines are appended in non-decreasing order and one FIFO per deadline kind, watched by one timer armed
for its oldest live entry, is enough (finished entries are discarded lazily, in O(1) amortized)."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from enum import StrEnum

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from sim.load.request import Request
from sim.load.service_models import Host

DEFAULT_TIMEOUT_S = 600.0
"""The OpenAI Python client's default request timeout (openai/_constants.py DEFAULT_TIMEOUT = 600 s), the
client most LLM traffic goes through: finite, so a run never holds requests forever, and long enough not
to cut any answer a healthy pipeline gives."""

RETRY_STREAM = "client-retry"
"""The Seeds stream retry jitter is drawn from."""


class RetryOn(StrEnum):
    TIMEOUT = "timeout"
    """The client gave up on the attempt (deadline or TTFT deadline)."""
    DROPPED = "dropped"
    """The pipeline refused or lost it (BufferFull, BufferTimeout, PodTerminated, ...)."""


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


class RetryParams(_Params):
    """Attempt k + 1 starts `min(max_backoff_s, backoff_s x multiplier^(k-1)) x (1 + jitter x u)` seconds
    after attempt k failed, u uniform in [-1, 1) from the `client-retry` stream (no draw when jitter is 0)."""

    limit: int = Field(default=0, ge=0, le=100)
    """Retries after the first attempt (0: never retry)."""
    backoff_seconds: float = Field(default=1.0, ge=0)
    multiplier: float = Field(default=2.0, ge=1)
    max_backoff_seconds: float = Field(default=30.0, ge=0)
    jitter: float = Field(default=0.0, ge=0, le=1)


class ClientParams(_Params):
    timeout_seconds: float | None = Field(default=DEFAULT_TIMEOUT_S, gt=0)
    """Per attempt, from when it was sent to the last token; None = wait forever."""
    ttft_timeout_seconds: float | None = Field(default=None, gt=0)
    """Per attempt, from when it was sent to the first token; None = no TTFT deadline."""
    retries: RetryParams = RetryParams()
    retry_on: tuple[RetryOn, ...] = (RetryOn.TIMEOUT, RetryOn.DROPPED)

    @model_validator(mode="after")
    def _ttft_within(self) -> ClientParams:
        t, f = self.timeout_seconds, self.ttft_timeout_seconds
        if t is not None and f is not None and f > t:
            raise ValueError(f"ttftTimeoutSeconds ({f:g}) must be <= timeoutSeconds ({t:g})")
        return self


def backoff_delay(retry: RetryParams, k: int, rng: np.random.Generator | None) -> float:
    """The wait before retry number `k` (1 = the first retry)."""
    base = min(retry.max_backoff_seconds, retry.backoff_seconds * retry.multiplier ** (k - 1))
    if retry.jitter > 0 and rng is not None:
        base *= 1.0 + retry.jitter * (2.0 * float(rng.random()) - 1.0)
    return max(0.0, base)


class DeadlineWatch:
    """One FIFO of (deadline, request, attempt) in non-decreasing deadline order, one timer.

    `expire(req)` is called at each live entry's deadline; an entry is live while the request's current
    attempt is the one it was pushed for and `live(req)` holds."""

    __slots__ = ("_armed", "_expire", "_host", "_live", "entries", "fires")

    def __init__(
        self,
        host: Host,
        live: Callable[[Request], bool],
        expire: Callable[[Request, float], None],
    ) -> None:
        self._host = host
        self._live = live
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
        live = self._live
        while entries:
            _, req, attempt = entries[0]
            if req.attempt == attempt and live(req):
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
        live = self._live
        while entries:
            deadline, req, attempt = entries[0]
            if req.attempt != attempt or not live(req):
                entries.popleft()  # finished, cancelled or retried since: discard
                continue
            if deadline > now:
                self._arm(deadline)
                return
            entries.popleft()
            self._expire(req, now)

"""A vLLM-style engine pod server driven by a calibrated step-time model (`EngineProfile.step_time`).

Scheduler (re-expressed from vLLM v1, `vllm/v1/core/sched/scheduler.py` `Scheduler.schedule`): every engine
step has a token budget of `max_num_batched_tokens`. RUNNING requests are served first, in admission order:
a decoding request takes one token, a request still prefilling takes the rest of its prompt up to the budget
(chunked prefill). If a running request cannot get the KV blocks it needs, the youngest running request is
preempted (`self.running.pop()`, `_preempt_request`: blocks freed, `num_computed_tokens` reset to 0, put at the
head of the waiting queue: recompute, not swap). Only when nothing was preempted are WAITING requests admitted,
FIFO, while the budget lasts, fewer than `max_num_seqs` run and their first chunk's blocks are free (the
first request that does not fit stops admission). vLLM checks `max_num_batched_tokens >= max_num_seqs`, so
every decoding request always fits in the budget; and since an admission that is cut short by the budget ends
admission, at most one request is part-way through its prompt and it is the youngest running request.

KV cache: `kv_blocks` blocks of `block_size` tokens (from the profile). A request holds
ceil(computed tokens / block size) blocks; a decode step needs a new block when its context is a multiple of
the block size.

No per-token events. Between changes of batch composition the engine runs k steps analytically:
- a step with prefill tokens (a prompt chunk) is its own segment (one event);
- a decode-only batch of B sequences runs until the first of: a sequence finishes, or the next step would not
  get its KV blocks (computed in closed form from a histogram of the sequences' positions within their last
  block, see `_demand`), or an arrival that could be admitted cuts the segment at the end of the current step.
  Step i of the segment costs step_time(0, 0, B, C + i B) (C = context tokens); the segment's time is the
  sum of a linear interpolation between its first and last step (exact when the step time is affine in the
  context, which a roofline is within one regime).
A request costs a few events whatever its token count.

Roles (`EngineMode`): `combined` prefills and decodes; `prefill` (disaggregated) prefills, samples the first
token and hands the request on; `decode` (disaggregated) admits requests whose prompt KV arrived by transfer
(blocks for the prompt reserved at admission) and generates the remaining output tokens; `embedding` runs
prefill-only batches of an encoder model (no KV cache, no chunking, as vLLM pooling models)."""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from sim.load.request import DropReason, Request
from sim.load.service_models import Done, Dropped, Host, KVTransferParams, ModelKind, PodServer

if TYPE_CHECKING:
    from sim.load.pipeline import PipelineSpec

# vLLM's exported histogram buckets (vllm/v1/metrics/loggers.py PrometheusStatLogger).
TTFT_BUCKETS = (
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
    80.0, 160.0, 640.0, 2560.0,
)  # fmt: skip
TPOT_BUCKETS = (
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
)  # fmt: skip


class EngineProfileLike(Protocol):
    """What the engine reads of `sim.engines.EngineProfile` (tests pass a small fake)."""

    @property
    def max_num_seqs(self) -> int: ...
    @property
    def max_num_batched_tokens(self) -> int: ...
    @property
    def block_size(self) -> int: ...
    @property
    def kv_blocks(self) -> int: ...
    @property
    def kv_bytes_per_token(self) -> int: ...
    @property
    def tp(self) -> int: ...
    def step_time(
        self,
        prefill_tokens: int,
        prefill_attn_tokens: int,
        decode_seqs: int,
        decode_context_tokens: int,
        prefill_seqs: int = 0,
    ) -> float: ...


StepTime = Callable[[int, int, int, int, int], float]

_PROBES = (
    (1, 0, 0, 0, 1),
    (8192, 8192 * 4096, 0, 0, 1),
    (512, 512 * 256 + 512 * 3000, 0, 0, 1),
    (0, 0, 1, 100, 0),
    (0, 0, 256, 256 * 4000, 0),
    (4000, 4000 * 2000, 100, 100 * 2000, 3),
    (3, 5, 7, 11, 2),
)


_DECODE_PROBES = ((1, 100), (1, 1), (256, 256 * 4000), (100, 100 * 2000), (7, 11), (64, 64 * 30000))


def affine_step_time(profile: EngineProfileLike) -> StepTime:
    """`profile.step_time`, evaluated cheaply where that is exact (decode segments call it twice each):
    - if it is affine in all its arguments (every term of a plain roofline is linear in the step's token
      counts), as one closed-form affine function;
    - else, if decode-only steps (no prompt tokens) are affine in (sequences, context tokens), those
      through a closed form, the others through the profile (about 1 µs a call; not memoised: prompt
      steps almost never repeat, and a per-pod memo only grew the memory of long runs).
    Coefficients are finite differences around a base point, used only if they reproduce the profile on
    every probe step (relative error < 1e-9): a speed-up, never a change of model."""
    f = profile.step_time

    def direct(p: int, a: int, b: int, c: int, ps: int) -> float:
        return f(p, a, b, c, prefill_seqs=ps)

    def close(x: float, want: float) -> bool:
        return abs(x - want) <= 1e-9 * max(abs(want), 1e-12)

    try:
        base = (2048, 2048 * 1024, 32, 32 * 1024, 2)
        steps = (1024, 1 << 20, 16, 1 << 14, 1)
        t0 = direct(*base)
        coef = []
        for i, h in enumerate(steps):
            x = list(base)
            x[i] += h
            coef.append((direct(*x) - t0) / h)
        cp, ca, cb, cc, cs = coef
        c0 = t0 - sum(k * v for k, v in zip(coef, base, strict=True))

        def affine(p: int, a: int, b: int, c: int, ps: int) -> float:
            return c0 + cp * p + ca * a + cb * b + cc * c + cs * ps

        if all(close(affine(*probe), direct(*probe)) for probe in _PROBES):
            affine.decode_linear = (c0, cb, cc)  # type: ignore[attr-defined]
            return affine
        d0 = direct(0, 0, 32, 32 * 1024, 0)
        db = (direct(0, 0, 48, 32 * 1024, 0) - d0) / 16
        dc = (direct(0, 0, 32, 32 * 1024 + (1 << 14), 0) - d0) / (1 << 14)
        dk = d0 - db * 32 - dc * 32 * 1024
        decode_affine = all(close(dk + db * b + dc * c, direct(0, 0, b, c, 0)) for b, c in _DECODE_PROBES)
    except (TypeError, ValueError, ArithmeticError):
        return direct

    def mixed(p: int, a: int, b: int, c: int, ps: int) -> float:
        if p == 0 and decode_affine:
            return dk + db * b + dc * c
        return direct(p, a, b, c, ps)

    if decode_affine:
        mixed.decode_linear = (dk, db, dc)  # type: ignore[attr-defined]
    return mixed


class EngineMode(StrEnum):
    COMBINED = "combined"
    PREFILL = "prefill"
    DECODE = "decode"
    EMBEDDING = "embedding"


class Histogram:
    """A Prometheus histogram: cumulative buckets are derived when exported."""

    __slots__ = ("bounds", "count", "counts", "total")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.count = 0
        self.total = 0.0

    def observe(self, value: float, n: int = 1) -> None:
        self.counts[bisect_left(self.bounds, value)] += n  # first bound >= value (buckets are `le`)
        self.count += n
        self.total += value * n

    def cumulative(self) -> list[tuple[str, int]]:
        out = []
        acc = 0
        for bound, c in zip(self.bounds, self.counts, strict=False):
            acc += c
            out.append((repr(bound), acc))
        out.append(("+Inf", self.count))
        return out


_WAITING, _PREFILL, _DECODE, _GONE = 0, 1, 2, 3


class _Seq:
    """One request inside one engine. For a decoding sequence the position is lazy: computed tokens =
    c0 + (G - g0), generated = gen0 + (G - g0), where G is the engine's decode-step counter."""

    __slots__ = (
        "blocks",
        "c0",
        "chunk",
        "computed",
        "epoch",
        "g0",
        "g_end",
        "gen0",
        "generated",
        "here",
        "req",
        "state",
        "submitted",
        "target",
    )

    def __init__(self, req: Request, now: float, target: int, generated: int) -> None:
        self.req = req
        self.submitted = now
        self.target = target
        """Output tokens the request has when this engine is done with it (0: embedding, no token)."""
        self.generated = generated
        """Output tokens that exist (valid while not decoding)."""
        self.computed = 0
        """Tokens whose KV is computed (valid while not decoding)."""
        self.blocks = 0
        """KV blocks held (valid while not decoding)."""
        self.chunk = 0
        self.state = _WAITING
        self.c0 = 0
        self.g0 = 0
        self.gen0 = 0
        self.g_end = 0
        self.here = 0
        """Output tokens generated by this engine."""
        self.epoch = 0
        """Bumped each time it starts decoding: completion-heap entries of earlier epochs are stale."""

    @property
    def num_tokens(self) -> int:
        return self.req.input_tokens + self.generated


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


class _Segment:
    __slots__ = ("a", "applied", "b", "decoders", "fresh", "k", "prefills", "t0")

    def __init__(self, t0: float, k: int, a: float, b: float, decoders: int) -> None:
        self.t0 = t0
        self.k = k
        self.a = a
        self.b = b
        self.decoders = decoders
        self.applied = 0
        self.prefills: list[_Seq] = []
        self.fresh: list[_Seq] = []
        """Sequences that start decoding in this segment's first step (decode role: first token here)."""

    def time(self, n: int) -> float:
        """Time of the first n steps: step i costs a + b i."""
        return n * self.a + self.b * n * (n - 1) / 2.0

    def steps_ending_by(self, tau: float) -> int:
        """Steps completed `tau` seconds into the segment (at most k)."""
        if tau <= 0:
            return 0
        a, b, k = self.a, self.b, self.k
        if b == 0.0:
            n = int(tau / a) if a > 0 else k
        else:  # largest n with n a + b n (n - 1) / 2 <= tau
            half = b / 2.0
            lin = a - half
            disc = lin * lin + 4.0 * half * tau
            n = int((-lin + math.sqrt(max(disc, 0.0))) / (2.0 * half)) if half > 0 else int(tau / a)
        n = max(0, min(n, k))
        lim = tau + 1e-12  # correct the float rounding of the closed form by a step either way
        while n < k and (n + 1) * a + b * (n + 1) * n / 2.0 <= lim:
            n += 1
        while n > 0 and n * a + b * n * (n - 1) / 2.0 > lim:
            n -= 1
        return n


class EngineServer(PodServer):
    """One vLLM engine (one pod). `log`, when a list, receives (event, time, request id) tuples:
    admit, first_token, preempt, finish, cancel (for exact unit tests)."""

    def __init__(
        self,
        name: str,
        role: str,
        host: Host,
        done: Done,
        dropped: Dropped,
        profile: EngineProfileLike,
        mode: EngineMode,
        log: list[tuple[str, float, int]] | None = None,
    ) -> None:
        super().__init__(name, role, host, done, dropped)
        self.kind = {
            EngineMode.PREFILL: ModelKind.PREFILL,
            EngineMode.EMBEDDING: ModelKind.EMBEDDING,
        }.get(mode, ModelKind.DECODE)
        self.profile = profile
        self.mode = mode
        self.log = log
        self.max_seqs = int(profile.max_num_seqs)
        self.budget = max(int(profile.max_num_batched_tokens), self.max_seqs)
        self.bs = int(profile.block_size)
        self.uses_kv = mode is not EngineMode.EMBEDDING
        self.total_blocks = int(profile.kv_blocks) if self.uses_kv else 0
        self.capacity_tokens = self.total_blocks * self.bs
        self._step = affine_step_time(profile)
        self._decode_lin: tuple[float, float, float] | None = getattr(self._step, "decode_linear", None)
        """(c, per sequence, per context token) when decode-only step times are affine in those."""
        self.waitq: deque[_Seq] = deque()
        self.run: dict[int, _Seq] = {}
        """Running sequences by request id, in admission order (the last is the youngest)."""
        self.used = 0
        """KV blocks held, as of the last applied step."""
        self.G = 0
        self.n_dec = 0
        self.hist = [0] * (2 * self.bs)
        """Decoding sequences by (c0 - g0) mod block size (their position within their last block), stored
        twice (index p and p + block size) so that a run of consecutive bins is one slice."""
        self.sum_c0g0 = 0
        """Sum over decoding sequences of c0 - g0 (so their context tokens = this + n_dec x G)."""
        self.heap: list[tuple[int, int, int, _Seq]] = []
        self.partial: _Seq | None = None
        self.seg: _Segment | None = None
        self._gen = 0
        self._lead = 0.0
        """How far ahead of the clock the segment being planned starts (a splice plans the next boundary)."""
        self.preemptions = 0
        self.ttft = Histogram(TTFT_BUCKETS)
        self.tpot = Histogram(TPOT_BUCKETS)
        self.steps = 0
        self.max_running_seen = 0
        self.max_used_seen = 0
        self.metrics_cache: tuple[tuple[int, int], dict[str, float]] | None = None
        """The exported histogram series, keyed by the histograms' counts (sim.load.metrics)."""

    # ------------------------------------------------------------------ PodServer protocol
    @property
    def waiting(self) -> int:
        return len(self.waitq)

    def load(self) -> int:
        return len(self.waitq) + len(self.run)

    def outstanding(self) -> int:
        """Requests this pod holds (waiting or running)."""
        return len(self.waitq) + len(self.run)

    def held(self) -> list[Request]:
        """Every request the engine holds, running first (admission order), then waiting."""
        return [s.req for s in self.run.values()] + [s.req for s in self.waitq]

    def has_slot(self, req: Request) -> bool:
        """Whether `req` would be admitted at the next step rather than queue (router-queue flow control):
        nothing waiting, a free sequence slot, and free KV blocks for its first chunk (decode role: its
        transferred prompt)."""
        if self.waitq or len(self.run) >= self.max_seqs:
            return False
        if not self.uses_kv:
            return True
        inp = req.input_tokens
        out = req.output_tokens if req.output_tokens > 0 else 1
        if inp + out > self.capacity_tokens:
            return True  # it never fits: rejected at once (ExceedsKVCapacity), it never blocks the queue
        if self.mode is EngineMode.DECODE:
            need = -(-(inp + 1) // self.bs)
        else:
            need = -(-min(inp, self.budget) // self.bs)
        return need <= self.total_blocks - self.used_blocks(self.host.now()) - self.n_dec

    def kv_usage(self, now: float) -> float:
        if not self.total_blocks:
            return 0.0
        return self.used_blocks(now) / self.total_blocks

    def used_blocks(self, now: float) -> int:
        seg = self.seg
        used = self.used
        if seg is not None and self.n_dec:
            n = seg.steps_ending_by(now - seg.t0) - seg.applied
            if n > 0:
                used += self._demand(n)
        return used

    def submit(self, req: Request, now: float) -> None:
        mode = self.mode
        out = req.output_tokens if req.output_tokens > 0 else 1
        if mode is EngineMode.EMBEDDING:
            s = _Seq(req, now, 0, 0)
        elif mode is EngineMode.PREFILL:
            s = _Seq(req, now, 1, 0)
        elif mode is EngineMode.DECODE:
            s = _Seq(req, now, out, 1)  # the first token was sampled by the prefill engine
            s.computed = req.input_tokens  # its KV arrived by transfer
        else:
            s = _Seq(req, now, out, 0)
        if self.uses_kv and req.input_tokens + s.target > self.capacity_tokens:
            self.dropped(req, now, DropReason.EXCEEDS_KV_CAPACITY)
            return
        if mode is EngineMode.DECODE and out <= 1:
            # nothing left to generate after the prefill's token: handed straight back
            st = req.stamps.setdefault(self.role, [now, now, -1.0])
            st[1] = now
            req.service_time[self.role] = 0.0
            self.served += 1
            self.host.after(0.0, self._pass, req)
            return
        self.waitq.append(s)
        seg = self.seg
        if seg is None:
            if not self.run and self.partial is None and mode is not EngineMode.DECODE:
                self._touch(now)
                self._prefill_batch(now)  # what `_plan` does for an idle engine
            else:
                self._plan(now)
        elif len(self.waitq) == 1 and not seg.prefills:
            if s.computed and self.partial is None and self.n_dec:
                self._join(now, s, seg)  # decode role: join at the end of the current step
                return
            n = self._boundary(seg, now)
            if n < seg.k and self._admissible(s, seg, n):
                self._cut(now)

    def _join(self, now: float, s: _Seq, seg: _Segment) -> None:
        """A transferred request arriving during a decode segment joins at the end of the step in progress
        if a slot and its blocks are free then (vLLM admits at the next schedule): the steps up to that
        boundary are booked now and the new segment is planned from it, without an intermediate event
        (it may start a little ahead of the clock; a second arrival before it re-plans the same boundary).
        Otherwise it waits for the next composition change."""
        tau = now - seg.t0
        if tau <= 0:
            n = seg.applied
        else:  # (`_boundary`, inline)
            n = seg.steps_ending_by(tau)
            if n < seg.k and n * seg.a + seg.b * n * (n - 1) / 2.0 < tau:
                n += 1
            if n < seg.applied:
                n = seg.applied
        if n >= seg.k or len(self.run) >= self.max_seqs:
            return  # the segment ends at that boundary anyway, or no slot
        bs = self.bs
        d = n - seg.applied
        blocks = self._demand(d) if d else 0
        g_b = self.G + d
        free = self.total_blocks - self.used - blocks - self.hist[(-g_b) % bs]  # after the next step's
        c = s.computed
        if -(-(c + 1) // bs) > free:
            return
        t_n = n * seg.a + seg.b * n * (n - 1) / 2.0
        t_b = seg.t0 + t_n
        self._touch(now)
        self.used += blocks
        self.G = g_b
        seg.applied = n
        fresh: list[_Seq] = []
        if n:
            self.steps += n
            if seg.decoders:
                tpot = self.tpot
                n_obs = seg.decoders * n
                mean = t_n / n
                tpot.counts[bisect_left(tpot.bounds, mean)] += n_obs
                tpot.count += n_obs
                tpot.total += t_n * seg.decoders
            first = seg.t0 + seg.a
            for f in seg.fresh:
                if f.state == _DECODE:
                    self._first_token(f, first)
        else:
            fresh = seg.fresh
        self.waitq.popleft()
        self.run[s.req.id] = s
        self.used += -(-c // bs)
        if self.used > self.max_used_seen:
            self.max_used_seen = self.used
        self._enter_decode(s)
        fresh.append(s)
        if self.log is not None:
            self.log.append(("admit", t_b, s.req.id))
        st = s.req.stamps.get(self.role)
        if st is None:
            s.req.stamps[self.role] = [t_b, t_b, -1.0]
        elif st[1] < 0:
            st[1] = t_b
        if len(self.run) > self.max_running_seen:
            self.max_running_seen = len(self.run)
        self._lead = t_b - now
        self._touch(t_b)
        self._decode_segment(t_b, self.total_blocks - self.used, fresh)
        self._lead = 0.0

    def cancel(self, req: Request, now: float) -> bool:
        """Abort a request wherever it is (as vLLM on client disconnect): its slot and blocks are freed."""
        s = self.run.get(req.id)
        if s is None:
            s = next((w for w in self.waitq if w.req is req), None)
            if s is None:
                return False
        if s.state == _WAITING:
            self.waitq.remove(s)
            s.state = _GONE
        else:
            seg = self.seg
            if seg is not None:
                self._cut(now)
                self._apply(seg.k - seg.applied)
                seg.applied = seg.k
            self._touch(now)
            self._release(s)
            if self.partial is s:
                self.partial = None
        if self.log is not None:
            self.log.append(("cancel", now, req.id))
        return True

    # ------------------------------------------------------------------ KV bookkeeping
    def _demand(self, n: int) -> int:
        """New blocks the decoding sequences need over the next n decode steps (from step counter G).

        A sequence with r free slots in its last block needs its j-th new block at step r + 1 + (j-1) bs,
        so over n = q bs + m steps it needs q + [m > r] blocks."""
        bs = self.bs
        q, m = divmod(n, bs)
        total = self.n_dec * q
        if m:  # sequences with r < m free slots: r = (-p - G) mod bs, i.e. p = (-G - r) mod bs
            top = (-self.G) % bs + bs  # p for r = 0; r = 1 .. m-1 are the m-1 bins below it
            total += sum(self.hist[top - m + 1 : top + 1])
        return total

    def _steps_until_short(self, free: int) -> int:
        """Decode steps that can run before one would lack a block (free blocks `free`)."""
        n_dec = self.n_dec
        bs = self.bs
        q0, rest = divmod(free, n_dec)
        cnt = [0] * (bs + 1)  # sequences by free slots r in their last block
        g = self.G
        hist = self.hist
        for p in range(bs):
            if hist[p]:
                cnt[(-p - g) % bs] += hist[p]
        below = 0
        for m in range(1, bs + 1):
            below += cnt[m - 1]  # sequences with r < m
            if below > rest:
                return q0 * bs + m - 1
        return q0 * bs + bs - 1  # unreachable: below == n_dec > rest at m == bs

    def _blocks_of(self, s: _Seq) -> int:
        if s.state == _DECODE:
            return _cdiv(s.c0 + self.G - s.g0, self.bs)
        return s.blocks

    def _enter_decode(self, s: _Seq) -> None:
        s.state = _DECODE
        s.c0 = s.computed
        s.g0 = self.G
        s.gen0 = s.generated
        s.g_end = self.G + (s.target - s.generated)
        s.epoch += 1
        self.n_dec += 1
        p = (s.c0 - s.g0) % self.bs
        self.hist[p] += 1
        self.hist[p + self.bs] += 1
        self.sum_c0g0 += s.c0 - s.g0
        heapq.heappush(self.heap, (s.g_end, s.req.id, s.epoch, s))

    def _release(self, s: _Seq) -> None:
        """Take a running sequence out of the batch and free its blocks (state becomes _GONE)."""
        if s.state == _DECODE:
            d = self.G - s.g0
            s.computed = s.c0 + d
            s.generated = s.gen0 + d
            s.here += d
            self.used -= _cdiv(s.computed, self.bs)
            self.n_dec -= 1
            p = (s.c0 - s.g0) % self.bs
            self.hist[p] -= 1
            self.hist[p + self.bs] -= 1
            self.sum_c0g0 -= s.c0 - s.g0
        else:
            self.used -= s.blocks
        s.blocks = 0
        s.state = _GONE
        del self.run[s.req.id]
        self.running = len(self.run)

    def _preempt(self, s: _Seq, now: float) -> None:
        # vllm/v1/core/sched/scheduler.py Scheduler._preempt_request: free the blocks, reset
        # num_computed_tokens, back to the head of the waiting queue (prepend_request).
        self._release(s)
        s.computed = 0
        s.chunk = 0
        s.state = _WAITING
        self.waitq.appendleft(s)
        self.preemptions += 1
        if self.partial is s:
            self.partial = None
        if self.log is not None:
            self.log.append(("preempt", now, s.req.id))

    # ------------------------------------------------------------------ scheduling
    def _boundary(self, seg: _Segment, now: float) -> int:
        """Steps of `seg` done when the step in progress at `now` ends."""
        tau = now - seg.t0
        if tau <= 0:
            return seg.applied
        n = seg.steps_ending_by(tau)
        if n < seg.k and seg.time(n) < tau:
            n += 1  # the step in progress completes
        return max(n, seg.applied)

    def _admissible(self, s: _Seq, seg: _Segment, n: int) -> bool:
        """Would `s` be admitted at the end of step n of a decode-only segment?"""
        if len(self.run) >= self.max_seqs:
            return False
        if not self.uses_kv:
            return True
        free = self.total_blocks - self.used
        if self.n_dec:
            free -= self._demand(n - seg.applied + 1)  # blocks taken by then, and by the next step
        if self.mode is EngineMode.DECODE and s.computed:
            return -(-(s.computed + 1) // self.bs) <= free
        n_tok = min(s.req.input_tokens + s.generated, self.budget - self.n_dec)
        return -(-n_tok // self.bs) <= free

    def _cut(self, now: float) -> None:
        """End the running segment at the end of its current step."""
        seg = self.seg
        assert seg is not None
        n = seg.steps_ending_by(now - seg.t0)
        if n < seg.k and seg.time(n) < now - seg.t0:
            n += 1  # the step in progress completes
        n = max(n, seg.applied, 1)
        if n < seg.k:
            seg.k = n
            self._gen += 1
            end = seg.t0 + seg.time(n)
            self.host.after(end - now if end > now else 0.0, self._end_decode, self._gen)  # decode-only

    def _apply(self, n: int) -> None:
        if n > 0 and self.n_dec:
            self.used += self._demand(n)
            self.G += n
            if self.used > self.max_used_seen:
                self.max_used_seen = self.used

    def _plan(self, now: float) -> None:
        """Schedule the next step (or segment of identical-composition decode steps) starting at `now`."""
        self.seg = None
        run = self.run
        waitq = self.waitq
        self._touch(now)
        if not run and not waitq:
            self.running = 0
            return
        bs = self.bs
        uses_kv = self.uses_kv
        free = self.total_blocks - self.used
        n_dec = self.n_dec
        dem = self.hist[(-self.G) % bs] if n_dec else 0  # decoders whose next token opens a block
        if not waitq and self.partial is None and dem <= free and n_dec:
            self._decode_segment(now, free)  # the common case: decodes only, nothing to admit
            return
        if not run and self.partial is None and self.mode is not EngineMode.DECODE:
            self._prefill_batch(now)  # prefill / embedding roles: an idle engine takes a new batch
            return
        budget = self.budget
        partial = self.partial
        n_p = dem_p = 0
        if partial is not None:
            n_p = min(partial.num_tokens - partial.computed, budget - self.n_dec)
            dem_p = -(-(partial.computed + n_p) // bs) - partial.blocks if uses_kv else 0
        preempted = False
        if uses_kv and dem + dem_p > free:
            # Scheduler.schedule, RUNNING loop: preempt the youngest until the older requests fit.
            while dem + dem_p > free and run:
                victim = run[next(reversed(run))]
                if victim is partial:
                    free += victim.blocks
                    dem_p = n_p = 0
                    partial = None
                else:
                    c = victim.c0 + self.G - victim.g0
                    if c % bs == 0:
                        dem -= 1
                    free += -(-c // bs)
                self._preempt(victim, now)
                preempted = True
        budget -= self.n_dec + n_p
        free -= dem + dem_p
        seg_prefills: list[_Seq] = []
        fresh: list[_Seq] = []
        prefill_tokens = n_p
        attn = 0
        if partial is not None and n_p > 0:
            partial.chunk = n_p
            partial.blocks += dem_p
            self.used += dem_p
            attn += n_p * partial.computed + n_p * n_p // 2
            seg_prefills.append(partial)
        log = self.log
        if not preempted:
            mode = self.mode
            while waitq and budget > 0 and len(run) < self.max_seqs:
                s = waitq[0]
                if mode is EngineMode.DECODE and s.computed:
                    # KV arrived by transfer: reserve the prompt's blocks (plus the first step's).
                    base = -(-s.computed // bs)
                    need = -(-(s.computed + 1) // bs)
                    if need > free:
                        break
                    waitq.popleft()
                    run[s.req.id] = s
                    self.used += base
                    free -= need
                    dem += need - base
                    budget -= 1
                    self._enter_decode(s)
                    fresh.append(s)
                else:
                    n = s.req.input_tokens + s.generated - s.computed
                    if not uses_kv and n > budget:
                        if run or seg_prefills:
                            break  # pooling models do not chunk: the whole prompt or wait
                    else:
                        n = min(n, budget)
                    need = -(-n // bs) if uses_kv else 0
                    if need > free:
                        break
                    waitq.popleft()
                    run[s.req.id] = s
                    s.state = _PREFILL
                    s.chunk = n
                    s.blocks = need
                    self.used += need
                    free -= need
                    budget -= n
                    prefill_tokens += n
                    attn += n * n // 2
                    seg_prefills.append(s)
                    if n + s.computed < s.req.input_tokens + s.generated:
                        self.partial = s
                if log is not None:
                    log.append(("admit", now, s.req.id))
                st = s.req.stamps.get(self.role)
                if st is None:
                    s.req.stamps[self.role] = [now, now, -1.0]
                elif st[1] < 0:
                    st[1] = now
        self.running = len(run)
        if len(run) > self.max_running_seen:
            self.max_running_seen = len(run)
        n_dec = self.n_dec
        ctx = self.sum_c0g0 + n_dec * self.G + n_dec  # context of each decoding sequence incl. this token
        if prefill_tokens > 0:
            cost = self._step(prefill_tokens, attn, n_dec, ctx, len(seg_prefills))
            seg = _Segment(now, 1, cost, 0.0, n_dec)
        elif n_dec:
            self._decode_segment(now, self.total_blocks - self.used, fresh)
            return
        elif preempted:  # everything running was preempted: the next schedule admits from the queue
            self._plan(now)
            return
        else:
            # nothing could be admitted into an empty engine: cannot happen for requests accepted by
            # submit (they fit an empty cache); fail loudly rather than stall
            raise RuntimeError(f"engine {self.name}: waiting requests but nothing schedulable")
        seg.prefills = seg_prefills
        seg.fresh = fresh
        self.seg = seg
        used_now = self.used + dem
        if used_now > self.max_used_seen:
            self.max_used_seen = used_now
        self._gen += 1
        self.host.after(self._lead + seg.a, self._on_end, self._gen)

    def _prefill_batch(self, now: float) -> None:
        """`_plan` for an engine with nothing running: FIFO prompts (chunked at the budget; whole for pooling
        models, one oversized alone) while slots and blocks last. One step."""
        waitq = self.waitq
        run = self.run
        bs = self.bs
        uses_kv = self.uses_kv
        budget = self.budget
        free = self.total_blocks - self.used
        max_seqs = self.max_seqs
        role = self.role
        log = self.log
        batch: list[_Seq] = []
        tokens = attn = 0
        while waitq and budget > 0 and len(run) < max_seqs:
            s = waitq[0]
            total = s.req.input_tokens + s.generated
            n = total - s.computed
            if not uses_kv and n > budget:
                if batch:
                    break  # pooling models do not chunk: the whole prompt or wait
            elif n > budget:
                n = budget
            need = -(-n // bs) if uses_kv else 0
            if need > free:
                break
            waitq.popleft()
            run[s.req.id] = s
            s.state = _PREFILL
            s.chunk = n
            s.blocks = need
            free -= need
            budget -= n
            tokens += n
            attn += n * s.computed + n * n // 2
            batch.append(s)
            if n + s.computed < total:
                self.partial = s
            if log is not None:
                log.append(("admit", now, s.req.id))
            st = s.req.stamps.get(role)
            if st is None:
                s.req.stamps[role] = [now, now, -1.0]
            elif st[1] < 0:
                st[1] = now
        if not batch:
            raise RuntimeError(f"engine {self.name}: waiting requests but nothing schedulable")
        self.used = self.total_blocks - free if uses_kv else 0
        self.running = len(run)
        if len(run) > self.max_running_seen:
            self.max_running_seen = len(run)
        if self.used > self.max_used_seen:
            self.max_used_seen = self.used
        seg = _Segment(now, 1, self._step(tokens, attn, 0, 0, len(batch)), 0.0, 0)
        seg.prefills = batch
        self.seg = seg
        self._gen += 1
        end = self._end_prompt if self.mode is not EngineMode.COMBINED else self._on_end
        self.host.after(self._lead + seg.a, end, self._gen)

    def _decode_segment(self, now: float, free: int, fresh: list[_Seq] | None = None) -> None:
        """Start k decode-only steps: until the first completion or the first step short of a block."""
        heap = self.heap
        while True:  # drop stale heads (preempted or cancelled sequences)
            _, _, epoch, s = heap[0]
            if s.state == _DECODE and s.epoch == epoch:
                break
            heapq.heappop(heap)
        n_dec = self.n_dec
        k = heap[0][0] - self.G
        if self.uses_kv and free < n_dec * (k // self.bs + 1):  # else k steps cannot run short
            k = min(k, self._steps_until_short(free))
        if k < 1:
            k = 1
        ctx = self.sum_c0g0 + n_dec * self.G + n_dec  # context of each decoding sequence incl. this token
        lin = self._decode_lin
        if lin is not None:  # step time affine in (sequences, context): b is exact
            a = lin[0] + lin[1] * n_dec + lin[2] * ctx
            b = lin[2] * n_dec
        else:
            step = self._step
            a = step(0, 0, n_dec, ctx, 0)
            b = (step(0, 0, n_dec, ctx + n_dec * (k - 1), 0) - a) / (k - 1) if k > 1 else 0.0
        seg = _Segment(now, k, a, b, n_dec)
        if fresh:
            seg.fresh = fresh
        self.seg = seg
        self.running = len(self.run)
        self._gen += 1
        self.host.after(self._lead + k * a + b * k * (k - 1) / 2.0, self._end_decode, self._gen)

    def _end_prompt(self, gen: object) -> None:
        """`_on_end` for a prompt-only step of a prefill or embedding engine (nothing decodes there): the
        prompts that are complete leave (a prefill engine samples their first token first)."""
        if gen != self._gen:
            return
        seg = self.seg
        assert seg is not None
        now = self.host.now()
        self._touch(now)
        seg.applied = 1
        self.steps += 1
        ttft = self.ttft
        log = self.log
        role = self.role
        run = self.run
        finished: list[_Seq] = []
        for s in seg.prefills:
            if s.state != _PREFILL:
                continue  # preempted or cancelled meanwhile
            s.computed += s.chunk
            s.chunk = 0
            r = s.req
            if s.computed < r.input_tokens + s.generated:
                continue  # still prefilling (the partial request)
            if self.partial is s:
                self.partial = None
            if s.target:  # a prefill engine samples the first token, then hands the request on
                s.generated += 1
                s.here += 1
                if s.here == 1:
                    if r.first_token_at < 0:
                        r.first_token_at = now
                    wait = now - s.submitted
                    ttft.counts[bisect_left(ttft.bounds, wait)] += 1
                    ttft.count += 1
                    ttft.total += wait
                    if log is not None:
                        log.append(("first_token", now, r.id))
            self.used -= s.blocks
            s.blocks = 0
            s.state = _GONE
            del run[r.id]
            self.served += 1
            self.prompt_tokens += r.input_tokens
            self.generation_tokens += s.here
            r.service_time[role] = now - r.stamps[role][1]
            if log is not None:
                log.append(("finish", now, r.id))
            finished.append(s)
        self.running = len(run)
        if run or self.waitq:
            self._plan(now)
        else:
            self.seg = None  # idle (what `_plan` concludes)
        done = self.done
        for s in finished:
            done(s.req, now)

    def _end_decode(self, gen: object) -> None:
        """`_on_end` for a decode-only segment (no prompt tokens in it): book its steps, finish the
        sequences that reached their last token, schedule the next step."""
        if gen != self._gen:
            return  # superseded (the segment was cut)
        seg = self.seg
        assert seg is not None
        now = self.host.now()
        self._touch(now)
        k = seg.k
        d = k - seg.applied
        if d and self.n_dec:
            self.used += self._demand(d)
            self.G += d
            if self.used > self.max_used_seen:
                self.max_used_seen = self.used
        seg.applied = k
        self.steps += k
        tpot = self.tpot
        n_obs = seg.decoders * k
        mean = seg.a + seg.b * (k - 1) / 2.0
        tpot.counts[bisect_left(tpot.bounds, mean)] += n_obs
        tpot.count += n_obs
        tpot.total += mean * n_obs
        if seg.fresh:
            first = seg.t0 + seg.a
            for s in seg.fresh:
                if s.state == _DECODE:
                    self._first_token(s, first)
        heap = self.heap
        G = self.G
        finished: list[_Seq] = []
        while heap and heap[0][0] <= G:
            _, _, epoch, s = heapq.heappop(heap)
            if s.state == _DECODE and s.epoch == epoch:
                finished.append(s)
        if finished:
            role = self.role
            log = self.log
            for s in finished:
                self._release(s)
                r = s.req
                self.served += 1
                self.prompt_tokens += r.input_tokens
                self.generation_tokens += s.here
                r.service_time[role] = now - r.stamps[role][1]
                if log is not None:
                    log.append(("finish", now, r.id))
        n_dec = self.n_dec
        free = self.total_blocks - self.used
        if n_dec and not self.waitq and self.partial is None and self.hist[(-self.G) % self.bs] <= free:
            self._decode_segment(now, free)  # what `_plan` does in this case
        else:
            self._plan(now)
        done = self.done
        for s in finished:
            done(s.req, now)

    def _on_end(self, gen: object) -> None:
        if gen != self._gen:
            return  # superseded (the segment was cut)
        seg = self.seg
        assert seg is not None
        now = self.host.now()
        self._touch(now)
        k = seg.k
        if self.n_dec:
            self._apply(k - seg.applied)
        seg.applied = k
        self.steps += k
        if seg.decoders:
            self.tpot.observe(seg.a + seg.b * (k - 1) / 2.0, seg.decoders * k)  # the mean step time
        log = self.log
        ttft = self.ttft
        finished: list[_Seq] = []
        if seg.fresh:
            first = seg.t0 + seg.a
            for s in seg.fresh:
                if s.state == _DECODE:
                    self._first_token(s, first)
        for s in seg.prefills:
            if s.state != _PREFILL:
                continue  # preempted or cancelled meanwhile
            s.computed += s.chunk
            s.chunk = 0
            if s.computed < s.req.input_tokens + s.generated:
                continue  # still prefilling (the partial request)
            if self.partial is s:
                self.partial = None
            if s.target == 0:  # embedding: done at the end of its prompt
                finished.append(s)
                continue
            s.generated += 1
            s.here += 1
            if s.here == 1:  # not for a recomputation after preemption (vLLM observes TTFT once)
                r = s.req
                if r.first_token_at < 0:
                    r.first_token_at = now
                ttft.counts[bisect_left(ttft.bounds, now - s.submitted)] += 1
                ttft.count += 1
                ttft.total += now - s.submitted
                if log is not None:
                    log.append(("first_token", now, r.id))
            if s.generated >= s.target:
                finished.append(s)
            else:
                self._enter_decode(s)
        heap = self.heap
        G = self.G
        while heap and heap[0][0] <= G:
            _, _, epoch, s = heapq.heappop(heap)
            if s.state == _DECODE and s.epoch == epoch:
                finished.append(s)
        role = self.role
        run = self.run
        for s in finished:
            if s.state == _PREFILL:  # (inline `_release` for a request that ends with its prompt)
                self.used -= s.blocks
                s.blocks = 0
                s.state = _GONE
                del run[s.req.id]
            else:
                self._release(s)
            r = s.req
            self.served += 1
            self.prompt_tokens += r.input_tokens
            self.generation_tokens += s.here
            r.service_time[role] = now - r.stamps[role][1]
            if log is not None:
                log.append(("finish", now, r.id))
        self.running = len(run)
        self._plan(now)
        done = self.done
        for s in finished:
            done(s.req, now)

    def _pass(self, arg: object) -> None:
        req: Request = arg  # type: ignore[assignment]
        self.done(req, self.host.now())

    def _first_token(self, s: _Seq, t: float) -> None:
        if s.req.first_token_at < 0:
            s.req.first_token_at = t
        self.ttft.observe(t - s.submitted)
        if self.log is not None:
            self.log.append(("first_token", t, s.req.id))


KV_NETWORK_BYTES_PER_S = 50e9
"""Default KV-transfer bandwidth between nodes, per GPU: one 400 Gb/s RDMA NIC per GPU (HGX/DGX H100)."""
KV_TRANSFER_LATENCY_S = 0.002


def engine_modes(pipeline: PipelineSpec, engines: Mapping[str, object]) -> dict[str, EngineMode]:
    """The engine role of each pipeline role that has an engine: prefill roles prefill, decode roles after a
    KV transfer decode, embedding inference runs prefill-only batches, any other (aggregated) role does both.

    Raises PipelineError for an engine on a role no engine serves (router, tokenizer, custom)."""
    from sim.load.pipeline import PipelineError, RoleStep, TransferStep

    modes: dict[str, EngineMode] = {}
    after_transfer = False
    roles = []
    for step in pipeline.steps:
        if isinstance(step, TransferStep):
            after_transfer = True
            continue
        assert isinstance(step, RoleStep)
        roles.append(step.role)
        if step.role in engines:
            if step.kind is ModelKind.PREFILL:
                modes[step.role] = EngineMode.PREFILL
            elif step.kind is ModelKind.EMBEDDING:
                modes[step.role] = EngineMode.EMBEDDING
            elif step.kind is ModelKind.DECODE:
                modes[step.role] = EngineMode.DECODE if after_transfer else EngineMode.COMBINED
            else:
                raise PipelineError(
                    f"engines.{step.role}",
                    step.role,
                    f"an engine serves Prefill, Decode and Inference roles, not a {step.role_type} role",
                )
        after_transfer = False
    for role in sorted(engines):
        if role not in roles:
            raise PipelineError(f"engines.{role}", role, f"a role of the pipeline {roles}")
    return modes


def engine_kv_transfer(
    base: KVTransferParams, pipeline: PipelineSpec, engines: Mapping[str, EngineProfileLike]
) -> KVTransferParams:
    """The prefill -> decode KV transfer when the prefill role runs an engine: the model's KV bytes per token
    (all layers, all KV heads) over `KV_NETWORK_BYTES_PER_S` per GPU x the TP degree (each TP rank ships its
    shard of the heads over its own NIC; the smaller TP of the two sides bounds it). Fields the scenario set
    in `services.kv-transfer` win (`bandwidthBytesPerS` is then the whole path's bandwidth).

    Pod placement is not visible to the load layer (the decode pod is picked after the transfer), so the
    inter-node network figure is used even when both pods share a node (NVLink would be faster)."""
    from sim.load.pipeline import RoleStep, TransferStep

    steps = pipeline.steps
    for i, step in enumerate(steps):
        if not isinstance(step, TransferStep) or i == 0 or i + 1 >= len(steps):
            continue
        pre, dec = steps[i - 1], steps[i + 1]
        assert isinstance(pre, RoleStep) and isinstance(dec, RoleStep)
        p = engines.get(pre.role)
        if p is None:
            return base
        d = engines.get(dec.role)
        ranks = min(p.tp, d.tp) if d is not None else p.tp
        update: dict[str, float | int] = {}
        given = base.model_fields_set
        if "bytes_per_token" not in given:
            update["bytes_per_token"] = int(p.kv_bytes_per_token)
        if "bandwidth_bytes_per_s" not in given:
            update["bandwidth_bytes_per_s"] = KV_NETWORK_BYTES_PER_S * max(1, ranks)
        return base.model_copy(update=update)
    return base


def engine_server_factory(
    profile: EngineProfileLike, mode: EngineMode
) -> Callable[[str, str, Host, Done, Dropped], PodServer]:
    """A `make_server`-like constructor for the pods of one engine role."""

    def make(name: str, role: str, host: Host, done: Done, dropped: Dropped) -> PodServer:
        return EngineServer(name, role, host, done, dropped, profile, mode)

    return make

"""Per-pod service models: router, tokenizer, embedding inference, prefill, decode (continuous batching).

Each model is event-driven with callbacks, not a process per request: a request costs one to three
scheduled events per role whatever its token counts. Decode is advanced analytically between arrivals and
completions with a fluid step clock (see `DecodeServer`). Default parameters are documented in docs/load.md
and each can be overridden per role in the scenario (`serviceParams`)."""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable
from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from sim.load.request import DropReason, Request


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


class ModelKind(StrEnum):
    ROUTER = "router"
    TOKENIZER = "tokenizer"
    EMBEDDING = "embedding"
    PREFILL = "prefill"
    DECODE = "decode"
    FIXED = "fixed"
    """Custom roles: a fixed per-request overhead with bounded concurrency (like the router)."""


class ResourceProfile(_Params):
    """What a pod of the role looks like to metrics-server and DCGM (for resource and GPU metrics)."""

    cpu_request_millicores: int = 1000
    cpu_idle_millicores: int = 50
    cpu_busy_millicores: int = 900
    """Added on top of idle, times the pod's busy fraction over the scrape window."""
    memory_request_bytes: int = 2 * 1024**3
    memory_base_bytes: int = 512 * 1024**2
    memory_per_request_bytes: int = 1024**2
    gpus: int = 0
    gpu_memory_mib: int = 81920
    gpu_memory_utilization: float = Field(default=0.9, gt=0, le=1)
    """vLLM preallocates this fraction of GPU memory at start-up, so DCGM's FB_USED is flat under load."""


class RouterParams(_Params):
    overhead_s: float = Field(default=0.002, ge=0)
    concurrency: int = Field(default=1024, ge=1)
    resources: ResourceProfile = ResourceProfile()


class TokenizerParams(_Params):
    overhead_s: float = Field(default=0.0005, ge=0)
    tokens_per_s: float = Field(default=100_000.0, gt=0)
    """Per concurrent worker."""
    concurrency: int = Field(default=4, ge=1)
    resources: ResourceProfile = ResourceProfile(cpu_request_millicores=4000, cpu_busy_millicores=3800)


class EmbeddingParams(_Params):
    batch_overhead_s: float = Field(default=0.005, ge=0)
    """a in batch time = a + b x tokens."""
    seconds_per_token: float = Field(default=2e-5, ge=0)
    """b in batch time = a + b x tokens."""
    max_batch_size: int = Field(default=32, ge=1)
    max_batch_tokens: int = Field(default=16384, ge=1)
    resources: ResourceProfile = ResourceProfile(gpus=1, gpu_memory_utilization=0.5)


class PrefillParams(_Params):
    batch_overhead_s: float = Field(default=0.01, ge=0)
    tokens_per_s: float = Field(default=12_000.0, gt=0)
    max_batch_tokens: int = Field(default=8192, ge=1)
    """vLLM's max_num_batched_tokens: the token budget of one prefill batch (a longer prompt runs alone)."""
    max_batch_size: int = Field(default=256, ge=1)
    resources: ResourceProfile = ResourceProfile(gpus=1)


class DecodeParams(_Params):
    step_overhead_s: float = Field(default=0.015, ge=0)
    """c in step time = c + d x batch size."""
    step_per_seq_s: float = Field(default=0.0002, ge=0)
    """d in step time = c + d x batch size."""
    max_num_seqs: int = Field(default=256, ge=1)
    """vLLM's max_num_seqs default."""
    kv_capacity_tokens: int = Field(default=200_000, ge=1)
    resources: ResourceProfile = ResourceProfile(gpus=1)


class FixedParams(_Params):
    overhead_s: float = Field(default=0.001, ge=0)
    concurrency: int = Field(default=64, ge=1)
    resources: ResourceProfile = ResourceProfile()


class KVTransferParams(_Params):
    """Prefill -> decode KV-cache transfer: latency + input tokens x bytes per token / bandwidth."""

    latency_s: float = Field(default=0.002, ge=0)
    bytes_per_token: int = Field(default=131072, ge=0)
    """Llama-3-8B in fp16: 2 (K,V) x 32 layers x 8 KV heads x 128 dims x 2 bytes."""
    bandwidth_bytes_per_s: float = Field(default=25e9, gt=0)
    """200 Gb/s RDMA."""

    def delay(self, input_tokens: int) -> float:
        return self.latency_s + input_tokens * self.bytes_per_token / self.bandwidth_bytes_per_s


ServiceParams = RouterParams | TokenizerParams | EmbeddingParams | PrefillParams | DecodeParams | FixedParams

PARAMS_FOR_KIND: dict[ModelKind, type[_Params]] = {
    ModelKind.ROUTER: RouterParams,
    ModelKind.TOKENIZER: TokenizerParams,
    ModelKind.EMBEDDING: EmbeddingParams,
    ModelKind.PREFILL: PrefillParams,
    ModelKind.DECODE: DecodeParams,
    ModelKind.FIXED: FixedParams,
}


class Host(Protocol):
    """What a pod server needs from the pipeline: a clock, a timer, and where finished work goes."""

    def now(self) -> float: ...
    def after(self, delay: float, fn: Callable[[object], None], arg: object) -> None: ...


Done = Callable[[Request, float], None]
Dropped = Callable[[Request, float, DropReason], None]


class PodServer:
    """Common state every model keeps: queue, running count and time integrals for utilization metrics."""

    kind: ModelKind

    def __init__(self, name: str, role: str, host: Host, done: Done, dropped: Dropped) -> None:
        self.name = name
        self.role = role
        self.host = host
        self.done = done
        self.dropped = dropped
        self.queue: deque[Request] = deque()
        self.running = 0
        """Requests in service (servers in use, requests in the running batch, decode sequences)."""
        self.served = 0
        self.prompt_tokens = 0
        self.generation_tokens = 0
        self._t = 0.0
        self.born = 0.0
        """When the pod first became Ready (its counters start here)."""
        self.busy_area = 0.0
        """Integral of `running` over time (request-seconds in service)."""
        self.active_area = 0.0
        """Time with any request in service (the GPU/CPU is busy)."""

    def _touch(self, now: float) -> None:
        dt = now - self._t
        if dt > 0:
            if self.running:
                self.busy_area += self.running * dt
                self.active_area += dt
            self._t = now

    def areas(self, now: float) -> tuple[float, float]:
        """(busy_area, active_area) brought up to `now` without mutating state."""
        dt = now - self._t
        if dt > 0 and self.running:
            return self.busy_area + self.running * dt, self.active_area + dt
        return self.busy_area, self.active_area

    @property
    def waiting(self) -> int:
        return len(self.queue)

    def load(self) -> int:
        return len(self.queue) + self.running

    def submit(self, req: Request, now: float) -> None:
        raise NotImplementedError

    def outstanding(self) -> int:
        """Requests the pod holds: queued plus in service (what least-outstanding routing compares)."""
        return len(self.queue) + self.running

    def cancel(self, req: Request, now: float) -> bool:
        """Abort `req` wherever it is in the pod (queued, in a batch, decoding) and free its slot and
        KV, as vLLM aborts a request whose client disconnected; True if the pod held it. The pod never
        reports it done afterwards."""
        raise NotImplementedError

    def held(self) -> list[Request]:
        """Every request the pod holds, in service first, then queued (what a terminated pod fails)."""
        return list(self.queue)

    def has_slot(self, req: Request) -> bool:
        """Whether the pod would start `req` without queueing it behind other work (router-queue flow
        control hands requests only to pods with a free slot)."""
        return not self.queue and self.running == 0

    def kv_usage(self, now: float) -> float:
        """KV-cache usage as a 0-1 fraction (0 for models without a KV cache)."""
        return 0.0


class MultiServer(PodServer):
    """`concurrency` parallel servers, FIFO queue; service time = overhead + input tokens / tokens_per_s."""

    def __init__(
        self,
        name: str,
        role: str,
        host: Host,
        done: Done,
        dropped: Dropped,
        kind: ModelKind,
        overhead_s: float,
        concurrency: int,
        tokens_per_s: float | None,
    ) -> None:
        super().__init__(name, role, host, done, dropped)
        self.kind = kind
        self.overhead = overhead_s
        self.concurrency = concurrency
        self.inv_rate = 0.0 if tokens_per_s is None else 1.0 / tokens_per_s
        self.active: dict[int, Request] = {}
        """Requests in service by id (what `cancel` can abort)."""

    def service_time(self, req: Request) -> float:
        return self.overhead + req.input_tokens * self.inv_rate

    def submit(self, req: Request, now: float) -> None:
        if self.running < self.concurrency:
            self._start(req, now)
        else:
            self.queue.append(req)

    def _start(self, req: Request, now: float) -> None:
        self._touch(now)
        self.running += 1
        svc = self.overhead + req.input_tokens * self.inv_rate
        req.stamps[self.role][1] = now
        req.service_time[self.role] = svc
        self.active[req.id] = req
        self.host.after(svc, self._finish, (req, req.attempt))

    def _finish(self, arg: object) -> None:
        pair: tuple[Request, int] = arg  # type: ignore[assignment]
        req, attempt = pair
        if req.attempt != attempt or self.active.get(req.id) is not req:
            return  # cancelled while in service
        del self.active[req.id]
        now = self.host.now()
        self._touch(now)
        self.running -= 1
        self.served += 1
        self.prompt_tokens += req.input_tokens
        if self.queue:
            self._start(self.queue.popleft(), now)
        self.done(req, now)

    def cancel(self, req: Request, now: float) -> bool:
        if self.active.get(req.id) is req:
            del self.active[req.id]
            self._touch(now)
            self.running -= 1
            if self.queue:
                self._start(self.queue.popleft(), now)
            return True
        try:
            self.queue.remove(req)
        except ValueError:
            return False
        return True

    def has_slot(self, req: Request) -> bool:
        return self.running < self.concurrency

    def held(self) -> list[Request]:
        return [*self.active.values(), *self.queue]


class BatchServer(PodServer):
    """One batch at a time; a batch takes FIFO requests while within size and token budget (at least one).

    Batch time = a + b x batch tokens; each request is attributed a share of it proportional to its tokens."""

    def __init__(
        self,
        name: str,
        role: str,
        host: Host,
        done: Done,
        dropped: Dropped,
        kind: ModelKind,
        overhead_s: float,
        seconds_per_token: float,
        max_batch_size: int,
        max_batch_tokens: int,
    ) -> None:
        super().__init__(name, role, host, done, dropped)
        self.kind = kind
        self.a = overhead_s
        self.b = seconds_per_token
        self.max_size = max_batch_size
        self.max_tokens = max_batch_tokens
        self.batch: list[Request] = []
        self.batches = 0
        self.busy = False
        """A batch is running (its requests may all have been cancelled: the step still runs)."""

    def submit(self, req: Request, now: float) -> None:
        self.queue.append(req)
        if not self.busy:
            self._start(now)

    def cancel(self, req: Request, now: float) -> bool:
        if req in self.batch:
            # aborted mid-step: the step's time does not shrink, but the request never completes
            self._touch(now)
            self.batch.remove(req)
            self.running -= 1
            return True
        try:
            self.queue.remove(req)
        except ValueError:
            return False
        return True

    def held(self) -> list[Request]:
        return [*self.batch, *self.queue]

    def has_slot(self, req: Request) -> bool:
        """Free when idle, or while the queue still fits in the next batch's size and token budget."""
        q = self.queue
        if not self.busy and not q:
            return True
        if len(q) >= self.max_size:
            return False
        return sum(r.input_tokens for r in q) + req.input_tokens <= self.max_tokens

    def _start(self, now: float) -> None:
        q = self.queue
        first = q.popleft()
        batch = [first]
        tokens = first.input_tokens
        while q and len(batch) < self.max_size and tokens + q[0].input_tokens <= self.max_tokens:
            nxt = q.popleft()
            tokens += nxt.input_tokens
            batch.append(nxt)
        self._touch(now)
        self.batch = batch
        self.running = len(batch)
        self.busy = True
        self.batches += 1
        t = self.a + self.b * tokens
        role = self.role
        n = len(batch)
        for r in batch:
            r.stamps[role][1] = now
            r.service_time[role] = t * r.input_tokens / tokens if tokens else t / n
        self.host.after(t, self._finish, None)

    def _finish(self, _arg: object) -> None:
        now = self.host.now()
        self._touch(now)
        batch = self.batch
        self.batch = []
        self.running = 0
        self.busy = False
        self.served += len(batch)
        for r in batch:
            self.prompt_tokens += r.input_tokens
        if self.queue:
            self._start(now)
        for r in batch:
            self.done(r, now)


class DecodeServer(PodServer):
    """Continuous batching, advanced analytically.

    Every step takes c + d x B seconds (B = running sequences) and gives each running sequence one token.
    A fluid step clock S counts steps done (fractional between events): a sequence admitted at step S0
    that must produce n tokens finishes at step S0 + n. Between events S grows at 1 / (c + d x B) per
    second, so the next completion time is known in closed form; only admissions and completions are
    events. Admission is FIFO and needs B < max_num_seqs and the sequence's whole footprint (prompt +
    output tokens) to fit in the KV-cache capacity (reserved at admission, so no preemption)."""

    kind = ModelKind.DECODE

    def __init__(
        self, name: str, role: str, host: Host, done: Done, dropped: Dropped, p: DecodeParams
    ) -> None:
        super().__init__(name, role, host, done, dropped)
        self.c = p.step_overhead_s
        self.d = p.step_per_seq_s
        self.max_seqs = p.max_num_seqs
        self.capacity = p.kv_capacity_tokens
        self.steps = 0.0
        self._ts = 0.0
        self.heap: list[tuple[float, int, Request]] = []
        self.reserved = 0
        self.sum_input = 0
        self.sum_start = 0.0
        self._gen = 0

    def _advance(self, now: float) -> None:
        if self.running:
            self.steps += (now - self._ts) / (self.c + self.d * self.running)
        self._ts = now

    def steps_at(self, now: float) -> float:
        if self.running:
            return self.steps + (now - self._ts) / (self.c + self.d * self.running)
        return self.steps

    def kv_usage(self, now: float) -> float:
        """Blocks in use: prompts plus tokens generated so far by the running sequences."""
        used = self.sum_input + self.running * self.steps_at(now) - self.sum_start
        return used / self.capacity

    def submit(self, req: Request, now: float) -> None:
        if req.input_tokens + max(req.output_tokens, 1) > self.capacity:
            self.dropped(req, now, DropReason.EXCEEDS_KV_CAPACITY)
            return
        self._advance(now)
        self.queue.append(req)
        if self._admit(now):
            self._reschedule()

    def _admit(self, now: float) -> bool:
        q = self.queue
        admitted = False
        role = self.role
        while q and self.running < self.max_seqs:
            head = q[0]
            out = head.output_tokens if head.output_tokens > 0 else 1
            need = head.input_tokens + out
            if self.reserved + need > self.capacity:
                break
            q.popleft()
            self._touch(now)
            self.running += 1
            self.reserved += need
            self.sum_input += head.input_tokens
            self.sum_start += self.steps
            heapq.heappush(self.heap, (self.steps + out, head.id, head))
            head.stamps[role][1] = now
            head.first_token_at = now + self.c + self.d * self.running
            admitted = True
        return admitted

    def cancel(self, req: Request, now: float) -> bool:
        # upstream: vllm/v1/engine/async_llm.py AsyncLLM.generate -> abort on client disconnect; the
        # scheduler drops the request from waiting/running and frees its KV blocks
        heap = self.heap
        idx = next((i for i, e in enumerate(heap) if e[2] is req), -1)
        if idx < 0:
            try:
                self.queue.remove(req)
            except ValueError:
                return False
            self._advance(now)  # the head may have been what blocked admission
            if self._admit(now):
                self._reschedule()
            return True
        self._advance(now)
        self._touch(now)
        end = heap[idx][0]
        out = req.output_tokens if req.output_tokens > 0 else 1
        start = end - out
        self.running -= 1
        self.reserved -= req.input_tokens + out
        self.sum_input -= req.input_tokens
        self.sum_start -= start
        self.generation_tokens += max(0, int(self.steps - start))  # tokens it did produce
        heap[idx] = heap[-1]
        heap.pop()
        heapq.heapify(heap)
        if not self.running:
            self.sum_start = 0.0
        self._admit(now)  # its batch slot and KV blocks are free again
        self._reschedule()
        return True

    def held(self) -> list[Request]:
        return [e[2] for e in sorted(self.heap, key=lambda e: (e[0], e[1]))] + list(self.queue)

    def has_slot(self, req: Request) -> bool:
        """Admitted at once: a free sequence slot and room for its whole KV footprint."""
        need = req.input_tokens + (req.output_tokens if req.output_tokens > 0 else 1)
        if need > self.capacity:
            return (
                True  # it never fits: the pod rejects it at once (ExceedsKVCapacity), never blocks the queue
            )
        return not self.queue and self.running < self.max_seqs and self.reserved + need <= self.capacity

    def _reschedule(self) -> None:
        self._gen += 1
        if self.heap:
            dt = (self.heap[0][0] - self.steps) * (self.c + self.d * self.running)
            self.host.after(dt if dt > 0 else 0.0, self._on_timer, self._gen)

    def _on_timer(self, gen: object) -> None:
        if gen != self._gen:
            return  # superseded by a later admission or completion
        now = self.host.now()
        self._advance(now)
        heap = self.heap
        limit = self.steps + 1e-9
        finished: list[Request] = []
        role = self.role
        while heap and heap[0][0] <= limit:
            end, _, r = heapq.heappop(heap)
            out = r.output_tokens if r.output_tokens > 0 else 1
            self._touch(now)
            self.running -= 1
            self.reserved -= r.input_tokens + out
            self.sum_input -= r.input_tokens
            self.sum_start -= end - out
            self.generation_tokens += out
            self.prompt_tokens += r.input_tokens
            self.served += 1
            r.service_time[role] = now - r.stamps[role][1]
            finished.append(r)
        if not self.running:
            self.sum_start = 0.0  # drop accumulated rounding
        self._admit(now)
        self._reschedule()
        for r in finished:
            self.done(r, now)


def make_server(
    kind: ModelKind, params: _Params, name: str, role: str, host: Host, done: Done, dropped: Dropped
) -> PodServer:
    """One pod's server for a role of the given model kind."""
    if isinstance(params, RouterParams):
        return MultiServer(name, role, host, done, dropped, kind, params.overhead_s, params.concurrency, None)
    if isinstance(params, FixedParams):
        return MultiServer(name, role, host, done, dropped, kind, params.overhead_s, params.concurrency, None)
    if isinstance(params, TokenizerParams):
        return MultiServer(
            name, role, host, done, dropped, kind, params.overhead_s, params.concurrency, params.tokens_per_s
        )
    if isinstance(params, EmbeddingParams):
        return BatchServer(
            name,
            role,
            host,
            done,
            dropped,
            kind,
            params.batch_overhead_s,
            params.seconds_per_token,
            params.max_batch_size,
            params.max_batch_tokens,
        )
    if isinstance(params, PrefillParams):
        return BatchServer(
            name,
            role,
            host,
            done,
            dropped,
            kind,
            params.batch_overhead_s,
            1.0 / params.tokens_per_s,
            params.max_batch_size,
            params.max_batch_tokens,
        )
    if isinstance(params, DecodeParams):
        return DecodeServer(name, role, host, done, dropped, params)
    raise TypeError(f"no service model for {type(params).__name__}")

"""LoadSystem: arrivals -> pipeline roles -> completions on the SimPy clock, with per-interval samples.

Only a few kinds of SimPy events exist: the next arrival, a pod's next completion (or decode timer), the
sampler tick, one deadline timer per deadline kind (sim/load/client.py: not one per request), retry
backoffs and grace-period ends of terminating pods. Requests are records, never processes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from simpy.events import NORMAL

from sim.clock import Simulation
from sim.load.accounting import Accounting, exact_percentiles
from sim.load.arrivals import Arrival
from sim.load.client import RETRY_STREAM, ClientParams, DeadlineWatch, RetryOn, backoff_delay
from sim.load.endpoints import Endpoints
from sim.load.engine import EngineProfileLike, engine_kv_transfer, engine_modes, engine_server_factory
from sim.load.metrics import EngineMetrics, MetricsConfig
from sim.load.pipeline import (
    KV_TRANSFER,
    Balancing,
    PipelineError,
    PipelineSpec,
    RoleStage,
    RoleStep,
    TransferStep,
    kv_transfer_params,
    params_for,
)
from sim.load.request import DropReason, Request
from sim.load.service_models import KVTransferParams, ServiceParams


@dataclass(frozen=True)
class RoleSample:
    role: str
    entered: int
    """Requests that entered the role during the interval."""
    left: int
    dropped: int
    waiting: int
    """Buffered in front of the role plus queued at its pods, at the sample instant."""
    running: int
    in_role: int
    ready_pods: int
    total_entered: int
    total_left: int
    total_dropped: int
    p50: float
    p95: float
    p99: float
    """Sojourn-time percentiles of requests that left the role during the interval (0.0 if none)."""
    cancelled: int = 0
    """Aborted in the role during the interval (client timeout, pod terminated)."""
    total_cancelled: int = 0


@dataclass(frozen=True)
class Sample:
    t: float
    arrived: int
    completed: int
    dropped: int
    in_flight: int
    """Counted where the requests are (buffers, pod queues, in service, in transfer)."""
    in_transit: int
    interval_arrived: int
    interval_completed: int
    interval_dropped: int
    e2e_p50: float
    e2e_p95: float
    e2e_p99: float
    roles: tuple[RoleSample, ...] = field(default=())
    timed_out: int = 0
    """Requests whose client gave up for good (arrived = completed + dropped + timed_out + in_flight)."""
    interval_timed_out: int = 0
    retries: int = 0
    """Retry attempts so far (a retry is the same request, not a new arrival)."""
    in_backoff: int = 0
    """Of `in_flight`: failed attempts waiting for their retry."""


@dataclass(frozen=True)
class RoleStats:
    role: str
    entered: int
    left: int
    dropped: int
    in_role: int
    throughput: float
    """Entered per second over the run."""
    mean_in_role: float
    """Time-average number in the role (L in Little's law)."""
    mean_wait: float
    mean_sojourn: float
    """W in Little's law (requests that left)."""
    mean_service: float
    utilization: float
    wait_p50: float
    wait_p99: float
    sojourn_p50: float
    sojourn_p95: float
    sojourn_p99: float


@dataclass(frozen=True)
class LoadStats:
    duration: float
    arrived: int
    completed: int
    dropped: int
    in_flight: int
    drops_by_reason: dict[str, int]
    roles: dict[str, RoleStats]
    e2e_mean: float
    e2e_p50: float
    e2e_p95: float
    e2e_p99: float
    ttft_p50: float
    ttft_p99: float
    tpot_p50: float
    tpot_p99: float
    timed_out: int = 0
    retries: int = 0
    timed_out_by_class: dict[str, int] = field(default_factory=dict)
    """Timed-out requests per request class ("" = no class)."""


class _Call:
    """A triggered SimPy event that calls `fn(arg)`: what `Environment.step` reads of an event
    (`callbacks`, `_ok`), without building a Timeout and a closure per call."""

    __slots__ = ("arg", "callbacks", "fn")
    _ok = True

    def __init__(self, fn: Callable[[object], None], arg: object) -> None:
        self.fn = fn
        self.arg = arg
        # one shared tuple instead of a list and a bound method per event (`Environment.step` only
        # iterates it and then sets the attribute to None; nothing else sees a _Call)
        self.callbacks: tuple[Callable[[_Call], None], ...] | None = _FIRE

    @staticmethod
    def _fire(event: _Call) -> None:
        event.fn(event.arg)


_FIRE = (_Call._fire,)


_PCTS = (50.0, 95.0, 99.0)
"""The per-interval percentiles a Sample carries."""


class LoadSystem:
    """The load layer of one run. Create, `start()`, run the simulation, read `stats()` / `metrics`.

    `service_params` maps role name -> overrides of its model's defaults (dict or params object), and
    "kv-transfer" -> overrides of the prefill -> decode transfer (or pass `kv_transfer`). `on_sample(Sample)` is called every
    `sample_interval` simulated seconds; `on_complete(Request)` / `on_drop(Request)` / `on_timeout(Request)`
    once per request, at its final outcome. `balancing` is one mode for every role or `{role: mode}` (roles
    not named use round-robin); `client` sets deadlines and retries (`ClientParams`, default: a 600 s
    timeout, no retries)."""

    def __init__(
        self,
        sim: Simulation,
        pipeline: PipelineSpec,
        arrivals: Iterable[Arrival],
        endpoints: Endpoints,
        service_params: Mapping[str, Mapping[str, Any] | ServiceParams] | None = None,
        *,
        kv_transfer: Mapping[str, Any] | KVTransferParams | None = None,
        balancing: Balancing | str | Mapping[str, Balancing | str] = Balancing.ROUND_ROBIN,
        buffer: int = 1000,
        buffer_timeout: float = 60.0,
        sample_interval: float | None = 1.0,
        on_sample: Callable[[Sample], None] | None = None,
        on_complete: Callable[[Request], None] | None = None,
        on_drop: Callable[[Request], None] | None = None,
        engines: Mapping[str, EngineProfileLike] | None = None,
        keep_samples: bool = False,
        metrics: MetricsConfig | None = None,
        client: ClientParams | Mapping[str, Any] | None = None,
        on_timeout: Callable[[Request], None] | None = None,
    ) -> None:
        self.sim = sim
        self.env = sim.env
        self.pipeline = pipeline
        self._arrivals: Iterator[Arrival] = iter(arrivals)
        self.endpoints = endpoints
        self.acc = Accounting.for_roles(pipeline.roles)
        overrides = dict(service_params or {})
        kv_override: Any = overrides.pop(KV_TRANSFER, None)
        self.kv = kv_transfer_params(kv_transfer if kv_transfer is not None else kv_override)
        self.sample_interval = sample_interval
        self.on_sample = on_sample
        self.on_complete = on_complete
        self.on_drop = on_drop
        self.on_timeout = on_timeout
        self.client = (
            client if isinstance(client, ClientParams) else ClientParams.model_validate(client or {})
        )
        cp = self.client
        self._timeout = cp.timeout_seconds
        self._ttft_timeout = cp.ttft_timeout_seconds
        self._retry_limit = cp.retries.limit
        self._retry_timeout = RetryOn.TIMEOUT in cp.retry_on
        self._retry_dropped = RetryOn.DROPPED in cp.retry_on
        self._rng = sim.seeds.stream(RETRY_STREAM) if cp.retries.jitter > 0 and cp.retries.limit else None
        self._watch = DeadlineWatch(self, self._on_deadline) if self._timeout else None
        self._ttft_watch = DeadlineWatch(self, self._on_ttft_deadline) if self._ttft_timeout else None
        self._killing: set[tuple[str, str]] = set()
        self.samples: list[Sample] | None = [] if keep_samples else None
        unknown = sorted(set(overrides) - set(pipeline.roles))
        if unknown:
            raise PipelineError(
                f"services.{unknown[0]}",
                unknown[0],
                f"a role of the pipeline {pipeline.roles} or {KV_TRANSFER!r}",
            )
        engines = dict(engines or {})
        modes = engine_modes(pipeline, engines)
        """role -> EngineMode for the roles served by a vLLM-style engine (`sim.load.engine`)."""

        self.stages: list[RoleStage | None] = []
        self.roles: dict[str, RoleStage] = {}
        if isinstance(balancing, Mapping):
            per_role = {str(k): Balancing(v) for k, v in balancing.items()}
            bad = sorted(set(per_role) - set(pipeline.roles))
            if bad:
                raise PipelineError(f"routing.{bad[0]}", bad[0], f"a role of the pipeline {pipeline.roles}")
        else:
            per_role = {r: Balancing(balancing) for r in pipeline.roles}
        for step in pipeline.steps:
            if isinstance(step, TransferStep):
                self.stages.append(None)
                continue
            assert isinstance(step, RoleStep)
            mode = modes.get(step.role)
            stage = RoleStage(
                step,
                params_for(step.kind, overrides.get(step.role), f"services.{step.role}"),
                self,
                self.acc.roles[step.role],
                self._advance,
                self._drop,
                per_role.get(step.role, Balancing.ROUND_ROBIN),
                buffer,
                buffer_timeout,
                None if mode is None else engine_server_factory(engines[step.role], mode),
            )
            self.stages.append(stage)
            self.roles[step.role] = stage
        if modes:
            self.kv = engine_kv_transfer(self.kv, pipeline, engines)
        self.metrics = EngineMetrics(sim, self, metrics or MetricsConfig())
        self._next_id = 0
        self._started = False

    # -- Host protocol for the pod servers
    def now(self) -> float:
        return float(self.env.now)

    def after(self, delay: float, fn: Callable[[object], None], arg: object) -> None:
        # What `env.timeout(delay).callbacks.append(lambda _ev: fn(arg))` does (same priority, one
        # event id each, so the same order), with less construction: the hottest call of a replay.
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        self.env.schedule(_Call(fn, arg), NORMAL, delay)  # type: ignore[arg-type]

    # -- life cycle
    def start(self) -> None:
        if self._started:
            raise RuntimeError("LoadSystem.start() called twice")
        self._started = True
        now = self.now()
        for role, stage in self.roles.items():
            stage.set_ready(self.endpoints.ready_pods(role), now)
            stage.acc.t_last = now
        self.endpoints.subscribe(self._on_endpoints)
        self._t0 = now
        self._schedule_next(now)
        if self.sample_interval:
            self.env.process(self._sampler(self.sample_interval))
        self.metrics.start()

    def _on_endpoints(self, role: str) -> None:
        stage = self.roles.get(role)
        if stage is None:
            return
        now = self.now()
        stage.set_ready(self.endpoints.ready_pods(role), now)
        take = getattr(self.endpoints, "take_terminating", None)
        if not callable(take):
            return
        for pod, grace in take(role).items():
            key = (role, pod)
            if key in self._killing or pod not in stage.servers:
                continue
            self._killing.add(key)
            self.after(max(0.0, float(grace)), self._grace_over, key)

    def _grace_over(self, arg: object) -> None:
        """A terminating pod's grace period ended (or it was deleted): fail what it still holds."""
        key: tuple[str, str] = arg  # type: ignore[assignment]
        self._killing.discard(key)
        role, pod = key
        now = self.now()
        for req in self.roles[role].terminate_pod(pod, now):
            self._fail(req, now, RetryOn.DROPPED, DropReason.POD_TERMINATED)

    def _schedule_next(self, now: float) -> None:
        nxt = next(self._arrivals, None)
        if nxt is None:
            return
        t = self._t0 + nxt.t
        self.after(t - now if t > now else 0.0, self._arrive, nxt)

    def _arrive(self, arg: object) -> None:
        a: Arrival = arg  # type: ignore[assignment]
        now = self.now()
        req = Request(self._next_id, now, a.input_tokens, a.output_tokens, a.klass)
        self._next_id += 1
        acc = self.acc
        acc.arrived += 1
        acc.win_arrived += 1
        self._attempt(req, now)
        self._schedule_next(now)

    # -- clients: deadlines, cancellation, retries
    def _attempt(self, req: Request, now: float) -> None:
        req.attempt_at = now
        watch = self._watch
        if watch is not None:
            req.deadline = deadline = now + self._timeout  # type: ignore[operator]
            if watch.entries:  # armed already: deadlines only grow, so just queue it
                watch.entries.append((deadline, req, req.attempt))
            else:
                watch.push(deadline, req)
        if self._ttft_watch is not None:
            self._ttft_watch.push(now + self._ttft_timeout, req)  # type: ignore[operator]
        self._enter(req, 0, now)

    def _on_deadline(self, req: Request, now: float) -> None:
        self._cancel(req, now)
        self._fail(req, now, RetryOn.TIMEOUT, None)

    def _on_ttft_deadline(self, req: Request, now: float) -> None:
        first = req.first_token_at
        if 0 <= first <= now:
            return  # the first token came in time
        self._on_deadline(req, now)

    def _cancel(self, req: Request, now: float) -> None:
        """Remove the current attempt from wherever it is in the pipeline."""
        stage = self.stages[req.stage]
        if stage is None:
            self.acc.in_transit -= 1  # its transfer timer will find it stale
        else:
            stage.cancel(req, now)

    def _fail(self, req: Request, now: float, cause: RetryOn, reason: DropReason | None) -> None:
        """The current attempt failed (already out of the pipeline): retry after a backoff, or end it."""
        retry = req.attempt < self._retry_limit and (
            self._retry_timeout if cause is RetryOn.TIMEOUT else self._retry_dropped
        )
        if retry and reason is DropReason.EXCEEDS_KV_CAPACITY:
            retry = False  # a client error (HTTP 400): no client retries it
        if retry:
            req.attempt += 1
            req.first_token_at = -1.0
            acc = self.acc
            acc.retries += 1
            acc.win_retries += 1
            acc.in_backoff += 1
            self.after(backoff_delay(self.client.retries, req.attempt, self._rng), self._retry, req)
            return
        req.completed_at = now
        if cause is RetryOn.TIMEOUT:
            req.timed_out = True
            self.acc.record_timeout(req.klass)
            if self.on_timeout is not None:
                self.on_timeout(req)
        else:
            assert reason is not None
            req.dropped = reason
            self.acc.record_drop(None, reason)
            self._ended()
            if self.on_drop is not None:
                self.on_drop(req)

    def _ended(self) -> None:
        """A request ended: drop finished entries from the deadline FIFOs (memory stays flat)."""
        watch = self._watch
        if watch is not None and watch.entries and watch.entries[0][1].completed_at >= 0:
            watch.prune()
        if self._ttft_watch is not None:
            self._ttft_watch.prune()

    def _retry(self, arg: object) -> None:
        req: Request = arg  # type: ignore[assignment]
        self.acc.in_backoff -= 1
        self._attempt(req, self.now())

    def _enter(self, req: Request, index: int, now: float) -> None:
        req.stage = index
        stage = self.stages[index]
        if stage is None:  # KV transfer
            self.acc.in_transit += 1
            self.after(self.kv.delay(req.input_tokens), self._transferred, (req, req.attempt))
        else:
            stage.enter(req, now)

    def _transferred(self, arg: object) -> None:
        pair: tuple[Request, int] = arg  # type: ignore[assignment]
        req, attempt = pair
        if req.attempt != attempt or req.completed_at >= 0 or self.stages[req.stage] is not None:
            return  # cancelled during the transfer
        self.acc.in_transit -= 1
        self._enter(req, req.stage + 1, self.now())

    def _advance(self, req: Request, now: float) -> None:
        nxt = req.stage + 1
        if nxt < len(self.stages):
            self._enter(req, nxt, now)
            return
        acc = self.acc
        acc.completed += 1
        acc.win_completed += 1
        req.completed_at = now
        e2e = now - req.arrival
        acc.e2e.add(e2e)
        acc.win_e2e.append(e2e)
        first = req.first_token_at
        if first < 0 or first > now:
            first = now
        req.first_token_at = first
        acc.ttft.add(first - req.arrival)
        if req.output_tokens > 1 and now > first:
            acc.tpot.add((now - first) / (req.output_tokens - 1))
        watch = self._watch
        if (
            watch is not None and watch.entries and watch.entries[0][1] is req
        ) or self._ttft_watch is not None:
            self._ended()
        if self.on_complete is not None:
            self.on_complete(req)

    def _drop(self, req: Request, now: float, reason: DropReason, role: str | None) -> None:
        if (
            req.attempt < self._retry_limit
            and self._retry_dropped
            and reason is not DropReason.EXCEEDS_KV_CAPACITY
        ):
            self.acc.record_drop(role, reason, final=False)
            self._fail(req, now, RetryOn.DROPPED, reason)
            return
        req.dropped = reason
        req.completed_at = now
        self.acc.record_drop(role, reason)
        self._ended()
        if self.on_drop is not None:
            self.on_drop(req)

    # -- sampling
    def _sampler(self, interval: float) -> Any:
        while True:
            yield self.env.timeout(interval)
            sample = self.sample()
            if self.samples is not None:
                self.samples.append(sample)
            if self.on_sample is not None:
                self.on_sample(sample)

    def sample(self) -> Sample:
        """A snapshot of the counters; resets the per-interval windows."""
        acc = self.acc
        roles = []
        for name, stage in self.roles.items():
            ra = stage.acc
            p50, p95, p99 = exact_percentiles(ra.win_sojourn, _PCTS)
            roles.append(
                RoleSample(
                    role=name,
                    entered=ra.win_entered,
                    left=ra.win_left,
                    dropped=ra.win_dropped,
                    waiting=stage.waiting(),
                    running=stage.running(),
                    in_role=ra.in_role,
                    ready_pods=len(stage.ready),
                    total_entered=ra.entered,
                    total_left=ra.left,
                    total_dropped=ra.dropped,
                    p50=p50,
                    p95=p95,
                    p99=p99,
                    cancelled=ra.win_cancelled,
                    total_cancelled=ra.cancelled,
                )
            )
            ra.win_entered = ra.win_left = ra.win_dropped = ra.win_cancelled = 0
            ra.win_sojourn = []
        e2e_p50, e2e_p95, e2e_p99 = exact_percentiles(acc.win_e2e, _PCTS)
        s = Sample(
            t=self.now(),
            arrived=acc.arrived,
            completed=acc.completed,
            dropped=acc.dropped,
            in_flight=acc.in_flight(),
            in_transit=acc.in_transit,
            interval_arrived=acc.win_arrived,
            interval_completed=acc.win_completed,
            interval_dropped=acc.win_dropped,
            e2e_p50=e2e_p50,
            e2e_p95=e2e_p95,
            e2e_p99=e2e_p99,
            roles=tuple(roles),
            timed_out=acc.timed_out,
            interval_timed_out=acc.win_timed_out,
            retries=acc.retries,
            in_backoff=acc.in_backoff,
        )
        acc.win_arrived = acc.win_completed = acc.win_dropped = acc.win_timed_out = acc.win_retries = 0
        acc.win_e2e = []
        return s

    # -- results
    def stats(self) -> LoadStats:
        now = self.now()
        duration = now - getattr(self, "_t0", 0.0)
        acc = self.acc
        roles = {}
        for name, stage in self.roles.items():
            ra = stage.acc
            roles[name] = RoleStats(
                role=name,
                entered=ra.entered,
                left=ra.left,
                dropped=ra.dropped,
                in_role=ra.in_role,
                throughput=ra.entered / duration if duration > 0 else 0.0,
                mean_in_role=ra.area_until(now) / duration if duration > 0 else 0.0,
                mean_wait=ra.sum_wait / ra.left if ra.left else 0.0,
                mean_sojourn=ra.sum_sojourn / ra.left if ra.left else 0.0,
                mean_service=ra.sum_service / ra.left if ra.left else 0.0,
                utilization=stage.utilization(now),
                wait_p50=ra.wait.percentile(50),
                wait_p99=ra.wait.percentile(99),
                sojourn_p50=ra.sojourn.percentile(50),
                sojourn_p95=ra.sojourn.percentile(95),
                sojourn_p99=ra.sojourn.percentile(99),
            )
        return LoadStats(
            duration=duration,
            arrived=acc.arrived,
            completed=acc.completed,
            dropped=acc.dropped,
            in_flight=acc.in_flight(),
            drops_by_reason=dict(sorted(acc.drops_by_reason.items())),
            roles=roles,
            e2e_mean=acc.e2e.mean(),
            e2e_p50=acc.e2e.percentile(50),
            e2e_p95=acc.e2e.percentile(95),
            e2e_p99=acc.e2e.percentile(99),
            ttft_p50=acc.ttft.percentile(50),
            ttft_p99=acc.ttft.percentile(99),
            tpot_p50=acc.tpot.percentile(50),
            tpot_p99=acc.tpot.percentile(99),
            timed_out=acc.timed_out,
            retries=acc.retries,
            timed_out_by_class=dict(sorted(acc.timed_out_by_class.items())),
        )

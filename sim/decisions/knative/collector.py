"""Knative's metric collector: per-revision stable and panic windows of concurrency and RPS.

upstream: knative/serving pkg/autoscaler/metrics/collector.go newCollection (four bucket sets:
concurrency and RPS, each over the stable and the panic window, linear or weighted-exponential),
collection.record (proxied requests — those the activator forwarded and also reported — are
subtracted), MetricCollector.StableAndPanicConcurrency/RPS (ErrNoData when nothing was recorded
for a whole stable window).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sim.decisions.knative.aggregation import TimedBuckets
from sim.decisions.knative.config import BUCKET_SIZE, Metric


@dataclass(frozen=True)
class Stat:
    """upstream: metrics.Stat (one scrape of the revision, totals over pods)."""

    average_concurrent_requests: float = 0.0
    average_proxied_concurrent_requests: float = 0.0
    request_count: float = 0.0
    proxied_request_count: float = 0.0


@dataclass(frozen=True)
class CollectorState:
    concurrency: TimedBuckets
    concurrency_panic: TimedBuckets
    rps: TimedBuckets
    rps_panic: TimedBuckets

    @staticmethod
    def new(stable_window: float, panic_window: float, *, weighted: bool = False) -> CollectorState:
        def b(w: float) -> TimedBuckets:
            return TimedBuckets.new(w, BUCKET_SIZE, weighted=weighted)

        return CollectorState(b(stable_window), b(panic_window), b(stable_window), b(panic_window))

    def record(self, now: float, stat: Stat) -> CollectorState:
        """upstream: collection.record."""
        concur = stat.average_concurrent_requests - stat.average_proxied_concurrent_requests
        rps = stat.request_count - stat.proxied_request_count
        return replace(
            self,
            concurrency=self.concurrency.record(now, concur),
            concurrency_panic=self.concurrency_panic.record(now, concur),
            rps=self.rps.record(now, rps),
            rps_panic=self.rps_panic.record(now, rps),
        )

    def stable_and_panic(self, metric: str, now: float) -> tuple[float, float] | None:
        """(stable, panic) window averages, None for ErrNoData. upstream: StableAndPanicConcurrency
        (any metric but rps) and StableAndPanicRPS."""
        stable, panic = (
            (self.rps, self.rps_panic) if metric == Metric.RPS else (self.concurrency, self.concurrency_panic)
        )
        if stable.is_empty(now):
            return None
        return stable.window_average(now), panic.window_average(now)

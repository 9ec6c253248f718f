"""AIBrix's metric time window: the last value per bucket, averaged without time weighting.

upstream: vllm-project/aibrix pkg/controller/podautoscaler/types/metrics.go TimeWindow (Record
overwrites the bucket of the timestamp and evicts buckets before timestamp - duration; Avg is the
plain mean of the kept buckets, 0 when empty; nothing expires between records) and
metrics/client.go MetricsClient.UpdateMetrics (the per-pod values of one snapshot are averaged
before recording; an empty snapshot records nothing).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

GRANULARITY = 1.0
"""upstream: autoscaler.go NewDefaultAutoScaler (metrics.NewMetricsClient(time.Second))."""


@dataclass(frozen=True)
class TimeWindow:
    duration: float
    granularity: float = GRANULARITY
    buckets: tuple[tuple[int, float], ...] = ()

    def record(self, t: float, value: float) -> TimeWindow:
        bucket = math.floor(t / self.granularity)
        kept = dict(self.buckets)
        kept[bucket] = value
        cutoff = math.floor((t - self.duration) / self.granularity)
        return TimeWindow(
            self.duration, self.granularity, tuple(sorted((b, v) for b, v in kept.items() if b >= cutoff))
        )

    def avg(self) -> float:
        if not self.buckets:
            return 0.0
        total = 0.0
        for _, v in self.buckets:
            total += v
        return total / len(self.buckets)


@dataclass(frozen=True)
class MetricWindows:
    """The stable and panic windows of one metric key."""

    stable: TimeWindow
    panic: TimeWindow

    @staticmethod
    def new(stable_window: float, panic_window: float) -> MetricWindows:
        return MetricWindows(TimeWindow(stable_window), TimeWindow(panic_window))

    def configured(self, stable_window: float, panic_window: float) -> MetricWindows:
        """upstream: MetricsClient.ConfigureMetricWindows (new windows only when a duration changes)."""
        if self.stable.duration == stable_window and self.panic.duration == panic_window:
            return self
        return MetricWindows.new(stable_window, panic_window)

    def update(self, t: float, values: Sequence[float], *, total: bool = False) -> MetricWindows:
        """Record the snapshot's average (upstream) or, with `total`, its sum over pods (Knative's
        revision total, what the KPA formula expects)."""
        if not values:
            return self
        acc = 0.0
        for v in values:
            acc += v
        value = acc if total else acc / len(values)
        return MetricWindows(self.stable.record(t, value), self.panic.record(t, value))

    def values(self) -> tuple[float, float]:
        return self.stable.avg(), self.panic.avg()

"""The learning system's building blocks: running averages, ring buffers, hour-of-week seasonal
profiles, metric histories and the LLM workload-pattern detector.

upstream: pkg/controller/budaiscaler/learning/types.go (RunningAverage, RingBuffer, GetBucketIndex,
GetDirection, constants), seasonal.go (SeasonalProfile), patterns.go (MetricHistory,
LLMPatternDetector). These are small stateful helpers (as upstream); every time comes in as an
argument (`at` = simulated wall-clock datetime for hour-of-week buckets, `now`/`t` = simulated
seconds elsewhere), never from the host clock.

Note: autoscaler.go recordLearningFeedback fills LLMMetrics only from GPU memory/compute
utilisation, so upstream's KV-cache-pressure detection (which reads GPUCacheUsage) never fires in
production; the detector here is exercised by the conformance vectors and tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")

NUM_BUCKETS = 168
DEFAULT_ALPHA = 0.1
DEFAULT_MIN_OBSERVATIONS = 10
KV_CACHE_PRESSURE_THRESHOLD = 0.80
BATCH_SPIKE_THRESHOLD = 2.0


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"
    NONE = "none"


class Pattern(StrEnum):
    """learning.LLMWorkloadPattern."""

    STEADY_STATE = "steady_state"
    BATCH_INGESTION = "batch_ingestion"
    KV_CACHE_PRESSURE = "kv_cache_pressure"
    COLD_START = "cold_start"
    TRAFFIC_SPIKE = "traffic_spike"
    TRAFFIC_DRAIN = "traffic_drain"


def get_direction(from_replicas: int, to_replicas: int) -> Direction:
    """upstream: learning/types.go GetDirection."""
    if to_replicas > from_replicas:
        return Direction.UP
    if to_replicas < from_replicas:
        return Direction.DOWN
    return Direction.NONE


def _go_weekday(at: datetime) -> int:
    """Go's time.Weekday: Sunday = 0."""
    return (at.weekday() + 1) % 7


def get_bucket_index(at: datetime) -> int:
    """weekday*24 + hour, Sunday = 0, in `at`'s own time zone. upstream: learning/types.go GetBucketIndex."""
    return _go_weekday(at) * 24 + at.hour


def time_from_bucket_index(index: int) -> tuple[int, int]:
    """(hour, dayOfWeek). upstream: GetTimeFromBucketIndex."""
    return index % 24, index // 24


class RunningAverage:
    """EWMA: first value exact, then alpha*new + (1-alpha)*old. upstream: learning/types.go RunningAverage."""

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha
        self.value = 0.0
        self.count = 0

    def update(self, value: float) -> None:
        self.count += 1
        self.value = value if self.count == 1 else self.alpha * value + (1 - self.alpha) * self.value

    def get(self) -> float:
        return self.value


class RingBuffer(Generic[T]):
    """Fixed-capacity FIFO that overwrites the oldest. upstream: learning/types.go RingBuffer."""

    def __init__(self, capacity: int) -> None:
        self._data: list[T | None] = [None] * capacity
        self._cap = capacity
        self._head = 0
        self._tail = 0
        self._count = 0

    @classmethod
    def of(cls, capacity: int, items: list[T]) -> RingBuffer[T]:
        """A buffer holding the newest `capacity` of `items` in order, as pushing them one by one would."""
        rb: RingBuffer[T] = cls(capacity)
        kept = items[max(0, len(items) - capacity) :]
        rb._data[: len(kept)] = kept
        rb._count = len(kept)
        rb._tail = len(kept) % capacity
        return rb

    def push(self, item: T) -> None:
        self._data[self._tail] = item
        self._tail = (self._tail + 1) % self._cap
        if self._count < self._cap:
            self._count += 1
        else:
            self._head = (self._head + 1) % self._cap

    def __len__(self) -> int:
        return self._count

    def get(self, index: int) -> T | None:
        """Oldest-first indexing; None out of range (Go returns nil)."""
        if index < 0 or index >= self._count:
            return None
        return self._data[(self._head + index) % self._cap]

    def get_all(self) -> list[T | None]:
        return [self._data[(self._head + i) % self._cap] for i in range(self._count)]

    def last(self, n: int) -> list[T | None]:
        """The n most recent, newest first."""
        n = min(n, self._count)
        return [self._data[(self._tail - 1 - i + self._cap) % self._cap] for i in range(n)]

    def clear(self) -> None:
        self._head = self._tail = self._count = 0


@dataclass(frozen=True)
class MetricPoint:
    t: float
    value: float


class MetricHistory:
    """The newest `max_points` points. upstream: learning/patterns.go MetricHistory."""

    def __init__(self, max_points: int) -> None:
        self.max_points = max_points
        self.points: list[MetricPoint] = []

    def add(self, value: float, t: float) -> None:
        self.points.append(MetricPoint(t, value))
        if len(self.points) > self.max_points:
            self.points = self.points[len(self.points) - self.max_points :]

    def get_recent(self, n: int) -> list[MetricPoint]:
        n = min(n, len(self.points))
        return self.points[len(self.points) - n :] if n > 0 else []

    def average(self, start_seconds_ago: int, end_seconds_ago: int, *, now: float) -> float:
        """Mean of points strictly between now-start and now-end. upstream: MetricHistory.Average."""
        start, end = now - start_seconds_ago, now - end_seconds_ago
        vals = [p.value for p in self.points if start < p.t < end]
        return sum(vals) / len(vals) if vals else 0.0

    def __len__(self) -> int:
        return len(self.points)


@dataclass
class SeasonalBucket:
    hour_of_day: int
    day_of_week: int
    mean: float = 0.0
    variance: float = 0.0
    observations: int = 0
    last_updated: datetime | None = None


class SeasonalProfile:
    """168 hour-of-week EWMA buckets plus global EWMA stats. upstream: learning/seasonal.go SeasonalProfile."""

    def __init__(self, metric_name: str, alpha: float) -> None:
        if alpha <= 0 or alpha > 1:
            alpha = DEFAULT_ALPHA
        self.metric_name = metric_name
        self.alpha = alpha
        self.min_observations = DEFAULT_MIN_OBSERVATIONS
        self.buckets = [SeasonalBucket(*time_from_bucket_index(i)) for i in range(NUM_BUCKETS)]
        self.global_mean = 0.0
        self.global_variance = 0.0
        self.global_count = 0

    def update(self, at: datetime, value: float) -> None:
        bucket = self.buckets[get_bucket_index(at)]
        old_mean = bucket.mean
        if bucket.observations == 0:
            bucket.mean = value
            bucket.variance = 0.0
        else:
            bucket.mean = self.alpha * value + (1 - self.alpha) * bucket.mean
            delta = value - old_mean
            bucket.variance = (1 - self.alpha) * bucket.variance + self.alpha * delta * (value - bucket.mean)
        bucket.observations += 1
        bucket.last_updated = at
        self.global_count += 1
        if self.global_count == 1:
            self.global_mean = value
            self.global_variance = 0.0
        else:
            old = self.global_mean
            self.global_mean = self.alpha * value + (1 - self.alpha) * self.global_mean
            delta = value - old
            self.global_variance = (1 - self.alpha) * self.global_variance + self.alpha * delta * (
                value - self.global_mean
            )

    def get_bucket(self, index: int) -> SeasonalBucket | None:
        if index < 0 or index >= NUM_BUCKETS:
            return None
        return self.buckets[index]

    def seasonal_factor(self, at: datetime) -> tuple[float, float]:
        """(factor, confidence). upstream: SeasonalProfile.GetSeasonalFactor."""
        bucket = self.buckets[get_bucket_index(at)]
        if bucket.observations < self.min_observations:
            conf = (
                float(bucket.observations) / float(self.min_observations)
                if self.min_observations > 0
                else 0.0
            )
            return 1.0, conf
        if self.global_mean == 0 or math.isnan(self.global_mean):
            return 1.0, 0.5
        factor = max(0.1, min(10.0, bucket.mean / self.global_mean))
        obs_conf = min(1.0, float(bucket.observations) / 1000.0)
        var_conf = 1.0
        if self.global_variance > 0 and bucket.variance > 0:
            var_conf = 1.0 / (1.0 + bucket.variance / self.global_variance)
        return factor, obs_conf * var_conf

    def completeness(self) -> float:
        complete = sum(1 for b in self.buckets if b.observations >= self.min_observations)
        return complete / NUM_BUCKETS * 100


@dataclass(frozen=True)
class LLMMetrics:
    """learning.LLMMetrics (GPUCacheUsage is a 0-1 fraction)."""

    gpu_cache_usage: float = 0.0
    requests_waiting: float = 0.0
    requests_running: float = 0.0
    token_throughput: float = 0.0
    avg_ttft: float = 0.0
    avg_tpot: float = 0.0
    gpu_memory_utilization: float = 0.0
    gpu_compute_utilization: float = 0.0


@dataclass(frozen=True)
class PatternAdjustment:
    pattern: Pattern
    factor: float
    confidence: float
    reason: str


@dataclass
class KVCachePattern:
    cache_usage_threshold: float
    requests_waiting_min: int
    optimal_scale_action: float
    successful_predictions: int = 0
    total_predictions: int = 0


@dataclass
class LLMPatternDetector:
    """upstream: learning/patterns.go LLMPatternDetector (batch templates are not learned here)."""

    recent_history: dict[str, MetricHistory] = field(default_factory=dict)
    kv_cache_patterns: list[KVCachePattern] = field(default_factory=list)
    current_pattern: Pattern = Pattern.STEADY_STATE
    pattern_start: float | None = None
    pattern_confidence: float = 0.0
    kv_cache_pressure_threshold: float = KV_CACHE_PRESSURE_THRESHOLD
    batch_spike_threshold: float = BATCH_SPIKE_THRESHOLD
    min_queued_requests: int = 5

    def update_history(self, metrics: dict[str, float], llm: LLMMetrics, *, now: float) -> None:
        """upstream: UpdateHistory (metric names in sorted order; 180 points each)."""
        for name in sorted(metrics):
            self._hist(name).add(metrics[name], now)
        self._hist("gpu_cache_usage").add(llm.gpu_cache_usage, now)
        self._hist("requests_waiting").add(llm.requests_waiting, now)
        self._hist("requests_running").add(llm.requests_running, now)
        self._hist("token_throughput").add(llm.token_throughput, now)

    def _hist(self, name: str) -> MetricHistory:
        if name not in self.recent_history:
            self.recent_history[name] = MetricHistory(180)
        return self.recent_history[name]

    def _switch(self, pattern: Pattern, confidence: float, now: float) -> Pattern:
        if self.current_pattern != pattern:
            self.pattern_start = now
            self.current_pattern = pattern
            self.pattern_confidence = confidence
        return pattern

    def detect_pattern(self, llm: LLMMetrics, *, now: float = 0.0) -> Pattern:
        """upstream: LLMPatternDetector.DetectPattern (first match wins)."""
        if self._kv_pressure(llm):
            return self._switch(Pattern.KV_CACHE_PRESSURE, 0.85, now)
        if self._batch_spike(now):
            return self._switch(Pattern.BATCH_INGESTION, 0.75, now)
        if self._cold_start(llm):
            return self._switch(Pattern.COLD_START, 0.7, now)
        trend = self._trend("requests_running")
        if trend > 0.5:
            return self._switch(Pattern.TRAFFIC_SPIKE, 0.6 + trend * 0.3, now)
        if trend < -0.5:
            return self._switch(Pattern.TRAFFIC_DRAIN, 0.6 + (-trend) * 0.3, now)
        self.current_pattern = Pattern.STEADY_STATE
        self.pattern_confidence = 0.5
        return Pattern.STEADY_STATE

    def _kv_pressure(self, llm: LLMMetrics) -> bool:
        if llm.gpu_cache_usage > self.kv_cache_pressure_threshold and llm.requests_waiting > float(
            self.min_queued_requests
        ):
            return True
        hist = self.recent_history.get("gpu_cache_usage")
        if hist is not None and len(hist) >= 6:
            r = hist.get_recent(6)
            old = (r[0].value + r[1].value + r[2].value) / 3
            new = (r[3].value + r[4].value + r[5].value) / 3
            if new - old > 0.15 and new > 0.7:
                return True
        return False

    def _batch_spike(self, now: float) -> bool:
        hist = self.recent_history.get("requests_running")
        if hist is None or len(hist) < 10:
            return False
        recent = hist.get_recent(10)
        baseline = hist.average(300, 600, now=now)
        if baseline == 0:
            return False
        current = recent[-1].value
        if current > baseline * self.batch_spike_threshold:
            mid = recent[len(recent) // 2].value
            if mid > baseline * 1.5 and current > mid * 1.2:
                return True
        return False

    def _cold_start(self, llm: LLMMetrics) -> bool:
        if llm.gpu_cache_usage > 0.2 or llm.requests_running > 10:
            return False
        return self._trend("requests_running") > 0.3

    def _trend(self, name: str) -> float:
        hist = self.recent_history.get(name)
        if hist is None or len(hist) < 6:
            return 0.0
        recent = hist.get_recent(12)
        n = len(recent)
        first = sum(p.value for p in recent[: n // 2]) / float(n // 2)
        second = sum(p.value for p in recent[n // 2 :]) / float(n - n // 2)
        if first == 0:
            return 1.0 if second > 0 else 0.0
        return max(-1.0, min(1.0, (second - first) / first))

    def pattern_adjustment(self) -> PatternAdjustment | None:
        """upstream: LLMPatternDetector.GetPatternAdjustment (None for steady state)."""
        p = self.current_pattern
        if p == Pattern.KV_CACHE_PRESSURE:
            for kv in self.kv_cache_patterns:
                if kv.total_predictions > 0:
                    accuracy = kv.successful_predictions / kv.total_predictions
                    if accuracy > 0.6:
                        return PatternAdjustment(
                            p,
                            kv.optimal_scale_action,
                            accuracy * self.pattern_confidence,
                            "KV cache pressure detected - scaling up to relieve memory pressure",
                        )
            return PatternAdjustment(
                p, 1.5, self.pattern_confidence * 0.7, "KV cache pressure detected - default scale up"
            )
        if p == Pattern.BATCH_INGESTION:
            return PatternAdjustment(
                p, 2.0, self.pattern_confidence * 0.6, "Batch ingestion detected - scaling for burst"
            )
        if p == Pattern.COLD_START:
            return PatternAdjustment(
                p, 1.2, self.pattern_confidence * 0.5, "Cold start detected - preemptive scale up"
            )
        if p == Pattern.TRAFFIC_SPIKE:
            return PatternAdjustment(p, 1.5, self.pattern_confidence, "Traffic spike detected")
        if p == Pattern.TRAFFIC_DRAIN:
            return PatternAdjustment(
                p, 0.8, self.pattern_confidence, "Traffic drain detected - preparing for scale down"
            )
        return None

"""Knative's metric aggregation: bucketed time windows, the weighted (exponential) variant and the
max-over-a-window used for scale-down delay.

upstream: knative/serving pkg/autoscaler/aggregation/bucketing.go (TimedFloat64Buckets,
WeightedFloat64Buckets, computeSmoothingCoeff, roundToNDigits) and
pkg/autoscaler/aggregation/max/{timewindow.go,window.go} (TimeWindow, window).

Go keeps these as mutable structs; here every operation returns a new frozen value, so a decision
is a pure function of its inputs. Times are simulated seconds (floats); granularities are whole
seconds as in Knative (BucketSize 1s, decider tick 2s). Bucket indexes follow Go's
`int(t.Unix()) / int(granularity.Seconds())` (floor of the time, integer division).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

MIN_EXPONENT = 0.2
"""upstream: bucketing.go minExponent (smallest decay multiplier of the weighted average)."""
WEIGHT_PRECISION = 0.9999
"""upstream: bucketing.go weightPrecision."""
PRECISION = 6
"""upstream: bucketing.go precision (digits WindowAverage rounds to)."""


def go_round(x: float) -> float:
    """math.Round: half away from zero, exact for every float."""
    if not math.isfinite(x):
        return x
    ax = abs(x)
    f = math.floor(ax)
    r = f + 1.0 if ax - f >= 0.5 else f
    return math.copysign(r, x)


def go_div(a: float, b: float) -> float:
    """float64 division with Go's IEEE results for a zero divisor (Python raises)."""
    if b != 0:
        return a / b
    if a == 0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * (math.copysign(1.0, b))


def round_to_n_digits(n: int, f: float) -> float:
    """upstream: bucketing.go roundToNDigits."""
    p = 10.0**n
    return go_round(f * p) / p


def compute_smoothing_coeff(num_buckets: float) -> float:
    """upstream: bucketing.go computeSmoothingCoeff: max(1-(1-precision)^(1/nb), minExponent)."""
    return max(1 - math.pow(1 - WEIGHT_PRECISION, 1 / num_buckets), MIN_EXPONENT)


def _truncate(t: float, granularity: float) -> float:
    """time.Time.Truncate(granularity) for a base aligned to the granularity."""
    return math.floor(t / granularity) * granularity


def _index(t: float, granularity: float) -> int:
    """upstream: bucketing.go timeToIndex / max/timewindow.go Record: int(Unix()) / int(g.Seconds())."""
    return math.floor(t) // max(1, int(granularity))


def _num_buckets(window: float, granularity: float) -> int:
    return math.ceil(window / granularity)


@dataclass(frozen=True)
class TimedBuckets:
    """upstream: bucketing.go TimedFloat64Buckets (and, with `weighted`, WeightedFloat64Buckets).

    `first_write`/`last_write` None is Go's zero time.Time (never written)."""

    window: float
    granularity: float
    buckets: tuple[float, ...]
    first_write: float | None = None
    last_write: float | None = None
    window_total: float = 0.0
    weighted: bool = False
    smoothing_coeff: float = 0.0

    @staticmethod
    def new(window: float, granularity: float = 1.0, *, weighted: bool = False) -> TimedBuckets:
        """upstream: NewTimedFloat64Buckets / NewWeightedFloat64Buckets."""
        nb = _num_buckets(window, granularity)
        return TimedBuckets(
            window,
            granularity,
            (0.0,) * nb,
            weighted=weighted,
            smoothing_coeff=compute_smoothing_coeff(nb) if weighted else 0.0,
        )

    def is_empty(self, now: float) -> bool:
        """upstream: IsEmpty: nothing written within the window before `now`."""
        if self.last_write is None:
            return True
        return _truncate(now, self.granularity) - self.last_write > self.window

    def record(self, now: float, value: float) -> TimedBuckets:
        """upstream: TimedFloat64Buckets.Record: zero the buckets skipped since the last write, reset
        after a window of silence, ignore values older than a window before the last write."""
        g = self.granularity
        bucket_time = _truncate(now, g)
        write_idx = _index(now, g)
        buckets = list(self.buckets)
        n = len(buckets)
        first, last, total = self.first_write, self.last_write, self.window_total
        if last != bucket_time:
            if last is None or bucket_time + self.window > last:
                if first is None or first > bucket_time:
                    first = bucket_time
                if last is None or bucket_time > last:
                    if last is None or bucket_time - last >= self.window:
                        first = bucket_time
                        buckets = [0.0] * n
                        total = 0.0
                    else:
                        for i in range(_index(last, g) + 1, write_idx + 1):
                            j = i % n
                            total -= buckets[j]
                            buckets[j] = 0.0
                    last = bucket_time
            else:
                return self  # older than a window before the last write: ignored
        buckets[write_idx % n] += value
        total += value
        return replace(self, buckets=tuple(buckets), first_write=first, last_write=last, window_total=total)

    def window_average(self, now: float) -> float:
        """upstream: TimedFloat64Buckets.WindowAverage or WeightedFloat64Buckets.WindowAverage."""
        if self.weighted:
            return self._weighted_average(now)
        g = self.granularity
        now = _truncate(now, g)
        if self.last_write is None or self.first_write is None:
            return 0.0
        n = len(self.buckets)
        d = now - self.last_write
        valid = int((self.last_write - self.first_write) // g) + 1
        if d <= 0:
            return round_to_n_digits(PRECISION, go_div(self.window_total, float(min(valid, n))))
        if d < self.window:
            st, e = _index(self.last_write, g), _index(now, g)
            ret = self.window_total
            for i in range(st + 1, e + 1):
                ret -= self.buckets[i % n]
            num = min(float(valid), float(n - (e - st)))
            return round_to_n_digits(PRECISION, go_div(ret, num))
        return 0.0

    def _weighted_average(self, now: float) -> float:
        g = self.granularity
        now = _truncate(now, g)
        if self.is_empty(now) or self.last_write is None:
            return 0.0
        total_b = num_b = len(self.buckets)
        m = self.smoothing_coeff
        multiplier = m
        if now > self.last_write:
            num_z = int((now - self.last_write) // g)
            multiplier *= math.pow(1 - m, num_z)
            num_b -= num_z
        start = _index(self.last_write, g) + total_b
        ret = 0.0
        for i in range(num_b):
            ret += self.buckets[(start - i) % total_b] * multiplier
            multiplier *= 1 - m
        return ret

    def window_sum(self, now: float) -> float:
        """Sum of the buckets still inside the window at `now` (the tests' forEachBucket)."""
        if self.last_write is None:
            return 0.0
        g = self.granularity
        now = _truncate(now, g)
        n = len(self.buckets)
        count = n - int((now - self.last_write) // g)
        si = _index(self.last_write, g)
        total = 0.0
        for _ in range(count):
            total += self.buckets[si % n]
            si -= 1
        return total

    def resize_window(self, window: float, now: float) -> TimedBuckets:
        """upstream: TimedFloat64Buckets.ResizeWindow (Go reads time.Now(); here `now` is given)."""
        if window == self.window:
            return self
        g = self.granularity
        nb = _num_buckets(window, g)
        new = [0.0] * nb
        total = 0.0
        first: float | None
        if self.last_write is not None and _truncate(now, g) - self.last_write <= self.window:
            old_n = len(self.buckets)
            t_idx = _index(self.last_write, g)
            for _ in range(min(nb, old_n)):
                new[t_idx % nb] = self.buckets[t_idx % old_n]
                total += self.buckets[t_idx % old_n]
                t_idx -= 1
            first = self.last_write - (old_n - 1) * g
        else:
            first = None
        coeff = compute_smoothing_coeff(nb) if self.weighted else self.smoothing_coeff
        return replace(
            self,
            window=window,
            buckets=tuple(new),
            window_total=total,
            first_write=first,
            smoothing_coeff=coeff,
        )


@dataclass(frozen=True)
class MaxTimeWindow:
    """upstream: aggregation/max/timewindow.go TimeWindow over window.go's descending-minima buffer:
    the maximum recorded in the last `duration`, in `granularity` buckets."""

    granularity: float
    values: tuple[int, ...]
    indexes: tuple[int, ...]
    first: int = 0
    length: int = 0

    @staticmethod
    def new(duration: float, granularity: float) -> MaxTimeWindow:
        size = math.ceil(duration / granularity)
        return MaxTimeWindow(granularity, (0,) * size, (0,) * size)

    def record(self, now: float, value: int) -> MaxTimeWindow:
        """upstream: window.Record: drop smaller tail entries, expire old head entries, merge a
        same-index value, append."""
        index = _index(now, self.granularity)
        vals, idxs = list(self.values), list(self.indexes)
        size = len(vals)
        first, length = self.first, self.length
        while length > 0:
            if value < vals[(first + length - 1) % size]:
                break
            length -= 1
        while length > 0 and index - idxs[first] >= size:
            length -= 1
            first += 1
            if first == size:
                first = 0
        if length > 0:
            last = (first + length - 1) % size
            if idxs[last] == index:
                value = max(value, vals[last])
                length -= 1
        pos = (first + length) % size
        vals[pos], idxs[pos] = value, index
        length += 1
        return MaxTimeWindow(self.granularity, tuple(vals), tuple(idxs), first, length)

    def current(self) -> int:
        """upstream: window.Current (the head of the buffer; 0 before any record)."""
        return self.values[self.first]

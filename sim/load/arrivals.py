"""Request arrivals: trace replay (Azure CSV, Mooncake JSONL), ServeGen-style rate windows, synthetic shapes.

Every source is a lazy iterator of `Arrival(t, input_tokens, output_tokens)` in non-decreasing `t` (simulated
seconds from the start of the run), so memory stays flat whatever the trace length. Randomness only comes
from the numpy Generator the caller passes in (by convention `sim.seeds.stream("load")`); random draws are
made in fixed-size chunks, so the sequence depends only on the seed and the configuration."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from model.errors import InputError

_CHUNK = 1024


class Arrival(NamedTuple):
    t: float
    input_tokens: int
    output_tokens: int
    klass: str = ""
    """Request class (`workload.classes`), "" when the workload has none."""


class TraceFormatError(InputError, ValueError):
    """A trace file that cannot be replayed: names the file, line, bad value and what is allowed.

    An InputError, so the CLI reports it in one line and exits 2."""

    def __init__(self, path: str | Path, line: int, value: str, allowed: str) -> None:
        super().__init__(
            f"bad value {value!r}: {allowed}", file=str(path), line=line, value=value, allowed=allowed
        )
        self.path = str(path)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


class InterArrival(StrEnum):
    """Inter-arrival distributions ServeGen fits per window (plus the two degenerate cases)."""

    EXPONENTIAL = "exponential"
    GAMMA = "gamma"
    WEIBULL = "weibull"
    DETERMINISTIC = "deterministic"


class RateWindow(_Model):
    """A window of constant mean rate: `rate` requests/s for `duration` s with inter-arrival CV `cv`."""

    duration: float = Field(gt=0)
    rate: float = Field(ge=0)
    cv: float = Field(default=1.0, ge=0)
    distribution: InterArrival = InterArrival.GAMMA


class TokenDist(_Model):
    """Token counts: constant when cv == 0, else log-normal with this mean and coefficient of variation."""

    mean: float = Field(gt=0)
    cv: float = Field(default=0.0, ge=0)
    minimum: int = Field(default=1, ge=1)
    maximum: int | None = Field(default=None, ge=1)


class ShapeKind(StrEnum):
    CONSTANT = "constant"
    STEP = "step"
    RAMP = "ramp"
    DIURNAL = "diurnal"
    SPIKE = "spike"


class Shape(_Model):
    """A synthetic rate curve r(t) in requests/s, cut into windows of `resolution` seconds.

    constant: `rate`; step: `rate` before `at`, `rate2` after; ramp: `rate` -> `rate2` linearly over the run;
    diurnal: `rate` * (1 + `amplitude` * sin(2 pi t / `period`)); spike: `rate`, `rate2` during [at, at+width)."""

    kind: ShapeKind
    duration: float = Field(gt=0)
    rate: float = Field(ge=0)
    rate2: float = Field(default=0.0, ge=0)
    at: float = Field(default=0.0, ge=0)
    width: float = Field(default=60.0, gt=0)
    period: float = Field(default=86400.0, gt=0)
    amplitude: float = Field(default=0.5, ge=0, le=1)
    resolution: float = Field(default=1.0, gt=0)
    cv: float = Field(default=1.0, ge=0)
    """1.0 with the default gamma distribution is a Poisson process."""
    distribution: InterArrival = InterArrival.GAMMA

    def rate_at(self, t: float) -> float:
        if self.kind is ShapeKind.CONSTANT:
            return self.rate
        if self.kind is ShapeKind.STEP:
            return self.rate if t < self.at else self.rate2
        if self.kind is ShapeKind.RAMP:
            return self.rate + (self.rate2 - self.rate) * min(1.0, t / self.duration)
        if self.kind is ShapeKind.DIURNAL:
            return self.rate * (1.0 + self.amplitude * math.sin(2.0 * math.pi * t / self.period))
        return self.rate2 if self.at <= t < self.at + self.width else self.rate

    def windows(self) -> Iterator[RateWindow]:
        """The curve as piecewise-constant windows (rate sampled at each window's midpoint)."""
        start = 0.0
        while start < self.duration - 1e-12:
            length = min(self.resolution, self.duration - start)
            yield RateWindow(
                duration=length,
                rate=self.rate_at(start + length / 2),
                cv=self.cv,
                distribution=self.distribution,
            )
            start += length


# ---------------------------------------------------------------------------------------------- trace replay


def azure_csv(path: str | Path) -> Iterator[Arrival]:
    """Stream an Azure LLM inference trace (`TIMESTAMP,ContextTokens,GeneratedTokens`), t = 0 at the first row."""
    day0: int | None = None
    t0 = 0.0
    last_date = ""
    last_ordinal = 0
    prev = -math.inf
    with open(path, encoding="utf-8") as fh:
        header = fh.readline().strip()
        if header.replace(" ", "") != "TIMESTAMP,ContextTokens,GeneratedTokens":
            raise TraceFormatError(
                path, 1, header, "an Azure trace header 'TIMESTAMP,ContextTokens,GeneratedTokens'"
            )
        for lineno, line in enumerate(fh, start=2):
            if not line.strip():
                continue
            parts = line.split(",")
            try:
                ts = parts[0]
                day = ts[:10]
                if day != last_date:
                    last_ordinal = date.fromisoformat(day).toordinal()
                    last_date = day
                secs = int(ts[11:13]) * 3600 + int(ts[14:16]) * 60 + float(ts[17:])
                ctx = int(parts[1])
                gen = int(parts[2])
            except (ValueError, IndexError):
                raise TraceFormatError(
                    path, lineno, line.strip(), "'YYYY-MM-DD HH:MM:SS.fffffff,<int tokens>,<int tokens>'"
                ) from None
            if ctx < 0 or gen < 0:
                raise TraceFormatError(path, lineno, line.strip(), "token counts must be >= 0")
            if day0 is None:
                day0 = last_ordinal
                t0 = secs
            t = (last_ordinal - day0) * 86400.0 + secs - t0
            if t < prev:
                raise TraceFormatError(path, lineno, ts, "timestamps must be non-decreasing")
            prev = t
            yield Arrival(t, ctx, gen)


def mooncake_jsonl(path: str | Path) -> Iterator[Arrival]:
    """Stream a Mooncake trace (JSON lines; `timestamp` in ms, `input_length`, `output_length`)."""
    t0: float | None = None
    prev = -math.inf
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                ms = float(rec["timestamp"])
                inp = int(rec["input_length"])
                out = int(rec["output_length"])
            except (ValueError, KeyError, TypeError):
                raise TraceFormatError(
                    path,
                    lineno,
                    line.strip()[:80],
                    'a JSON object with numeric "timestamp" (ms), "input_length", "output_length"',
                ) from None
            if t0 is None:
                t0 = ms
            t = (ms - t0) / 1000.0
            if t < prev:
                raise TraceFormatError(
                    path, lineno, str(rec["timestamp"]), "timestamps must be non-decreasing"
                )
            prev = t
            yield Arrival(t, inp, out)


# ---------------------------------------------------------------------------------------------- transforms


def time_scaled(source: Iterable[Arrival], factor: float) -> Iterator[Arrival]:
    """Stretch (factor > 1) or compress (factor < 1) the time axis."""
    if factor <= 0:
        raise ValueError(f"time scale must be > 0, got {factor}")
    for a in source:
        yield Arrival(a.t * factor, a.input_tokens, a.output_tokens, a.klass)


def rate_multiplied(source: Iterable[Arrival], multiplier: float) -> Iterator[Arrival]:
    """Replay `multiplier` times faster: the same requests, inter-arrival gaps divided by `multiplier`."""
    if multiplier <= 0:
        raise ValueError(f"rate multiplier must be > 0, got {multiplier}")
    return time_scaled(source, 1.0 / multiplier)


def sliced(source: Iterable[Arrival], start: float, end: float) -> Iterator[Arrival]:
    """Arrivals in [start, end), re-based so the slice starts at t = 0."""
    for a in source:
        if a.t >= end:
            return
        if a.t >= start:
            yield Arrival(a.t - start, a.input_tokens, a.output_tokens, a.klass)


def shifted(source: Iterable[Arrival], offset: float) -> Iterator[Arrival]:
    for a in source:
        yield Arrival(a.t + offset, a.input_tokens, a.output_tokens, a.klass)


def looped(
    factory: Callable[[], Iterable[Arrival]], passes: int | None = None, until: float | None = None
) -> Iterator[Arrival]:
    """Replay a source again and again. Each pass starts one mean gap after the previous pass's last arrival.

    `factory` re-opens the source (traces are streamed, never held). Stops after `passes` passes or at `until`."""
    if passes is None and until is None:
        raise ValueError("looped() needs passes or until, or it never ends")
    offset = 0.0
    done = 0
    while passes is None or done < passes:
        first = last = None
        count = 0
        for a in factory():
            t = a.t + offset
            if until is not None and t >= until:
                return
            if first is None:
                first = t
            last = t
            count += 1
            yield Arrival(t, a.input_tokens, a.output_tokens, a.klass)
        if first is None or last is None:
            return
        gap = (last - first) / (count - 1) if count > 1 else 1.0
        offset = last + (gap if gap > 0 else 1.0)
        done += 1


def limited(source: Iterable[Arrival], until: float) -> Iterator[Arrival]:
    for a in source:
        if a.t >= until:
            return
        yield a


# ---------------------------------------------------------------------------------------------- random sources


def _weibull_shape_for_cv(cv: float) -> float:
    """Weibull shape k with the given CV (cv^2 = G(1+2/k)/G(1+1/k)^2 - 1 is decreasing in k); bisection."""
    lo, hi = 0.1, 50.0
    for _ in range(80):
        mid = (lo + hi) / 2
        val = math.exp(math.lgamma(1 + 2 / mid) - 2 * math.lgamma(1 + 1 / mid)) - 1
        if val > cv * cv:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _unit_gaps(rng: np.random.Generator, dist: InterArrival, cv: float) -> np.ndarray:
    """A chunk of unit-mean inter-arrival gaps."""
    if dist is InterArrival.DETERMINISTIC or cv == 0:
        return np.ones(_CHUNK)
    if dist is InterArrival.EXPONENTIAL or (dist is InterArrival.GAMMA and cv == 1.0):
        return rng.exponential(1.0, _CHUNK)
    if dist is InterArrival.GAMMA:
        shape = 1.0 / (cv * cv)
        return rng.gamma(shape, 1.0 / shape, _CHUNK)
    k = _weibull_shape_for_cv(cv)
    return rng.weibull(k, _CHUNK) / math.gamma(1 + 1 / k)


class _TokenDrawer:
    def __init__(self, rng: np.random.Generator, spec: TokenDist) -> None:
        self.rng = rng
        self.spec = spec
        self.buf: list[int] = []
        if spec.cv > 0:
            self.sigma = math.sqrt(math.log(1 + spec.cv * spec.cv))
            self.mu = math.log(spec.mean) - self.sigma * self.sigma / 2

    def draw(self) -> int:
        if self.spec.cv == 0:
            return max(self.spec.minimum, round(self.spec.mean))
        if not self.buf:
            vals = np.rint(self.rng.lognormal(self.mu, self.sigma, _CHUNK))
            hi = self.spec.maximum if self.spec.maximum is not None else np.inf
            self.buf = np.clip(vals, self.spec.minimum, hi).astype(np.int64).tolist()[::-1]
        return self.buf.pop()


def rate_windows(
    windows: Iterable[RateWindow],
    rng: np.random.Generator,
    input_tokens: TokenDist,
    output_tokens: TokenDist,
    rate_multiplier: float = 1.0,
) -> Iterator[Arrival]:
    """A renewal process through piecewise-constant rate windows (ServeGen style).

    Gaps are drawn with unit mean in 'operational time' (expected arrivals) and mapped onto real time through
    each window's rate, so a gap that straddles a window boundary continues at the next window's rate and
    zero-rate windows are skipped."""
    inp = _TokenDrawer(rng, input_tokens)
    out = _TokenDrawer(rng, output_tokens)
    start = 0.0
    pending = -1.0  # operational time still to cover before the next arrival
    gaps: list[float] = []
    gap_key: tuple[InterArrival, float] | None = None
    for w in windows:
        rate = w.rate * rate_multiplier
        end = start + w.duration
        if rate <= 0:
            start = end
            continue
        key = (w.distribution, w.cv)
        if key != gap_key:
            gaps = []
            gap_key = key
        t = start
        while True:
            if pending < 0:
                if not gaps:
                    gaps = _unit_gaps(rng, w.distribution, w.cv).tolist()[::-1]
                pending = gaps.pop()
            t_next = t + pending / rate
            if t_next >= end:
                pending -= (end - t) * rate
                break
            t = t_next
            pending = -1.0
            yield Arrival(t, inp.draw(), out.draw())
        start = end


def synthetic(
    shape: Shape,
    rng: np.random.Generator,
    input_tokens: TokenDist,
    output_tokens: TokenDist,
    rate_multiplier: float = 1.0,
) -> Iterator[Arrival]:
    """Arrivals following a synthetic shape (constant, step, ramp, diurnal, spike; Poisson or Gamma with CV)."""
    return rate_windows(shape.windows(), rng, input_tokens, output_tokens, rate_multiplier)

"""Request accounting: queue wait and sojourn per role, TTFT, TPOT, end-to-end latency, drops.

Memory is constant in the number of requests: sums, counts and log-bucketed histograms (1 % relative
resolution) for percentiles; per-interval lists only live until the next sample. In-flight counts are
kept independently of the arrived/completed/dropped/timed-out counters so that conservation
(arrived = completed + dropped + timed out + in flight) is a real check, not an identity. A retried request
is the same request: it arrives once and ends once (completed, dropped or timed out)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sim.load.request import DropReason

_LO = 1e-6
_RATIO = math.log(1.01)
_NBINS = 2600  # 1e-6 s .. ~1.7e5 s


class LogHistogram:
    """Constant-memory latency histogram; percentiles are accurate to about 1 %."""

    __slots__ = ("bins", "count", "max", "total")

    def __init__(self) -> None:
        self.bins = [0] * _NBINS
        self.count = 0
        self.total = 0.0
        self.max = 0.0

    def add(self, x: float) -> None:
        self.count += 1
        self.total += x
        if x > self.max:
            self.max = x
        i = int(math.log(x / _LO) / _RATIO) if x > _LO else 0
        self.bins[i if i < _NBINS else _NBINS - 1] += 1

    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0

    def percentile(self, q: float) -> float:
        """The q-th percentile (0-100), as the geometric centre of its bucket (0.0 when empty)."""
        if not self.count:
            return 0.0
        rank = max(1, math.ceil(q / 100.0 * self.count))
        seen = 0
        for i, n in enumerate(self.bins):
            seen += n
            if seen >= rank:
                return min(self.max, _LO * math.exp((i + 0.5) * _RATIO)) if i else 0.0
        return self.max


def exact_percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of a small list (per-interval samples)."""
    if not values:
        return 0.0
    s = sorted(values)
    return s[max(0, math.ceil(q / 100.0 * len(s)) - 1)]


def exact_percentiles(values: list[float], qs: tuple[float, ...]) -> tuple[float, ...]:
    """`exact_percentile` for several q at once, sorting the list once."""
    if not values:
        return tuple(0.0 for _ in qs)
    s = sorted(values)
    n = len(s)
    return tuple(s[max(0, math.ceil(q / 100.0 * n) - 1)] for q in qs)


@dataclass
class RoleAccount:
    """Per-role counters and time integrals. `in_role` counts buffered + queued + in service."""

    role: str
    entered: int = 0
    left: int = 0
    dropped: int = 0
    cancelled: int = 0
    """Aborted in the role: its client timed out, or its pod was terminated (entered = left + dropped +
    cancelled + in role)."""
    in_role: int = 0
    buffered: int = 0
    area_in_role: float = 0.0
    """Integral of `in_role` over time (request-seconds): Little's law L x T."""
    t_last: float = 0.0
    sum_wait: float = 0.0
    sum_sojourn: float = 0.0
    sum_service: float = 0.0
    wait: LogHistogram = field(default_factory=LogHistogram)
    sojourn: LogHistogram = field(default_factory=LogHistogram)
    # since the last sample
    win_entered: int = 0
    win_left: int = 0
    win_dropped: int = 0
    win_cancelled: int = 0
    win_sojourn: list[float] = field(default_factory=list)

    def change(self, now: float, delta: int) -> None:
        self.area_in_role += self.in_role * (now - self.t_last)
        self.t_last = now
        self.in_role += delta

    def area_until(self, now: float) -> float:
        return self.area_in_role + self.in_role * (now - self.t_last)


@dataclass
class Accounting:
    """All counters of one load run."""

    roles: dict[str, RoleAccount]
    arrived: int = 0
    completed: int = 0
    dropped: int = 0
    in_transit: int = 0
    """Between roles (KV transfer)."""
    timed_out: int = 0
    """Requests whose client gave up for good (after its last attempt)."""
    retries: int = 0
    """Attempts after the first (a retry is not a new arrival)."""
    in_backoff: int = 0
    """Failed attempts waiting out their backoff before the retry (in flight)."""
    timed_out_by_class: dict[str, int] = field(default_factory=dict)
    win_timed_out: int = 0
    win_retries: int = 0
    drops_by_reason: dict[str, int] = field(default_factory=dict)
    e2e: LogHistogram = field(default_factory=LogHistogram)
    ttft: LogHistogram = field(default_factory=LogHistogram)
    tpot: LogHistogram = field(default_factory=LogHistogram)
    win_arrived: int = 0
    win_completed: int = 0
    win_dropped: int = 0
    win_e2e: list[float] = field(default_factory=list)

    @classmethod
    def for_roles(cls, roles: list[str]) -> Accounting:
        return cls(roles={r: RoleAccount(r) for r in roles})

    def in_flight(self) -> int:
        """Counted from where requests are, independently of arrived/completed/dropped."""
        return self.in_transit + self.in_backoff + sum(a.in_role for a in self.roles.values())

    def record_drop(self, role: str | None, reason: DropReason, final: bool = True) -> None:
        """A role dropped a request; `final` when no retry follows (then it counts as dropped globally)."""
        if final:
            self.dropped += 1
            self.win_dropped += 1
            self.drops_by_reason[reason.value] = self.drops_by_reason.get(reason.value, 0) + 1
        if role is not None:
            acc = self.roles[role]
            acc.dropped += 1
            acc.win_dropped += 1

    def record_timeout(self, klass: str) -> None:
        self.timed_out += 1
        self.win_timed_out += 1
        self.timed_out_by_class[klass] = self.timed_out_by_class.get(klass, 0) + 1

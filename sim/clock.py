"""The Simulation: one simpy.Environment, the root seed's streams and a simulated wall-clock epoch.

All time in `sim/` comes from here; decision functions take `now` (simulated seconds) as an argument."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import simpy

from sim.seeds import Seeds

DEFAULT_EPOCH = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)


class EventBudgetExhausted(Exception):
    """The run scheduled more events than its budget allows (`Simulation.limit_events`)."""

    def __init__(self, budget: int) -> None:
        super().__init__(budget)
        self.budget = budget

    def __str__(self) -> str:
        return f"the event budget of {self.budget:,} simulation events is exhausted"


class _BudgetEnd:
    """The iterator after the last allowed event id: every further event raises."""

    def __init__(self, budget: int) -> None:
        self.budget = budget

    def __iter__(self) -> _BudgetEnd:
        return self

    def __next__(self) -> int:
        raise EventBudgetExhausted(self.budget)


class Simulation:
    """Owns the event loop. `now` is simulated seconds since the start; `wall_time()` maps it onto
    the simulated wall clock (for timestamps and cron schedule hints)."""

    def __init__(self, seed: int, epoch: datetime = DEFAULT_EPOCH) -> None:
        if epoch.tzinfo is None:
            raise ValueError(f"the simulated epoch must be timezone-aware, got {epoch.isoformat()}")
        self.env = simpy.Environment()
        self.seeds = Seeds(seed)
        self.epoch = epoch

    @property
    def now(self) -> float:
        return float(self.env.now)

    def wall_time(self, at: float | None = None) -> datetime:
        return self.epoch + timedelta(seconds=self.now if at is None else at)

    def timestamp(self, at: float | None = None) -> str:
        """RFC 3339 with second precision, as Kubernetes serialises metav1.Time."""
        return self.wall_time(at).strftime("%Y-%m-%dT%H:%M:%SZ")

    def run(self, until: float | None = None) -> None:
        self.env.run(until=until)

    def limit_events(self, budget: int) -> None:
        """Allow at most `budget` more scheduled events; the next one raises `EventBudgetExhausted`
        (from inside the event loop, so the run stops at the simulated time reached).

        Free per event: SimPy draws each event's tie-break id from `env._eid`; that counter is
        replaced by one that runs out. Ids keep their order, so results do not change."""
        start = next(self.env._eid)
        self.env._eid = itertools.chain(range(start + 1, start + 1 + budget), _BudgetEnd(budget))  # type: ignore[assignment]

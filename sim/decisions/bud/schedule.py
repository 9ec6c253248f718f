"""Schedule hints: a cron-started window during which a replica floor applies.

upstream: prediction/predictor.go ScheduleHint.IsActive, Predictor.AddScheduleHint,
GetActiveScheduleHint; autoscaler.go loadScheduleHints, getScheduleHintData. Cron uses robfig/cron's
standard 5-field parser; we evaluate it with croniter at the *simulated* wall-clock datetime the
caller passes in (never the host clock), after checking the expression against robfig's grammar
(croniter accepts more: descriptors like "@daily", "L", "#", day-of-week 7).

Upstream keeps one Predictor for the whole controller and only ever *adds* hints, deduplicated by
name: a hint edited in a spec keeps its old schedule, and every scaler sees every other scaler's
hints. `add_schedule_hints` reproduces that book; the controller decides whose book it passes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import croniter

from sim.decisions.bud.types import PredictionData


@dataclass(frozen=True)
class ScheduleHint:
    """prediction.ScheduleHint: active from each cron firing for `duration_s` seconds."""

    name: str
    cron_expression: str
    duration_s: float
    target_replicas: int


_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# (min, max, names) per field: minute, hour, day of month, month, day of week (robfig cron/v3 parser.go bounds)
_FIELDS: tuple[tuple[int, int, tuple[str, ...]], ...] = (
    (0, 59, ()),
    (0, 23, ()),
    (1, 31, ()),
    (1, 12, _MONTHS),
    (0, 6, _DAYS),
)


def _value(token: str, lo: int, names: tuple[str, ...]) -> int | None:
    if re.fullmatch(r"[0-9]+", token):
        return int(token)
    upper = token.upper()
    if upper in names:
        return names.index(upper) + (lo if names is _MONTHS else 0)
    return None


def _field_ok(expr: str, lo: int, hi: int, names: tuple[str, ...]) -> bool:
    for part in expr.split(","):
        range_and_step = part.split("/")
        if len(range_and_step) > 2:
            return False
        low_high = range_and_step[0].split("-")
        if len(low_high) > 2:
            return False
        if low_high[0] in ("*", "?"):
            if len(low_high) != 1:
                return False
            start, end = lo, hi
        else:
            s = _value(low_high[0], lo, names)
            if s is None:
                return False
            start = end = s
            if len(low_high) == 2:
                e = _value(low_high[1], lo, names)
                if e is None:
                    return False
                end = e
        if len(range_and_step) == 2 and (
            not re.fullmatch(r"[0-9]+", range_and_step[1]) or int(range_and_step[1]) == 0
        ):
            return False
        if start < lo or end > hi or start > end:
            return False
    return True


def _normalise_field(expr: str, hi: int) -> str:
    """robfig spellings croniter reads differently: "?" is "*", and "N/S" means "N-max/S"."""
    parts = []
    for part in expr.split(","):
        part = part.replace("?", "*")
        range_and_step = part.split("/")
        if len(range_and_step) == 2 and "-" not in range_and_step[0] and range_and_step[0] != "*":
            part = f"{range_and_step[0]}-{hi}/{range_and_step[1]}"
        parts.append(part)
    return ",".join(parts)


def parse_cron(expression: str) -> str | None:
    """The expression normalised for croniter, or None where robfig's standard parser errors."""
    fields = expression.split()
    if len(fields) != 5:
        return None
    for f, (lo, hi, names) in zip(fields, _FIELDS):
        if not _field_ok(f, lo, hi, names):
            return None
    return " ".join(_normalise_field(f, hi) for f, (_, hi, _) in zip(fields, _FIELDS))


def _day_or(expression: str) -> bool:
    """robfig matches day-of-month OR day-of-week only when neither field starts with "*" or "?"
    (its star bit, which "*/2" also sets); otherwise both must match. croniter's `day_or` flag."""
    fields = expression.split()
    return not (fields[2].startswith(("*", "?")) or fields[4].startswith(("*", "?")))


def _next_after(expression: str, t: datetime) -> datetime:
    """robfig Schedule.Next: the first firing strictly after t, at whole-second granularity."""
    start = t.replace(microsecond=0)
    nxt = croniter(expression, start, day_or=_day_or(expression)).get_next(datetime)
    assert isinstance(nxt, datetime)
    return nxt


def is_active(hint: ScheduleHint, at: datetime) -> bool:
    """Active iff the first firing after (at - duration) is <= at and at < that firing + duration.

    upstream: prediction/predictor.go ScheduleHint.IsActive (an unparsable cron is never active).
    """
    expr = parse_cron(hint.cron_expression)
    if expr is None:
        return False
    duration = timedelta(seconds=hint.duration_s)
    nxt = _next_after(expr, at - duration)
    return not nxt > at and at < nxt + duration


def active_schedule_hint(hints: Sequence[ScheduleHint], at: datetime) -> ScheduleHint | None:
    """The first active hint in book order. upstream: Predictor.GetActiveScheduleHint."""
    for hint in hints:
        if is_active(hint, at):
            return hint
    return None


def add_schedule_hints(
    book: Sequence[ScheduleHint], hints: Iterable[ScheduleHint]
) -> tuple[ScheduleHint, ...]:
    """Append hints whose name is not in the book yet (an existing name is never updated).

    upstream: Predictor.AddScheduleHint, called by autoscaler.go loadScheduleHints on every reconcile.
    """
    out = list(book)
    names = {h.name for h in out}
    for h in hints:
        if h.name not in names:
            out.append(h)
            names.add(h.name)
    return tuple(out)


def schedule_hint_prediction(book: Sequence[ScheduleHint], at: datetime) -> PredictionData | None:
    """PredictionData for a scaler without prediction enabled. upstream: autoscaler.go getScheduleHintData."""
    hint = active_schedule_hint(book, at)
    if hint is None:
        return None
    return PredictionData(
        predicted_replicas=hint.target_replicas,
        confidence=1.0,
        is_schedule_hint=True,
        schedule_hint_name=hint.name,
        source="schedule",
        reason=f"schedule hint: {hint.name}",
    )

"""Go time.Time as JSON: RFC 3339 in UTC, the zero time as Go writes it."""

from __future__ import annotations

from datetime import UTC, datetime

GO_ZERO_TIME = "0001-01-01T00:00:00Z"


def go_time(at: datetime | None) -> str:
    """encoding/json of a time.Time (UTC, whole seconds as the simulator's clock has them)."""
    if at is None:
        return GO_ZERO_TIME
    u = at.astimezone(UTC)
    text = u.strftime("%Y-%m-%dT%H:%M:%S")
    if u.microsecond:
        text += f".{u.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_go_time(text: object) -> datetime | None:
    """The inverse of `go_time`; None for the zero time or anything unparsable."""
    if not isinstance(text, str) or not text or text == GO_ZERO_TIME:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None

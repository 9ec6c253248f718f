"""Scale-up lead and first-reach helpers behind `dsim diff`'s timing rows (sim/report/lead.py)."""

from __future__ import annotations

from sim.report.lead import daily_first_reach, level_crossings, scale_up_leads


def ev(t: float, a: int, b: int, role: str = "inference") -> dict[str, object]:
    return {"type": "scale", "t": t, "from": a, "to": b, "role": role}


def test_level_crossings_count_every_level_passed() -> None:
    assert level_crossings([ev(10, 1, 3), ev(50, 3, 2), ev(60, 2, 4)]) == {
        "inference": {2: [10.0], 3: [10.0, 60.0], 4: [60.0]}
    }


def test_lead_is_positive_when_b_reaches_each_level_earlier() -> None:
    a = [ev(100, 1, 2), ev(200, 2, 3)]
    b = [ev(40, 1, 2), ev(170, 2, 3)]
    assert scale_up_leads(a, b) == {"inference": (45.0, 2)}
    assert scale_up_leads(b, a) == {"inference": (-45.0, 2)}


def test_daily_first_reach_within_the_morning_window() -> None:
    day = 86400.0
    events = [ev(3 * 3600, 1, 3), ev(7 * 3600, 2, 3), ev(day + 6.5 * 3600, 1, 4), ev(day + 8 * 3600, 2, 3)]
    assert daily_first_reach(events, "inference", 3, from_hour=5, to_hour=12) == {
        0: 7 * 3600.0,
        1: day + 6.5 * 3600,
    }

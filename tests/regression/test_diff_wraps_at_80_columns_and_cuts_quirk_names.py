"""Symptom: `dsim diff` wrapped at 80 columns and cut off quirk names. Off a terminal the table is
not wrapped at all; on a terminal long names fold onto the next line instead of being cut."""

from __future__ import annotations

import pytest

from sim.report.diff import DiffRow, diff_rows, print_terminal

LONG = "stabilization_window_measured_from_last_scale_time_instead_of_recommendations"


def _summary(profile: str, fired: int) -> dict[str, object]:
    return {
        "scenario": "s",
        "profile": profile,
        "seed": 1,
        "status": "ok",
        "digest": "0" * 64,
        "role_order": ["prefill"],
        "roles": {"prefill": {"scale_ups": 1}},
        "quirks_triggered": {LONG: fired},
        "slo": {"met": True, "attainment": 0.99, "goodput_rps": 3.0, "roles": {"prefill": 0.99}},
        "cost": {
            "total_gpu_hours": 2.0,
            "gpu_hours": {"prefill": 2.0},
            "lower_bound_gpu_hours": 1.0,
            "efficiency": 0.5,
        },
        "findings": [{"kind": "flapping", "severity": "error", "role": "prefill"}],
    }


def test_no_wrapping_when_not_a_tty(capsys: pytest.CaptureFixture[str]) -> None:
    rows = diff_rows(_summary("upstream", 3), _summary("corrected", 0))
    print_terminal(
        rows, "a-run-folder-with-a-long-name (upstream)", "b-run-folder-with-a-long-name (corrected)"
    )
    out = capsys.readouterr().out
    assert any(LONG in line for line in out.splitlines())  # the whole name on one line
    assert max(len(line) for line in out.splitlines()) > 80
    assert "…" not in out


def test_answers_are_compared() -> None:
    rows = diff_rows(_summary("upstream", 3), _summary("corrected", 0))
    sections = {r.section for r in rows}
    assert {"SLO", "cost", "findings"} <= sections
    assert DiffRow("cost", "GPU-hours", 2.0, 2.0) in rows

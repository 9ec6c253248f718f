"""Symptom: there was no TTFT or TPOT plot."""

from __future__ import annotations

from pathlib import Path

from sim.report.plots import plot_ttft_tpot


def test_ttft_tpot_figure_is_drawn_with_slo_lines(tmp_path: Path) -> None:
    summary = {
        "sim_seconds": 60.0,
        "latency_over_time": {
            "window_s": 10.0,
            "t": [0.0, 10.0, 20.0, 30.0, 40.0, 50.0],
            "ttft_p50": [0.1, 0.2, None, 0.2, 0.3, 0.2],
            "ttft_p99": [0.3, 0.5, None, 0.6, 2.5, 0.4],
            "tpot_p50": [0.02] * 6,
            "tpot_p99": [0.03] * 6,
        },
        "slo": {
            "thresholds": {
                "ttft": {"percentile": 99, "seconds": 1.0},
                "tpot": {"percentile": 99, "seconds": 0.05},
            },
            "over_time": [{"t": 10.0 * i, "attainment": a} for i, a in enumerate([1, 1, None, 1, 0.5, 1])],
            "target": None,
        },
    }
    out = plot_ttft_tpot(summary, tmp_path / "ttft_tpot.png")
    assert out is not None and out.stat().st_size > 10_000
    assert plot_ttft_tpot({"latency_over_time": {"t": []}}, tmp_path / "none.png") is None

"""Symptom: the plot legends were inconsistent ("4 s mean" next to "5 s mean"): a sparse latency
series was averaged over a different window than the dense arrivals. Every averaged series of a
run now uses one window, chosen from the run's length, and says so in one wording."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sim.report import plots
from sim.report.plots import _binned, plot_latency, plot_replicas
from sim.report.timeseries import TimeSeries


def test_one_averaging_window_per_run_whatever_the_series_length() -> None:
    dense = [float(t) for t in range(3600)]
    sparse = dense[::7]  # a latency series with empty intervals
    _, _, w1 = _binned(dense, [1.0] * len(dense), 1.0, span=3600.0)
    _, _, w2 = _binned(sparse, [1.0] * len(sparse), 1.0, span=3600.0)
    assert w1 == w2 == 12.0


def test_every_legend_of_a_report_names_the_same_window(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ts = TimeSeries(["r", "_e2e"])
    for t in range(3600):
        values: dict[str, Any] = {"ready": 2, "spec": 2, "arrivals": 5 + t % 3}
        if t % 5:  # requests finished in four intervals out of five
            values.update({"latency_p50": 0.1, "latency_p95": 0.2, "latency_p99": 0.3})
        ts.add(float(t), "r", values)
        ts.add(float(t), "_e2e", {"arrivals": 5, "completions": 5, "latency_p50": 0.2, "latency_p99": 0.4})
    labels: list[str] = []
    finish = plots._finish

    def collect(fig: Any, path: Path) -> Path:
        for ax in fig.axes:
            legend = ax.get_legend()
            if legend is not None:
                labels.extend(t.get_text() for t in legend.get_texts())
        return finish(fig, path)

    monkeypatch.setattr(plots, "_finish", collect)
    plot_replicas(ts, [], tmp_path / "replicas.png", roles=["r"])
    plot_latency(ts, tmp_path / "latency.png", roles=["r"])
    windows = {m.group(1) for label in labels if (m := re.search(r"\((\d+(?:\.\d+)?) s mean\)", label))}
    assert len(windows) == 1, labels

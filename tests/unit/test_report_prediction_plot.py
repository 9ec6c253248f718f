"""report.html's prediction figure: drawn only for runs with a prediction-enabled scaler."""

from __future__ import annotations

from pathlib import Path

from sim.report.plots import plot_prediction


def _decision(t: float, conf: float, used: bool) -> dict[str, object]:
    return {
        "event": "decision",
        "scaler": "default/s",
        "t": t,
        "prediction": {
            "metric": "load",
            "observed": 10.0 + t / 60,
            "predictedValue": 11.0 + t / 60,
            "confidence": conf,
            "used": used,
        },
    }


def test_no_prediction_no_figure(tmp_path: Path) -> None:
    assert (
        plot_prediction([{"event": "decision", "scaler": "default/s", "t": 1.0}], tmp_path / "p.png") is None
    )
    assert not (tmp_path / "p.png").exists()


def test_prediction_figure_is_written(tmp_path: Path) -> None:
    events = [_decision(10.0 * i, 0.5 + i / 400, i > 100) for i in range(200)]
    out = plot_prediction(events, tmp_path / "p.png", title="t")
    assert out is not None and out.stat().st_size > 1000

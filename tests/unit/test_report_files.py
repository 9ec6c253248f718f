"""The report layer on synthetic runs: canonical bytes, round trips, digest, figures, HTML, diff."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.report.diff import diff_rows, diff_runs
from sim.report.events import EventLog, read_events
from sim.report.jsonfmt import dumps
from sim.report.render import render_folder
from sim.report.summary import compute_digest, percentiles, read_summary, write_summary
from sim.report.timeseries import E2E, TimeSeries, format_value, read_timeseries

ROLES = ("router", "tokenizer", "inference")


def make_run(folder: Path, *, shift: int = 0, profile: str = "upstream") -> dict[str, object]:
    folder.mkdir(parents=True, exist_ok=True)
    ts = TimeSeries(ROLES)
    log = EventLog()
    log.emit({"t": 10.0 + shift, "type": "scale", "role": "inference", "from": 3, "to": 5, "actor": "s"})
    for t in range(60):
        for i, role in enumerate(ROLES):
            ready = 0 if t < 10 * (i + 1) + shift else i + 1
            ts.add(
                t,
                role,
                {"spec": i + 1, "ready": ready, "starting": i + 1 - ready, "arrivals": 2, "queue": t % 3},
            )
        ts.add(t, E2E, {"latency_p50": 0.5, "latency_p99": 1.0 + shift})
    ts.write(folder)
    log.write(folder / "events.jsonl")
    summary: dict[str, object] = {
        "scenario": "synthetic",
        "profile": profile,
        "seed": 1,
        "status": "ok",
        "digest": compute_digest(log.to_bytes(), ts.to_csv_bytes()),
        "sim_seconds": 60.0,
        "role_order": list(ROLES),
        "roles": {
            r: {"first_ready_s": 10.0 * (i + 1) + shift, "replicas_max": i + 1} for i, r in enumerate(ROLES)
        },
        "requests": {"arrived": 10, "completed": 10 - shift, "dropped": shift, "in_flight": 0},
        "expectations": [{"name": "e1", "passed": shift == 0, "detail": "x"}],
    }
    write_summary(folder / "summary.json", summary)
    return summary


def test_canonical_json_is_sorted_compact_and_rounds_floats() -> None:
    assert (
        dumps({"b": 1.23456789, "a": [0.1 + 0.2, -0.0, float("nan")]}) == '{"a":[0.3,0.0,"NaN"],"b":1.234568}'
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, ""), (3, "3"), (2.5, "2.5"), (1 / 3, "0.333333"), (-0.0000001, "0"), (True, "1")],
)
def test_csv_value_format_is_fixed(value: object, text: str) -> None:
    assert format_value(value) == text


def test_timeseries_round_trips_through_csv(tmp_path: Path) -> None:
    ts = TimeSeries(["a"])
    ts.add(0.0, "a", {"ready": 1, "latency_p99": 0.25, "metric.vllm:num_requests_waiting": 3.5})
    ts.add(1.0, "a", {"ready": 2})
    ts.write(tmp_path)
    back = read_timeseries(tmp_path / "timeseries.csv")
    assert back.to_csv_bytes() == ts.to_csv_bytes()
    assert back.series("a", "ready") == ([0.0, 1.0], [1.0, 2.0])
    assert back.series("a", "latency_p99") == ([0.0, 1.0], [0.25, None])
    assert (
        (tmp_path / "timeseries.csv").read_text().splitlines()[0].endswith("metric.vllm:num_requests_waiting")
    )


def test_unknown_timeseries_column_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown time-series column 'readyy'"):
        TimeSeries().add(0.0, "a", {"readyy": 1})


def test_event_log_requires_t_and_type_and_counts(tmp_path: Path) -> None:
    log = EventLog()
    log.emit({"type": "fault", "t": 1.5, "kind": "killPods"})
    log.emit({"type": "fault", "t": 2.0, "kind": "failNode"})
    with pytest.raises(ValueError):
        log.emit({"type": "x"})
    log.write(tmp_path / "events.jsonl")
    assert (tmp_path / "events.jsonl").read_text() == (
        '{"kind":"killPods","t":1.5,"type":"fault"}\n{"kind":"failNode","t":2.0,"type":"fault"}\n'
    )
    assert log.counts() == {"fault": 2}
    assert [e["kind"] for e in read_events(tmp_path / "events.jsonl")] == ["killPods", "failNode"]


def test_digest_depends_on_both_files_only() -> None:
    d = compute_digest(b"e\n", b"t\n")
    assert d == compute_digest(b"e\n", b"t\n")
    assert d != compute_digest(b"e\n", b"t2\n")
    assert d != compute_digest(b"e\nt\n", b"")
    assert len(d) == 64


def test_percentiles_linear_and_empty() -> None:
    assert percentiles([1.0, 2.0, 3.0, 4.0], (50, 100)) == {"p50": 2.5, "p100": 4.0}
    assert percentiles([], (99,)) == {"p99": None}


def test_render_folder_writes_figures_and_self_contained_html(tmp_path: Path) -> None:
    make_run(tmp_path)
    report = render_folder(tmp_path)
    for name in ("replicas.png", "latency.png", "queue.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = report.read_text()
    assert text.count("data:image/png;base64,") == 3
    assert "<script" not in text and "http://" not in text and "https://" not in text
    assert "ALL EXPECTATIONS HOLD" in text


def test_summary_round_trip(tmp_path: Path) -> None:
    summary = make_run(tmp_path)
    assert read_summary(tmp_path / "summary.json") == json.loads(json.dumps(summary))


def test_diff_lists_differences_and_writes_html(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = tmp_path / "a"
    b = tmp_path / "b"
    sa = make_run(a)
    sb = make_run(b, shift=5, profile="corrected")
    changed = {(r.section, r.label) for r in diff_rows(sa, sb) if r.differs}
    assert ("role router", "first Ready (s)") in changed
    assert ("requests", "dropped") in changed
    assert ("expectations", "e1") in changed
    assert ("role router", "replicas max") not in changed
    out = diff_runs(a, b, tmp_path / "d")
    assert out is not None and out.name == "diff.html"
    assert out.read_text().count("data:image/png;base64,") == 2
    assert "differ" in capsys.readouterr().out


def test_first_divergence_names_the_line_where_two_logs_part(tmp_path: Path) -> None:
    from sim.report.diff import first_divergence

    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    common = '{"t":0.0,"type":"api","verb":"create","kind":"Pod","name":"p"}\n'
    a.write_text(common + '{"t":1.5,"type":"scale","role":"r"}\n')
    b.write_text(common + '{"t":2.0,"type":"pod","role":"r"}\n')
    assert first_divergence(a, b) == ("line 2, t=1.5: scale r", "line 2, t=2.0: pod r")
    b.write_text(common)
    assert first_divergence(a, b) == ("line 2, t=1.5: scale r", "line 2: (log ended)")
    assert first_divergence(a, a) is None


def test_metrics_figure_only_when_a_scaler_read_a_metric(tmp_path: Path) -> None:
    from sim.report.plots import plot_metrics

    ts = TimeSeries(["a", "b"])
    for t in range(30):
        ts.add(
            t, "a", {"ready": 1, "metric.vllm:num_requests_waiting": float(t % 5) if t % 10 == 1 else None}
        )
        ts.add(t, "b", {"ready": 2})
    out = plot_metrics(ts, tmp_path / "metrics.png")
    assert out is not None and out.read_bytes()[:4] == b"\x89PNG"
    assert plot_metrics(TimeSeries(["a"]), tmp_path / "none.png") is None
    assert not (tmp_path / "none.png").exists()

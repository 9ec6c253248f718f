"""Truth tables of the findings detectors (sim.findings.detect) on synthetic series: each kind
fires on the shape it names and stays silent on its near miss."""

from __future__ import annotations

from typing import Any

import pytest

from model.slo import FindingKind, FindingsConfig, Severity
from sim.findings import FindingInputs, detect_all
from sim.findings.detect import (
    flapping,
    over_provisioned,
    saturation,
    scale_up_lag,
    slo_breach,
    stranded_backlog,
    stuck_scaler,
)
from sim.findings.types import at_least
from sim.report.timeseries import TimeSeries


def _ts(role: str, seconds: int, **cols: Any) -> TimeSeries:
    """Columns given as constants or callables of t."""
    ts = TimeSeries([role])
    for t in range(seconds + 1):
        ts.add(float(t), role, {k: (v(t) if callable(v) else v) for k, v in cols.items()})
    return ts


def _scale(*writes: tuple[float, int, int], role: str = "prefill") -> list[dict[str, Any]]:
    return [{"t": t, "role": role, "from": a, "to": b} for t, a, b in writes]


def _inputs(**kw: Any) -> FindingInputs:
    base: dict[str, Any] = {
        "roles": ["prefill"],
        "sim_seconds": 1200.0,
        "ts": _ts("prefill", 1200, arrivals=50),
    }
    base.update(kw)
    return FindingInputs(**base)


# --------------------------------------------------------------------------- flapping

FLAPS = _scale((100, 2, 16), (400, 16, 1), (410, 1, 16), (700, 16, 1), (710, 1, 2))


@pytest.mark.parametrize(
    ("writes", "config", "expected"),
    [
        (FLAPS, FindingsConfig(), [(Severity.ERROR, 4)]),  # 4 reversals >= 2 x minReversals
        (FLAPS[:3], FindingsConfig(), [(Severity.WARNING, 2)]),
        (FLAPS[:2], FindingsConfig(), []),  # one reversal
        (_scale((100, 1, 2), (200, 2, 3), (300, 3, 4)), FindingsConfig(), []),  # monotone
        (FLAPS, FindingsConfig.model_validate({"flapping": {"window": 5}}), []),  # too far apart
        (FLAPS, FindingsConfig.model_validate({"flapping": {"minAmplitude": 20}}), []),
    ],
)
def test_flapping_truth_table(
    writes: list[dict[str, Any]], config: FindingsConfig, expected: list[tuple[Severity, int]]
) -> None:
    found = flapping(_inputs(scale_events=writes, config=config))
    assert [(f.severity, f.evidence["reversals"]) for f in found] == expected
    for f in found:
        assert f.kind is FindingKind.FLAPPING and f.role == "prefill"
        assert f.evidence["low"] == 1 and f.evidence["high"] == 16


def test_reversals_that_follow_the_load_are_not_flapping() -> None:
    # load 80 until 300 s then 20: the scale-down at 400 s follows it; one unexplained reversal left
    ts = _ts("prefill", 1200, arrivals=lambda t: 80 if t < 300 else 20)
    writes = _scale((100, 1, 6), (400, 6, 1), (500, 1, 2))
    assert flapping(_inputs(ts=ts, scale_events=writes)) == []


# --------------------------------------------------------------------------- saturation


def _slo(
    attainments: list[float | None], window: float = 100.0, target: float | None = None
) -> dict[str, Any]:
    return {
        "window_s": window,
        "target": target,
        "over_time": [{"t": i * window, "attainment": a} for i, a in enumerate(attainments)],
    }


@pytest.mark.parametrize(
    ("desired", "attainments", "fires"),
    [
        (16, [1.0, 0.5, 0.2, 1.0], True),
        (8, [1.0, 0.5, 0.2, 1.0], False),  # below max
        (16, [1.0, 1.0, 1.0, 1.0], False),  # SLO held
    ],
)
def test_saturation_truth_table(desired: int, attainments: list[float | None], fires: bool) -> None:
    inp = _inputs(
        ts=_ts("prefill", 400, desired=desired),
        sim_seconds=400.0,
        slo=_slo(attainments),
        max_replicas={"prefill": 16},
    )
    found = saturation(inp)
    assert bool(found) is fires
    if fires:
        assert found[0].start_s == 100.0 and found[0].end_s == 300.0


# --------------------------------------------------------------------------- stuck scaler


def _decisions(codes: list[str], step: float = 10.0) -> list[dict[str, Any]]:
    return [{"t": i * step, "scaler": "ns/s", "role": "prefill", "code": c} for i, c in enumerate(codes)]


@pytest.mark.parametrize(
    ("codes", "sim_seconds", "expected"),
    [
        (["NoMetrics"] * 30, 300.0, [Severity.ERROR]),  # the whole run
        (["NoMetrics"] * 15 + ["Scaled"] * 15, 300.0, [Severity.WARNING]),  # 150 s > 120 s
        (["NoMetrics"] * 5 + ["Scaled"] * 25, 300.0, []),  # 50 s
        (["Scaled"] * 30, 300.0, []),
    ],
)
def test_stuck_scaler_truth_table(codes: list[str], sim_seconds: float, expected: list[Severity]) -> None:
    found = stuck_scaler(_inputs(decisions=_decisions(codes), sim_seconds=sim_seconds))
    assert [f.severity for f in found] == expected


def test_stuck_scaler_on_a_condition_false_for_long() -> None:
    cond = {
        "role": "prefill",
        "scaler": "ns/s",
        "type": "AbleToScale",
        "reason": "FailedGetScale",
        "since": 10.0,
    }
    assert [f.kind for f in stuck_scaler(_inputs(false_conditions=[cond], sim_seconds=300.0))] == [
        FindingKind.STUCK_SCALER
    ]
    assert stuck_scaler(_inputs(false_conditions=[{**cond, "since": 250.0}], sim_seconds=300.0)) == []


# --------------------------------------------------------------------------- stranded backlog


@pytest.mark.parametrize(
    ("queued", "idle", "seconds", "fires"),
    [
        (50, 3, 60, True),
        (50, 0, 60, False),  # every pod busy: a backlog, but not stranded
        (2, 3, 60, False),  # queue below minQueue
        (50, 3, 10, False),  # too short
    ],
)
def test_stranded_backlog_truth_table(queued: int, idle: int, seconds: int, fires: bool) -> None:
    pods = [
        (float(t), {"prefill": {"ready": 5, "idle": idle if t < seconds else 0, "queued": queued}})
        for t in range(200)
    ]
    found = stranded_backlog(_inputs(pod_samples=pods))
    assert bool(found) is fires


# --------------------------------------------------------------------------- scale-up lag


@pytest.mark.parametrize(
    ("ready_at", "fires", "severity"),
    [
        (lambda t: 2 if t < 400 else 6, True, Severity.WARNING),  # 340 s after the rise at 60 s
        (lambda t: 2 if t < 100 else 6, False, None),  # 40 s
        (lambda t: 2, True, Severity.ERROR),  # never
    ],
)
def test_scale_up_lag_truth_table(ready_at: Any, fires: bool, severity: Severity | None) -> None:
    inp = _inputs(
        ts=_ts("prefill", 600, ready=ready_at),
        sim_seconds=600.0,
        needed={"prefill": [2, 6, 6, 6, 6, 6, 6, 6, 6, 6]},
        needed_window=60.0,
        first_ready={"prefill": 5.0},
    )
    found = scale_up_lag(inp)
    assert bool(found) is fires
    if fires:
        assert found[0].severity is severity and found[0].start_s == 60.0


# --------------------------------------------------------------------------- SLO breach


@pytest.mark.parametrize(
    ("attainments", "expected"),
    [
        ([1.0, 0.9, 0.8, 1.0, 0.2], [(100.0, 300.0, Severity.WARNING), (400.0, 500.0, Severity.ERROR)]),
        ([1.0, None, 1.0], []),
        ([0.995, 0.999], []),
    ],
)
def test_slo_breach_truth_table(
    attainments: list[float | None], expected: list[tuple[float, float, Severity]]
) -> None:
    found = slo_breach(_inputs(slo=_slo(attainments), slo_target=0.99))
    assert [(f.start_s, f.end_s, f.severity) for f in found] == expected


# --------------------------------------------------------------------------- over-provisioned


@pytest.mark.parametrize(
    ("used", "bound", "expected"),
    [(10.0, 1.0, [Severity.WARNING]), (5.0, 1.0, [Severity.INFO]), (2.0, 1.0, []), (0.0, 0.0, [])],
)
def test_over_provisioned_truth_table(used: float, bound: float, expected: list[Severity]) -> None:
    cost = {"gpu_hours": {"prefill": used}, "lower_bound": {"gpu_hours": {"prefill": bound}}}
    assert [f.severity for f in over_provisioned(_inputs(cost=cost))] == expected


# --------------------------------------------------------------------------- all together


def test_detect_all_orders_by_severity_and_honours_disabled() -> None:
    inp = _inputs(
        scale_events=FLAPS,
        decisions=_decisions(["NoMetrics"] * 121),
        cost={"gpu_hours": {"prefill": 5.0}, "lower_bound": {"gpu_hours": {"prefill": 1.0}}},
    )
    found = detect_all(inp)
    assert [f.severity for f in found] == sorted(
        (f.severity for f in found), key=lambda s: -["info", "warning", "error"].index(s)
    )
    kinds = {f.kind for f in found}
    assert {FindingKind.FLAPPING, FindingKind.STUCK_SCALER, FindingKind.OVER_PROVISIONED} <= kinds
    quiet = detect_all(
        FindingInputs(**{**inp.__dict__, "config": FindingsConfig.model_validate({"disabled": ["flapping"]})})
    )
    assert FindingKind.FLAPPING not in {f.kind for f in quiet}
    as_dicts = [f.as_dict() for f in found]
    assert set(as_dicts[0]) == {"kind", "severity", "role", "start_s", "end_s", "message", "evidence", "hint"}
    assert len(at_least(as_dicts, "error")) == sum(1 for f in found if f.severity is Severity.ERROR)

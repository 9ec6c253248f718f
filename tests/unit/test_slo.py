"""SLO attainment (sim.report.slo): percentile and per-request modes, non-completed requests,
per-role attribution, classes, attainment over time."""

from __future__ import annotations

import pytest

from model.slo import SLO, Threshold
from sim.report.slo import RequestRecord, attribution, evaluate_slo


def _rec(
    done: float, ttft: float, tpot: float | None, e2e: float, klass: str = "", **at: float
) -> RequestRecord:
    return RequestRecord(done=done, ttft=ttft, tpot=tpot, e2e=e2e, klass=klass, at_role=at)


ROLES = ["router", "prefill", "decode"]


def _eval(slo: SLO, records: list[RequestRecord], failed: int = 0, **kw: object) -> dict[str, object]:
    args: dict[str, object] = {
        "failed": failed,
        "roles": ROLES,
        "first_token_role": "decode",
        "decode_role": "decode",
        "load_seconds": 10.0,
        "duration": 10.0,
        "window": 5.0,
    }
    args.update(kw)
    return evaluate_slo(slo, records, **args)  # type: ignore[arg-type]


def test_threshold_short_forms() -> None:
    assert Threshold.model_validate({"p95": "2s"}) == Threshold(percentile=95, seconds=2.0)
    assert Threshold.model_validate(1.5) == Threshold(percentile=99, seconds=1.5)
    with pytest.raises(ValueError, match="not a percentile"):
        Threshold.model_validate({"q99": 1})


def test_percentile_mode_counts_failures_as_misses() -> None:
    slo = SLO(ttft=Threshold(percentile=50, seconds=1.0))
    recs = [_rec(1, 0.5, None, 1), _rec(2, 0.5, None, 1), _rec(3, 3.0, None, 4)]
    out = _eval(slo, recs)
    assert out["attainment"] == pytest.approx(2 / 3)
    assert out["met"] is True  # 2 of 3 within 1 s >= 50 %
    out = _eval(slo, recs, failed=2)  # 2 of 5 within: p50 breached
    assert out["attainment"] == pytest.approx(2 / 5)
    assert out["met"] is False
    assert out["finished"] == 5 and out["good"] == 2
    assert out["goodput_rps"] == pytest.approx(0.2)


def test_per_request_mode_needs_every_threshold_and_the_target_share() -> None:
    slo = SLO(
        ttft=Threshold(percentile=99, seconds=1.0),
        tpot=Threshold(percentile=99, seconds=0.05),
        per_request=True,
        target=0.5,
    )
    recs = [_rec(1, 0.5, 0.01, 1), _rec(2, 0.5, 0.2, 2), _rec(3, 2.0, 0.01, 3), _rec(4, 0.1, None, 0.1)]
    out = _eval(slo, recs)
    assert out["good"] == 2  # the first and the one without a second token
    assert out["met"] is True
    assert _eval(slo.model_copy(update={"target": 0.75}), recs)["met"] is False


def test_attribution_ttft_up_to_the_first_token_role_tpot_to_decode() -> None:
    a = attribution(ROLES, "decode", "decode")
    assert a == {"router": {"ttft", "e2e"}, "prefill": {"ttft", "e2e"}, "decode": {"ttft", "tpot", "e2e"}}
    emb = attribution(["router", "tokenizer", "inference"], None, None)
    assert emb["inference"] == {"ttft", "e2e"}


def test_per_role_attainment_and_sojourn_thresholds() -> None:
    slo = SLO(tpot=Threshold(percentile=99, seconds=0.05), roles={"prefill": 1.0})
    recs = [_rec(1, 0.2, 0.2, 1, prefill=0.1), _rec(2, 0.2, 0.01, 1, prefill=3.0)]
    out = _eval(slo, recs)
    roles = out["roles"]
    assert roles == {"router": 1.0, "prefill": 0.5, "decode": 0.5}  # type: ignore[comparison-overlap]


def test_classes_override_thresholds() -> None:
    slo = SLO.model_validate({"ttft": {"p99": 1.0}, "classes": {"batch": {"ttft": {"p99": 10.0}}}})
    recs = [_rec(1, 5.0, None, 5, klass="batch"), _rec(2, 5.0, None, 5, klass="chat")]
    out = _eval(slo, recs)
    assert out["classes"] == {"batch": 1.0, "chat": 0.0}


def test_attainment_over_time_per_window_with_failures() -> None:
    slo = SLO(e2e=Threshold(percentile=99, seconds=1.0))
    recs = [_rec(1, 0.1, None, 0.5), _rec(6, 0.1, None, 2.0)]
    out = _eval(slo, recs, failed=1, failures_at=[(5.0, 0), (10.0, 1)])
    windows = out["over_time"]
    assert [w["attainment"] for w in windows] == [1.0, 0.0]  # type: ignore[index]
    assert [w["finished"] for w in windows] == [1, 2]  # type: ignore[index]


@pytest.mark.parametrize(
    ("block", "path", "words"),
    [
        ({"slo": {"ttft": {"q99": 1}}}, "slo.ttft", "not a percentile"),
        ({"slo": {"tfft": {"p99": 1}}}, "slo.tfft", "did you mean 'ttft'"),
        ({"slo": {}}, "slo", "at least one of"),
        ({"findings": {"disabled": ["flaping"]}}, "findings.disabled[0]", "flapping"),
        ({"findings": {"flapping": {"window": "soon"}}}, "findings.flapping.window", "soon"),
    ],
)
def test_bad_slo_is_one_input_error(block: dict[str, object], path: str, words: str) -> None:
    from model.errors import InputError
    from model.scenario import scenario_from_data

    data: dict[str, object] = {
        "apiVersion": "dsim/v1",
        "kind": "Scenario",
        "name": "x",
        "seed": 1,
        "duration": 60,
        "manifests": [{"path": "m.yaml"}],
        **block,
    }
    with pytest.raises(InputError) as err:
        scenario_from_data(data, file="s.yaml")
    text = str(err.value)
    assert path in text and words in text, text

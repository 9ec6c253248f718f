"""Arrival sources: trace replay, transforms, rate windows and synthetic shapes."""

from __future__ import annotations

import tracemalloc
from itertools import islice, pairwise
from pathlib import Path

import numpy as np
import pytest

from sim.load.arrivals import (
    Arrival,
    InterArrival,
    RateWindow,
    Shape,
    ShapeKind,
    TokenDist,
    TraceFormatError,
    azure_csv,
    limited,
    looped,
    mooncake_jsonl,
    rate_multiplied,
    rate_windows,
    sliced,
    synthetic,
    time_scaled,
)
from sim.seeds import Seeds

TRACES = Path(__file__).resolve().parents[2] / "scenarios" / "traces"
CONV = TRACES / "AzureLLMInferenceTrace_conv.csv"
CODE = TRACES / "AzureLLMInferenceTrace_code.csv"
MOON = TRACES / "conversation_trace.jsonl"

TOK = TokenDist(mean=100)


def test_azure_conv_first_rows_and_count() -> None:
    first = list(islice(azure_csv(CONV), 3))
    assert first[0] == Arrival(0.0, 374, 44)
    assert first[1].t == pytest.approx(50.9951690 - 46.6805900)
    assert first[1][1:3] == (396, 109)
    assert first[2][1:3] == (879, 55)
    n = 0
    last = None
    for a in azure_csv(CONV):
        n += 1
        last = a
    assert n == 19366
    assert last is not None and last.t == pytest.approx(3501.7219370) and last[1:3] == (197, 183)


def test_azure_code_count() -> None:
    assert sum(1 for _ in azure_csv(CODE)) == 8819


def test_mooncake_replay() -> None:
    first = list(islice(mooncake_jsonl(MOON), 2))
    assert first == [Arrival(0.0, 6758, 500), Arrival(0.0, 7322, 490)]
    assert sum(1 for _ in mooncake_jsonl(MOON)) == 12031


def test_trace_streams_in_constant_memory() -> None:
    tracemalloc.start()
    it = azure_csv(CONV)
    for _ in islice(it, 1000):
        pass
    base = tracemalloc.get_traced_memory()[0]
    for _ in it:
        pass
    grown = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    assert grown < 64 * 1024, grown


def test_bad_azure_rows_name_file_line_value(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text(
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,374,44\n2023-11-16 18:15:47.0,x,1\n"
    )
    with pytest.raises(TraceFormatError) as exc:
        list(azure_csv(p))
    assert exc.value.line == 3
    assert exc.value.value == "2023-11-16 18:15:47.0,x,1"
    assert str(p) in str(exc.value)
    p.write_text(
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.68,1,1\n2023-11-16 18:15:40.0,1,1\n"
    )
    with pytest.raises(TraceFormatError, match="non-decreasing"):
        list(azure_csv(p))
    p.write_text("time,in,out\n")
    with pytest.raises(TraceFormatError, match="header"):
        list(azure_csv(p))


def test_azure_day_rollover(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text(
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 23:59:59.5,1,2\n2023-11-17 00:00:00.25,3,4\n"
    )
    assert list(azure_csv(p)) == [Arrival(0.0, 1, 2), Arrival(0.75, 3, 4)]


def test_bad_mooncake_line(tmp_path: Path) -> None:
    p = tmp_path / "t.jsonl"
    p.write_text('{"timestamp": 0, "input_length": 1, "output_length": 2}\n{"timestamp": 5}\n')
    with pytest.raises(TraceFormatError) as exc:
        list(mooncake_jsonl(p))
    assert exc.value.line == 2


def test_time_scale_rate_multiplier_slice_loop() -> None:
    base = [Arrival(0.0, 1, 1), Arrival(1.0, 2, 2), Arrival(3.0, 3, 3)]
    assert [a.t for a in time_scaled(base, 2.0)] == [0.0, 2.0, 6.0]
    assert [a.t for a in rate_multiplied(base, 2.0)] == [0.0, 0.5, 1.5]
    assert list(sliced(base, 1.0, 3.0)) == [Arrival(0.0, 2, 2)]
    # each pass starts one mean gap (1.5 s) after the previous pass's last arrival
    assert [a.t for a in looped(lambda: base, passes=2)] == [0.0, 1.0, 3.0, 4.5, 5.5, 7.5]
    assert [a.t for a in looped(lambda: base, until=6.0)] == [0.0, 1.0, 3.0, 4.5, 5.5]
    assert [a.t for a in limited(base, 2.0)] == [0.0, 1.0]
    with pytest.raises(ValueError):
        list(looped(lambda: base))


def _gaps(arrs: list[Arrival]) -> np.ndarray:
    return np.diff([a.t for a in arrs])


@pytest.mark.parametrize(
    ("dist", "cv"),
    [
        (InterArrival.EXPONENTIAL, 1.0),
        (InterArrival.GAMMA, 2.0),
        (InterArrival.GAMMA, 0.5),
        (InterArrival.WEIBULL, 1.5),
    ],
)
def test_rate_window_mean_rate_and_cv(dist: InterArrival, cv: float) -> None:
    rng = Seeds(7).stream("load")
    arrs = list(rate_windows([RateWindow(duration=4000, rate=10, cv=cv, distribution=dist)], rng, TOK, TOK))
    assert len(arrs) == pytest.approx(40000, rel=0.05)
    g = _gaps(arrs)
    assert g.std() / g.mean() == pytest.approx(cv if dist is not InterArrival.EXPONENTIAL else 1.0, rel=0.08)


def test_rate_windows_are_seeded_and_skip_zero_rate() -> None:
    windows = [
        RateWindow(duration=10, rate=5),
        RateWindow(duration=10, rate=0),
        RateWindow(duration=10, rate=5),
    ]
    a = list(rate_windows(windows, Seeds(1).stream("load"), TOK, TOK))
    b = list(rate_windows(windows, Seeds(1).stream("load"), TOK, TOK))
    assert a == b
    assert not any(10.0 <= x.t < 20.0 for x in a)
    assert a != list(rate_windows(windows, Seeds(2).stream("load"), TOK, TOK))


def test_deterministic_window_is_exact() -> None:
    arrs = list(rate_windows([RateWindow(duration=1.0, rate=4, cv=0)], Seeds(0).stream("load"), TOK, TOK))
    assert [a.t for a in arrs] == [0.25, 0.5, 0.75]
    assert {a.input_tokens for a in arrs} == {100}


def test_token_distribution_mean_and_bounds() -> None:
    tok = TokenDist(mean=500, cv=1.0, minimum=10, maximum=4000)
    arrs = list(rate_windows([RateWindow(duration=2000, rate=10)], Seeds(3).stream("load"), tok, tok))
    ins = np.array([a.input_tokens for a in arrs])
    assert ins.min() >= 10 and ins.max() <= 4000
    assert ins.mean() == pytest.approx(500, rel=0.05)


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        (Shape(kind=ShapeKind.CONSTANT, duration=1000, rate=5), 5000),
        (Shape(kind=ShapeKind.STEP, duration=1000, rate=2, rate2=8, at=500), 5000),
        (Shape(kind=ShapeKind.RAMP, duration=1000, rate=0, rate2=10), 5000),
        (Shape(kind=ShapeKind.DIURNAL, duration=1000, rate=5, amplitude=0.8, period=1000), 5000),
        (Shape(kind=ShapeKind.SPIKE, duration=1000, rate=2, rate2=50, at=100, width=100), 6800),
    ],
)
def test_synthetic_shapes_expected_counts(shape: Shape, expected: int) -> None:
    arrs = list(synthetic(shape, Seeds(11).stream("load"), TOK, TOK))
    assert len(arrs) == pytest.approx(expected, rel=0.05)
    assert all(b.t >= a.t for a, b in pairwise(arrs))


def test_step_shape_rates_per_half() -> None:
    shape = Shape(kind=ShapeKind.STEP, duration=2000, rate=2, rate2=8, at=1000, cv=2.0)
    arrs = list(synthetic(shape, Seeds(5).stream("load"), TOK, TOK, rate_multiplier=0.5))
    first = sum(1 for a in arrs if a.t < 1000)
    assert first == pytest.approx(1000, rel=0.15)
    assert len(arrs) - first == pytest.approx(4000, rel=0.1)


def test_shape_model_is_strict() -> None:
    with pytest.raises(ValueError):
        Shape.model_validate({"kind": "constant", "duration": 10, "rate": 1, "bogus": 1})
    s = Shape.model_validate({"kind": "diurnal", "duration": 10, "rate": 1, "amplitude": 0.2})
    assert s.amplitude == 0.2

"""Request sizes from distributions (deterministic, bounded) and request classes chosen by weight."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from model.scenario import RequestClass, TokenDistribution
from sim.clock import Simulation
from sim.load import Arrival
from sim.load.arrivals import TraceFormatError
from sim.load.sizes import SizeDrawer, classified, empirical_values, sized

ROOT = Path(__file__).resolve().parents[2]
CONV = ROOT / "scenarios" / "traces" / "AzureLLMInferenceTrace_conv.csv"


def draws(spec: object, seed: int = 1, n: int = 5000, path: Path | None = None) -> list[int]:
    sim = Simulation(seed)
    d = SizeDrawer(spec, sim.seeds.stream("workload-sizes"), path)  # type: ignore[arg-type]
    return [d.draw() for _ in range(n)]


def test_constant() -> None:
    assert draws(300, n=3) == [300, 300, 300]
    assert draws(TokenDistribution(distribution="constant", value=7), n=2) == [7, 7]


def test_lognormal_deterministic_bounded_with_the_median() -> None:
    spec = TokenDistribution(distribution="lognormal", median=1000, sigma=0.8, min=16, max=8000)
    a, b = draws(spec), draws(spec)
    assert a == b  # same seed, same sequence
    assert draws(spec, seed=2) != a
    assert min(a) >= 16 and max(a) <= 8000
    assert 900 <= float(np.median(a)) <= 1100


def test_bounded_normal() -> None:
    spec = TokenDistribution(distribution="normal", mean=200, stddev=150, min=50, max=300)
    a = draws(spec)
    assert min(a) == 50 and max(a) == 300  # clipped at both bounds
    assert 170 <= float(np.mean(a)) <= 220


def test_normal_needs_bounds() -> None:
    with pytest.raises(ValueError, match="needs min, max"):
        TokenDistribution(distribution="normal", mean=200, stddev=150)


def test_empirical_from_the_azure_trace_column() -> None:
    values = set(empirical_values(CONV, "GeneratedTokens").tolist())
    spec = TokenDistribution(distribution="empirical", trace="x.csv", column="GeneratedTokens", max=500)
    a = draws(spec, path=CONV)
    assert set(a) <= values | {500} and max(a) <= 500
    assert a == draws(spec, path=CONV)


def test_empirical_bad_column_names_the_header(tmp_path: Path) -> None:
    f = tmp_path / "t.csv"
    f.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(TraceFormatError, match="a column of the header: a, b"):
        empirical_values(f, "c")
    j = tmp_path / "t.jsonl"
    j.write_text('{"input_length": 5}\n{"input_length": 7}\n', encoding="utf-8")
    assert empirical_values(j, "input_length").tolist() == [5, 7]


def test_sized_keeps_times() -> None:
    sim = Simulation(0)
    d = SizeDrawer(TokenDistribution(distribution="constant", value=9), sim.seeds.stream("x"))
    out = list(sized([Arrival(1.0, 5, 6), Arrival(2.0, 5, 6)], d, None))
    assert out == [Arrival(1.0, 9, 6), Arrival(2.0, 9, 6)]


def test_classes_by_weight_with_their_own_sizes() -> None:
    classes = [
        RequestClass(name="chat", weight=0.7, input_tokens=100, output_tokens=200),
        RequestClass(name="summarise", weight=0.3, input_tokens=4000),
    ]
    src = [Arrival(float(i), 1, 50) for i in range(20_000)]
    out = list(classified(src, classes, Simulation(5).seeds.stream))
    chat = [a for a in out if a.klass == "chat"]
    summ = [a for a in out if a.klass == "summarise"]
    assert len(chat) + len(summ) == 20_000
    assert 0.68 <= len(chat) / 20_000 <= 0.72
    assert {(a.input_tokens, a.output_tokens) for a in chat} == {(100, 200)}
    assert {(a.input_tokens, a.output_tokens) for a in summ} == {(4000, 50)}  # output kept from the source
    assert [a.t for a in out] == [a.t for a in src]
    assert out == list(classified(src, classes, Simulation(5).seeds.stream))


def test_a_class_sizes_do_not_depend_on_the_other_classes() -> None:
    """Each class draws from its own stream: the chat sizes are the same whatever the other class is."""
    lg = TokenDistribution(distribution="lognormal", median=300, sigma=1.0)
    a = [RequestClass(name="chat", input_tokens=lg), RequestClass(name="x", input_tokens=5)]
    b = [RequestClass(name="chat", input_tokens=lg), RequestClass(name="x", input_tokens=lg)]
    src = [Arrival(float(i), 1, 1) for i in range(2000)]
    chat_a = [x.input_tokens for x in classified(src, a, Simulation(1).seeds.stream) if x.klass == "chat"]
    chat_b = [x.input_tokens for x in classified(src, b, Simulation(1).seeds.stream) if x.klass == "chat"]
    assert chat_a == chat_b

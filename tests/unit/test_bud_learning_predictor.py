"""The controller's predictor book computes exactly what sim.decisions.bud.prediction (the ported
predictor.go, checked by the shared vectors) computes: same floats, in any insertion order."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim.decisions.bud.prediction import DataPoint, confidence, predict_linear, record_metric
from sim.decisions.bud_learning.predictor import PredictorBook, prediction_metric_names, target_value_for

points = st.lists(
    st.tuples(st.integers(0, 5000).map(float), st.floats(0, 1000, allow_nan=False)), min_size=0, max_size=60
)


@given(points, st.sampled_from([0.0, 900.0, 1800.0]), st.integers(5, 40))
def test_book_equals_the_pure_predictor(pts: list[tuple[float, float]], ahead: float, cap: int) -> None:
    book = PredictorBook(max_history=cap)
    history: tuple[DataPoint, ...] = ()
    for t, v in pts:
        book.record(("m",), v, t)
        history = record_metric(history, v, t, max_history=cap)
    assert book.history(("m",)) == history
    predicted, conf = book.linear_and_confidence(("m",), ahead)
    if history:
        assert predicted == predict_linear(history, ahead)
        assert conf == confidence(history) or (np.isnan(conf) and np.isnan(confidence(history)))
    else:
        assert (predicted, conf) == (0.0, 0.0)


def test_metric_names_and_targets_as_autoscaler_go() -> None:
    spec = {
        "metricsSources": [
            {"targetMetric": "a", "targetValue": "x"},
            {"targetMetric": "a", "targetValue": "7"},
        ]
    }
    assert prediction_metric_names(spec) == ["a"]
    assert prediction_metric_names({**spec, "predictionConfig": {"predictionMetrics": ["b", "c"]}}) == [
        "b",
        "c",
    ]
    assert target_value_for(spec, "a") == 7.0  # the first parsable one
    assert target_value_for(spec, "missing") == 50.0  # getTargetValueForMetric's fallback


@given(st.integers(1, 6), st.lists(st.integers(), max_size=15))
def test_ring_buffer_of_equals_pushing_one_by_one(cap: int, items: list[int]) -> None:
    from sim.decisions.bud.learning import RingBuffer

    pushed: RingBuffer[int] = RingBuffer(cap)
    for i in items:
        pushed.push(i)
    built = RingBuffer.of(cap, items)
    assert built.get_all() == pushed.get_all() and built.last(cap) == pushed.last(cap)
    pushed.push(-1)
    built.push(-1)
    assert built.get_all() == pushed.get_all()

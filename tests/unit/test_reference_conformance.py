"""knative_kpa_vectors.json and aibrix_vectors.json through the production decision code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.conformance.aibrix import HANDLERS as AIBRIX
from sim.conformance.knative import HANDLERS as KNATIVE
from sim.conformance.runner import run_files

DATA = Path(__file__).resolve().parents[1] / "data" / "conformance"
KN = DATA / "knative_kpa_vectors.json"
AB = DATA / "aibrix_vectors.json"
KN_VECTORS = json.loads(KN.read_text())["vectors"]
AB_VECTORS = json.loads(AB.read_text())["vectors"]


@pytest.mark.parametrize("vector", KN_VECTORS, ids=[v["id"] for v in KN_VECTORS])
def test_every_knative_vector_passes(vector: dict) -> None:
    result = KNATIVE[vector["kind"]](vector)
    assert result.passed, result.detail


@pytest.mark.parametrize("vector", AB_VECTORS, ids=[v["id"] for v in AB_VECTORS])
def test_every_aibrix_vector_passes(vector: dict) -> None:
    result = AIBRIX[vector["kind"]](vector)
    assert result.passed, result.detail


def test_runner_counts_none_skipped() -> None:
    assert run_files([str(KN)]).summary() == "66 passed, 0 failed, 0 skipped"
    assert run_files([str(AB)]).summary() == "12 passed, 0 failed, 0 skipped"


def test_every_kind_the_meta_lists_has_a_handler() -> None:
    """Held-out vectors of every kind the files' meta counts must be evaluated, not skipped."""
    for path, handlers in ((KN, KNATIVE), (AB, AIBRIX)):
        meta = json.loads(path.read_text())["meta"]
        kinds = {k for k in meta["counts"] if k != "total"}
        assert kinds <= set(handlers), kinds - set(handlers)


def test_a_wrong_expectation_fails() -> None:
    vector = dict(KN_VECTORS[0])
    bad = json.loads(json.dumps(vector))
    if bad["kind"] == "kpa.collector_record":
        bad["expected"]["stable_concurrency"] = 11.0
    else:  # pragma: no cover - the file's order is fixed
        pytest.skip("first vector changed")
    assert not KNATIVE[bad["kind"]](bad).passed

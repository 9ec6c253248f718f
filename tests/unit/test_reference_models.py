"""The reference autoscalers' resources: AIBrix's PodAutoscaler model agrees with the upstream CRD, both
PodAutoscalers are admitted or rejected as their upstreams would, and `dsim crd` prints AIBrix's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from model.admission import admit
from model.crd import aibrix_podautoscaler_crd
from model.registry import model_for
from sim.commands.crd import crd

UPSTREAM = (
    Path(__file__).parent.parent / "data" / "upstream" / "crd" / "autoscaling.aibrix.ai_podautoscalers.yaml"
)


def _strip(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k != "description"}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def test_aibrix_crd_equals_upstream_apart_from_descriptions() -> None:
    upstream = yaml.safe_load(UPSTREAM.read_text(encoding="utf-8"))
    upstream["metadata"].pop("annotations", None)
    assert _strip(aibrix_podautoscaler_crd()) == _strip(upstream)


def test_dsim_crd_kind_podautoscaler() -> None:
    result = CliRunner().invoke(crd, ["--kind", "PodAutoscaler"])
    assert result.exit_code == 0, result.output
    (doc,) = list(yaml.safe_load_all(result.output))
    assert doc["metadata"]["name"] == "podautoscalers.autoscaling.aibrix.ai"


def test_both_podautoscaler_kinds_are_registered() -> None:
    assert model_for("autoscaling.aibrix.ai/v1alpha1", "PodAutoscaler") is not None
    assert model_for("autoscaling.internal.knative.dev/v1alpha1", "PodAutoscaler") is not None


def _aibrix(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "scaleTargetRef": {
            "apiVersion": "scaler.bud.studio/v1alpha1",
            "kind": "DisaggregatedService",
            "name": "llm",
        },
        "subTargetSelector": {"roleName": "decode"},
        "minReplicas": 1,
        "maxReplicas": 8,
        "scalingStrategy": "KPA",
        "metricsSources": [
            {
                "metricSourceType": "pod",
                "protocolType": "http",
                "port": "8000",
                "path": "/metrics",
                "targetMetric": "m",
                "targetValue": "48",
            }
        ],
    }
    base.update(spec)
    return {
        "apiVersion": "autoscaling.aibrix.ai/v1alpha1",
        "kind": "PodAutoscaler",
        "metadata": {"name": "pa"},
        "spec": base,
    }


def _messages(obj: dict[str, Any]) -> list[str]:
    return [f"{i.path}: {i.message}" for i in admit(obj) if i.severity == "error"]


def test_aibrix_admission() -> None:
    assert _messages(_aibrix()) == []
    assert any("minReplicas cannot be greater" in m for m in _messages(_aibrix(minReplicas=9)))
    assert any(
        "panicWindowSeconds must be less than or equal" in m
        for m in _messages(_aibrix(observeWindowSeconds=30, panicWindowSeconds=60))
    )
    assert any("HPA" in m for m in _messages(_aibrix(scalingStrategy="HPA")))
    bad = _aibrix(
        metricsSources=[{"metricSourceType": "resource", "targetMetric": "gpu", "targetValue": "x"}]
    )
    msgs = _messages(bad)
    assert any("targetValue" in m for m in msgs) and any("'cpu' or 'memory'" in m for m in msgs)
    assert any("observeWindowSeconds" in m for m in _messages(_aibrix(observeWindowSeconds=0)))


def _knative(annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling.internal.knative.dev/v1alpha1",
        "kind": "PodAutoscaler",
        "metadata": {"name": "kpa", "annotations": annotations},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "llm-decode"}},
    }


def test_knative_admission_follows_the_annotation_webhook() -> None:
    g = "autoscaling.knative.dev/"
    assert (
        _messages(
            _knative(
                {
                    g + "target": "48",
                    g + "window": "60s",
                    g + "minScale": "1",
                    "scaler.bud.studio/role": "decode",
                }
            )
        )
        == []
    )
    cases = {
        g + "class": ("hpa.autoscaling.knative.dev", "only"),
        g + "metric": ("cpu", "concurrency"),
        g + "panic-threshold-percentage": ("100", "110"),
        g + "panic-window-percentage": ("0.5", "1 <= percentage"),
        g + "target": ("0.001", "at least 0.01"),
        g + "scale-down-delay": ("1.5s", "second precision"),
        g + "activation-scale": ("1", "at least 2"),
        g + "max-scale-up-rate": ("1", "greater than 1"),
        g + "windoww": ("60s", "did you mean 'window'"),
    }
    for key, (value, fragment) in cases.items():
        msgs = _messages(_knative({key: value}))
        assert any(fragment in m for m in msgs), (key, msgs)
    msgs = _messages(_knative({g + "min-scale": "5", g + "max-scale": "2"}))
    assert any("greater than max-scale" in m for m in msgs)

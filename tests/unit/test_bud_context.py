"""Scaling context: upstream defaults, spec settings, annotation overrides, ignored values (pkg/context)."""

from __future__ import annotations

from typing import Any

import pytest

from sim.decisions.bud.context import IgnoredSetting, IgnoredWhy, ScalingContext, scaling_context_from_scaler
from sim.decisions.bud.goparse import parse_duration_seconds, parse_float, parse_int32, quantity_as_float
from sim.decisions.bud.types import MetricSourceSpec, ScalingPolicy


def scaler(spec: dict[str, Any] | None = None, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    base: dict[str, Any] = {
        "maxReplicas": 10,
        "scalingStrategy": "BudScaler",
        "metricsSources": [{"metricSourceType": "pod", "targetMetric": "rps", "targetValue": "10"}],
    }
    base.update(spec or {})
    meta: dict[str, Any] = {"name": "s", "namespace": "ns"}
    if annotations is not None:
        meta["annotations"] = annotations
    return {"apiVersion": "scaler.bud.studio/v1alpha1", "kind": "BudAIScaler", "metadata": meta, "spec": base}


def test_defaults_match_upstream() -> None:
    ctx = scaling_context_from_scaler(scaler())
    assert (ctx.min_replicas, ctx.max_replicas) == (1, 10)
    assert (ctx.max_scale_up_rate, ctx.max_scale_down_rate) == (2.0, 0.5)
    assert (ctx.up_fluctuation_tolerance, ctx.down_fluctuation_tolerance) == (0.1, 0.1)
    assert (ctx.scale_up_cooldown_s, ctx.scale_down_cooldown_s) == (0.0, 300.0)
    assert (ctx.panic_threshold, ctx.panic_window_s, ctx.stable_window_s) == (2.0, 60.0, 180.0)
    assert (ctx.scale_to_zero, ctx.activation_scale) == (False, 1)
    assert (ctx.starting_pod_weight, ctx.max_starting_pods, ctx.max_starting_pod_percent) == (0.5, 0, 50)
    assert ctx.bypass_gate_on_panic is False
    assert (ctx.scale_up_select_policy, ctx.scale_down_select_policy) == ("Max", "Min")
    assert ctx.metric_sources == (MetricSourceSpec("rps", "10", "pod", ""),)
    assert dict(ctx.metric_targets) == {"rps": 10.0}
    assert ctx.ignored == ()
    assert ScalingContext() == ScalingContext()


def test_spec_behavior_is_read() -> None:
    ctx = scaling_context_from_scaler(
        scaler(
            {
                "minReplicas": 0,
                "behavior": {
                    "scaleUp": {
                        "stabilizationWindowSeconds": 30,
                        "maxScaleRate": "3",
                        "tolerance": "0.2",
                        "policies": [{"type": "Pods", "value": 2, "periodSeconds": 30}],
                        "selectPolicy": "Min",
                        "startingPods": {
                            "startingPodWeight": "0.25",
                            "maxStartingPods": 3,
                            "maxStartingPodPercent": 0,
                            "bypassGateOnPanic": True,
                        },
                    },
                    "scaleDown": {
                        "stabilizationWindowSeconds": 60,
                        "maxScaleRate": "0.75",
                        "tolerance": "0.3",
                        "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}],
                        "selectPolicy": "Disabled",
                    },
                },
                "gpuConfig": {"enabled": True, "gpuMemoryThreshold": 80, "gpuComputeThreshold": 85},
                "costConfig": {"enabled": True, "cloudProvider": "aws", "budgetPerHour": "500m"},
                "predictionConfig": {"enabled": True, "lookAheadMinutes": 5},
            }
        )
    )
    assert ctx.min_replicas == 0
    assert (ctx.scale_up_cooldown_s, ctx.scale_down_cooldown_s) == (30.0, 60.0)
    assert (ctx.max_scale_up_rate, ctx.max_scale_down_rate) == (3.0, 0.75)
    assert (ctx.up_fluctuation_tolerance, ctx.down_fluctuation_tolerance, ctx.tolerance()) == (0.2, 0.3, 0.2)
    assert ctx.scale_up_policies == (ScalingPolicy("Pods", 2, 30),)
    assert ctx.scale_down_policies == (ScalingPolicy("Percent", 50, 60),)
    assert (ctx.scale_up_select_policy, ctx.scale_down_select_policy) == ("Min", "Disabled")
    assert (ctx.starting_pod_weight, ctx.max_starting_pods, ctx.max_starting_pod_percent) == (0.25, 3, 0)
    assert ctx.bypass_gate_on_panic is True
    assert (ctx.gpu.enabled, ctx.gpu.memory_threshold, ctx.gpu.compute_threshold) == (True, 80, 85)
    assert (ctx.cost_config_present, ctx.cost.budget_per_hour, ctx.cost.cloud_provider) == (True, 0.5, "aws")
    assert (ctx.prediction_enabled, ctx.look_ahead_minutes) == (True, 5)


def test_annotations_override_spec_and_bad_values_are_ignored_but_listed() -> None:
    ctx = scaling_context_from_scaler(
        scaler(
            {"behavior": {"scaleUp": {"maxScaleRate": "fast", "stabilizationWindowSeconds": 30}}},
            {
                "scaler.bud.studio/max-scale-up-rate": "4",
                "scaler.bud.studio/max-scale-down-rate": "0.25",
                "scaler.bud.studio/scale-up-tolerance": "1_0",
                "scaler.bud.studio/scale-down-tolerance": "0.05",
                "scaler.bud.studio/scale-up-cooldown": "1m30s",
                "scaler.bud.studio/scale-down-cooldown": "10",
                "scaler.bud.studio/panic-threshold": "150",
                "scaler.bud.studio/panic-window": "30s",
                "scaler.bud.studio/stable-window": "1.5m",
                "scaler.bud.studio/scale-to-zero": "True",
                "scaler.bud.studio/activation-scale": "3",
                "scaler.bud.studio/target-rps": "20",
                "scaler.bud.studio/cost-max-hourly": "50",
                "scaler.bud.studio/max-scale-rate": "2",
            },
        )
    )
    assert (ctx.max_scale_up_rate, ctx.max_scale_down_rate) == (4.0, 0.25)
    assert (ctx.up_fluctuation_tolerance, ctx.down_fluctuation_tolerance) == (0.1, 0.05)
    assert (ctx.scale_up_cooldown_s, ctx.scale_down_cooldown_s) == (90.0, 300.0)
    assert (ctx.panic_threshold, ctx.panic_window_s, ctx.stable_window_s) == (150.0, 30.0, 90.0)
    assert (ctx.scale_to_zero, ctx.activation_scale) == (False, 3)
    assert dict(ctx.metric_targets) == {"rps": 10.0}  # target-* annotations are never read upstream
    a = 'metadata.annotations["scaler.bud.studio/'
    assert [(i.path, i.value, i.why) for i in ctx.ignored] == [
        ("spec.behavior.scaleUp.maxScaleRate", "fast", IgnoredWhy.UNPARSABLE),
        (a + 'cost-max-hourly"]', "50", IgnoredWhy.NOT_READ),
        (a + 'max-scale-rate"]', "2", IgnoredWhy.UNKNOWN),
        (a + 'scale-down-cooldown"]', "10", IgnoredWhy.UNPARSABLE),
        (a + 'scale-to-zero"]', "True", IgnoredWhy.UNPARSABLE),
        (a + 'scale-up-tolerance"]', "1_0", IgnoredWhy.UNPARSABLE),
        (a + 'target-rps"]', "20", IgnoredWhy.NOT_READ),
    ]
    assert isinstance(ctx.ignored[0], IgnoredSetting)
    assert ctx.ignored[3].expected == 'a Go duration (time.ParseDuration), e.g. "30s", "5m"'


def test_unparsable_target_value_is_listed() -> None:
    ctx = scaling_context_from_scaler(
        scaler({"metricsSources": [{"targetMetric": "q", "targetValue": "5%"}]})
    )
    assert dict(ctx.metric_targets) == {}
    assert [(i.path, i.value) for i in ctx.ignored] == [("spec.metricsSources[0].targetValue", "5%")]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1.0),
        ("+1.5", 1.5),
        (".5", 0.5),
        ("5.", 5.0),
        ("1e3", 1000.0),
        ("0x1p-2", 0.25),
        ("Inf", float("inf")),
        ("-infinity", float("-inf")),
        ("1e400", None),
        ("1_0", None),
        (" 1", None),
        ("+nan", None),
        ("", None),
        ("1e", None),
        ("70%", None),
    ],
)
def test_go_parse_float(text: str, value: float | None) -> None:
    assert parse_float(text) == value


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("30s", 30.0),
        ("1m30s", 90.0),
        ("1.5h", 5400.0),
        ("300ms", 0.3),
        ("-5s", -5.0),
        ("1.s", 1.0),
        ("2\u00b5s", 2e-6),
        ("5", None),
        (".s", None),
        ("", None),
        ("1d", None),
        ("5 m", None),
    ],
)
def test_go_parse_duration(text: str, seconds: float | None) -> None:
    assert parse_duration_seconds(text) == seconds


def test_go_parse_int32_and_quantity() -> None:
    assert [parse_int32(s) for s in ["3", "+3", "-2", "2147483647", "2147483648", "3.0", " 3", ""]] == [
        3,
        3,
        -2,
        2147483647,
        None,
        None,
        None,
        None,
    ]
    assert [quantity_as_float(q) for q in ["10", "500m", "1k", "1Ki", "1e2", 7, "ten"]] == [
        10.0,
        0.5,
        1000.0,
        1024.0,
        100.0,
        7.0,
        None,
    ]

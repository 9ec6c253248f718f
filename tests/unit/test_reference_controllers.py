"""The reference autoscalers drive a role end to end: Knative's KPA and AIBrix's PodAutoscaler scale the
decode role of the comparison scenario on the Azure trace (first 9 simulated minutes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario.load import load_scenario
from sim.scenario.world import World

ROOT = Path(__file__).resolve().parents[2]


def _world(name: str, profile: str | None = None, until: float = 540.0) -> World:
    world = World(load_scenario(ROOT / "scenarios" / f"compare-{name}.yaml", until=until, profile=profile))
    world.build()
    world.run()
    return world


def _decisions(world: World, actor: str) -> list[dict]:
    return [e for e in world.event_log() if e.get("actor") == actor and e.get("event") == "decision"]


def test_knative_kpa_scales_decode_up_and_is_not_stored() -> None:
    world = _world("knative")
    assert world.api.all_objects("PodAutoscaler") == []  # held by its controller
    decisions = _decisions(world, "knative-kpa")
    assert any(d["scaled"] and d["desired"] > d["current"] for d in decisions)
    assert all(d["target"] == "DisaggregatedService/default/llm-pipeline/decode" for d in decisions)
    summary = world.autoscaler_summary()["PodAutoscaler.knative/default/decode-kpa"]
    assert summary["strategy"] == "Knative KPA" and summary["decider"]["targetValue"] == 48.0
    ups = [e for e in world.recorder.scale_events if e["role"] == "decode" and e["to"] > e["from"]]
    assert ups


@pytest.mark.parametrize("strategy", ["kpa", "apa"])
def test_aibrix_podautoscaler_scales_decode_and_writes_status(strategy: str) -> None:
    world = _world(f"aibrix-{strategy}")
    (pa,) = world.api.all_objects("PodAutoscaler")
    status = pa["status"]
    assert status["desiredScale"] >= 1
    assert {c["type"] for c in status["conditions"]} == {"AbleToScale", "ScalingActive"}
    decisions = _decisions(world, "aibrix-podautoscaler-controller")
    assert decisions and {
        d["algorithm"] for d in decisions if d["algorithm"] not in ("", "boundary-check")
    } == {strategy}
    assert any(d["scaled"] for d in decisions)


def test_runs_are_deterministic() -> None:
    a = _world("knative", until=240.0)
    b = _world("knative", until=240.0)
    assert list(a.event_log()) == list(b.event_log())


def test_knative_kpa_on_the_role_deployment(tmp_path: Path) -> None:
    """scaleTargetRef = the role's Deployment `<ds>-<role>` (Knative's own shape); under `corrected` the
    DisaggregatedService controller leaves the autoscaled replicas alone."""
    import yaml

    pa = yaml.safe_load((ROOT / "scenarios" / "manifests" / "compare-decode-knative.yaml").read_text())
    pa["metadata"]["annotations"].pop("scaler.bud.studio/role")
    pa["spec"]["scaleTargetRef"] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "llm-pipeline-decode",
    }
    (tmp_path / "pa.yaml").write_text(yaml.safe_dump(pa))
    scenario = yaml.safe_load((ROOT / "scenarios" / "compare-knative.yaml").read_text())
    scenario["manifests"] = [
        {"path": str(ROOT / "scenarios" / "manifests" / "compare-pipeline.yaml")},
        {"path": str(tmp_path / "pa.yaml")},
    ]
    scenario["workload"]["trace"] = str(ROOT / "scenarios" / "traces" / "AzureLLMInferenceTrace_conv.csv")
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(scenario))
    world = World(load_scenario(tmp_path / "s.yaml", until=480.0, profile="corrected", allow_outside=True))
    world.build()
    world.run()
    decisions = _decisions(world, "knative-kpa")
    assert decisions and all(d["target"] == "Deployment/default/llm-pipeline-decode" for d in decisions)
    dep = world.api.peek("Deployment", "default", "llm-pipeline-decode")
    assert any(d["scaled"] and d["write"] == "ok" for d in decisions)
    assert dep["spec"]["replicas"] >= 1


def test_knative_scales_a_role_to_zero_and_back_through_the_activator(tmp_path: Path) -> None:
    """min-scale 0: idle for a stable window -> Inactive -> after the grace period 0 replicas; requests
    buffered in front of the role (the activator's share of the concurrency) bring it back."""
    import shutil

    import yaml

    shutil.copy(ROOT / "scenarios" / "manifests" / "compare-pipeline.yaml", tmp_path / "pipeline.yaml")
    pa = yaml.safe_load((ROOT / "scenarios" / "manifests" / "compare-decode-knative.yaml").read_text())
    pa["metadata"]["annotations"]["autoscaling.knative.dev/min-scale"] = "0"
    (tmp_path / "pa.yaml").write_text(yaml.safe_dump(pa))
    scenario = {
        "apiVersion": "dsim/v1",
        "kind": "Scenario",
        "name": "knative-scale-to-zero",
        "seed": 5,
        "duration": "10m",
        "profile": "corrected",
        "cluster": {"nodePools": [{"name": "gpu", "count": 2, "cpu": "64", "memory": "512Gi", "gpus": 8}]},
        "manifests": [{"path": "pipeline.yaml"}, {"path": "pa.yaml"}],
        "lifecycle": {"decode": {"ready": {"distribution": "constant", "value": 20}}},
        "workload": {
            "synthetic": {
                "shape": "phases",
                "rate": 2,
                "phases": [{"at": "4m", "rate": 0}, {"at": "8m", "rate": 2}],
                "inputTokens": 256,
                "outputTokens": 64,
            },
            "startAt": "2m",
            "queueTimeout": "2m",
        },
    }
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(scenario))
    world = World(load_scenario(tmp_path / "s.yaml"))
    world.build()
    world.run()
    decode = [e for e in world.recorder.scale_events if e["role"] == "decode"]
    to_zero = [e["t"] for e in decode if e["to"] == 0]
    from_zero = [e["t"] for e in decode if e["from"] == 0 and e["to"] > 0]
    assert len(to_zero) == 2 and len(from_zero) == 2  # before the first traffic, and in the idle phase
    assert to_zero[1] < 480.0 < from_zero[1] < 500.0  # woken within seconds of the traffic coming back
    assert world.request_counts()["dropped"] == 0

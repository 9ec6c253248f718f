"""The world's wiring details: synthetic shapes in scenario time, metrics outages, scale events
and role readiness recorded from the API server's audit log."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from model.scenario import Synthetic
from sim.scenario.load import load_scenario
from sim.scenario.world import World, synthetic_arrivals

ROOT = Path(__file__).resolve().parents[2]


def test_synthetic_step_is_in_scenario_time_and_silent_before_start() -> None:
    shape = Synthetic.model_validate({"shape": "step", "rate": 2, "peakRate": 20, "at": 60})
    times = [a.t for a in synthetic_arrivals(shape, 30.0, 120.0, np.random.Generator(np.random.PCG64(1)))]
    assert min(times) >= 30.0 and max(times) < 120.0
    before = sum(1 for t in times if t < 60)
    after = sum(1 for t in times if t >= 60)
    assert 30 <= before <= 100  # about 2/s over 30 s
    assert 900 <= after <= 1500  # about 20/s over 60 s


def test_phases_and_multiplier() -> None:
    shape = Synthetic.model_validate(
        {"shape": "phases", "rate": 0, "phases": [{"at": 10, "rate": 5}, {"at": 20, "rate": 0}]}
    )
    times = [a.t for a in synthetic_arrivals(shape, 0.0, 40.0, np.random.Generator(np.random.PCG64(2)), 2.0)]
    assert all(10 <= t < 20 for t in times)
    assert 70 <= len(times) <= 130  # 10/s for 10 s


SCENARIO = """\
apiVersion: dsim/v1
kind: Scenario
name: outage
seed: 4
duration: 60
manifests:
  - path: manifests/per-role-autoscaling.yaml
workload:
  synthetic: {shape: constant, rate: 20, inputTokens: 128, outputTokens: 0}
faults:
  - {type: metricsOutage, at: 20, until: 40, role: inference}
  - {type: killPods, at: 30, role: tokenizer, count: 1}
"""


@pytest.fixture
def world(tmp_path: Path) -> World:
    (tmp_path / "manifests").mkdir()
    shutil.copy(ROOT / "scenarios" / "manifests" / "per-role-autoscaling.yaml", tmp_path / "manifests")
    (tmp_path / "s.yaml").write_text(SCENARIO)
    w = World(load_scenario(tmp_path / "s.yaml"))
    w.build()
    w.run()
    return w


def test_outage_silences_only_the_role_and_window(world: World) -> None:
    inference = sorted(n for (_, n), p in world.recorder.pods.items() if p.role == "inference" and p.ready)
    router = sorted(n for (_, n), p in world.recorder.pods.items() if p.role == "router" and p.ready)
    assert world.metrics_outage(inference[0], 25.0)
    assert not world.metrics_outage(inference[0], 40.0)
    assert not world.metrics_outage(router[0], 25.0)
    decisions = [
        e
        for e in world.event_log()
        if e.get("event") == "decision" and e.get("scaler") == "default/inference-scaler"
    ]
    in_outage = [e for e in decisions if 20 <= e["t"] < 40]
    assert in_outage and all(e["details"]["reasonCode"] == "NoMetrics" for e in in_outage)
    outside = [e for e in decisions if e["t"] >= 40]
    assert outside and all(e["details"]["reasonCode"] != "NoMetrics" for e in outside)


def test_kill_pods_fault_is_recorded_and_the_pod_replaced(world: World) -> None:
    events = list(world.event_log())
    [fault] = [e for e in events if e["type"] == "fault" and e["fault"] == "killPods"]
    assert fault["t"] == 30.0 and len(fault["pods"]) == 1
    killed = fault["pods"][0][0]
    assert any(
        e["type"] == "pod" and e["pod"] == killed and e["phase"] in ("Terminating", "Deleted") for e in events
    )
    assert world.recorder.roles["tokenizer"].ready >= 1
    ready = world.recorder.first_ready
    assert all(t is not None for t in ready.values())
    assert ready["inference"] > ready["tokenizer"]  # type: ignore[operator]  # inference dependsOn tokenizer

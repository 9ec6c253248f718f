"""`restartController` fault in a scenario: the BudAIScaler controller loses its in-memory
prediction and learning state; under `corrected` it reads its learning ConfigMap back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from sim.scenario.load import load_scenario
from sim.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = """\
apiVersion: dsim/v1
kind: Scenario
name: restart
seed: 16
duration: 40m
sampleInterval: 60
cluster:
  nodePools:
    - {name: gpu, count: 1, cpu: "64", memory: 512Gi, gpus: 8}
    - {name: cpu, count: 1, cpu: "32", memory: 128Gi}
manifests:
  - path: manifests/predictive-scaling.yaml
services:
  tokenizer: {tokensPerS: 2000}
  inference: {secondsPerToken: 0.008}
workload:
  synthetic: {shape: constant, rate: 0.5, inputTokens: 256, outputTokens: 0}
faults:
  - {type: restartController, at: 20m}
"""


@pytest.mark.parametrize("profile", ["upstream", "corrected"])
def test_restart_fault_drops_memory_and_reloads_the_config_map(profile: str, tmp_path: Path) -> None:
    (tmp_path / "manifests").mkdir()
    shutil.copy(ROOT / "scenarios" / "manifests" / "predictive-scaling.yaml", tmp_path / "manifests")
    scenario = tmp_path / "restart.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    result = run_scenario(load_scenario(scenario, profile=profile), tmp_path / "out", render=False)
    assert result.error is None
    events = [json.loads(line) for line in (tmp_path / "out" / "events.jsonl").read_text().splitlines()]
    faults = [e for e in events if e.get("type") == "fault"]
    assert faults == [
        {"t": 1200.0, "type": "fault", "fault": "restartController", "controller": "budaiscaler"}
    ]
    decisions = [e for e in events if e.get("event") == "decision" and "prediction" in e]
    after = [e for e in decisions if e["t"] > 1200.0]
    before = [e for e in decisions if e["t"] < 1200.0]
    # the predictor's history starts again from nothing after the restart (never stored upstream)
    assert before[-1]["prediction"]["historySize"] > 100
    assert after[0]["prediction"]["historySize"] == 1
    loaded = [e for e in events if e.get("event") == "learning-loaded"]
    if profile == "upstream":
        assert loaded == []  # no ConfigMap was ever written
    else:
        assert [e["loaded"] for e in loaded] == [True] and loaded[0]["t"] > 1200.0

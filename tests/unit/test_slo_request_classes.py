"""Per-class SLOs carried by the workload's request classes (`workload.classes[].slo`) are judged by
the SLO layer: attainment per class in summary.json, the class thresholds replacing the top-level
ones for the class's requests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from sim.scenario.answers import effective_slo
from sim.scenario.load import load_scenario
from sim.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parents[2]


def _scenario(tmp_path: Path, slo: dict[str, Any] | None) -> Path:
    (tmp_path / "manifests").mkdir(exist_ok=True)
    shutil.copy(ROOT / "scenarios" / "manifests" / "llm-prefill-decode.yaml", tmp_path / "manifests")
    doc: dict[str, Any] = {
        "apiVersion": "dsim/v1",
        "kind": "Scenario",
        "name": "classes",
        "seed": 3,
        "duration": "5m",
        "cluster": {"nodePools": [{"name": "gpu", "count": 2, "cpu": "64", "memory": "512Gi", "gpus": 8}]},
        "manifests": [{"path": "manifests/llm-prefill-decode.yaml"}],
        "workload": {
            "startAt": "2m",
            "synthetic": {"shape": "constant", "rate": 2, "inputTokens": 512, "outputTokens": 64},
            "classes": [
                {"name": "chat", "weight": 0.7, "slo": {"ttftSeconds": 0.000001, "percentile": 95}},
                {"name": "batch", "weight": 0.3, "slo": {"ttftSeconds": 600}},
            ],
        },
    }
    if slo is not None:
        doc["slo"] = slo
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def test_class_slos_without_a_top_level_slo(tmp_path: Path) -> None:
    resolved = load_scenario(_scenario(tmp_path, None))
    slo = effective_slo(resolved.scenario)
    assert slo is not None and set(slo.classes) == {"chat", "batch"}
    assert slo.classes["chat"].ttft.percentile == 95 and slo.classes["batch"].ttft.percentile == 99
    summary = run_scenario(resolved, tmp_path / "run", render=False).summary
    classes = summary["slo"]["classes"]
    assert classes["chat"] == 0.0  # an impossible 1 µs TTFT
    assert classes["batch"] == 1.0
    assert summary["slo"]["target"] == 0.99 and summary["slo"]["met"] is False


def test_the_slo_block_names_a_class_first(tmp_path: Path) -> None:
    resolved = load_scenario(
        _scenario(tmp_path, {"e2e": {"p99": 60}, "classes": {"chat": {"ttft": {"p99": 5}}}})
    )
    slo = effective_slo(resolved.scenario)
    assert slo is not None
    assert slo.classes["chat"].ttft.seconds == 5  # the slo block wins over the class's own
    assert slo.classes["batch"].ttft.seconds == 600
    assert slo.e2e is not None and slo.e2e.seconds == 60

"""Every shipped scenario's wall time (issue 8: each under 30 s on this machine) and the Azure
conversation replay's speed in simulated seconds per wall second, measured through the same
runner `dsim run` uses (plots and report included in the wall time)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sim.scenario.load import load_scenario
from sim.scenario.runner import run_scenario

ROOT = Path(__file__).resolve().parents[1]


def run() -> dict[str, dict[str, object]]:
    figures: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted((ROOT / "scenarios").glob("*.yaml")):
            resolved = load_scenario(path)
            start = time.perf_counter()
            result = run_scenario(resolved, Path(tmp) / path.stem)
            wall = time.perf_counter() - start
            key = path.stem.replace("-", "_")
            figures[f"scenarios.{key}.wall_s"] = {"value": round(wall, 3), "unit": "s", "target": "< 30"}
            if path.stem == "azure-conversation-replay":
                figures["scenarios.azure_conversation_replay.speedup"] = {
                    "value": round(float(result.summary["speedup"] or 0.0), 1),
                    "unit": "sim s / wall s",
                    "target": "reported (simulation only, without plots)",
                }
    return figures


if __name__ == "__main__":
    for name, fig in run().items():
        print(f"{name}: {fig['value']} {fig['unit']} (target {fig['target']})")

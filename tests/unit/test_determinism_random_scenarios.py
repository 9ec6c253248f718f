"""Determinism: random scenarios (role DAGs, scaler sets, load shapes and fault schedules drawn by the
plugin's strategies) run twice in separate processes, with different PYTHONHASHSEEDs, give
identical digests (events.jsonl + timeseries.csv, as summary.json computes them).

Both processes run the same few scenarios through the scenario World (no plots), so the whole test
costs two interpreter start-ups per example."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from model.yamlio import dump_documents
from sim.testing.export import counterexample_document
from sim.testing.strategies import disaggregated_service, fault_schedules, load_traces, role_dags, scaler_sets

NODES = ("pool-0", "pool-1", "pool-2")
DURATION = 90.0

RUNNER = """
import json, sys
from sim.report.summary import compute_digest
from sim.scenario.load import load_scenario
from sim.scenario.world import World
out = {}
for path in sys.argv[1:]:
    world = World(load_scenario(path))
    world.build()
    world.run()
    out[path] = compute_digest(world.event_log().to_bytes(), world.timeseries().to_csv_bytes())
print(json.dumps(out, sort_keys=True))
"""


@st.composite
def scenario_docs(draw: st.DrawFn, index: int) -> dict[str, Any]:
    roles = draw(role_dags(max_roles=3, max_replicas=2))
    names = [r["name"] for r in roles]
    manifests = [disaggregated_service("pipe", roles), *draw(scaler_sets("pipe", names, max_size=2))]
    doc = counterexample_document(
        name=f"random-{index}",
        manifests=manifests,
        seed=draw(st.integers(0, 2**31)),
        duration=DURATION,
        profile=draw(st.sampled_from(["upstream", "corrected"])),
        invariants=["request_conservation"],
        workload=draw(load_traces(max_rate=20, duration=DURATION)),
        faults=draw(fault_schedules(duration=DURATION, roles=names, nodes=NODES, max_faults=2)),
    )
    doc["cluster"] = {"nodePools": [{"name": "pool", "count": len(NODES), "cpu": "32", "memory": "128Gi"}]}
    doc["workload"]["target"] = "pipe"
    return doc


def _digests(paths: list[Path], hashseed: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONHASHSEED": hashseed}
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, *map(str, paths)], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr
    result: dict[str, str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


@settings(
    max_examples=2,
    deadline=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.generate),  # two interpreters per example: never shrink for minutes
    suppress_health_check=list(HealthCheck),
)
@given(docs=st.tuples(scenario_docs(0), scenario_docs(1), scenario_docs(2)))
def test_random_scenarios_identical_digests_across_processes(docs: tuple[dict[str, Any], ...]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for doc in docs:
            path = Path(tmp) / f"{doc['name']}.yaml"
            path.write_text(dump_documents([doc]), encoding="utf-8")
            paths.append(path)
        first = _digests(paths, "1")
        second = _digests(paths, "12345")
    assert first == second
    assert sorted(first) == sorted(map(str, paths))

"""Golden timelines of the DisaggregatedService controller on the simulated cluster (default nodes,
default lifecycle stages): exact order and simulated time of every Deployment and Service the
controller creates, of each role's Deployment turning Ready (under the run's readiness rule), and of
the service's phase.

Regenerate after a reviewed behaviour change with `DSIM_UPDATE_GOLDEN=1 pytest tests/golden/test_ds_golden.py`
and review the diff of tests/golden/ds/*.txt like code."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from model.admission import admit
from model.quirks import Quirk, QuirkSet
from sim.apiserver import APIServer, WatchEvent, WatchEventType
from sim.clock import Simulation
from sim.cluster import start_cluster
from sim.controllers.disaggregated import start_disaggregated_controller
from sim.decisions.disaggregated import CONTROLLER_NAME, deployment_ready
from sim.runtime import InformerFactory

GOLDEN = Path(__file__).parent / "ds"
UPDATE = os.environ.get("DSIM_UPDATE_GOLDEN") == "1"

EMBEDDING = {
    "name": "embedding-pipeline",
    "serviceType": "Embedding",
    "roles": [
        {"name": "router", "roleType": "Router", "replicas": 1},
        {"name": "tokenizer", "roleType": "Tokenizer", "replicas": 2},
        {"name": "inference", "roleType": "Inference", "replicas": 3, "dependsOn": ["tokenizer"]},
    ],
}

PREFILL_DECODE = {
    "name": "llm-pd",
    "serviceType": "LLM",
    "roles": [
        {"name": "prefill", "roleType": "Prefill", "replicas": 2, "service": {"port": 8000}},
        {
            "name": "decode",
            "roleType": "Decode",
            "replicas": 4,
            "dependsOn": ["prefill"],
            "service": {"port": 8000},
        },
        {"name": "router", "roleType": "Router", "replicas": 1, "dependsOn": ["prefill", "decode"]},
    ],
}

SCALE_TO_ZERO = {
    "name": "emb-zero",
    "serviceType": "Embedding",
    "roles": [
        {"name": "router", "roleType": "Router", "replicas": 1},
        {"name": "tokenizer", "roleType": "Tokenizer", "replicas": 0},
        {"name": "inference", "roleType": "Inference", "replicas": 3, "dependsOn": ["tokenizer"]},
    ],
}
"""The review's case: a scaled-to-zero dependency. `upstream` never starts inference."""


def _check_golden(path: Path, text: str) -> None:
    if UPDATE:
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}; run with DSIM_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text()


PIPELINES = {"embedding": EMBEDDING, "prefill-decode": PREFILL_DECODE, "scale-to-zero": SCALE_TO_ZERO}


class Timeline:
    """Zero-latency watches on Deployments and the DisaggregatedService plus the audit log's creates,
    merged in resourceVersion order (one global counter, so the order is the server's write order)."""

    def __init__(self, sim: Simulation, api: APIServer, quirks: QuirkSet) -> None:
        self.api = api
        self.events: list[tuple[int, float, str, str]] = []
        self._nonzero = Quirk.DS_READY_REQUIRES_NONZERO in quirks
        self._ready: dict[str, bool] = {}
        self._phase: str | None = None
        self._sim = sim
        self._created: dict[int, str] = {}
        api.watch("Deployment", self._on_deployment, name="golden-deployments")
        api.watch("Service", self._on_service, name="golden-services")
        api.watch("DisaggregatedService", self._on_ds, name="golden-ds")

    def _on_service(self, ev: WatchEvent) -> None:
        if ev.type is WatchEventType.ADDED:
            spec = ev.obj["spec"]
            mode = "headless" if spec.get("clusterIP") == "None" else "ClusterIP"
            ports = ",".join(f"{p['port']}->{p['targetPort']}" for p in spec.get("ports", []))
            self._created[int(ev.obj["metadata"]["resourceVersion"])] = (
                f"{ev.obj['metadata']['name']} {mode} {ports}"
            )

    def _add(self, obj: dict[str, Any], what: str, detail: str) -> None:
        self.events.append((int(obj["metadata"]["resourceVersion"]), self._sim.now, what, detail))

    def _on_deployment(self, ev: WatchEvent) -> None:
        name = ev.obj["metadata"]["name"]
        if ev.type is WatchEventType.ADDED:
            rv = int(ev.obj["metadata"]["resourceVersion"])
            self._created[rv] = f"{name} replicas={ev.obj['spec']['replicas']}"
        ready = ev.type is not WatchEventType.DELETED and deployment_ready(
            ev.obj, requires_nonzero=self._nonzero
        )
        if ready != self._ready.get(name, False):
            st = ev.obj.get("status") or {}
            self._add(
                ev.obj,
                "ready" if ready else "not-ready",
                f"{name} ready={st.get('readyReplicas', 0)}/{ev.obj['spec']['replicas']}",
            )
        self._ready[name] = ready

    def _on_ds(self, ev: WatchEvent) -> None:
        phase = (ev.obj.get("status") or {}).get("phase")
        if phase is not None and phase != self._phase:
            self._phase = phase
            self._add(ev.obj, "phase", phase)

    def lines(self) -> list[str]:
        rows = list(self.events)
        for e in self.api.audit.entries:
            if e.actor != CONTROLLER_NAME or e.result != "ok" or e.kind not in ("Deployment", "Service"):
                continue
            if e.verb != "create":
                fields = ",".join(f for f in e.changed_fields if not f.startswith("metadata."))
                rv = int(e.rv_after) if e.rv_after is not None else int(e.rv_before or 0)
                rows.append((rv, e.t, f"{e.verb} {e.kind}", f"{e.name} {fields}".rstrip()))
                continue
            rv = int(e.rv_after or 0)
            rows.append((rv, e.t, f"create {e.kind}", self._created[rv]))
        return [f"{t:9.3f}  {what:<18} {detail}" for _, t, what, detail in sorted(rows)]


def run_pipeline(
    pipeline: dict[str, Any],
    quirks: QuirkSet,
    until: float = 120.0,
    edits: tuple[tuple[float, Any], ...] = (),
) -> tuple[list[str], APIServer]:
    """Bring `pipeline` up; each edit (t, fn) runs fn(spec) on the stored service's spec at time t."""
    sim = Simulation(20260101)
    api = APIServer(sim, admission=admit)
    informers = InformerFactory(sim, api)
    start_cluster(sim, api, informers)
    timeline = Timeline(sim, api, quirks)
    start_disaggregated_controller(sim, api, informers, quirks=quirks)
    api.create(
        {
            "apiVersion": "scaler.bud.studio/v1alpha1",
            "kind": "DisaggregatedService",
            "metadata": {"name": pipeline["name"], "namespace": "default"},
            "spec": {"serviceType": pipeline["serviceType"], "roles": pipeline["roles"]},
        },
        actor="test",
    )
    for t, edit in edits:
        sim.run(until=t)
        ds = api.get("DisaggregatedService", "default", pipeline["name"])
        edit(ds["spec"])
        api.update(ds, actor="user")
    sim.run(until=until)
    return timeline.lines(), api


@pytest.mark.parametrize("profile", ["corrected", "upstream"])
@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
def test_ds_golden_timeline(pipeline: str, profile: str) -> None:
    lines, api = run_pipeline(PIPELINES[pipeline], QuirkSet(profile))
    text = "\n".join(lines) + "\n"
    path = GOLDEN / f"{pipeline}-{profile}.txt"
    _check_golden(path, text)
    # the controller made only creates and status writes: nothing to fix up on a healthy cluster
    verbs = {
        (e.verb, e.subresource) for e in api.audit.entries if e.actor == CONTROLLER_NAME and e.result == "ok"
    }
    assert verbs == {("create", None), ("update", "status")}


def _rescale_and_retemplate(spec: dict[str, Any]) -> None:
    spec["roles"][2]["replicas"] = 5
    spec["roles"][1]["template"] = {"spec": {"containers": [{"name": "tokenizer", "image": "tok:v2"}]}}


def _add_reranker(spec: dict[str, Any]) -> None:
    spec["roles"].append(
        {"name": "reranker", "roleType": "Custom", "replicas": 1, "dependsOn": ["inference"]}
    )


def _remove_router(spec: dict[str, Any]) -> None:
    spec["roles"] = [r for r in spec["roles"] if r["name"] != "router"]


@pytest.mark.parametrize("profile", ["corrected", "upstream"])
def test_ds_golden_spec_changes(profile: str) -> None:
    """Rescale + new template (rolling update) at 30 s, a role added at 60 s, a role removed at 90 s."""
    edits = ((30.0, _rescale_and_retemplate), (60.0, _add_reranker), (90.0, _remove_router))
    lines, _ = run_pipeline(EMBEDDING, QuirkSet(profile), until=150.0, edits=edits)
    text = "\n".join(lines) + "\n"
    path = GOLDEN / f"spec-changes-{profile}.txt"
    _check_golden(path, text)

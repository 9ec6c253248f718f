"""Scale-down ranking (ActivePodsWithRanks) and the lifecycle stage files."""

from __future__ import annotations

from typing import Any

import pytest

from model.errors import InputError
from sim.apiserver import APIServer
from sim.clock import Simulation
from sim.cluster.deployment_controller import DeploymentReconciler, resolve_fenceposts, template_hash
from sim.cluster.stages import LifecycleState, default_stages, parse_stages, role_overrides
from sim.runtime import InformerFactory


def pod(
    name: str,
    node: str = "",
    phase: str = "Pending",
    ready_at: str | None = None,
    created: str = "00",
    restarts: int = 0,
) -> dict[str, Any]:
    conds = []
    if ready_at is not None:
        conds.append(
            {"type": "Ready", "status": "True", "lastTransitionTime": f"2026-01-01T00:00:{ready_at}Z"}
        )
    return {
        "metadata": {"name": name, "namespace": "ns", "creationTimestamp": f"2026-01-01T00:00:{created}Z"},
        "spec": {"nodeName": node} if node else {},
        "status": {"phase": phase, "conditions": conds, "containerStatuses": [{"restartCount": restarts}]},
    }


def test_scale_down_ranking_order() -> None:
    sim = Simulation(seed=1)
    api = APIServer(sim)
    rec = DeploymentReconciler(sim, api, InformerFactory(sim, api))
    pods = [
        pod("ready-old", "n1", "Running", ready_at="10", created="01"),
        pod("ready-new", "n2", "Running", ready_at="20", created="02"),
        pod("running-not-ready", "n3", "Running", created="03"),
        pod("pending-bound", "n4", "Pending", created="04"),
        pod("unscheduled", "", "Pending", created="05"),
        pod("ready-restarts", "n5", "Running", ready_at="10", created="01", restarts=3),
        pod("doubled-a", "n6", "Running", ready_at="10", created="01"),
        pod("doubled-b", "n6", "Running", ready_at="10", created="00"),
    ]
    ranked = [p["metadata"]["name"] for p in rec._rank(pods, pods)]
    assert ranked == [
        "unscheduled",  # unassigned first
        "pending-bound",  # Pending before Running
        "running-not-ready",  # not ready before ready
        "doubled-a",  # more pods of the group on its node
        "doubled-b",
        "ready-new",  # ready for less time
        "ready-restarts",  # more restarts
        "ready-old",
    ]


def test_fenceposts_round_surge_up_and_unavailable_down() -> None:
    def d(replicas: int, surge: Any, unavailable: Any) -> dict[str, Any]:
        return {
            "spec": {
                "replicas": replicas,
                "strategy": {"rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}},
            }
        }

    assert resolve_fenceposts(d(10, "25%", "25%")) == (3, 2)
    assert resolve_fenceposts(d(3, "25%", "25%")) == (1, 0)
    assert resolve_fenceposts(d(3, 0, 0)) == (0, 1)


def test_template_hash_is_stable_and_safe() -> None:
    t = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    h = template_hash(t)
    assert h == template_hash(dict(reversed(list(t.items()))))
    assert set(h) <= set("bcdfghjklmnpqrstvwxz2456789")
    assert template_hash(t, collision_count=1) != h


def test_default_stage_set_and_role_overrides() -> None:
    s = default_stages()
    assert [st.name for st in s.stages] == [
        "schedule",
        "image-pull",
        "container-start",
        "crash",
        "ready",
        "crash-ready",
        "termination",
    ]
    r = role_overrides(
        s, {"decode": {"ready": {"distribution": "constant", "value": 240}, "crashProbability": 0.2}}
    )
    got = [
        (st.name, st.probability, st.delay.value)
        for st in r.candidates(LifecycleState.RUNNING, {"scaler.bud.studio/role": "decode"})
    ]
    assert got == [("crash", 0.2, 5.0), ("ready", 1.0, 240.0)]


def test_bad_stage_file_names_path_and_allowed_values() -> None:
    with pytest.raises(InputError) as err:
        parse_stages({"stages": [{"name": "x", "from": "Runing", "to": "Ready"}]}, source="my.yaml")
    text = str(err.value)
    assert text.startswith("my.yaml: stages[0].from:")
    assert "Running" in text
    with pytest.raises(InputError, match="unknown lifecycle stage 'warmup'"):
        role_overrides(default_stages(), {"decode": {"warmup": {"distribution": "constant", "value": 1}}})

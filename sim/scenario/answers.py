"""The answers of a run: does it meet its SLO, at what cost, and what went wrong.

Two halves: recording hooks the world calls while it runs (`record_completion`,
`record_sample`: per-request latencies and per-pod load snapshots, kept beside the time series so
the run digest is unchanged), and `answers(world)`, which turns what was recorded into
summary.json's `slo`, `cost`, `findings` and `latency_over_time` blocks through the pure functions
of sim/report/slo.py, sim/report/cost.py and sim/findings/."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sim.report.slo import RequestRecord

if TYPE_CHECKING:
    from sim.scenario.world import World

LOWER_BOUND_WINDOW = 60.0
"""Seconds per window of the oracle lower bound (at least the attainment window)."""


def record_completion(world: World, req: Any) -> None:
    first = req.first_token_at if req.first_token_at >= 0 else req.completed_at
    tpot = None
    if req.output_tokens > 1 and req.completed_at > first:
        tpot = (req.completed_at - first) / (req.output_tokens - 1)
    at_role = {
        role: stamps[2] - stamps[0]
        for role, stamps in req.stamps.items()
        if stamps[2] >= 0 and stamps[0] >= 0
    }
    world.answer_records.append(
        RequestRecord(
            done=float(req.completed_at),
            ttft=float(first - req.arrival),
            tpot=tpot,
            e2e=float(req.completed_at - req.arrival),
            klass=str(getattr(req, "klass", "") or ""),
            at_role=at_role,
        )
    )


def record_sample(world: World, sample: Any) -> None:
    """Per role at the sample instant: Ready pods, idle Ready pods (holding no request), requests
    queued at pods and the number of pods with a queue; and cumulative non-completed requests."""
    snap: dict[str, dict[str, int]] = {}
    for load in world.loads.values():
        for role, stage in load.roles.items():
            ready = list(getattr(stage, "ready", []) or [])
            idle = sum(1 for srv in ready if srv.load() == 0)
            queued = sum(int(srv.waiting) for srv in ready)
            snap[role] = {
                "ready": len(ready),
                "idle": idle,
                "queued": queued,
                "queued_pods": sum(1 for srv in ready if srv.waiting > 0),
            }
    world.answer_pods.append((float(sample.t), snap))
    failed = int(sample.arrived) - int(sample.in_flight) - int(sample.completed)
    world.answer_failures.append((float(sample.t), max(0, failed)))


# --------------------------------------------------------------------------- summary blocks


def _roles_of_kind(world: World) -> tuple[str | None, str | None]:
    """(first-token role, decode role) of the workload's pipeline."""
    for load in world.loads.values():
        decode = next((r for r, st in load.roles.items() if str(getattr(st, "kind", "")) == "decode"), None)
        return decode, decode
    return None, None


def effective_slo(sc: Any) -> Any:
    """The scenario's `slo` with the per-class thresholds its workload classes carry
    (`workload.classes[].slo: {ttftSeconds, tpotSeconds, e2eSeconds, percentile}`) added as
    `slo.classes` entries (an entry the `slo` block names itself wins); None when neither sets any."""
    from model.slo import SLO, Objectives, Threshold

    base = sc.slo
    classes = dict(base.classes) if base is not None else {}
    wl = sc.workload
    for c in (getattr(wl, "classes", None) or []) if wl is not None else []:
        cs = getattr(c, "slo", None)
        if cs is None or c.name in classes:
            continue
        found = {}
        for metric in ("ttft", "tpot", "e2e"):
            seconds = getattr(cs, f"{metric}_seconds", None)
            if seconds is None:
                continue
            top = base.metrics().get(metric) if base is not None else None
            pct = (
                cs.percentile if cs.percentile is not None else (top.percentile if top is not None else 99.0)
            )
            found[metric] = Threshold(percentile=pct, seconds=seconds)
        if found:
            classes[c.name] = Objectives(**found)
    if base is None:
        return SLO(classes=classes) if classes else None
    return base.model_copy(update={"classes": classes}) if classes != base.classes else base


def _slo_target(slo: Any) -> float:
    if slo.per_request or slo.roles or not slo.metrics():
        return float(slo.target)
    return float(min(th.percentile for th in slo.metrics().values())) / 100.0


def _max_replicas(world: World) -> dict[str, int]:
    out: dict[str, int] = {}
    if world.api is None:
        return out
    for kind in ("BudAIScaler", "HorizontalPodAutoscaler"):
        for obj in world.api.all_objects(kind):
            spec = obj.get("spec") or {}
            ref = spec.get("scaleTargetRef") or {}
            role = (spec.get("subTargetSelector") or {}).get("roleName")
            if role is None and ref.get("kind") == "Deployment":
                role = world.recorder._role_from_deployment_name(str(ref.get("name")))
            if role is not None and spec.get("maxReplicas") is not None:
                out[str(role)] = int(spec["maxReplicas"])
    return out


def _decisions(world: World, events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for ev in events:
        if ev.get("type") != "decision" or ev.get("event") != "decision":
            continue
        target = str(ev.get("target") or "")
        role = target.rsplit("/", 1)[-1] if target.startswith("DisaggregatedService/") else None
        if role is None:
            role = world.recorder._role_from_deployment_name(target.rsplit("/", 1)[-1])
        details = ev.get("details") or {}
        out.append(
            {
                "t": float(ev["t"]),
                "scaler": ev.get("scaler"),
                "role": role,
                "code": details.get("reasonCode") if isinstance(details, Mapping) else None,
            }
        )
    return out


def _false_conditions(world: World) -> list[dict[str, Any]]:
    from datetime import datetime

    out: list[dict[str, Any]] = []
    if world.api is None:
        return out
    for obj in world.api.all_objects("BudAIScaler"):
        meta = obj.get("metadata") or {}
        role = ((obj.get("spec") or {}).get("subTargetSelector") or {}).get("roleName")
        for c in (obj.get("status") or {}).get("conditions") or []:
            if c.get("status") != "False" or c.get("reason") == "ConflictDetected":
                continue
            since = 0.0
            stamp = c.get("lastTransitionTime")
            if stamp:
                try:
                    since = max(
                        0.0, (datetime.fromisoformat(str(stamp)) - world.scenario.start).total_seconds()
                    )
                except Exception:
                    since = 0.0
            out.append(
                {
                    "role": role,
                    "scaler": f"{meta.get('namespace', '')}/{meta.get('name', '')}",
                    "type": c.get("type"),
                    "reason": c.get("reason"),
                    "since": since,
                }
            )
    return out


def _pools(
    world: World, events: Sequence[Mapping[str, Any]]
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, str]]]:
    """(role -> {pool: pods seen}, pool -> node labels)."""
    pools = {p.name: dict(p.labels) for p in world.scenario.cluster.node_pools}
    names = sorted(pools, key=len, reverse=True)
    seen: dict[str, set[str]] = {}
    role_pools: dict[str, dict[str, int]] = {}
    for ev in events:
        if ev.get("type") != "pod" or not ev.get("node"):
            continue
        role, node = str(ev.get("role")), str(ev["node"])
        if ev.get("pod") in seen.setdefault(role, set()):
            continue
        pool = next((p for p in names if node.startswith(f"{p}-")), None)
        if pool is None:
            continue
        seen[role].add(str(ev.get("pod")))
        role_pools.setdefault(role, {})
        role_pools[role][pool] = role_pools[role].get(pool, 0) + 1
    return role_pools, pools


def answers(world: World, ts: Any, events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """summary.json's `slo` (when the scenario sets one), `cost`, `findings` and
    `latency_over_time`."""
    from sim.findings import FindingInputs, detect_all
    from sim.report.analysis import scenario_cost_models, scenario_requests, windowed_lower_bound
    from sim.report.cost import compute_cost
    from sim.report.slo import evaluate_slo, latency_over_time, window_for

    sc = world.scenario
    roles = list(world.roles)
    duration = float(world.now)
    window = window_for(duration, sc.sample_interval)
    counts = world.request_counts()
    out: dict[str, Any] = {}
    first_token, decode = _roles_of_kind(world)
    failed = max(0, counts["arrived"] - counts["in_flight"] - counts["completed"])
    start = sc.workload.start_at if sc.workload is not None else 0.0
    slo = effective_slo(sc)
    if slo is not None:
        # pipeline order (the request's path) for the attribution; the roles the load never sees last
        path = [r for load in world.loads.values() for r in load.roles]
        ordered = [r for r in path if r in roles] + [r for r in roles if r not in path]
        out["slo"] = evaluate_slo(
            slo,
            world.answer_records,
            failed=failed,
            failures_at=world.answer_failures,
            roles=ordered,
            first_token_role=first_token,
            decode_role=decode,
            load_seconds=max(0.0, duration - start),
            duration=duration,
            window=window,
        )
    try:
        models = scenario_cost_models(world.resolved)
    except Exception:  # no DisaggregatedService (a control-plane-only scenario)
        models = {}
    bound = None
    lb_window = max(LOWER_BOUND_WINDOW, window)
    if models and sc.workload is not None:
        bound = windowed_lower_bound(
            scenario_requests(world.resolved), models, window=lb_window, duration=duration
        )
    role_pools, pools = _pools(world, events)
    cost = compute_cost(
        ts,
        roles,
        models,
        pod_samples=world.answer_pods,
        bound=bound,
        cost=sc.cost,
        role_pools=role_pools,
        pools=pools,
    )
    out["cost"] = cost
    inputs = FindingInputs(
        roles=roles,
        sim_seconds=duration,
        ts=ts,
        scale_events=[e for e in events if e.get("type") == "scale"],
        decisions=_decisions(world, events),
        false_conditions=_false_conditions(world),
        max_replicas=_max_replicas(world),
        pod_samples=world.answer_pods,
        slo=out.get("slo"),
        slo_target=_slo_target(slo) if slo is not None else 0.99,
        cost=cost,
        needed=bound.replicas if bound is not None else {},
        needed_window=lb_window,
        first_ready=dict(world.recorder.first_ready),
        config=sc.findings,
    )
    out["findings"] = [f.as_dict() for f in detect_all(inputs)]
    out["latency_over_time"] = latency_over_time(world.answer_records, window, duration)
    return out

"""Hypothesis strategies for property tests of DisaggregatedService pipelines and their scalers.

Every strategy draws plain data a scenario file can hold (Kubernetes objects as dicts, the
scenario's `Synthetic` workload shapes and fault models), so any example is exportable as a
scenario (`sim/testing/export.py`) and shrinks towards something a person can read: fewer roles,
fewer scalers, constant load, no faults.

    from sim.testing.strategies import role_dags, scaler_sets, load_traces, fault_schedules
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from model.scenario import (
    ConflictRate,
    ErrorRate,
    FailNode,
    KillPods,
    MetricsOutage,
    Synthetic,
    SyntheticShape,
    WatchLatency,
)

DS_API_VERSION = "scaler.bud.studio/v1alpha1"
ROLE_NAMES = ("router", "tokenizer", "prefill", "decode", "inference", "embed")
ROLE_TYPES = ("Router", "Tokenizer", "Inference", "Custom")


@st.composite
def role_dags(
    draw: st.DrawFn,
    *,
    min_roles: int = 1,
    max_roles: int = 4,
    max_replicas: int = 3,
    allow_zero: bool = True,
    names: Sequence[str] = ROLE_NAMES,
) -> list[dict[str, Any]]:
    """`spec.roles` of a DisaggregatedService: 1-`max_roles` roles, each depending only on earlier
    ones (so always a DAG), replicas 0 (if `allow_zero`) to `max_replicas`."""
    n = draw(st.integers(min_roles, min(max_roles, len(names))))
    roles: list[dict[str, Any]] = []
    for i in range(n):
        role: dict[str, Any] = {
            "name": names[i],
            "roleType": draw(st.sampled_from(ROLE_TYPES)),
            "replicas": draw(st.integers(0 if allow_zero else 1, max_replicas)),
        }
        if i > 0:
            deps = draw(st.lists(st.sampled_from(names[:i]), max_size=2, unique=True))
            if deps:
                role["dependsOn"] = sorted(deps, key=names.index)
        roles.append(role)
    return roles


def disaggregated_service(
    name: str, roles: Sequence[dict[str, Any]], namespace: str | None = None
) -> dict[str, Any]:
    """A DisaggregatedService manifest with these roles."""
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    return {
        "apiVersion": DS_API_VERSION,
        "kind": "DisaggregatedService",
        "metadata": meta,
        "spec": {"serviceType": "Custom", "roles": [dict(r) for r in roles]},
    }


def disaggregated_services(name: str = "pipe", **dag: Any) -> st.SearchStrategy[dict[str, Any]]:
    """DisaggregatedService manifests named `name` over `role_dags(**dag)`."""
    return role_dags(**dag).map(lambda roles: disaggregated_service(name, roles))


def budaiscaler(
    name: str,
    *,
    target_kind: str,
    target_name: str,
    role: str | None = None,
    min_replicas: int = 1,
    max_replicas: int = 5,
    strategy: str = "BudScaler",
    metric: str = "requests_per_second",
    target_value: str = "10",
) -> dict[str, Any]:
    """A BudAIScaler manifest (pod metric source)."""
    spec: dict[str, Any] = {
        "scaleTargetRef": {
            "apiVersion": DS_API_VERSION if target_kind == "DisaggregatedService" else "apps/v1",
            "kind": target_kind,
            "name": target_name,
        },
        "minReplicas": min_replicas,
        "maxReplicas": max_replicas,
        "scalingStrategy": strategy,
        "metricsSources": [{"metricSourceType": "pod", "targetMetric": metric, "targetValue": target_value}],
    }
    if role is not None:
        spec["subTargetSelector"] = {"roleName": role}
    return {"apiVersion": DS_API_VERSION, "kind": "BudAIScaler", "metadata": {"name": name}, "spec": spec}


@st.composite
def scaler_sets(
    draw: st.DrawFn,
    ds: str = "pipe",
    roles: Sequence[str] = ("router", "inference"),
    *,
    min_size: int = 0,
    max_size: int = 3,
    strategies: Sequence[str] = ("BudScaler", "KPA"),
    generated_deployments: bool = True,
    whole_service: bool = False,
    max_replicas: int = 6,
    metrics: Sequence[str] = ("requests_per_second", "num_requests_waiting"),
) -> list[dict[str, Any]]:
    """0-`max_size` BudAIScalers aimed at roles of DisaggregatedService `ds` (and, with
    `generated_deployments`, at the Deployments `<ds>-<role>` it generates; with `whole_service`, at
    the DS without a role). Names are unique; bounds satisfy min <= max."""
    targets: list[tuple[str, str, str | None]] = [("DisaggregatedService", ds, r) for r in roles]
    if generated_deployments:
        targets += [("Deployment", f"{ds}-{r}", None) for r in roles]
    if whole_service:
        targets.append(("DisaggregatedService", ds, None))
    n = draw(st.integers(min_size, max_size))
    names = draw(st.lists(st.sampled_from("abcdefgh"), min_size=n, max_size=n, unique=True))
    out = []
    for name in names:
        kind, target, role = draw(st.sampled_from(targets))
        lo = draw(st.integers(0, 2))
        hi = draw(st.integers(max(lo, 1), max_replicas))
        out.append(
            budaiscaler(
                f"scaler-{name}",
                target_kind=kind,
                target_name=target,
                role=role,
                min_replicas=lo,
                max_replicas=hi,
                strategy=draw(st.sampled_from(list(strategies))),
                metric=draw(st.sampled_from(list(metrics))),
                target_value=str(draw(st.sampled_from([2, 5, 10, 20]))),
            )
        )
    return out


@st.composite
def load_traces(draw: st.DrawFn, *, max_rate: float = 40.0, duration: float = 300.0) -> Synthetic:
    """A synthetic workload shape (the scenario's `workload.synthetic`): constant, step, spike or
    ramp, rates up to `max_rate` req/s, changes inside [0, duration). Shrinks to a low constant rate."""
    shape = draw(
        st.sampled_from(
            [SyntheticShape.CONSTANT, SyntheticShape.STEP, SyntheticShape.SPIKE, SyntheticShape.RAMP]
        )
    )
    rates = st.integers(0, int(max_rate)).map(float)
    rate = draw(rates)
    if shape is SyntheticShape.CONSTANT:
        return Synthetic(shape=shape, rate=rate, input_tokens=256, output_tokens=0)
    peak = draw(rates)
    at = float(draw(st.integers(0, max(1, int(duration * 0.6)) // 10)) * 10)
    length = float(draw(st.integers(1, max(1, int(duration * 0.4)) // 10)) * 10)
    if shape is SyntheticShape.STEP:
        return Synthetic(shape=shape, rate=rate, peak_rate=peak, at=at, input_tokens=256, output_tokens=0)
    if shape is SyntheticShape.SPIKE:
        return Synthetic(
            shape=shape, rate=rate, peak_rate=peak, at=at, length=length, input_tokens=256, output_tokens=0
        )
    return Synthetic(
        shape=shape, rate=rate, peak_rate=peak, at=at, length=length, input_tokens=256, output_tokens=0
    )


@st.composite
def fault_schedules(
    draw: st.DrawFn,
    *,
    duration: float = 300.0,
    roles: Sequence[str] = (),
    nodes: Sequence[str] = (),
    max_faults: int = 3,
    kinds: Sequence[str] = ("conflicts", "errors", "watchLatency", "killPods", "failNode", "metricsOutage"),
) -> list[Any]:
    """0-`max_faults` faults on the timeline (the scenario's `faults` models): Conflict and error
    rates, watch delays, pod kills of a role, a node failure, a metrics outage. Shrinks to none."""
    usable = [k for k in kinds if (k != "killPods" or roles) and (k != "failNode" or nodes)]
    if not usable:
        return []
    n = draw(st.integers(0, max_faults))
    horizon = max(20, int(duration * 0.7)) // 10
    out: list[Any] = []
    for _ in range(n):
        kind = draw(st.sampled_from(usable))
        at = float(draw(st.integers(0, horizon)) * 10)
        until = at + float(draw(st.integers(1, 6)) * 10)
        prob = draw(st.sampled_from([0.1, 0.3, 0.6, 1.0]))
        if kind == "conflicts":
            out.append(ConflictRate(type="conflicts", at=at, until=until, probability=prob))
        elif kind == "errors":
            out.append(ErrorRate(type="errors", at=at, until=until, probability=prob, verbs=["update"]))
        elif kind == "watchLatency":
            out.append(
                WatchLatency(
                    type="watchLatency",
                    at=at,
                    until=until,
                    latency=float(draw(st.sampled_from([0.5, 2.0, 5.0]))),
                )
            )
        elif kind == "killPods":
            out.append(
                KillPods(
                    type="killPods",
                    at=at,
                    role=draw(st.sampled_from(list(roles))),
                    count=draw(st.integers(1, 2)),
                )
            )
        elif kind == "failNode":
            out.append(FailNode(type="failNode", at=at, node=draw(st.sampled_from(list(nodes)))))
        else:
            role = draw(st.none() | st.sampled_from(list(roles))) if roles else None
            out.append(MetricsOutage(type="metricsOutage", at=at, until=until, role=role))
    return sorted(out, key=lambda f: (f.at, f.type))

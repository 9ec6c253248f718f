"""What the reference-autoscaler controllers (Knative KPA, AIBrix PodAutoscaler) share: resolving a
scale target to the role's Deployment or the DisaggregatedService role, listing its pods, and
writing replicas the way the BudAIScaler controller does (sim/decisions/bud_controller/workload.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sim.decisions.bud_controller.workload import ScaleView, TargetError, resolve_scale, scaled_object

DS_LABEL = "scaler.bud.studio/disaggregated-service"
ROLE_LABEL = "scaler.bud.studio/role"
EventSink = Callable[[dict[str, Any]], None]


def pod_ready(pod: Mapping[str, Any]) -> bool:
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return bool(cond.get("status") == "True")
    return False


class TargetAccess:
    """Reads through informer caches, writes through the API server."""

    def __init__(self, api: Any, informers: Any, actor: str) -> None:
        self.api = api
        self.informers = informers
        self.actor = actor

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        obj: dict[str, Any] | None = self.informers.informer(kind).peek(namespace, name)
        return obj

    def resolve(self, scaler: Mapping[str, Any]) -> ScaleView | TargetError:
        return resolve_scale(scaler, self.get)

    def pods(self, view: ScaleView) -> list[dict[str, Any]]:
        pods: list[dict[str, Any]] = self.informers.informer("Pod").peek_list(
            view.namespace, {"matchLabels": dict(view.selector)}
        )
        return sorted(pods, key=lambda p: str(p["metadata"]["name"]))

    def role_of(self, view: ScaleView) -> tuple[str, str] | None:
        """(DisaggregatedService, role) the target belongs to, for the activation signal."""
        if view.role_name:
            return view.name, view.role_name
        ds, role = view.selector.get(DS_LABEL), view.selector.get(ROLE_LABEL)
        if ds is None or role is None:
            dep = self.get(view.kind, view.namespace, view.name) or {}
            labels = (((dep.get("spec") or {}).get("template") or {}).get("metadata") or {}).get(
                "labels"
            ) or {}
            ds, role = labels.get(DS_LABEL), labels.get(ROLE_LABEL)
        return (str(ds), str(role)) if ds and role else None

    def set_scale(self, view: ScaleView, replicas: int) -> bool:
        """Update the target (the DS for a role) carrying the cached resourceVersion."""
        cached = self.get(view.kind, view.namespace, view.name)
        if cached is None:
            return False
        obj = scaled_object(cached, view.role_name, replicas)
        if obj is None:
            return False
        self.api.update(obj, actor=self.actor)
        return True


def sample_value(sample: Any) -> float | None:
    if sample is None:
        return None
    value = getattr(sample, "value", sample)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


__all__: Sequence[str] = ("DS_LABEL", "ROLE_LABEL", "EventSink", "TargetAccess", "pod_ready", "sample_value")

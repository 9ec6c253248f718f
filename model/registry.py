"""apiVersion + kind -> model class, for every kind the simulator stores."""

from __future__ import annotations

from model.apps import Deployment
from model.autoscaling import HorizontalPodAutoscaler, Scale
from model.base import KubeModel
from model.budaiscaler import BudAIScaler
from model.core import ConfigMap, Node, Pod, Service
from model.disaggregated import DisaggregatedService
from model.podautoscaler import KnativePodAutoscaler, PodAutoscaler

KINDS: dict[tuple[str, str], type[KubeModel]] = {
    ("v1", "Pod"): Pod,
    ("v1", "Service"): Service,
    ("v1", "Node"): Node,
    ("apps/v1", "Deployment"): Deployment,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): HorizontalPodAutoscaler,
    ("autoscaling/v1", "Scale"): Scale,
    ("scaler.bud.studio/v1alpha1", "DisaggregatedService"): DisaggregatedService,
    ("scaler.bud.studio/v1alpha1", "BudAIScaler"): BudAIScaler,
    ("autoscaling.aibrix.ai/v1alpha1", "PodAutoscaler"): PodAutoscaler,
    ("autoscaling.internal.knative.dev/v1alpha1", "PodAutoscaler"): KnativePodAutoscaler,
    ("v1", "ConfigMap"): ConfigMap,
}

CLUSTER_SCOPED_KINDS = frozenset({"Node"})


def model_for(api_version: object, kind: object) -> type[KubeModel] | None:
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return None
    return KINDS.get((api_version, kind))


def supported_kinds() -> list[str]:
    """`apiVersion/kind` strings, for error messages."""
    return [f"{k} ({v})" for v, k in KINDS]


def api_versions_of(kind: str) -> list[str]:
    return [v for v, k in KINDS if k == kind]

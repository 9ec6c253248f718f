"""The kinds the fake API server serves and their REST metadata (plural, group, subresources).

Anything not listed here is rejected with `Unsupported`: the simulator fails loudly instead of
silently storing a kind no controller models."""

from __future__ import annotations

from dataclasses import dataclass

from sim.apiserver.errors import Unsupported


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    kind: str
    plural: str
    group: str
    version: str
    namespaced: bool = True
    status_subresource: bool = True
    scale_subresource: bool = False
    # CRDs refuse unconditional updates (no resourceVersion); built-in kinds allow them.
    # upstream: apiextensions-apiserver pkg/registry/customresource/strategy.go AllowUnconditionalUpdate
    requires_resource_version: bool = False

    @property
    def resource(self) -> str:
        """`deployments.apps`, `pods`: the name Kubernetes uses in error messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified_kind(self) -> str:
        """`Deployment.apps`, `Pod`: the name Kubernetes uses in Invalid messages."""
        return f"{self.kind}.{self.group}" if self.group else self.kind


_RESOURCES: dict[str, ResourceInfo] = {
    r.kind: r
    for r in (
        ResourceInfo("Pod", "pods", "", "v1"),
        ResourceInfo("Service", "services", "", "v1"),
        ResourceInfo("ConfigMap", "configmaps", "", "v1", status_subresource=False),
        ResourceInfo("Node", "nodes", "", "v1", namespaced=False),
        ResourceInfo("Deployment", "deployments", "apps", "v1", scale_subresource=True),
        ResourceInfo("ReplicaSet", "replicasets", "apps", "v1", scale_subresource=True),
        ResourceInfo("StatefulSet", "statefulsets", "apps", "v1", scale_subresource=True),
        ResourceInfo("HorizontalPodAutoscaler", "horizontalpodautoscalers", "autoscaling", "v2"),
        # The pull request's CRD: status subresource, no scale subresource (review comment in shared/seeds).
        ResourceInfo(
            "DisaggregatedService",
            "disaggregatedservices",
            "scaler.bud.studio",
            "v1alpha1",
            requires_resource_version=True,
        ),
        # upstream: config/crd/bases/scaler.bud.studio_budaiscalers.yaml (subresources: status only)
        ResourceInfo(
            "BudAIScaler", "budaiscalers", "scaler.bud.studio", "v1alpha1", requires_resource_version=True
        ),
        # upstream: vllm-project/aibrix config/crd/autoscaling/autoscaling.aibrix.ai_podautoscalers.yaml
        # (status subresource only). Knative's PodAutoscaler shares the kind name and is not served
        # here: its controller holds it (docs/reference-autoscalers.md).
        ResourceInfo(
            "PodAutoscaler",
            "podautoscalers",
            "autoscaling.aibrix.ai",
            "v1alpha1",
            requires_resource_version=True,
        ),
    )
}


def resource_info(kind: str) -> ResourceInfo:
    info = _RESOURCES.get(kind)
    if info is None:
        known = ", ".join(sorted(_RESOURCES))
        raise Unsupported(f"the fake API server does not serve kind {kind!r}; known kinds: {known}")
    return info


def known_kinds() -> list[str]:
    return sorted(_RESOURCES)

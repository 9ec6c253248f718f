"""Server-side defaulting and create-time status for built-in kinds (the subset controllers see).

upstream: k8s.io/kubernetes pkg/apis/apps/v1/defaults.go SetDefaults_Deployment;
pkg/apis/core/v1/defaults.go SetDefaults_PodSpec; pkg/registry/core/pod/strategy.go PrepareForCreate."""

from __future__ import annotations

from typing import Any


def _struct(parent: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The object at `key`, created when absent or JSON null (Go decodes null into a zero-value
    struct); None for any other type, which admission then rejects (no defaulting on it)."""
    value = parent.get(key)
    if value is None:
        value = parent[key] = {}
    return value if isinstance(value, dict) else None


def default_pod_spec(spec: dict[str, Any] | None) -> None:
    if not isinstance(spec, dict):
        return
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")


def default_deployment(obj: dict[str, Any]) -> None:
    spec = _struct(obj, "spec")
    if spec is None:
        return
    spec.setdefault("replicas", 1)
    strategy = _struct(spec, "strategy")
    if strategy is not None:
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            ru = _struct(strategy, "rollingUpdate")
            if ru is not None:
                ru.setdefault("maxUnavailable", "25%")
                ru.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    template = spec.get("template")
    if isinstance(template, dict):
        default_pod_spec(_struct(template, "spec"))


def pod_qos_class(spec: dict[str, Any]) -> str:
    """BestEffort / Burstable / Guaranteed (pkg/apis/core/helper/qos GetPodQOS, simplified to cpu+memory)."""
    requests_any = False
    guaranteed = True
    for c in spec.get("containers") or ():
        res = c.get("resources") or {}
        req = res.get("requests") or {}
        lim = res.get("limits") or {}
        if req or lim:
            requests_any = True
        for r in ("cpu", "memory"):
            if r not in lim or req.get(r, lim[r]) != lim[r]:
                guaranteed = False
    if not requests_any:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def apply_defaults(kind: str, obj: dict[str, Any]) -> None:
    if kind == "Deployment":
        default_deployment(obj)
    elif kind == "Pod":
        default_pod_spec(_struct(obj, "spec"))

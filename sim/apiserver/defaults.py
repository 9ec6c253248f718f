"""Server-side defaulting and create-time status for built-in kinds (the subset controllers see).

upstream: k8s.io/kubernetes pkg/apis/apps/v1/defaults.go SetDefaults_Deployment;
pkg/apis/core/v1/defaults.go SetDefaults_PodSpec; pkg/registry/core/pod/strategy.go PrepareForCreate."""

from __future__ import annotations

from typing import Any


def default_pod_spec(spec: dict[str, Any]) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")


def default_deployment(obj: dict[str, Any]) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        ru = strategy.setdefault("rollingUpdate", {})
        ru.setdefault("maxUnavailable", "25%")
        ru.setdefault("maxSurge", "25%")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    template = spec.get("template")
    if isinstance(template, dict):
        default_pod_spec(template.setdefault("spec", {}))


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
        default_pod_spec(obj.setdefault("spec", {}))

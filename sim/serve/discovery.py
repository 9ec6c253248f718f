"""What `dsim serve` serves: the REST resources, discovery documents (/api, /apis, group versions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.apiserver.resources import resource_info

_RW = ["create", "delete", "get", "list", "patch", "update", "watch"]
_RO = ["get", "list", "watch"]


@dataclass(frozen=True, slots=True)
class Served:
    plural: str
    kind: str
    group: str
    version: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    store_kind: str | None = None  # the APIServer kind; None = synthesised, read-only
    subresources: tuple[str, ...] = ()

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def verbs(self) -> list[str]:
        return _RW if self.store_kind else _RO


def _stored(plural: str, kind: str, short: tuple[str, ...] = ()) -> Served:
    info = resource_info(kind)
    subs = []
    if info.status_subresource:
        subs.append("status")
    if info.scale_subresource:
        subs.append("scale")
    if kind == "Pod":
        subs.append("log")
    return Served(plural, kind, info.group, info.version, info.namespaced, short, kind, tuple(subs))


SERVED: tuple[Served, ...] = (
    Served("namespaces", "Namespace", "", "v1", False, ("ns",)),
    _stored("nodes", "Node", ("no",)),
    _stored("pods", "Pod", ("po",)),
    _stored("services", "Service", ("svc",)),
    _stored("configmaps", "ConfigMap", ("cm",)),
    Served("endpoints", "Endpoints", "", "v1", True, ("ep",)),
    Served("events", "Event", "", "v1", True, ("ev",)),
    _stored("deployments", "Deployment", ("deploy",)),
    _stored("replicasets", "ReplicaSet", ("rs",)),
    _stored("statefulsets", "StatefulSet", ("sts",)),
    _stored("horizontalpodautoscalers", "HorizontalPodAutoscaler", ("hpa",)),
    _stored("disaggregatedservices", "DisaggregatedService", ("dsvc",)),
    _stored("budaiscalers", "BudAIScaler", ("bas",)),
    _stored("podautoscalers", "PodAutoscaler", ("pa",)),  # AIBrix (autoscaling.aibrix.ai)
)

BY_PATH: dict[tuple[str, str, str], Served] = {(s.group, s.version, s.plural): s for s in SERVED}
BY_KIND: dict[str, Served] = {s.kind: s for s in SERVED}


def group_versions() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for s in SERVED:
        if s.version not in out.setdefault(s.group, []):
            out[s.group].append(s.version)
    return out


VERSION_INFO = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0-dsim",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.23.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def api_versions() -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    }


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    gvs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": name, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list() -> dict[str, Any]:
    groups = [_group(g, vs) for g, vs in group_versions().items() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(name: str) -> dict[str, Any] | None:
    versions = group_versions().get(name)
    return None if versions is None or not name else _group(name, versions)


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    served = [s for s in SERVED if s.group == group and s.version == version]
    if not served:
        return None
    resources: list[dict[str, Any]] = []
    for s in served:
        resources.append(
            {
                "name": s.plural,
                "singularName": s.kind.lower(),
                "namespaced": s.namespaced,
                "kind": s.kind,
                "verbs": s.verbs,
                "shortNames": list(s.short_names),
            }
        )
        for sub in s.subresources:
            sub_kind = {"scale": "Scale", "log": "Pod"}.get(sub, s.kind)
            entry: dict[str, Any] = {
                "name": f"{s.plural}/{sub}",
                "singularName": "",
                "namespaced": s.namespaced,
                "kind": sub_kind,
                "verbs": ["get"] if sub == "log" else ["get", "patch", "update"],
            }
            if sub == "scale":
                entry.update(group="autoscaling", version="v1")
            resources.append(entry)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}

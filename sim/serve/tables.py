"""meta.k8s.io/v1 Table rendering for `kubectl get` (Accept: application/json;as=Table)."""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any

_NAME = {
    "name": "Name",
    "type": "string",
    "format": "name",
    "description": "Name of the object",
    "priority": 0,
}
_AGE = {"name": "Age", "type": "string", "format": "", "description": "Time since creation", "priority": 0}


def _col(name: str, kind: str = "string", priority: int = 0) -> dict[str, Any]:
    return {"name": name, "type": kind, "format": "", "description": name, "priority": priority}


def human_duration(seconds: float) -> str:
    """kubectl's age format (k8s.io/apimachinery pkg/util/duration HumanDuration, simplified)."""
    s = max(0, int(seconds))
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 48:
        return f"{h}h{m % 60}m" if h < 8 and m % 60 else f"{h}h"
    return f"{h // 24}d"


def _age(obj: dict[str, Any], now: datetime) -> str:
    created = obj.get("metadata", {}).get("creationTimestamp")
    if not isinstance(created, str):
        return "<unknown>"
    try:
        t = datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=now.tzinfo)
    except ValueError:
        return "<unknown>"
    return human_duration((now - t).total_seconds())


def _pod_cells(obj: dict[str, Any]) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    total = len(spec.get("containers") or [])
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready"))
    restarts = sum(int(c.get("restartCount", 0)) for c in statuses)
    phase = status.get("phase", "Unknown")
    if obj["metadata"].get("deletionTimestamp"):
        phase = "Terminating"
    elif phase == "Running" and statuses and ready < total:
        phase = "Running"
    return [f"{ready}/{total}", phase, restarts]


def _columns(kind: str) -> tuple[list[dict[str, Any]], Any]:
    if kind == "Pod":
        cols = [_col("Ready"), _col("Status"), _col("Restarts", "integer")]
        return cols, _pod_cells
    if kind in ("Deployment", "ReplicaSet", "StatefulSet"):

        def cells(o: dict[str, Any]) -> list[Any]:
            st = o.get("status") or {}
            want = (o.get("spec") or {}).get("replicas", 0)
            return [
                f"{st.get('readyReplicas', 0)}/{want}",
                st.get("updatedReplicas", 0),
                st.get("availableReplicas", 0),
            ]

        return [_col("Ready"), _col("Up-to-date", "integer"), _col("Available", "integer")], cells
    printer = _crd_columns().get(kind)
    if printer is not None:
        cols = [_col(c["name"], c.get("type", "string")) for c in printer]
        paths = [c["jsonPath"] for c in printer]
        return cols, lambda o: [_json_path(o, p) for p in paths]
    if kind == "Node":
        return [_col("Status")], lambda o: [_node_status(o)]
    if kind == "Namespace":
        return [_col("Status")], lambda o: [(o.get("status") or {}).get("phase", "Active")]
    return [], lambda o: []


@functools.cache
def _crd_columns() -> dict[str, list[dict[str, Any]]]:
    """The CRDs' additionalPrinterColumns (model/crd.py) but AGE, which every table ends with."""
    from model.crd import all_crds

    out: dict[str, list[dict[str, Any]]] = {}
    for crd in all_crds():
        cols = crd["spec"]["versions"][0].get("additionalPrinterColumns") or []
        out[crd["spec"]["names"]["kind"]] = [c for c in cols if c.get("name") != "AGE"]
    return out


_FILTER = re.compile(r"^(?P<list>[\w.]*)\[\?\(@\.(?P<key>\w+)=='(?P<value>[^']*)'\)\]\.(?P<field>\w+)$")


def _json_path(obj: dict[str, Any], path: str) -> Any:
    """The two JSONPath shapes the CRDs' printer columns use: `.a.b` and `.a[?(@.k=='v')].f`."""
    m = _FILTER.match(path)
    if m is not None:
        items = _dotted(obj, m["list"])
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get(m["key"]) == m["value"]:
                return item.get(m["field"], "")
        return ""
    value = _dotted(obj, path)
    return "" if value is None or isinstance(value, dict | list) else value


def _dotted(obj: Any, path: str) -> Any:
    for seg in path.strip(".").split("."):
        obj = obj.get(seg) if isinstance(obj, dict) else None
    return obj


def _node_status(o: dict[str, Any]) -> str:
    for c in (o.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return "Ready" if c.get("status") == "True" else "NotReady"
    return "Unknown"


def table(
    kind: str,
    items: list[dict[str, Any]],
    now: datetime,
    list_meta: dict[str, Any],
    with_columns: bool = True,
) -> dict[str, Any]:
    cols, cells = _columns(kind)
    rows = []
    for o in items:
        meta = o.get("metadata") or {}
        rows.append(
            {
                "cells": [meta.get("name", ""), *cells(o), _age(o, now)],
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": meta,
                },
            }
        )
    out: dict[str, Any] = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta}
    out["columnDefinitions"] = [_NAME, *cols, _AGE] if with_columns else []
    out["rows"] = rows
    return out

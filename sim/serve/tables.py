"""meta.k8s.io/v1 Table rendering for `kubectl get` (Accept: application/json;as=Table)."""

from __future__ import annotations

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
    if kind == "BudAIScaler":

        def bas(o: dict[str, Any]) -> list[Any]:
            sp, st = o.get("spec") or {}, o.get("status") or {}
            target = (sp.get("scaleTargetRef") or {}).get("name", "")
            return [target, sp.get("minReplicas", ""), sp.get("maxReplicas", ""), st.get("desiredScale", "")]

        return [_col("Target"), _col("Min"), _col("Max"), _col("Desired")], bas
    if kind == "Node":
        return [_col("Status")], lambda o: [_node_status(o)]
    if kind == "Namespace":
        return [_col("Status")], lambda o: [(o.get("status") or {}).get("phase", "Active")]
    return [], lambda o: []


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

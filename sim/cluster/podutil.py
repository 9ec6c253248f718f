"""Small pod helpers shared by the Deployment controller, scheduler and kubelet."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from model.quantity import milli_value

GPU = "nvidia.com/gpu"
RESOURCES = ("cpu", "memory", GPU, "pods")


@lru_cache(maxsize=4096)
def parse_timestamp(ts: str) -> float:
    """RFC 3339 (second precision, 'Z') -> POSIX seconds; cached (timestamps repeat a lot)."""
    return (
        datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").timestamp()
        if ts.endswith("Z")
        else datetime.fromisoformat(ts).timestamp()
    )


INT64_MAX = 2**63 - 1


@lru_cache(maxsize=4096)
def _milli(q: str | int | float) -> int:
    # Kubernetes keeps milli-values in an int64 (resource.Quantity.MilliValue); a quantity beyond it
    # ("1e400" passes the quantity syntax) is clamped here rather than wrapped, so arithmetic stays finite
    return min(milli_value(q), INT64_MAX)


def quantity_milli(q: Any) -> int:
    return _milli(q if isinstance(q, str | int | float) else str(q))


def pod_requests(spec: Mapping[str, Any]) -> tuple[int, int, int]:
    """(cpu milli, memory milli-bytes, gpu milli) requested by a pod's containers.

    Requests default to limits when only limits are set (core/v1 defaults); init containers are
    not modelled."""
    cpu = mem = gpu = 0
    for c in spec.get("containers") or ():
        res = c.get("resources") or {}
        req = res.get("requests") or {}
        lim = res.get("limits") or {}
        if "cpu" in req or "cpu" in lim:
            cpu += quantity_milli(req.get("cpu", lim.get("cpu")))
        if "memory" in req or "memory" in lim:
            mem += quantity_milli(req.get("memory", lim.get("memory")))
        if GPU in req or GPU in lim:
            gpu += quantity_milli(req.get(GPU, lim.get(GPU)))
    return cpu, mem, gpu


def condition(obj: Mapping[str, Any], ctype: str) -> Mapping[str, Any] | None:
    for c in (obj.get("status") or {}).get("conditions") or ():
        if c.get("type") == ctype:
            return c  # type: ignore[no-any-return]
    return None


def is_pod_ready(pod: Mapping[str, Any]) -> bool:
    c = condition(pod, "Ready")
    return c is not None and c.get("status") == "True"


def is_terminating(obj: Mapping[str, Any]) -> bool:
    return obj["metadata"].get("deletionTimestamp") is not None


def is_pod_active(pod: Mapping[str, Any]) -> bool:
    """controller.IsPodActive: not terminating and not Succeeded/Failed."""
    if pod["metadata"].get("deletionTimestamp") is not None:
        return False
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed")


def controller_ref(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for r in obj["metadata"].get("ownerReferences") or ():
        if r.get("controller"):
            return r  # type: ignore[no-any-return]
    return None

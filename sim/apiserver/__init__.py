"""The fake Kubernetes API server (see docs/control-plane.md)."""

from sim.apiserver.audit import AuditEntry, AuditLog
from sim.apiserver.faults import FaultKind, FaultWindow
from sim.apiserver.server import APIServer
from sim.apiserver.watch import Watch, WatchEvent, WatchEventType

__all__ = [
    "APIServer",
    "AuditEntry",
    "AuditLog",
    "FaultKind",
    "FaultWindow",
    "Watch",
    "WatchEvent",
    "WatchEventType",
]

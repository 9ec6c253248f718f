"""Controller runtime: informer caches, work queue, controller loop (see docs/control-plane.md)."""

from sim.runtime.controller import (
    Controller,
    GenerationChanged,
    Reconciler,
    ReconcileRecord,
    Request,
    Result,
    generation_changed,
)
from sim.runtime.informer import Informer, InformerEvent, InformerFactory
from sim.runtime.workqueue import ItemExponentialFailureRateLimiter, WorkQueue

__all__ = [
    "Controller",
    "GenerationChanged",
    "Informer",
    "InformerEvent",
    "InformerFactory",
    "ItemExponentialFailureRateLimiter",
    "ReconcileRecord",
    "Reconciler",
    "Request",
    "Result",
    "WorkQueue",
    "generation_changed",
]

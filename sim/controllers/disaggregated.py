"""The DisaggregatedService controller: a thin controller-runtime reconciler around
`sim.decisions.disaggregated.plan_reconcile`.

It reads the DisaggregatedService and its children from informer caches, executes the plan through
the API server as actor "disaggregatedservice-controller", writes status through the status
subresource with the cached resourceVersion (a concurrent writer makes it Conflict; the runtime then
requeues with rate limiting, as controller-runtime does), and requeues every `requeue_after` seconds
while a role waits for its dependencies. Watch events of owned Deployments and Services map back to
their DisaggregatedService through the controlling ownerReference. Deleting the service is the API
server's garbage collector's job (ownerReferences), not this controller's.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable
from typing import Any

from model.quirks import Quirk, QuirkSet
from sim.apiserver import APIServer
from sim.apiserver.errors import ApiError, NotFound
from sim.clock import Simulation
from sim.decisions.disaggregated import (
    CONTROLLER_NAME,
    DEFAULT_REQUEUE_AFTER,
    DS_KIND,
    LABEL_DS,
    Action,
    ReconcilePlan,
    Verb,
    plan_reconcile,
)
from sim.runtime import Controller, InformerFactory, Request, Result

EventSink = Callable[[dict[str, Any]], None]
"""Receives one JSON-serialisable dict per reconcile decision (the runner writes events.jsonl)."""


class DisaggregatedServiceReconciler:
    """Reconciles one DisaggregatedService per request; see the module docstring."""

    name = CONTROLLER_NAME

    def __init__(
        self,
        sim: Simulation,
        api: APIServer,
        informers: InformerFactory,
        *,
        quirks: QuirkSet,
        requeue_after: float = DEFAULT_REQUEUE_AFTER,
        events: EventSink | None = None,
    ) -> None:
        self._sim = sim
        self._api = api
        self._ds = informers.informer(DS_KIND)
        self._deployments = informers.informer("Deployment")
        self._services = informers.informer("Service")
        self._requires_nonzero = Quirk.DS_READY_REQUIRES_NONZERO in quirks
        self._overwrite_replicas = Quirk.DS_OVERWRITES_AUTOSCALED_REPLICAS in quirks
        self._requeue_after = requeue_after
        self._events = events

    def reconcile(self, req: Request, now: float) -> Result:
        ds = self._ds.peek(req.namespace, req.name)
        if ds is None or ds.get("metadata", {}).get("deletionTimestamp"):
            return Result()
        selector = {"matchLabels": {LABEL_DS: req.name}}
        plan = plan_reconcile(
            ds,
            self._deployments.peek_list(req.namespace, selector),
            self._services.peek_list(req.namespace, selector),
            now=now,
            timestamp=self._sim.timestamp(now),
            ready_requires_nonzero=self._requires_nonzero,
            overwrite_replicas=self._overwrite_replicas,
            requeue_after=self._requeue_after,
        )
        self._emit(req, now, plan)
        try:
            for action in plan.actions:
                self._execute(action)
            if plan.status_changed:
                # upstream: controller-runtime client.Status().Update (optimistic concurrency on resourceVersion)
                updated = copy.deepcopy(ds)
                updated["status"] = plan.status
                self._api.update_status(updated, actor=CONTROLLER_NAME)
        except ApiError as err:
            if self._events is not None:
                self._events(
                    {
                        "t": now,
                        "source": CONTROLLER_NAME,
                        "type": "reconcile_error",
                        "namespace": req.namespace,
                        "name": req.name,
                        "reason": err.reason.value,
                        "message": err.message,
                    }
                )
            raise
        return Result(requeue=False, requeue_after=plan.requeue_after)

    def _execute(self, action: Action) -> None:
        """One write. Errors propagate (the runtime requeues rate-limited, as controller-runtime does
        when Reconcile returns an error), except NotFound on delete, which is the goal anyway."""
        if action.verb is Verb.CREATE:
            self._api.create(action.obj or {}, actor=CONTROLLER_NAME)
        elif action.verb is Verb.UPDATE:
            self._api.update(action.obj or {}, actor=CONTROLLER_NAME)
        else:
            with contextlib.suppress(NotFound):
                self._api.delete(action.kind, action.namespace, action.name, actor=CONTROLLER_NAME)

    def _emit(self, req: Request, now: float, plan: ReconcilePlan) -> None:
        if self._events is None:
            return
        self._events(
            {
                "t": now,
                "source": CONTROLLER_NAME,
                "type": "reconcile",
                "namespace": req.namespace,
                "name": req.name,
                "phase": plan.status["phase"],
                "actions": [
                    {"verb": a.verb.value, "kind": a.kind, "name": a.name, "role": a.role, "reason": a.reason}
                    for a in plan.actions
                ],
                "waiting": {r.name: list(r.waiting_for) for r in plan.roles if r.waiting_for},
                "ready": [r.name for r in plan.roles if r.ready],
                "requeueAfter": plan.requeue_after,
                "quirksTriggered": list(plan.quirks_triggered),
            }
        )


def start_disaggregated_controller(
    sim: Simulation,
    api: APIServer,
    informers: InformerFactory,
    *,
    quirks: QuirkSet,
    requeue_after: float = DEFAULT_REQUEUE_AFTER,
    events: EventSink | None = None,
    reconcile_cost: float = 0.0,
) -> Controller:
    """Build and start the controller (watches DisaggregatedService, owns Deployment and Service)."""
    reconciler = DisaggregatedServiceReconciler(
        sim, api, informers, quirks=quirks, requeue_after=requeue_after, events=events
    )
    controller = Controller(
        sim,
        reconciler,
        informers,
        for_kind=DS_KIND,
        owns=("Deployment", "Service"),
        reconcile_cost=reconcile_cost,
    )
    controller.start()
    return controller

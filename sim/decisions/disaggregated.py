"""DisaggregatedService reconcile decisions: desired children, role readiness, dependsOn gating,
status and the action plan of one reconcile.

Everything here is pure: the DisaggregatedService and its observed children come in as wire-form
dicts (as the API server stores them), `now` and the quirk flag come in as arguments, a
`ReconcilePlan` comes out. The SimPy wrapper in `sim/controllers/disaggregated.py` executes it.

The pull request's Go code (BudEcosystem/scaler PR #1, `pkg/controller/disaggregatedservice/
controller.go`) is not in the upstream checkout; its behaviour is re-expressed from the PR text and
its review (`shared/seeds`), which quotes the two readiness checks verbatim.

Design choice (documented in docs/disaggregated.md): dependsOn gates only the *creation* of a
role's Deployment and Service. Once a role is running it keeps being reconciled (replicas, template)
even if a dependency later becomes unready; it is never torn down or frozen for that. The
alternative (scale dependents to zero while a dependency is unready, as a strict "pipeline order"
reading would demand) turns a transient dependency blip into a full pipeline outage and fights
per-role autoscalers, so it is not done.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from enum import StrEnum
from functools import partial
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from model.disaggregated import DSPhase as Phase
from model.disaggregated import RoleType
from model.quirks import Quirk

Obj = dict[str, Any]
"""A Kubernetes object in wire form (camelCase keys), as the fake API server stores it."""

GROUP = "scaler.bud.studio"
DS_API_VERSION = "scaler.bud.studio/v1alpha1"
DS_KIND = "DisaggregatedService"
CONTROLLER_NAME = "disaggregatedservice-controller"

LABEL_DS = "scaler.bud.studio/disaggregated-service"
LABEL_ROLE = "scaler.bud.studio/role"
LABEL_ROLE_TYPE = "scaler.bud.studio/role-type"
LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
ANNOTATION_APPLIED_REPLICAS = "scaler.bud.studio/applied-replicas"
"""Corrected profile only: the role replicas last written to the Deployment (see deployment_update)."""
MANAGED_BY_VALUE = CONTROLLER_NAME

DEFAULT_REPLICAS = 1
"""RoleSpec.replicas default when omitted (the PR's kubebuilder default)."""

DEFAULT_SERVICE_PORTS: tuple[Mapping[str, Any], ...] = (
    {"name": "http", "port": 8080, "targetPort": 8080, "protocol": "TCP"},
)
"""Ports of a role's Service when the role has no `service` block: one TCP port 8080 named http
(the port the PR's samples serve on). Documented in docs/disaggregated.md."""

DEFAULT_IMAGE = "disagg-sim/placeholder:latest"
"""Image of the one-container pod template of a role without `template` (the simulated kubelet
never pulls it; a real cluster needs a template)."""

DEFAULT_REQUEUE_AFTER = 5.0
"""Seconds between reconciles while some role waits for its dependencies (the PR's RequeueAfter)."""


class ConditionType(StrEnum):
    READY = "Ready"


class RoleReason(StrEnum):
    ALL_REPLICAS_READY = "AllReplicasReady"
    REPLICAS_NOT_READY = "ReplicasNotReady"
    REPLICAS_UNAVAILABLE = "ReplicasUnavailable"
    NAME_CONFLICT = "NameConflict"
    WAITING_FOR_DEPENDENCIES = "WaitingForDependencies"


class DSReason(StrEnum):
    ALL_ROLES_READY = "AllRolesReady"
    ROLES_NOT_READY = "RolesNotReady"


class Verb(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True)


class Action(_Frozen):
    """One write the controller must make. `obj` is the full object for create/update."""

    verb: Verb
    kind: str
    namespace: str
    name: str
    role: str
    reason: str
    obj: Obj | None = None


def _append_action(
    actions: list[Action],
    namespace: str,
    name: str,
    role: str,
    verb: Verb,
    kind: str,
    reason: str,
    obj: Obj | None = None,
) -> None:
    actions.append(
        Action(verb=verb, kind=kind, namespace=namespace, name=name, role=role, reason=reason, obj=obj)
    )


class RoleDecision(_Frozen):
    """What one reconcile concluded about one role."""

    name: str
    started: bool
    """Its Deployment exists (observed) when the reconcile began."""
    ready: bool
    waiting_for: tuple[str, ...] = ()
    """Dependencies (spec order) that are not Ready; non-empty only for roles not yet started."""
    name_conflict: bool = False
    """A Deployment named `<ds>-<role>` exists but is not controlled by this service: never adopted."""


class ReconcilePlan(_Frozen):
    """The outcome of one reconcile: writes, the status to write (None = unchanged) and requeue."""

    actions: tuple[Action, ...]
    roles: tuple[RoleDecision, ...]
    status: Obj
    status_changed: bool
    requeue_after: float | None
    quirks_triggered: tuple[str, ...] = ()
    """Quirk names whose switch changed this reconcile: `ds_ready_requires_nonzero` when some role's
    readiness (hence its status or its dependents' gating) differs between the two rules."""


# --------------------------------------------------------------------------------------------
# Reading the DisaggregatedService
# --------------------------------------------------------------------------------------------


def roles_of(ds: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """spec.roles in spec order (the order the PR's reconcile loop walks them)."""
    return list(ds.get("spec", {}).get("roles", []) or [])


def role_replicas(role: Mapping[str, Any]) -> int:
    value = role.get("replicas")
    return DEFAULT_REPLICAS if value is None else int(value)


def role_depends_on(role: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(role.get("dependsOn", []) or [])


def child_name(ds_name: str, role_name: str) -> str:
    """Deployment and Service name of a role: `<ds>-<role>`."""
    return f"{ds_name}-{role_name}"


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta: Mapping[str, Any] = obj.get("metadata", {})
    return meta


def role_labels(ds_name: str, role: Mapping[str, Any]) -> dict[str, str]:
    """The four labels every child (and every pod) of a role carries; also the selector."""
    return {
        LABEL_DS: ds_name,
        LABEL_ROLE: str(role["name"]),
        LABEL_ROLE_TYPE: str(role.get("roleType", RoleType.CUSTOM.value)),
        LABEL_MANAGED_BY: MANAGED_BY_VALUE,
    }


def owner_reference(ds: Mapping[str, Any]) -> dict[str, Any]:
    """Controlling ownerReference; blockOwnerDeletion so foreground deletion waits for children.

    upstream: controller-runtime controllerutil.SetControllerReference (used by the PR)."""
    meta = _meta(ds)
    return {
        "apiVersion": ds.get("apiVersion", DS_API_VERSION),
        "kind": ds.get("kind", DS_KIND),
        "name": meta["name"],
        "uid": meta.get("uid", ""),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def is_owned_by(obj: Mapping[str, Any], ds: Mapping[str, Any]) -> bool:
    uid = _meta(ds).get("uid", "")
    return any(
        ref.get("controller") is True and ref.get("uid") == uid
        for ref in _meta(obj).get("ownerReferences", [])
    )


# --------------------------------------------------------------------------------------------
# Desired children
# --------------------------------------------------------------------------------------------


def _pod_template(ds_name: str, role: Mapping[str, Any]) -> dict[str, Any]:
    labels = role_labels(ds_name, role)
    template = role.get("template")
    if template:
        result = copy.deepcopy(dict(template))
        meta = dict(result.get("metadata", {}) or {})
        meta["labels"] = {**dict(meta.get("labels", {}) or {}), **labels}
        result["metadata"] = meta
        result.setdefault("spec", {"containers": []})
        return result
    container: dict[str, Any] = {"name": str(role["name"]), "image": DEFAULT_IMAGE}
    return {"metadata": {"labels": labels}, "spec": {"containers": [container]}}


def desired_deployment(ds: Mapping[str, Any], role: Mapping[str, Any], *, track_applied: bool = False) -> Obj:
    """The Deployment `<ds>-<role>` the controller wants for `role`. `track_applied` (corrected
    profile) records the role's replicas in ANNOTATION_APPLIED_REPLICAS, so later reconciles can tell
    a change of the role's replicas from an autoscaler's write to the Deployment."""
    meta = _meta(ds)
    labels = role_labels(meta["name"], role)
    dep_meta: dict[str, Any] = {
        "name": child_name(meta["name"], str(role["name"])),
        "namespace": meta.get("namespace", "default"),
        "labels": dict(labels),
        "ownerReferences": [owner_reference(ds)],
    }
    if track_applied:
        dep_meta["annotations"] = {ANNOTATION_APPLIED_REPLICAS: str(role_replicas(role))}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": dep_meta,
        "spec": {
            "replicas": role_replicas(role),
            "selector": {"matchLabels": dict(labels)},
            "template": _pod_template(meta["name"], role),
        },
    }


def service_ports(role: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One TCP port from the role's `service` block (`port`, `targetPort` defaulting to `port`),
    else the documented default (DEFAULT_SERVICE_PORTS)."""
    svc = role.get("service") or {}
    if svc.get("port") is not None:
        port_no = int(svc["port"])
        target = svc.get("targetPort")
        return [
            {
                "name": "http",
                "port": port_no,
                "targetPort": port_no if target is None else target,
                "protocol": "TCP",
            }
        ]
    return [dict(p) for p in DEFAULT_SERVICE_PORTS]


def is_headless_role(role: Mapping[str, Any]) -> bool:
    """Router roles get a ClusterIP Service (one virtual IP in front of the routers); every other
    role gets a headless Service so the router can address individual workers by DNS."""
    return str(role.get("roleType", RoleType.CUSTOM.value)) != RoleType.ROUTER.value


def desired_service(ds: Mapping[str, Any], role: Mapping[str, Any]) -> Obj:
    meta = _meta(ds)
    labels = role_labels(meta["name"], role)
    spec: dict[str, Any] = {"type": "ClusterIP", "selector": dict(labels), "ports": service_ports(role)}
    if is_headless_role(role):
        spec["clusterIP"] = "None"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": child_name(meta["name"], str(role["name"])),
            "namespace": meta.get("namespace", "default"),
            "labels": dict(labels),
            "ownerReferences": [owner_reference(ds)],
        },
        "spec": spec,
    }


# --------------------------------------------------------------------------------------------
# Readiness and gating
# --------------------------------------------------------------------------------------------


def deployment_ready(deployment: Mapping[str, Any] | None, *, requires_nonzero: bool) -> bool:
    """Is this role's Deployment Ready (for status and for gating its dependents)?

    requires_nonzero=True (Quirk.DS_READY_REQUIRES_NONZERO, the PR's code): Ready iff
    readyReplicas > 0 and readyReplicas == status.replicas. A role at 0 replicas is never Ready; a
    Deployment whose status lags its spec can be Ready with fewer pods than desired.
    upstream: PR #1 pkg/controller/disaggregatedservice/controller.go isDeploymentReady / updateStatus

    requires_nonzero=False (the review's fix, plus the generation check a Deployment's own
    rollout status uses): Ready iff readyReplicas == spec.replicas (0 desired is Ready) and
    status.observedGeneration >= metadata.generation.
    """
    if deployment is None:
        return False
    status = deployment.get("status", {}) or {}
    ready = int(status.get("readyReplicas", 0) or 0)
    if requires_nonzero:
        return ready > 0 and ready == int(status.get("replicas", 0) or 0)
    spec_replicas = deployment.get("spec", {}).get("replicas")
    desired = 1 if spec_replicas is None else int(spec_replicas)
    generation = int(_meta(deployment).get("generation", 0) or 0)
    observed = int(status.get("observedGeneration", 0) or 0)
    return ready == desired and observed >= generation


def blocking_dependencies(role: Mapping[str, Any], ready_roles: Mapping[str, bool]) -> tuple[str, ...]:
    """Dependencies of `role` that are not Ready, in dependsOn order. A dependency that is not a
    role of the spec (admission rejects that; it can only appear through an unvalidated write)
    counts as not Ready, so it blocks instead of being silently ignored."""
    return tuple(dep for dep in role_depends_on(role) if not ready_roles.get(dep, False))


# --------------------------------------------------------------------------------------------
# Comparing desired and observed
# --------------------------------------------------------------------------------------------


def _labels_cover(observed: Mapping[str, Any], wanted: Mapping[str, str]) -> bool:
    labels = _meta(observed).get("labels", {}) or {}
    return all(labels.get(k) == v for k, v in wanted.items())


def semantic_derivative(desired: Any, observed: Any) -> bool:
    """True when `observed` equals `desired` except for fields `desired` leaves unset (server
    defaults such as restartPolicy, dnsPolicy, strategy). Without this every reconcile would
    "fix" the API server's defaulting and bump the Deployment's generation.
    upstream: k8s.io/apimachinery pkg/api/equality Semantic.DeepDerivative"""
    if isinstance(desired, Mapping):
        if not isinstance(observed, Mapping):
            return False
        return all(semantic_derivative(v, observed.get(k)) for k, v in desired.items())
    if isinstance(desired, list):
        return (
            isinstance(observed, list)
            and len(desired) == len(observed)
            and all(semantic_derivative(d, o) for d, o in zip(desired, observed))
        )
    return bool(desired == observed)


def _applied_replicas(obj: Mapping[str, Any]) -> str | None:
    value = (_meta(obj).get("annotations") or {}).get(ANNOTATION_APPLIED_REPLICAS)
    return None if value is None else str(value)


def deployment_update(
    observed: Mapping[str, Any], desired: Mapping[str, Any], *, overwrite_replicas: bool = True
) -> Obj | None:
    """The object to PUT when `observed` drifted from `desired` in a field the controller owns
    (replicas, pod template, labels), else None. Keeps observed metadata (resourceVersion, so a
    stale cache gives Conflict) and never touches status.

    overwrite_replicas=True (Quirk.DS_OVERWRITES_AUTOSCALED_REPLICAS, the PR): spec.replicas is forced
    to the role's replicas on every reconcile, reverting an HPA that scales the Deployment.
    upstream: PR #1 pkg/controller/disaggregatedservice/controller.go reconcileDeployment
    overwrite_replicas=False: spec.replicas is written only when the role's replicas differ from the
    value last applied (ANNOTATION_APPLIED_REPLICAS), i.e. when the DisaggregatedService itself was
    rescaled (by a user or a per-role BudAIScaler); otherwise whoever scaled the Deployment keeps it."""
    obs_spec = observed.get("spec", {})
    want_spec = desired["spec"]
    want_labels = desired["metadata"]["labels"]
    want_annotations = desired["metadata"].get("annotations") or {}
    role_changed = _applied_replicas(observed) != _applied_replicas(desired)
    replicas = want_spec["replicas"] if overwrite_replicas or role_changed else obs_spec.get("replicas")
    if (
        obs_spec.get("replicas") == replicas
        and not (want_annotations and role_changed)
        and semantic_derivative(want_spec["template"], obs_spec.get("template"))
        and _labels_cover(observed, want_labels)
    ):
        return None
    updated: Obj = copy.deepcopy(dict(observed))
    updated["metadata"]["labels"] = {**(updated["metadata"].get("labels") or {}), **want_labels}
    if want_annotations:
        updated["metadata"]["annotations"] = {
            **(updated["metadata"].get("annotations") or {}),
            **want_annotations,
        }
    updated["spec"]["replicas"] = replicas
    updated["spec"]["template"] = copy.deepcopy(want_spec["template"])
    updated.pop("status", None)
    return updated


def deployment_needs_recreate(observed: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    """spec.selector is immutable: a changed roleType changes the selector, so delete and recreate."""
    return bool(observed.get("spec", {}).get("selector") != desired["spec"]["selector"])


def service_needs_recreate(observed: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    """clusterIP is immutable: switching between headless and ClusterIP needs delete + create."""
    obs_headless: bool = observed.get("spec", {}).get("clusterIP") == "None"
    want_headless: bool = desired["spec"].get("clusterIP") == "None"
    return obs_headless != want_headless


def service_update(observed: Mapping[str, Any], desired: Mapping[str, Any]) -> Obj | None:
    obs_spec = observed.get("spec", {})
    want_spec = desired["spec"]
    if (
        semantic_derivative(want_spec["ports"], obs_spec.get("ports"))
        and obs_spec.get("selector") == want_spec["selector"]
        and _labels_cover(observed, desired["metadata"]["labels"])
    ):
        return None
    updated: Obj = copy.deepcopy(dict(observed))
    updated["metadata"]["labels"] = {
        **(updated["metadata"].get("labels") or {}),
        **desired["metadata"]["labels"],
    }
    updated["spec"]["ports"] = copy.deepcopy(want_spec["ports"])
    updated["spec"]["selector"] = dict(want_spec["selector"])
    updated.pop("status", None)
    return updated


# --------------------------------------------------------------------------------------------
# Status
# --------------------------------------------------------------------------------------------


def _condition(
    ctype: str,
    ok: bool,
    reason: str,
    message: str,
    previous: Sequence[Mapping[str, Any]],
    timestamp: str,
    generation: int | None = None,
) -> dict[str, Any]:
    """A metav1.Condition whose lastTransitionTime moves only when its status flips
    (upstream: k8s.io/apimachinery pkg/api/meta/conditions.go SetStatusCondition)."""
    status = "True" if ok else "False"
    last = timestamp
    for cond in previous:
        if cond.get("type") == ctype and cond.get("status") == status:
            last = str(cond.get("lastTransitionTime", timestamp))
    cond_out: dict[str, Any] = {
        "type": str(ctype),
        "status": status,
        "reason": str(reason),
        "message": message,
        "lastTransitionTime": last,
    }
    if generation is not None:
        cond_out["observedGeneration"] = generation
    return cond_out


def _previous_role_status(ds: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(rs.get("name")): rs for rs in (ds.get("status", {}) or {}).get("roleStatuses", []) or []}


def compute_phase(decisions: Sequence[RoleDecision], degraded: Sequence[str]) -> Phase:
    """Ready: every role Ready. Pending: no role started yet. Degraded: some role lost readiness
    without any change to its Deployment's spec (`degraded`, see compute_status). Otherwise
    Progressing (roles starting, waiting for dependencies, scaling or rolling out)."""
    if all(d.ready for d in decisions):
        return Phase.READY
    if not any(d.started for d in decisions):
        return Phase.PENDING
    if degraded:
        return Phase.DEGRADED
    return Phase.PROGRESSING


def _ready_condition(conditions: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    for cond in conditions:
        if cond.get("type") == ConditionType.READY:
            return cond
    return None


def compute_status(
    ds: Mapping[str, Any],
    decisions: Sequence[RoleDecision],
    deployments: Mapping[str, Mapping[str, Any]],
    timestamp: str,
) -> Obj:
    """The DisaggregatedService status this reconcile observed. `deployments` maps role name to
    its observed (owned) Deployment; `timestamp` is the simulated RFC 3339 time of `now`.

    A started role's Ready condition carries its Deployment's metadata.generation as
    observedGeneration. A role with fewer Ready pods than desired, its rollout complete
    (updatedReplicas >= replicas), whose previous condition was True (or already ReplicasUnavailable)
    *at the same Deployment generation* lost pods without anyone changing its spec: reason
    ReplicasUnavailable, and the phase is Degraded until it recovers. A not-Ready role that is
    rescaling or rolling out is ReplicasNotReady: Progressing."""
    meta = _meta(ds)
    generation = int(meta.get("generation", 0) or 0)
    previous = _previous_role_status(ds)
    role_statuses = []
    degraded: list[str] = []
    for d in decisions:
        dep = deployments.get(d.name)
        dstatus = (dep or {}).get("status", {}) or {}
        prev_conds = (previous.get(d.name) or {}).get("conditions", []) or []
        dep_gen: int | None = None
        if d.ready:
            reason, msg = RoleReason.ALL_REPLICAS_READY, "All replicas are ready"
        elif d.waiting_for:
            reason = RoleReason.WAITING_FOR_DEPENDENCIES
            msg = "Waiting for dependencies to be ready: " + ", ".join(d.waiting_for)
        elif d.name_conflict:
            reason = RoleReason.NAME_CONFLICT
            msg = f"Deployment {child_name(str(meta['name']), d.name)} exists and is not controlled by this service"
        else:
            ready_n = int(dstatus.get("readyReplicas", 0) or 0)
            want = int((dep or {}).get("spec", {}).get("replicas", 0) or 0)
            reason, msg = RoleReason.REPLICAS_NOT_READY, f"{ready_n}/{want} replicas ready"
            prev = _ready_condition(prev_conds)
            dep_gen_now = int(_meta(dep or {}).get("generation", 0) or 0)
            rolled_out = int(dstatus.get("updatedReplicas", want) or 0) >= want
            if (
                prev is not None
                and ready_n < want
                and rolled_out
                and prev.get("observedGeneration") == dep_gen_now
                and (prev.get("status") == "True" or prev.get("reason") == RoleReason.REPLICAS_UNAVAILABLE)
            ):
                reason = RoleReason.REPLICAS_UNAVAILABLE
                msg = f"{ready_n}/{want} replicas ready; the role was Ready at this Deployment generation"
                degraded.append(d.name)
        if d.started and dep is not None:
            dep_gen = int(_meta(dep).get("generation", 0) or 0)
        role_statuses.append(
            {
                "name": d.name,
                "replicas": int(dstatus.get("replicas", 0) or 0),
                "readyReplicas": int(dstatus.get("readyReplicas", 0) or 0),
                "conditions": [
                    _condition(ConditionType.READY, d.ready, reason, msg, prev_conds, timestamp, dep_gen)
                ],
            }
        )
    phase = compute_phase(decisions, degraded)
    not_ready = [d.name for d in decisions if not d.ready]
    if not_ready:
        ds_reason, ds_msg = DSReason.ROLES_NOT_READY, "Roles not ready: " + ", ".join(not_ready)
    else:
        ds_reason, ds_msg = DSReason.ALL_ROLES_READY, "All roles are ready"
    prev_ds_conds = (ds.get("status", {}) or {}).get("conditions", []) or []
    return {
        "observedGeneration": generation,
        "phase": phase.value,
        "roleStatuses": role_statuses,
        "conditions": [
            _condition(
                ConditionType.READY, not not_ready, ds_reason, ds_msg, prev_ds_conds, timestamp, generation
            )
        ],
    }


# --------------------------------------------------------------------------------------------
# One reconcile
# --------------------------------------------------------------------------------------------


def _by_role(ds_name: str, objs: Sequence[Mapping[str, Any]], ds: Mapping[str, Any]) -> dict[str, Obj]:
    out: dict[str, Obj] = {}
    for obj in sorted(objs, key=lambda o: str(_meta(o).get("name", ""))):
        labels = _meta(obj).get("labels", {}) or {}
        if labels.get(LABEL_DS) != ds_name or not is_owned_by(obj, ds):
            continue
        out[str(labels.get(LABEL_ROLE, ""))] = dict(obj)
    return out


def _reverts_foreign_scale(
    ds: Mapping[str, Any], roles: Sequence[Mapping[str, Any]], owned_deps: Mapping[str, Mapping[str, Any]]
) -> bool:
    """Attribution for Quirk.DS_OVERWRITES_AUTOSCALED_REPLICAS: some started role's Deployment has
    replicas other than the role's while the DisaggregatedService spec is unchanged since the last
    status this controller wrote (observedGeneration == generation), so the difference came from
    another writer (an HPA, kubectl scale) and this reconcile reverts it."""
    generation = _meta(ds).get("generation")
    if generation is None or (ds.get("status") or {}).get("observedGeneration") != generation:
        return False
    for role in roles:
        dep = owned_deps.get(str(role["name"]))
        if dep is not None and dep.get("spec", {}).get("replicas") != role_replicas(role):
            return True
    return False


def plan_reconcile(
    ds: Mapping[str, Any],
    deployments: Sequence[Mapping[str, Any]],
    services: Sequence[Mapping[str, Any]],
    *,
    now: float,
    timestamp: str,
    ready_requires_nonzero: bool,
    overwrite_replicas: bool,
    requeue_after: float = DEFAULT_REQUEUE_AFTER,
) -> ReconcilePlan:
    """Decide one reconcile of `ds` from the observed Deployments and Services of its namespace.

    Walks roles in spec order (as the PR's loop does). A role whose Deployment does not exist yet is
    created (Deployment, then its Service) only when every role it dependsOn is Ready now; else it
    waits and the plan requeues after `requeue_after`. Roles that exist are kept in sync whatever
    their dependencies do (see module docstring). Owned children of roles no longer in the spec
    are deleted. Readiness follows `ready_requires_nonzero` (Quirk.DS_READY_REQUIRES_NONZERO);
    replica ownership follows `overwrite_replicas` (Quirk.DS_OVERWRITES_AUTOSCALED_REPLICAS).
    `now` is part of the contract (decisions take time as input) but readiness here depends only
    on observed state; `timestamp` is `now` on the simulated wall clock, for condition times.
    """
    meta = _meta(ds)
    ds_name = str(meta["name"])
    namespace = str(meta.get("namespace", "default"))
    roles = roles_of(ds)
    owned_deps = _by_role(ds_name, deployments, ds)
    owned_svcs = _by_role(ds_name, services, ds)
    all_dep_names = {str(_meta(d).get("name")) for d in deployments}
    all_svc_names = {str(_meta(s).get("name")) for s in services}

    ready = {
        str(r["name"]): deployment_ready(
            owned_deps.get(str(r["name"])), requires_nonzero=ready_requires_nonzero
        )
        for r in roles
    }
    triggered: tuple[str, ...] = ()
    if ready_requires_nonzero and any(
        ready[str(r["name"])] != deployment_ready(owned_deps.get(str(r["name"])), requires_nonzero=False)
        for r in roles
    ):
        triggered = (Quirk.DS_READY_REQUIRES_NONZERO.value,)
    if overwrite_replicas and _reverts_foreign_scale(ds, roles, owned_deps):
        triggered = (*triggered, Quirk.DS_OVERWRITES_AUTOSCALED_REPLICAS.value)
    actions: list[Action] = []
    decisions: list[RoleDecision] = []
    for role in roles:
        rname = str(role["name"])
        want_dep = desired_deployment(ds, role, track_applied=not overwrite_replicas)
        want_svc = desired_service(ds, role)
        cname = want_dep["metadata"]["name"]
        observed_dep = owned_deps.get(rname)
        observed_svc = owned_svcs.get(rname)

        act = partial(_append_action, actions, namespace, cname, rname)

        if observed_dep is None:
            waiting = blocking_dependencies(role, ready)
            foreign = not waiting and cname in all_dep_names
            decisions.append(
                RoleDecision(
                    name=rname, started=False, ready=False, waiting_for=waiting, name_conflict=foreign
                )
            )
            if waiting or foreign:
                continue
            reason = "DependenciesReady" if role_depends_on(role) else "NoDependencies"
            act(Verb.CREATE, "Deployment", reason, want_dep)
        else:
            decisions.append(RoleDecision(name=rname, started=True, ready=ready[rname]))
            if deployment_needs_recreate(observed_dep, want_dep):
                act(Verb.DELETE, "Deployment", "SelectorChanged")
            else:
                upd = deployment_update(observed_dep, want_dep, overwrite_replicas=overwrite_replicas)
                if upd is not None:
                    act(Verb.UPDATE, "Deployment", "SpecChanged", upd)
        # The Service follows its Deployment: created in the same reconcile, never before it.
        if observed_svc is None:
            if cname not in all_svc_names:
                act(Verb.CREATE, "Service", "RoleStarted", want_svc)
        elif service_needs_recreate(observed_svc, want_svc):
            act(Verb.DELETE, "Service", "ServiceTypeChanged")
        else:
            svc_upd = service_update(observed_svc, want_svc)
            if svc_upd is not None:
                act(Verb.UPDATE, "Service", "SpecChanged", svc_upd)

    wanted = {str(r["name"]) for r in roles}
    for kind, owned in (("Deployment", owned_deps), ("Service", owned_svcs)):
        for rname in sorted(owned):
            if rname not in wanted:
                actions.append(
                    Action(
                        verb=Verb.DELETE,
                        kind=kind,
                        namespace=namespace,
                        name=str(_meta(owned[rname])["name"]),
                        role=rname,
                        reason="RoleRemoved",
                    )
                )

    status = compute_status(ds, decisions, owned_deps, timestamp)
    current = ds.get("status") or {}
    waiting_any = any(d.waiting_for or d.name_conflict for d in decisions)
    return ReconcilePlan(
        actions=tuple(actions),
        roles=tuple(decisions),
        status=status,
        status_changed=status != current,
        requeue_after=requeue_after if waiting_any else None,
        quirks_triggered=triggered,
    )

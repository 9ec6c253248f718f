"""Observes a running world without taking part in it: every API write (through the audit log),
controller decisions (through their `events` sinks), pod transitions, replica changes, role
readiness and scaler conflicts. Reads use `APIServer.peek`, which has no side effects (no audit
entry, no latency, no fault draw), so recording never changes what is simulated."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from model.quirks import Quirk
from sim.apiserver.audit import AuditEntry, AuditLog
from sim.report.events import EventLog
from sim.report.timeseries import E2E, METRIC_PREFIX, TimeSeries

if TYPE_CHECKING:
    from sim.scenario.world import World

DS_KIND = "DisaggregatedService"
DS_LABEL = "scaler.bud.studio/disaggregated-service"
ROLE_LABEL = "scaler.bud.studio/role"
DS_CONTROLLER_ACTORS = frozenset({"disaggregatedservice-controller"})
QUIRK_KEYS = ("quirksTriggered", "quirks_triggered", "quirks")


class RecordingAuditLog(AuditLog):
    """The API server's audit log, calling back after each entry is stored."""

    def __init__(self, hook: Any) -> None:
        super().__init__()
        self._hook = hook

    def record(self, entry: AuditEntry) -> None:
        super().record(entry)
        self._hook(entry)


@dataclass
class PodState:
    role: str
    phase: str
    ready: bool
    node: str


@dataclass
class RoleState:
    spec: int | None = None
    desired: int | None = None
    ready: int = 0
    ds_ready: bool = False
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)


def _conditions(obj: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(c.get("type")): c for c in (obj.get("status") or {}).get("conditions", []) or []}


class Recorder:
    def __init__(self, world: World) -> None:
        self.world = world
        self.log: EventLog = world.events
        self.api: Any = None
        self.pods: dict[tuple[str, str], PodState] = {}
        self.roles: dict[str, RoleState] = {r: RoleState() for r in world.roles}
        self.deployment_role: dict[tuple[str, str], str] = {}
        self.scaler_role: dict[tuple[str, str], str] = {}
        self.hpa_role: dict[tuple[str, str], str] = {}
        self.first_ready: dict[str, float | None] = dict.fromkeys(world.roles)
        self.scale_events: list[dict[str, Any]] = []
        self.conflicts: dict[str, float] = {}
        self._conflicting: set[str] = set()
        self.quirk_counts: Counter[str] = Counter()
        self.cluster_samples: dict[float, dict[str, dict[str, Any]]] = {}
        self._last_deploy_spec: dict[tuple[str, str], int] = {}
        self.last_decision: dict[str, dict[str, Any]] = {}
        """`namespace/name` of a scaler -> its last decision (time, reason, reason code)."""
        self.prediction_stats: dict[str, dict[str, Any]] = {}
        """`namespace/name` -> prediction counts (decisions, used, changed, confidence sum) and
        learning counts (observations, persists), from decision events (sim/controllers/bud_learning.py)."""

    # ------------------------------------------------------------------ wiring

    def attach(self, api: Any) -> None:
        self.api = api
        api.audit = RecordingAuditLog(self.on_audit)

    def controller_event(self, event: dict[str, Any]) -> None:
        """The `events` sink given to controllers: decisions with their inputs and reasons."""
        record = dict(event)
        record.setdefault("t", self.world.now)
        record.setdefault("type", "decision")
        self.log.emit(record)
        self._derived_quirks(record)
        if record.get("event") == "decision" and record.get("scaler"):
            self._prediction_facts(record)
            details = record.get("details") or {}
            self.last_decision[str(record["scaler"])] = {
                "t": record.get("t"),
                "reason": record.get("reason"),
                "code": details.get("reasonCode") if isinstance(details, Mapping) else None,
            }
        for source in (record, record.get("details") or {}):
            if not isinstance(source, Mapping):
                continue
            for key in QUIRK_KEYS:
                fired = source.get(key)
                if isinstance(fired, list | tuple):
                    for q in fired:
                        self.quirk_counts[str(q)] += 1

    def _prediction_facts(self, record: Mapping[str, Any]) -> None:
        pred, learn = record.get("prediction"), record.get("learning")
        if not isinstance(pred, Mapping) and not isinstance(learn, Mapping):
            return
        st = self.prediction_stats.setdefault(
            str(record["scaler"]),
            {
                "decisions": 0,
                "used": 0,
                "changed": 0,
                "confidence_sum": 0.0,
                "observations": 0,
                "persists": 0,
            },
        )
        if isinstance(pred, Mapping):
            st["decisions"] += 1
            st["used"] += int(bool(pred.get("used")))
            st["changed"] += int(bool(pred.get("changed")))
            st["confidence_sum"] += float(pred.get("confidence") or 0.0)
        if isinstance(learn, Mapping) and learn.get("enabled"):
            st["observations"] += 1
            st["persists"] += int(learn.get("persist") == "ok")

    def _derived_quirks(self, record: Mapping[str, Any]) -> None:
        """A quirk whose effect is visible in a decision but that the controller does not report
        (its `quirksTriggered` lists only the algorithm's): a scaler that cannot leave 0 for lack
        of pods to read (no_scale_from_zero)."""
        quirks = self.world.quirks
        if record.get("event") == "decision" and Quirk.NO_SCALE_FROM_ZERO in quirks:
            inputs = record.get("inputs") or {}
            if (
                record.get("current") == 0
                and record.get("desired") == 0
                and not inputs.get("runningPodCount")
            ):
                self.quirk_counts[Quirk.NO_SCALE_FROM_ZERO.value] += 1

    def role_of_pod(self, pod: str) -> str | None:
        for (_, name), state in self.pods.items():
            if name == pod:
                return state.role
        return None

    def saw_metric(self, pod: str, metric: str, value: Any) -> None:
        role = self.role_of_pod(pod)
        if role is None or role not in self.roles:
            return
        v = getattr(value, "value", value)
        if isinstance(v, int | float):
            self.roles[role].metrics.setdefault(metric, {})[pod] = float(v)

    # ------------------------------------------------------------------ audit

    def on_audit(self, e: AuditEntry) -> None:
        event: dict[str, Any] = {
            "t": e.t,
            "type": "api",
            "actor": e.actor,
            "verb": e.verb,
            "kind": e.kind,
            "namespace": e.namespace,
            "name": e.name,
            "result": e.result,
            "rv": e.rv_after,
        }
        if e.subresource:
            event["subresource"] = e.subresource
        if e.changed_fields:
            event["changed"] = list(e.changed_fields)
        self.log.emit(event)
        if e.result != "ok" or (e.rv_before == e.rv_after and e.verb != "create"):
            return
        obj = self.api.peek(e.kind, e.namespace, e.name)
        if e.kind == "Pod":
            self._pod(e, obj)
        elif e.kind == "Deployment":
            self._deployment(e, obj)
        elif e.kind == DS_KIND:
            self._ds(e, obj)
        elif e.kind == "BudAIScaler":
            self._scaler(e, obj)
        elif e.kind == "HorizontalPodAutoscaler":
            self._hpa(e, obj)

    def _pod(self, e: AuditEntry, obj: Mapping[str, Any] | None) -> None:
        key = (e.namespace, e.name)
        old = self.pods.get(key)
        if obj is None:
            if old is not None:
                del self.pods[key]
                self.log.emit(
                    {
                        "t": e.t,
                        "type": "pod",
                        "pod": e.name,
                        "role": old.role,
                        "phase": "Deleted",
                        "ready": False,
                    }
                )
            return
        meta = obj.get("metadata") or {}
        labels = meta.get("labels") or {}
        role = str(labels.get(ROLE_LABEL, ""))
        status = obj.get("status") or {}
        phase = "Terminating" if meta.get("deletionTimestamp") else str(status.get("phase", "Pending"))
        ready = _conditions(obj).get("Ready", {}).get("status") == "True" and phase != "Terminating"
        node = str((obj.get("spec") or {}).get("nodeName") or "")
        new = PodState(role, phase, bool(ready), node)
        self.pods[key] = new
        if old is None or (old.phase, old.ready, old.node) != (new.phase, new.ready, new.node):
            self.log.emit(
                {
                    "t": e.t,
                    "type": "pod",
                    "pod": e.name,
                    "role": role,
                    "phase": phase,
                    "ready": new.ready,
                    "node": node,
                }
            )

    def _deployment(self, e: AuditEntry, obj: Mapping[str, Any] | None) -> None:
        if obj is None:
            return
        labels = (obj.get("metadata") or {}).get("labels") or {}
        role = labels.get(ROLE_LABEL)
        if role is None or role not in self.roles:
            return
        self.deployment_role[(e.namespace, e.name)] = str(role)
        state = self.roles[str(role)]
        state.ready = int((obj.get("status") or {}).get("readyReplicas", 0) or 0)
        replicas = int((obj.get("spec") or {}).get("replicas", 1) if obj.get("spec") else 0)
        if "spec.replicas" in e.changed_fields and e.actor not in DS_CONTROLLER_ACTORS and e.verb != "create":
            # a scaler writing the generated Deployment directly (not via the DS role)
            self._scale(
                e, str(role), self._last_deploy_spec.get((e.namespace, e.name)), replicas, "Deployment"
            )
        self._last_deploy_spec[(e.namespace, e.name)] = replicas

    def _scale(self, e: AuditEntry, role: str, old: int | None, new: int, via: str) -> None:
        if old is None or old == new:
            return
        event = {
            "t": e.t,
            "type": "scale",
            "role": role,
            "from": old,
            "to": new,
            "actor": e.actor,
            "via": via,
        }
        self.scale_events.append(event)
        self.log.emit(event)

    def _ds(self, e: AuditEntry, obj: Mapping[str, Any] | None) -> None:
        if obj is None:
            return
        for r in (obj.get("spec") or {}).get("roles", []) or []:
            name = str(r.get("name"))
            if name not in self.roles:
                continue
            state = self.roles[name]
            replicas = int(r.get("replicas", 1))
            if e.verb != "create":
                self._scale(e, name, state.spec, replicas, DS_KIND)
            state.spec = replicas
        for rs in (obj.get("status") or {}).get("roleStatuses", []) or []:
            name = str(rs.get("name"))
            if name not in self.roles:
                continue
            ready = any(
                c.get("type") == "Ready" and c.get("status") == "True" for c in rs.get("conditions") or []
            )
            state = self.roles[name]
            if ready != state.ds_ready:
                state.ds_ready = ready
                self.log.emit({"t": e.t, "type": "role.ready" if ready else "role.notready", "role": name})
                if ready and self.first_ready.get(name) is None:
                    self.first_ready[name] = e.t

    def _scaler(self, e: AuditEntry, obj: Mapping[str, Any] | None) -> None:
        if obj is None:
            return
        spec = obj.get("spec") or {}
        ref = spec.get("scaleTargetRef") or {}
        role: str | None = None
        if ref.get("kind") == DS_KIND:
            role = (spec.get("subTargetSelector") or {}).get("roleName")
        elif ref.get("kind") == "Deployment":
            role = self.deployment_role.get((e.namespace, str(ref.get("name"))))
            if role is None:
                role = self._role_from_deployment_name(str(ref.get("name")))
        status = obj.get("status") or {}
        desired = status.get("desiredScale")
        if role in self.roles and desired is not None:
            self.roles[str(role)].desired = int(desired)
        ready = _conditions(obj).get("Ready") or {}
        name = f"{e.namespace}/{e.name}"
        short = e.name
        conflicting = ready.get("status") == "False" and ready.get("reason") == "ConflictDetected"
        if conflicting and name not in self._conflicting:
            self._conflicting.add(name)
            self.conflicts.setdefault(short, e.t)
            self.log.emit(
                {"t": e.t, "type": "scaler.conflict", "scaler": short, "message": ready.get("message", "")}
            )
        elif not conflicting and name in self._conflicting:
            self._conflicting.discard(name)

    def _hpa(self, e: AuditEntry, obj: Mapping[str, Any] | None) -> None:
        if obj is None:
            return
        ref = (obj.get("spec") or {}).get("scaleTargetRef") or {}
        role = None
        if ref.get("kind") == "Deployment":
            role = self.deployment_role.get(
                (e.namespace, str(ref.get("name")))
            ) or self._role_from_deployment_name(str(ref.get("name")))
        desired = (obj.get("status") or {}).get("desiredReplicas")
        if role in self.roles and desired is not None:
            self.roles[str(role)].desired = int(desired)

    def _role_from_deployment_name(self, name: str) -> str | None:
        for ds in self.world.resolved.ds_names:
            prefix = f"{ds}-"
            if name.startswith(prefix) and name[len(prefix) :] in self.roles:
                return name[len(prefix) :]
        return None

    # ------------------------------------------------------------------ sampling

    def replica_counts(self) -> dict[str, tuple[int, int]]:
        return {r: (s.ready, s.spec or 0) for r, s in self.roles.items()}

    def sample_cluster(self, t: float) -> None:
        starting: Counter[str] = Counter()
        for state in self.pods.values():
            if not state.ready and state.phase not in ("Terminating", "Succeeded", "Failed"):
                starting[state.role] += 1
        row: dict[str, dict[str, Any]] = {}
        for role, s in self.roles.items():
            values: dict[str, Any] = {
                "desired": s.desired,
                "spec": s.spec,
                "ready": s.ready,
                "starting": starting.get(role, 0),
            }
            for metric, per_pod in sorted(s.metrics.items()):
                if per_pod:
                    values[METRIC_PREFIX + metric] = sum(per_pod.values()) / len(per_pod)
            s.metrics = {}
            row[role] = values
        self.cluster_samples[round(t, 9)] = row

    def build_timeseries(self, load_samples: Mapping[float, Mapping[str, Any]]) -> TimeSeries:
        ts = TimeSeries([*self.world.roles, E2E])
        for t in sorted(set(self.cluster_samples) | set(load_samples)):
            cluster = self.cluster_samples.get(t, {})
            sample = (load_samples.get(t) or {}).get("sample")
            by_role = {rs.role: rs for rs in sample.roles} if sample is not None else {}
            for role in self.world.roles:
                values: dict[str, Any] = dict(cluster.get(role, {}))
                rs = by_role.get(role)
                if rs is not None:
                    values.update(
                        {
                            "arrivals": rs.entered,
                            "completions": rs.left,
                            "queue": rs.waiting,
                            "in_flight": rs.in_role,
                            "dropped": rs.dropped,
                        }
                    )
                    if rs.left:
                        values.update({"latency_p50": rs.p50, "latency_p95": rs.p95, "latency_p99": rs.p99})
                ts.add(t, role, values)
            if sample is not None:
                e2e: dict[str, Any] = {
                    "arrivals": sample.interval_arrived,
                    "completions": sample.interval_completed,
                    "dropped": sample.interval_dropped,
                    "in_flight": sample.in_flight,
                }
                if sample.interval_completed:
                    e2e.update(
                        {
                            "latency_p50": sample.e2e_p50,
                            "latency_p95": sample.e2e_p95,
                            "latency_p99": sample.e2e_p99,
                        }
                    )
                ts.add(t, E2E, e2e)
        return ts

    def merged_events(self) -> EventLog:
        return self.log

    def role_summary(self, latencies: Mapping[str, list[float]]) -> dict[str, Any]:
        from sim.report.summary import percentiles

        ts = self.build_timeseries({})
        out: dict[str, Any] = {}
        for role in self.world.roles:
            _, ready = ts.series(role, "ready")
            _, spec = ts.series(role, "spec")
            readies = [v for v in ready if v is not None]
            specs = [v for v in spec if v is not None]
            ups = sum(1 for e in self.scale_events if e["role"] == role and e["to"] > e["from"])
            downs = sum(1 for e in self.scale_events if e["role"] == role and e["to"] < e["from"])
            out[role] = {
                "replicas_min": int(min(readies)) if readies else None,
                "replicas_max": int(max(readies)) if readies else None,
                "spec_min": int(min(specs)) if specs else None,
                "spec_max": int(max(specs)) if specs else None,
                "first_ready_s": self.first_ready.get(role),
                "scale_ups": ups,
                "scale_downs": downs,
                "latency": percentiles(latencies.get(role, [])),
            }
        return out

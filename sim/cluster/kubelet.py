"""A simulated kubelet for every node: drives bound pods through the lifecycle stages and reports
pod status the way the real kubelet does (phase, conditions with lastTransitionTime, startTime,
podIP, containerStatuses with restartCount), then confirms deletion after graceful termination.

- Readiness: the `ready` stage is when the app would answer; with a readinessProbe the pod turns
  Ready at the first probe tick (start + initialDelaySeconds + k * periodSeconds) at or after it,
  plus (successThreshold - 1) periods. Without a probe, Ready when the stage completes.
- Crashes: CrashLoopBackOff as the kubelet does it: the first restart is immediate, then 10 s
  doubling to 300 s (upstream: pkg/kubelet/kuberuntime/kuberuntime_manager.go doBackOff,
  flowcontrol.Backoff); the backoff resets after 600 s without a crash.
- Termination: the `termination` stage delay capped at deletionGracePeriodSeconds, then delete
  with grace 0 (upstream: pkg/kubelet/status/status_manager.go canBeDeleted -> Delete(grace 0))."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.apiserver.errors import ApiError, NotFound
from sim.apiserver.watch import WatchEventType
from sim.cluster.podutil import condition
from sim.cluster.stages import LifecycleState, StageSet, label_key_of, sample_delay
from sim.runtime.informer import InformerEvent, InformerFactory

if TYPE_CHECKING:
    from sim.apiserver.server import APIServer
    from sim.clock import Simulation

ACTOR = "kubelet"
BACKOFF_INITIAL = 10.0
BACKOFF_MAX = 300.0
BACKOFF_RESET = 2 * BACKOFF_MAX
RETRY_ON_ERROR = 1.0

Key = tuple[str, str]


@dataclass(slots=True)
class PodRuntime:
    key: Key
    uid: str
    node: str
    labels: dict[str, str]
    spec: dict[str, Any]
    scheduled_condition: dict[str, Any] | None
    state: LifecycleState = LifecycleState.SCHEDULED
    token: int = 0
    restart_count: int = 0
    backoff: float = 0.0  # current backoff (0 = next restart is immediate)
    last_crash: float = -math.inf
    start_time: str = ""
    started_at: str = ""
    ready_since: str = ""
    not_ready_since: str = ""
    pod_ip: str = ""
    last_terminated: dict[str, Any] | None = None
    containers: list[tuple[str, str]] | None = None  # (name, image) sorted by name
    reported_phase: str = "Pending"
    label_key: tuple[tuple[str, str], ...] = ()
    ip_reported: bool = False


class Kubelet:
    def __init__(self, sim: Simulation, api: APIServer, informers: InformerFactory, stages: StageSet) -> None:
        self.sim = sim
        self.api = api
        self.stages = stages
        self.failed_nodes: set[str] = set()
        self.runtimes: dict[Key, PodRuntime] = {}
        self.log: list[tuple[float, str, str]] = []  # (t, pod, state) for tests and reports
        self.keep_log = True
        self._ips = 0
        self._host_ips: dict[str, str] = {}
        self._rng = sim.seeds.stream("kubelet")
        self.pods = informers.informer("Pod")
        self.pods.add_handler(self._on_pod)

    # ------------------------------------------------------------------ events

    def _on_pod(self, event: InformerEvent) -> None:
        pod = event.obj
        meta = pod["metadata"]
        key = (meta["namespace"], meta["name"])
        if event.type is WatchEventType.DELETED:
            rt = self.runtimes.pop(key, None)
            if rt is not None:
                rt.token += 1
            return
        node = (pod.get("spec") or {}).get("nodeName")
        if not node or node in self.failed_nodes:
            return
        rt = self.runtimes.get(key)
        terminating = meta.get("deletionTimestamp") is not None
        if rt is None or rt.uid != meta["uid"]:
            rt = PodRuntime(
                key=key,
                uid=meta["uid"],
                node=node,
                labels=dict(meta.get("labels") or {}),
                label_key=label_key_of(meta.get("labels")),
                spec=pod.get("spec") or {},
                scheduled_condition=_copy_cond(condition(pod, "PodScheduled")),
            )
            self.runtimes[key] = rt
            if terminating:
                self._terminate(rt, pod)
            else:
                self._enter_scheduled(rt)
        elif terminating and rt.state not in (LifecycleState.TERMINATING, LifecycleState.DELETED):
            self._terminate(rt, pod)

    # ------------------------------------------------------------------ transitions

    def _after(self, rt: PodRuntime, delay: float, target: LifecycleState) -> None:
        rt.token += 1
        token = rt.token
        ev = self.sim.env.timeout(max(0.0, delay))
        ev.callbacks.append(lambda _e: self._fire(rt, token, target))

    def _next(self, rt: PodRuntime, state: LifecycleState) -> None:
        stage = self.stages.next_stage(state, rt.labels, self._rng, rt.label_key)
        if stage is None:
            return
        delay = sample_delay(stage.delay, self._rng)
        if stage.to_state is LifecycleState.READY:
            delay = self._probe_ready_time(rt.spec, delay) if rt.spec.get("containers") else delay
        self._after(rt, delay, stage.to_state)

    @staticmethod
    def _probe_ready_time(spec: Mapping[str, Any], app_delay: float) -> float:
        """Seconds after container start when Ready turns True, given the app is ready after `app_delay`."""
        worst = 0.0
        for c in spec.get("containers") or ():
            probe = c.get("readinessProbe")
            if not probe:
                t = app_delay
            else:
                first = float(probe.get("initialDelaySeconds", 0))
                period = float(probe.get("periodSeconds", 10))
                t = (
                    first
                    if app_delay <= first
                    else first + math.ceil(round((app_delay - first) / period, 9)) * period
                )
                t += (int(probe.get("successThreshold", 1)) - 1) * period
            worst = max(worst, t)
        return worst

    def _fire(self, rt: PodRuntime, token: int, target: LifecycleState) -> None:
        if token != rt.token or self.runtimes.get(rt.key) is not rt or rt.node in self.failed_nodes:
            return
        if target is LifecycleState.PULLED:
            rt.state = target
            self._record(rt)
            self._next(rt, LifecycleState.PULLED)
        elif target is LifecycleState.RUNNING:
            self._enter_running(rt)
        elif target is LifecycleState.READY:
            self._enter_ready(rt)
        elif target is LifecycleState.CRASHED:
            self._enter_crashed(rt)
        elif target is LifecycleState.DELETED:
            self._confirm_deleted(rt)
        elif target is LifecycleState.SCHEDULED:
            self._enter_scheduled(rt)

    def _record(self, rt: PodRuntime) -> None:
        if self.keep_log:
            self.log.append((float(self.sim.env.now), rt.key[1], rt.state.value))

    def _enter_scheduled(self, rt: PodRuntime) -> None:
        rt.state = LifecycleState.SCHEDULED
        now_ts = self.api.timestamp()
        rt.start_time = rt.start_time or now_ts
        rt.not_ready_since = rt.not_ready_since or now_ts
        self._record(rt)
        self._write_status(rt, phase="Pending", waiting={"reason": "ContainerCreating"}, initial=True)
        self._next(rt, LifecycleState.SCHEDULED)

    def _enter_running(self, rt: PodRuntime) -> None:
        rt.state = LifecycleState.RUNNING
        rt.started_at = self.api.timestamp()
        if not rt.pod_ip:
            self._ips += 1
            rt.pod_ip = f"10.244.{(self._ips // 250) % 250}.{self._ips % 250 + 2}"
        self._record(rt)
        self._write_status(rt, phase="Running", running=True, conditions_changed=False)
        self._next(rt, LifecycleState.RUNNING)

    def _enter_ready(self, rt: PodRuntime) -> None:
        rt.state = LifecycleState.READY
        rt.ready_since = self.api.timestamp()
        self._record(rt)
        self._write_status(rt, phase="Running", running=True, ready=True)
        self._next(rt, LifecycleState.READY)

    def _enter_crashed(self, rt: PodRuntime) -> None:
        now = float(self.sim.env.now)
        rt.state = LifecycleState.CRASHED
        if now - rt.last_crash > BACKOFF_RESET:
            rt.backoff = 0.0
        rt.last_crash = now
        delay = rt.backoff
        rt.backoff = BACKOFF_INITIAL if rt.backoff == 0.0 else min(rt.backoff * 2, BACKOFF_MAX)
        finished = self.api.timestamp()
        rt.last_terminated = {
            "terminated": {
                "exitCode": 1,
                "reason": "Error",
                "startedAt": rt.started_at,
                "finishedAt": finished,
                "containerID": "",
            }
        }
        if rt.ready_since:
            rt.ready_since = ""
            rt.not_ready_since = finished
        self._record(rt)
        if delay > 0:
            waiting = {
                "reason": "CrashLoopBackOff",
                "message": f"back-off {int(delay)}s restarting failed container",
            }
        else:
            waiting = {"reason": "ContainerCreating"}
        self._write_status(rt, phase="Running", waiting=waiting)
        # After the backoff the container is started again (image already present).
        rt.token += 1
        token = rt.token
        ev = self.sim.env.timeout(delay)
        ev.callbacks.append(lambda _e: self._restart(rt, token))

    def _restart(self, rt: PodRuntime, token: int) -> None:
        if token != rt.token or self.runtimes.get(rt.key) is not rt or rt.node in self.failed_nodes:
            return
        rt.restart_count += 1
        rt.state = LifecycleState.PULLED
        self._next(rt, LifecycleState.PULLED)

    def _terminate(self, rt: PodRuntime, pod: Mapping[str, Any]) -> None:
        rt.state = LifecycleState.TERMINATING
        self._record(rt)
        grace = float(pod["metadata"].get("deletionGracePeriodSeconds", 0) or 0)
        stage = self.stages.next_stage(LifecycleState.TERMINATING, rt.labels, self._rng, rt.label_key)
        delay = sample_delay(stage.delay, self._rng) if stage is not None else 0.0
        self._after(rt, min(delay, grace), LifecycleState.DELETED)

    def _confirm_deleted(self, rt: PodRuntime) -> None:
        rt.state = LifecycleState.DELETED
        self._record(rt)
        try:
            self.api.delete("Pod", rt.key[0], rt.key[1], actor=ACTOR, grace_period_seconds=0)
        except NotFound:
            pass
        except ApiError:
            self._after(rt, RETRY_ON_ERROR, LifecycleState.DELETED)

    # ------------------------------------------------------------------ status

    def _write_status(
        self,
        rt: PodRuntime,
        phase: str,
        waiting: dict[str, Any] | None = None,
        running: bool = False,
        ready: bool = False,
        initial: bool = False,
        conditions_changed: bool = True,
    ) -> None:
        """Patch the pod's status. Only the parts that can have changed are sent (the stored result
        is the same as the kubelet's full status patch)."""
        containers = rt.containers
        if containers is None:
            containers = rt.containers = sorted(
                (c.get("name", ""), c.get("image", "")) for c in rt.spec.get("containers") or ()
            )
        state = {"running": {"startedAt": rt.started_at}} if running else {"waiting": dict(waiting or {})}
        last = dict(rt.last_terminated) if rt.last_terminated else {}
        status: dict[str, Any] = {
            "containerStatuses": [
                {
                    "name": name,
                    "image": image,
                    "imageID": "",
                    "ready": ready,
                    "restartCount": rt.restart_count,
                    "started": running,
                    "state": state,
                    "lastState": last,
                }
                for name, image in containers
            ]
        }
        if initial or conditions_changed:
            unready = (
                "" if ready else f"containers with unready status: [{' '.join(n for n, _ in containers)}]"
            )
            since = rt.ready_since if ready else rt.not_ready_since
            conditions = [
                {
                    "type": "Initialized",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": rt.start_time,
                },
                _ready_cond("Ready", ready, since, unready),
                _ready_cond("ContainersReady", ready, since, unready),
            ]
            if rt.scheduled_condition is not None:
                conditions.append(rt.scheduled_condition)
            status["conditions"] = conditions
        if initial:
            status["hostIP"] = self._host_ip(rt.node)
            status["startTime"] = rt.start_time
        if initial or phase != rt.reported_phase:
            status["phase"] = phase
            rt.reported_phase = phase
        if rt.pod_ip and not rt.ip_reported:
            status["podIP"] = rt.pod_ip
            status["podIPs"] = [{"ip": rt.pod_ip}]
            rt.ip_reported = True
        self._patch_status(rt, status)

    def _host_ip(self, node: str) -> str:
        ip = self._host_ips.get(node)
        if ip is None:
            n = len(self._host_ips) + 1
            ip = self._host_ips[node] = f"10.0.{n // 250}.{n % 250 + 1}"
        return ip

    def _patch_status(self, rt: PodRuntime, status: dict[str, Any]) -> None:
        try:
            self.api.patch(
                "Pod",
                rt.key[0],
                rt.key[1],
                {"status": status},
                actor=ACTOR,
                subresource="status",
                copy_result=False,
                fresh_input=True,
            )
        except NotFound:
            return
        except ApiError:
            # the status manager retries with the latest status
            token = rt.token
            ev = self.sim.env.timeout(RETRY_ON_ERROR)
            ev.callbacks.append(lambda _e: self._retry_status(rt, token, status))

    def _retry_status(self, rt: PodRuntime, token: int, status: dict[str, Any]) -> None:
        if token == rt.token and self.runtimes.get(rt.key) is rt and rt.node not in self.failed_nodes:
            self._patch_status(rt, status)

    # ------------------------------------------------------------------ node failure

    def fail_node(self, node: str) -> None:
        """The node's kubelet stops: no more status, no termination (pods stay as last reported)."""
        self.failed_nodes.add(node)
        for key in sorted(self.runtimes):
            rt = self.runtimes[key]
            if rt.node == node:
                rt.token += 1

    def recover_node(self, node: str) -> None:
        """The kubelet comes back: terminating pods are finished, others are restarted from scratch."""
        self.failed_nodes.discard(node)
        for pod in self.pods.peek_list():
            if (pod.get("spec") or {}).get("nodeName") != node:
                continue
            meta = pod["metadata"]
            key = (meta["namespace"], meta["name"])
            old = self.runtimes.pop(key, None)
            if old is not None:
                old.token += 1
            self._on_pod(InformerEvent(WatchEventType.MODIFIED, pod))


def _copy_cond(c: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return dict(c) if c is not None else None


def _ready_cond(ctype: str, ready: bool, since: str, message: str) -> dict[str, Any]:
    if ready:
        return {"type": ctype, "status": "True", "lastProbeTime": None, "lastTransitionTime": since}
    return {
        "type": ctype,
        "status": "False",
        "reason": "ContainersNotReady",
        "message": message,
        "lastProbeTime": None,
        "lastTransitionTime": since,
    }

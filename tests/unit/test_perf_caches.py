"""The performance caches and fast paths decide exactly what the uncached code decides: each is
checked against the plain computation, including the changes that must invalidate it."""

from __future__ import annotations

import copy
from typing import Any

import simpy

from model.quirks import QuirkSet
from sim.clock import Simulation
from sim.controllers.budaiscaler import BudAIScalerReconciler, _scaling_context
from sim.decisions.bud.context import scaling_context_from_scaler
from sim.decisions.bud_controller.conflicts import ScalerRef, check_conflict
from sim.decisions.bud_controller.status import record_scale_result, update_condition
from sim.load.accounting import exact_percentile, exact_percentiles
from sim.load.metrics import parse_metric_text


def scaler(name: str, role: str | None, created: str, target: str = "4") -> dict[str, Any]:
    spec: dict[str, Any] = {
        "scaleTargetRef": {"kind": "DisaggregatedService", "name": "llm"},
        "minReplicas": 1,
        "maxReplicas": 5,
        "scalingStrategy": "BudScaler",
        "metricsSources": [{"metricSourceType": "pod", "targetMetric": "m", "targetValue": target}],
    }
    if role is not None:
        spec["subTargetSelector"] = {"roleName": role}
    return {
        "kind": "BudAIScaler",
        "metadata": {
            "namespace": "default",
            "name": name,
            "uid": f"uid-{name}",
            "creationTimestamp": created,
        },
        "spec": spec,
    }


def test_scaling_context_cache_follows_spec_and_annotations() -> None:
    s = scaler("a", "prefill", "2026-01-01T00:00:00Z")
    assert _scaling_context(s) == scaling_context_from_scaler(s)
    s2 = copy.deepcopy(s)
    s2["status"] = {"desiredScale": 3}  # a status write: same context
    assert _scaling_context(s2) is _scaling_context(s)
    s3 = scaler("a", "prefill", "2026-01-01T00:00:00Z", target="x7")  # unparsable: re-parsed
    assert _scaling_context(s3) == scaling_context_from_scaler(s3)
    assert _scaling_context(s3).ignored
    s4 = copy.deepcopy(s)
    s4["spec"]["maxReplicas"] = 5.0  # equal value, different text: re-parsed, never a stale context
    assert _scaling_context(s4) == scaling_context_from_scaler(s4)
    s5 = copy.deepcopy(s)
    s5["metadata"]["annotations"] = {"scaler.bud.studio/panic-threshold": "300"}
    assert _scaling_context(s5) == scaling_context_from_scaler(s5)
    assert _scaling_context(s5) != scaling_context_from_scaler(s)


class Cache:
    def __init__(self, objs: list[dict[str, Any]]) -> None:
        self.objs = objs

    def peek_list(self, namespace: str | None = None, selector: Any = None) -> list[dict[str, Any]]:
        return sorted(self.objs, key=lambda o: o["metadata"]["name"])


class Informers:
    def __init__(self, scalers: list[dict[str, Any]], dss: list[dict[str, Any]]) -> None:
        self.caches = {"BudAIScaler": Cache(scalers), "DisaggregatedService": Cache(dss)}

    def informer(self, kind: str) -> Cache:
        return self.caches[kind]


def plain_verdict(me: dict[str, Any], scalers: list[dict[str, Any]], quirks: QuirkSet) -> Any:
    from model.quirks import Quirk

    v = check_conflict(
        ScalerRef.from_object(me),
        [ScalerRef.from_object(o) for o in sorted(scalers, key=lambda o: o["metadata"]["name"])],
        symmetric=Quirk.SYMMETRIC_CONFLICT in quirks,
        blind_to_generated_deployment=Quirk.CONFLICT_BLIND_TO_GENERATED_DEPLOYMENT in quirks,
        ds_roles={},
    )
    return v if v.conflicted else None


def test_conflict_verdict_cache_redecides_when_a_target_changes() -> None:
    for quirks in (QuirkSet.upstream(), QuirkSet.corrected()):
        a = scaler("a", "prefill", "2026-01-01T00:00:00Z")
        b = scaler("b", "decode", "2026-01-01T00:00:01Z")
        scalers = [a, b]
        rec = BudAIScalerReconciler(Simulation(0), None, Informers(scalers, []), None, quirks)  # type: ignore[arg-type]
        assert rec._check_conflicts(a) is None
        assert rec._check_conflicts(a) == plain_verdict(a, scalers, quirks)
        scalers[1] = scaler("b", "prefill", "2026-01-01T00:00:01Z")  # now both scale prefill
        rec.informers = Informers(scalers, [])
        got = rec._check_conflicts(scalers[1])
        assert got is not None
        assert got == plain_verdict(scalers[1], scalers, quirks)
        scalers[1] = scaler("b", None, "2026-01-01T00:00:01Z")  # whole DS
        rec.informers = Informers(scalers, [])
        assert rec._check_conflicts(a) == plain_verdict(a, scalers, quirks)


def test_status_copies_leave_the_input_alone() -> None:
    status = {
        "conditions": [{"type": "Ready", "status": "True", "reason": "R", "message": "m"}],
        "scalingHistory": [{"timestamp": "t0", "previousScale": 1, "newScale": 2}],
    }
    before = copy.deepcopy(status)
    out = update_condition(status, "Ready", "False", "X", "y", "t1", sticky_reason=False)
    out2 = record_scale_result(
        status, timestamp="t1", current=2, desired=3, scaled=True, reason="r", algorithm="KPA"
    )
    out["conditions"][0]["reason"] = "changed"
    out2["scalingHistory"][0]["newScale"] = 99
    assert status == before


def test_metric_text_parser_json_and_text() -> None:
    assert parse_metric_text('{"a": {"m": 2.5}}', "m") == 2.5
    assert parse_metric_text('  \n{"m": "3"}', "m") == 3.0
    assert parse_metric_text('m{model_name="x"} 4.0\nm 6\n', "m") == 5.0
    assert parse_metric_text("# TYPE m gauge\nm 1e-3\n", "m") == 0.001
    for body in ("[1, 2]\nm 7", "m 7", "{not json\nm 7"):
        assert parse_metric_text(body, "m") == 7.0


def test_exact_percentiles_equal_the_single_form() -> None:
    for values in ([], [3.0], [5.0, 1.0, 4.0, 2.0], [float(i % 17) for i in range(101)]):
        assert exact_percentiles(values, (50.0, 95.0, 99.0)) == tuple(
            exact_percentile(values, q) for q in (50, 95, 99)
        )


def test_load_timers_keep_timeout_order() -> None:
    """LoadSystem.after interleaves with ordinary timeouts exactly as a Timeout would."""
    from sim.load.system import LoadSystem

    log: list[tuple[str, float]] = []

    def host(env: simpy.Environment) -> Any:
        h = LoadSystem.__new__(LoadSystem)
        h.env = env  # type: ignore[misc]
        return h

    def run(light: bool) -> list[tuple[str, float]]:
        env = simpy.Environment()
        log.clear()
        h = host(env)

        def after(delay: float, tag: str) -> None:
            if light:
                h.after(delay, lambda a: log.append((str(a), env.now)), tag)
            else:
                env.timeout(delay).callbacks.append(lambda _e: log.append((tag, env.now)))

        def proc() -> Any:
            for i in range(5):
                after(0.0, f"zero{i}")
                after(1.0, f"one{i}")
                yield env.timeout(1.0)
                log.append((f"proc{i}", env.now))

        env.process(proc())
        env.run(until=10)
        return list(log)

    assert run(True) == run(False)

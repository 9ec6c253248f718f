"""The oracle lower bound per role and window (sim.report.analysis.windowed_lower_bound) and the
cost block built on it (sim.report.cost), on hand-computable cases: constant load, known service
time."""

from __future__ import annotations

from model.slo import Cost
from sim.load.service_models import FixedParams, ModelKind, RouterParams
from sim.report.analysis import (
    RoleCostModel,
    register_demand,
    request_pod_seconds,
    windowed_lower_bound,
)
from sim.report.cost import compute_cost
from sim.report.timeseries import TimeSeries


def _model(role: str, overhead: float, concurrency: int, gpus: float) -> RoleCostModel:
    return RoleCostModel(
        role, ModelKind.FIXED, FixedParams(overhead_s=overhead, concurrency=concurrency), gpus
    )


def _constant(rate: float, seconds: float) -> list[tuple[float, int, int]]:
    n = round(rate * seconds)
    return [(i / rate, 100, 10) for i in range(n)]


def test_constant_load_known_service_time() -> None:
    # 10 req/s, 0.5 s of service per request, one server per pod: 5 pod-seconds of work per second
    # -> 5 replicas in every window; 600 s -> 5 x 600 / 3600 = 0.8333 pod-hours, x 2 GPUs = 1.667.
    models = {"gpu": _model("gpu", 0.5, 1, 2.0)}
    bound = windowed_lower_bound(_constant(10.0, 600.0), models, window=60.0, duration=600.0)
    assert bound.replicas["gpu"] == [5] * 10
    assert abs(bound.pod_hours("gpu") - 5 * 600 / 3600) < 1e-9
    assert abs(bound.total_gpu_hours - 2 * 5 * 600 / 3600) < 1e-9


def test_concurrency_divides_the_work_and_ceil_rounds_up() -> None:
    # 0.5 s per request over 4 concurrent servers = 0.125 pod-s each; 10 req/s -> 1.25 -> 2 replicas
    models = {"r": _model("r", 0.5, 4, 0.0)}
    bound = windowed_lower_bound(_constant(10.0, 120.0), models, window=60.0, duration=120.0)
    assert bound.replicas["r"] == [2, 2]
    assert bound.total_gpu_hours == 0.0


def test_a_window_without_arrivals_needs_no_replica() -> None:
    models = {"gpu": _model("gpu", 0.5, 1, 1.0)}
    arrivals = [(t, 1, 1) for t in (0.0, 1.0, 130.0)]  # windows 0 and 2 only
    bound = windowed_lower_bound(arrivals, models, window=60.0, duration=180.0)
    assert bound.replicas["gpu"] == [1, 0, 1]


def test_engine_roles_plug_their_per_pod_capacity_in() -> None:
    class EngineParams(RouterParams):
        pass

    register_demand(EngineParams, lambda p, inp, out: 0.01 * out)  # 10 ms per output token
    p = EngineParams()
    assert abs(request_pod_seconds(p, 100, 50) - 0.5) < 1e-12
    models = {"e": RoleCostModel("e", ModelKind.FIXED, p, 1.0)}
    bound = windowed_lower_bound([(t * 0.1, 100, 50) for t in range(600)], models, window=60.0, duration=60.0)
    assert bound.replicas["e"] == [5]  # 600 requests x 0.5 s / 60 s


def _ts(role: str, ready: int, starting: int, seconds: int) -> TimeSeries:
    ts = TimeSeries([role])
    for t in range(seconds + 1):
        ts.add(float(t), role, {"ready": ready, "starting": starting})
    return ts


def test_cost_block_gpu_hours_idle_money_and_efficiency() -> None:
    models = {"gpu": _model("gpu", 0.5, 1, 2.0)}
    ts = _ts("gpu", 9, 1, 3600)  # 10 pods held for an hour
    pods = [(float(t), {"gpu": {"ready": 9, "idle": 3, "queued": 0}}) for t in range(3601)]
    bound = windowed_lower_bound(_constant(10.0, 3600.0), models, window=60.0, duration=3600.0)
    cost = compute_cost(
        ts,
        ["gpu"],
        models,
        pod_samples=pods,
        bound=bound,
        cost=Cost(currency="USD", prices={"H100-SXM-80GB": 4.0}),
        role_pools={"gpu": {"gpu-pool": 10}},
        pools={"gpu-pool": {"nvidia.com/gpu.product": "H100-SXM-80GB"}},
    )
    assert cost["gpu_hours"] == {"gpu": 20.0}  # 10 pods x 1 h x 2 GPUs
    assert cost["idle_gpu_hours"] == {"gpu": 6.0}  # 3 idle Ready pods x 1 h x 2 GPUs
    assert cost["lower_bound_gpu_hours"] == 10.0  # 5 replicas x 1 h x 2 GPUs
    assert cost["efficiency"] == 0.5
    assert cost["amount"] == 80.0 and cost["currency"] == "USD"


def test_price_by_node_pool_name_when_no_gpu_type_matches() -> None:
    models = {"gpu": _model("gpu", 0.5, 1, 1.0)}
    cost = compute_cost(
        _ts("gpu", 1, 0, 3600),
        ["gpu"],
        models,
        cost=Cost(prices={"a100": 2.5}),
        role_pools={"gpu": {"a100": 1}},
        pools={"a100": {}},
    )
    assert cost["amount"] == 2.5

"""Issue 15: "Requests wait forever. Clients never time out, so nothing is cancelled."

An overloaded role queued thousands of requests and latencies passed 1,000 s. Clients now have a finite
default deadline (600 s, the OpenAI Python client's): a request that waits too long is cancelled wherever it
sits (its pod's queue here), counted once as timed out, and the run drains."""

from __future__ import annotations

from sim.clock import Simulation
from sim.load import Arrival, LoadSystem, PipelineSpec, Sample, StaticEndpoints
from sim.load.pipeline import RoleStep
from sim.load.service_models import ModelKind
from tests.helpers.conservation import assert_conserved_all


def overloaded(client: dict[str, object] | None) -> tuple[LoadSystem, list[Sample]]:
    # one slot, 10 s per request, one request a second for 300 s: 10x overload
    sim = Simulation(0)
    spec = PipelineSpec("t", "default", (RoleStep("r", "X", ModelKind.FIXED),))
    samples: list[Sample] = []
    ls = LoadSystem(
        sim,
        spec,
        [Arrival(float(i), 10, 1) for i in range(300)],
        StaticEndpoints.replicas({"r": 1}),
        {"r": {"overheadS": 10.0, "concurrency": 1}},
        on_sample=samples.append,
        sample_interval=5.0,
        client=client,
    )
    ls.start()
    sim.run(until=4000.0)
    return ls, samples


def test_without_a_deadline_latency_passes_1000_s() -> None:
    ls, _ = overloaded({"timeoutSeconds": 0})  # the old behaviour, still available
    st = ls.stats()
    assert st.timed_out == 0 and st.completed == 300
    assert ls.acc.e2e.max > 1000.0


def test_default_client_deadline_cancels_counts_and_drains() -> None:
    ls, samples = overloaded(None)
    st = ls.stats()
    assert ls.acc.e2e.max <= 600.0
    assert st.timed_out > 0 and st.completed + st.timed_out == st.arrived == 300
    assert st.in_flight == 0  # drained
    assert assert_conserved_all(samples) > 0
    # cancelled requests left the pod's queue: empty once the last deadline (299 + 600 s) passed
    assert all(s.roles[0].in_role == 0 for s in samples if s.t >= 900.0)


def test_short_deadline_bounds_latency_and_frees_capacity() -> None:
    ls, samples = overloaded({"timeoutSeconds": 30})
    st = ls.stats()
    assert ls.acc.e2e.max <= 30.0
    assert st.completed >= 1 and st.timed_out == 300 - st.completed
    # nobody waits more than 30 s: the pod's queue never holds more than 30 s of arrivals
    assert max(s.roles[0].in_role for s in samples) <= 31
    assert assert_conserved_all(samples) > 0

"""pytest plugin registered through the `pytest11` entry point (`dsim`): installing disagg-sim makes
these fixtures available in any project, no conftest needed.

Fixtures (each test gets a fresh cluster; they share it):
- `sim_cluster`: a `sim.testing.cluster.SimCluster` (every controller running, time at 0);
- `apply(manifest)`: kubectl-apply an object, YAML text or file path; returns the stored objects;
- `advance(seconds)`: move simulated time; returns the new time;
- `load(ds, rate)`: set the Poisson request rate entering a DisaggregatedService.

Options: `--dsim-profile upstream|corrected` (default corrected), `--dsim-seed N` (default 0).
The cluster's nodes: `@pytest.mark.dsim_cluster(node_pools=[{"name": "gpu", "count": 2, "gpus": 8}])`
(any `SimCluster` keyword: `nodes`, `gpus`, `node_pools`, `lifecycle`, `quirks`, ...); without GPU
nodes a role whose pods request `nvidia.com/gpu` stays Pending, and `assert_invariants()` says so
(`load_served`) once load is offered.
Strategies are in `sim.testing.strategies`; invariants in `sim.invariants`
(`sim_cluster.assert_invariants()` checks them all).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from sim.testing.cluster import SimCluster


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "dsim_cluster(**kwargs): SimCluster keywords for the sim_cluster fixture, e.g. "
        "node_pools=[{'name': 'gpu', 'count': 2, 'gpus': 8}]",
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dsim", "disagg-sim property testing")
    group.addoption(
        "--dsim-profile",
        default="corrected",
        choices=("upstream", "corrected"),
        help="quirk profile of the sim_cluster fixture (default: corrected)",
    )
    group.addoption(
        "--dsim-seed", type=int, default=0, help="root seed of the sim_cluster fixture (default: 0)"
    )


@pytest.fixture
def sim_cluster(request: pytest.FixtureRequest) -> SimCluster:
    """A fresh simulated cluster with the DisaggregatedService, BudAIScaler and HPA controllers;
    `@pytest.mark.dsim_cluster(node_pools=[...])` (or any SimCluster keyword) shapes it."""
    profile = str(request.config.getoption("--dsim-profile", default="corrected"))
    seed = int(request.config.getoption("--dsim-seed", default=0))
    kwargs: dict[str, Any] = {"seed": seed, "profile": profile}
    marker = request.node.get_closest_marker("dsim_cluster")
    if marker is not None:
        kwargs.update(marker.kwargs)
    return SimCluster(**kwargs)


@pytest.fixture
def apply(sim_cluster: SimCluster) -> Callable[[Mapping[str, Any] | str | Path], list[dict[str, Any]]]:
    """apply(manifest): create or update objects in `sim_cluster`."""
    return sim_cluster.apply


@pytest.fixture
def advance(sim_cluster: SimCluster) -> Callable[[float], float]:
    """advance(seconds): run `sim_cluster` forward in simulated time."""
    return sim_cluster.advance


@pytest.fixture
def load(sim_cluster: SimCluster) -> Callable[..., None]:
    """load(ds, rate, namespace="default"): requests per second into a DisaggregatedService."""
    return sim_cluster.load

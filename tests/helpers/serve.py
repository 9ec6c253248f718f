"""A `dsim serve` server in-process for tests: 127.0.0.1, a free port, step mode, shut down on exit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sim.scenario.load import load_scenario
from sim.serve import Driver, ServeServer
from sim.serve.kubeconfig import write_kubeconfig

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def serving(
    scenario: str, kubeconfig: Path | None = None, token: str | None = None, max_body: int | None = None
) -> Iterator[ServeServer]:
    driver = Driver(load_scenario(ROOT / "scenarios" / scenario))
    server = ServeServer(
        driver, host="127.0.0.1", port=0, token=token, **({"max_body": max_body} if max_body else {})
    )
    if kubeconfig is not None:
        write_kubeconfig(kubeconfig, server.url, token)
    server.start()
    try:
        yield server
    finally:
        server.shutdown()

"""`dsim serve SCENARIO`: the scenario's world as a Kubernetes API on the virtual clock."""

from __future__ import annotations

import ipaddress
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from model.errors import InputError


def _fail(message: str) -> None:
    click.echo(f"dsim serve: {message}", err=True)
    sys.exit(2)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command(name="serve")
@click.argument("scenario", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Listen address; not loopback needs --token."
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0 = pick a free port."
)
@click.option("--speed", type=float, default=None, help="Virtual time runs SPEED times wall time (e.g. 10).")
@click.option(
    "--step", is_flag=True, help="The clock moves only on POST /dsim/v1/advance?seconds=S (default)."
)
@click.option(
    "--kubeconfig",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Where to write the kubeconfig (default dsim-<scenario>.kubeconfig in the current folder).",
)
@click.option("--token", default=None, help="Bearer token every request must carry (401 without it).")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Artefact folder written on exit (default reports/<scenario-name>/), as `dsim run` writes it.",
)
@click.option("--seed", type=int, default=None, help="Override the scenario's seed.")
def serve(
    scenario: Path,
    host: str,
    port: int,
    speed: float | None,
    step: bool,
    kubeconfig: Path | None,
    token: str | None,
    out: Path | None,
    seed: int | None,
) -> None:
    """Serve SCENARIO's simulated cluster as a Kubernetes API for kubectl and client libraries.

    \b
    The world (nodes, Deployments, DisaggregatedServices, BudAIScalers, HPAs, the load replay and
    the controllers) runs on the virtual clock:
      --step      (default) time moves only on  POST /dsim/v1/advance?seconds=S
      --speed X   virtual time runs X times wall time
    GET /dsim/v1/clock reads the clock. A kubeconfig pointing at the server is written; on
    Ctrl-C (SIGINT) or SIGTERM the run's artefacts are written as `dsim run` writes them.

    \b
    Example:
      dsim serve scenarios/llm-prefill-decode.yaml --kubeconfig /tmp/dsim.kubeconfig &
      export KUBECONFIG=/tmp/dsim.kubeconfig
      curl -X POST "$(kubectl config view -o jsonpath='{.clusters[0].cluster.server}')/dsim/v1/advance?seconds=60"
      kubectl get pods,deployments,budaiscalers
    """
    from sim.scenario.load import load_scenario
    from sim.serve import Driver, ServeServer
    from sim.serve.kubeconfig import write_kubeconfig

    if speed is not None and step:
        _fail("--speed and --step exclude each other; choose one")
    if speed is not None and not (0 < speed <= 1e6):
        _fail(f"--speed {speed}: must be > 0 and <= 1000000")
    if not _is_loopback(host) and not token:
        _fail(f"--host {host} is not a loopback address: give --token so every request is authenticated")
    try:
        if seed is not None and seed < 0:
            raise InputError("--seed must be a non-negative integer", value=seed, allowed="0, 1, 2, ...")
        resolved = load_scenario(scenario, seed=seed)
    except InputError as err:
        _fail(str(err))
        return
    name = resolved.scenario.name
    target = out if out is not None else Path("reports") / name
    config_path = kubeconfig if kubeconfig is not None else Path(f"dsim-{name}.kubeconfig")
    driver = Driver(resolved, speed=speed)
    try:
        server = ServeServer(driver, host=host, port=port, token=token)
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        return
    write_kubeconfig(config_path, server.url, token)
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    server.start()
    mode = "step mode: POST /dsim/v1/advance?seconds=S" if speed is None else f"speed {speed:g}x"
    click.echo(f"dsim serve: {name} on {server.url} ({mode}); KUBECONFIG={config_path}", err=False)
    sys.stdout.flush()
    while not done.wait(0.5):
        pass
    click.echo("dsim serve: stopping; writing the run's artefacts", err=True)
    server.shutdown()
    summary = driver.write_artefacts(target)
    click.echo(f"dsim serve: {target} written (simulated {summary.get('sim_seconds', 0):g} s)", err=True)
    sys.exit(1 if driver.error else 0)

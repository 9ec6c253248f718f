"""`dsim serve`: the simulated cluster as a Kubernetes API over HTTP on the virtual clock (docs/serve.md)."""

from sim.serve.driver import Driver
from sim.serve.http import ServeServer

__all__ = ["Driver", "ServeServer"]

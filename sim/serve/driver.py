"""The served world and its clock: one lock serialises every access to the single-threaded SimPy world.

`--step`: the clock moves only in `advance`. `--speed X`: a background thread advances the world so
virtual time runs X times wall time (wall time read only in `sim.serve.wallclock`). The clock
stops at the scenario's duration, as `dsim run` does; the artefacts are written by `write_artefacts`."""

from __future__ import annotations

import threading
import traceback
from pathlib import Path
from typing import Any

from sim.scenario.load import ResolvedScenario
from sim.scenario.world import World
from sim.serve import wallclock
from sim.serve.hub import EventHub


class Driver:
    def __init__(self, resolved: ResolvedScenario, speed: float | None = None) -> None:
        self.resolved = resolved
        self.speed = speed  # None = step mode
        self.lock = threading.RLock()
        self.hub = EventHub()
        self.world = World(resolved)
        self.error: str | None = None
        self._started = wallclock.monotonic()
        self.world.build()
        api = self.world.api
        self.hub.dropped_before_rv = int(api.resource_version)  # the build's writes are not retained
        sim = self.world.sim
        hub = self.hub
        api.emit_hook = lambda kind, etype, obj: hub.record(kind, str(etype), obj, float(sim.env.now))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def api(self) -> Any:
        return self.world.api

    @property
    def duration(self) -> float:
        return float(self.resolved.scenario.duration)

    @property
    def now(self) -> float:
        return self.world.now

    def clock(self) -> dict[str, Any]:
        with self.lock:
            return {
                "now": self.now,
                "timestamp": self.world.sim.timestamp(),
                "duration": self.duration,
                "finished": self.now >= self.duration,
                "mode": "step" if self.speed is None else "speed",
                "speed": self.speed,
                "resourceVersion": self.api.resource_version,
                "error": self.error,
            }

    def advance(self, seconds: float) -> dict[str, Any]:
        with self.lock:
            self._run_until(self.now + seconds)
        return self.clock()

    def _run_until(self, target: float) -> None:
        target = min(target, self.duration)
        if self.error is not None or target <= self.now:
            return
        try:
            self.world.sim.run(until=target)
        except Exception:  # a crash in a layer: the clock stops, the artefacts report it
            self.error = traceback.format_exc()

    # ------------------------------------------------------------------ --speed

    def start(self) -> None:
        if self.speed is None or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._pace, name="dsim-serve-clock", daemon=True)
        self._thread.start()

    def _pace(self) -> None:
        assert self.speed is not None
        wall0 = wallclock.monotonic()
        virt0 = self.now
        while not self._stop.is_set():
            target = virt0 + self.speed * (wallclock.monotonic() - wall0)
            with self.lock:
                # small slices keep requests responsive while the world catches up
                self._run_until(min(target, self.now + max(1.0, self.speed * 0.05)))
                done = self.now >= self.duration or self.error is not None
            if done:
                return
            self._stop.wait(0.01)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.hub.close()

    # ------------------------------------------------------------------ artefacts

    def write_artefacts(self, out: Path, render: bool = True) -> dict[str, Any]:
        """The run's artefacts, as `dsim run` writes them, for the world as it is now."""
        from sim.report.render import RESOLVED_SCENARIO, render_folder
        from sim.scenario.runner import _finish, _swap_into_place, _temp_folder

        with self.lock:
            tmp = _temp_folder(out)
            try:
                (tmp / RESOLVED_SCENARIO).write_text(self.resolved.scenario_yaml(), encoding="utf-8")
                (tmp / "manifests.resolved.yaml").write_text(self.resolved.manifests_yaml(), encoding="utf-8")
                self.world._final_sample()
                summary = _finish(
                    self.world, self.resolved, tmp, self.error, wallclock.monotonic() - self._started
                )
                if render:
                    try:
                        render_folder(tmp, summary)
                    except Exception:
                        (tmp / "render-error.txt").write_text(traceback.format_exc(), encoding="utf-8")
                _swap_into_place(tmp, out)
            except BaseException:
                import shutil

                shutil.rmtree(tmp, ignore_errors=True)
                raise
            return summary

"""Where the runs execute: a local process pool (default), an existing Dask distributed cluster,
a `distributed.LocalCluster` started for the sweep, or this process (`workers=0`, for debugging).

Every executor calls the same `sim.sweep.worker.execute_run` on the same pickled `RunTask`, so a
row's result (its digest) does not depend on the executor. Each one reports rows through
`on_row` as they finish, in completion order, and returns True when Ctrl-C interrupted it:

- local pool: the first Ctrl-C lets the runs in flight finish (their rows are written) and cancels
  the rest; a second Ctrl-C terminates the worker processes. Workers ignore SIGINT themselves. A
  worker process that dies (segfault, OOM kill) breaks the pool: the runs it took down are retried
  one at a time in a fresh single-worker pool, and a run that kills that one too is a `crashed` row.
- Dask: Ctrl-C cancels every run not finished; a task that raises or whose worker dies
  (`KilledWorker`) is a `crashed` row."""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import signal
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sim.sweep.worker import RunTask, execute_run

OnRow = Callable[[dict[str, Any]], None]
RunFn = Callable[[RunTask], dict[str, Any]]
Notify = Callable[[str], None]


def crashed_row(task: RunTask, error: str, tb: str | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {"key": task.key, "status": "crashed", "error": error, "wall_s": None}
    if tb:
        row["traceback"] = tb
    return row


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------------- in this process


def run_serial(tasks: Sequence[RunTask], on_row: OnRow, notify: Notify) -> bool:
    for task in tasks:
        try:
            row = execute_run(task)
        except KeyboardInterrupt:
            notify("interrupted: the run in progress was abandoned")
            return True
        on_row(row)
    return False


# --------------------------------------------------------------------------- local process pool


def _init_worker() -> None:
    # The parent decides what Ctrl-C means (finish in-flight runs, then stop).
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        # forkserver: workers fork from a clean server that has imported the simulator once, so
        # they start fast and never inherit the parent's threads (the progress bar's refresher).
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["sim.sweep.worker"])
        return ctx
    return multiprocessing.get_context("spawn")


def _terminate(pool: ProcessPoolExecutor) -> None:
    processes = getattr(pool, "_processes", None) or {}
    for proc in list(processes.values()):
        if proc.is_alive():
            proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def run_pool(
    tasks: Sequence[RunTask], workers: int, on_row: OnRow, notify: Notify, fn: RunFn = execute_run
) -> bool:
    """`fn` is `execute_run` (a module-level function, so the workers can import it)."""
    if not tasks:
        return False
    broken: list[RunTask] = []
    interrupted = _pool_pass(tasks, max(1, min(workers, len(tasks))), on_row, notify, broken, fn)
    # A dead worker process breaks every future of the pool; rerun those alone to find the culprit.
    for task in broken:
        if interrupted:
            break
        again: list[RunTask] = []
        interrupted = _pool_pass([task], 1, on_row, notify, again, fn)
        if again:
            on_row(crashed_row(task, "the worker process died while running this point (BrokenProcessPool)"))
    return interrupted


def _pool_pass(
    tasks: Sequence[RunTask], workers: int, on_row: OnRow, notify: Notify, broken: list[RunTask], fn: RunFn
) -> bool:
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_context(), initializer=_init_worker)
    futures: dict[Future[dict[str, Any]], RunTask] = {pool.submit(fn, t): t for t in tasks}
    seen: set[Future[dict[str, Any]]] = set()

    def handle(fut: Future[dict[str, Any]]) -> None:
        seen.add(fut)
        task = futures[fut]
        if fut.cancelled():
            return
        try:
            row = fut.result()
        except BrokenProcessPool:
            broken.append(task)
            return
        except Exception as exc:
            row = crashed_row(task, f"{type(exc).__name__}: {exc}", traceback.format_exc())
        on_row(row)

    try:
        for fut in as_completed(futures):
            handle(fut)
    except KeyboardInterrupt:
        running = [f for f in futures if f not in seen and not f.cancel()]
        notify(
            f"interrupted: finishing {len(running)} run(s) in flight, the rest are cancelled "
            "(Ctrl-C again to abandon them)"
        )
        try:
            for fut in as_completed(running):
                if fut not in seen:
                    handle(fut)
        except KeyboardInterrupt:
            notify("abandoning the runs in flight")
            _terminate(pool)
            return True
        pool.shutdown(wait=True, cancel_futures=True)
        return True
    pool.shutdown(wait=True)
    return False


# --------------------------------------------------------------------------- Dask distributed


def run_dask(tasks: Sequence[RunTask], address: str, workers: int, on_row: OnRow, notify: Notify) -> bool:
    """`address` is a scheduler address (tcp://host:8786) or `local` for a LocalCluster of
    `workers` single-threaded worker processes listening on the loopback interface only."""
    try:
        distributed: Any = importlib.import_module("distributed")
    except ImportError as exc:  # pragma: no cover - the `sweep` extra is part of dev
        raise RuntimeError("--dask needs Dask distributed: pip install 'disagg-sim[sweep]'") from exc
    if not tasks:
        return False
    cluster = None
    if address == "local":
        cluster = distributed.LocalCluster(
            n_workers=max(1, min(workers, len(tasks))),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = distributed.Client(cluster)
    else:
        client = distributed.Client(address, timeout="30s")
    try:
        futures = client.map(execute_run, list(tasks), key=[f"dsim-run-{t.key}" for t in tasks], pure=False)
        by_key = {f.key: t for f, t in zip(futures, tasks)}
        done: set[str] = set()
        try:
            for fut in distributed.as_completed(futures):
                task = by_key[fut.key]
                done.add(fut.key)
                try:
                    row = fut.result()
                except Exception as exc:
                    row = crashed_row(task, f"{type(exc).__name__}: {exc}")
                on_row(row)
        except KeyboardInterrupt:
            left = [f for f in futures if f.key not in done]
            notify(f"interrupted: cancelling {len(left)} run(s) on the Dask cluster")
            client.cancel(left)
            return True
        return False
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

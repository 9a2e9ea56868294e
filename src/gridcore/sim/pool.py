"""Process pools whose workers die with their parent.

A `concurrent.futures.ProcessPoolExecutor` worker whose parent is killed (`kill -9`,
the OOM killer) stays blocked on its task pipe forever. `process_pool(n)` gives each
worker two guards, set up by the pool's initializer before any task runs:

- on Linux, `prctl(PR_SET_PDEATHSIG, SIGKILL)` (through ctypes): the kernel kills the
  worker as soon as the thread that started it ends. The pools made here are started
  and used by one thread and shut down before it returns, so that thread outlives them;
- everywhere, a daemon watchdog thread that checks every `WATCHDOG_SECONDS` whether the
  parent is still the same process (`os.getppid()`) and ends the worker when it is not.

So a worker outlives its parent by at most `WATCHDOG_SECONDS` (plus scheduling).

A run that is interrupted (Ctrl-C, an error in the parent) does not wait for the tasks
under way: `stop_pool` cancels what has not started and kills the workers at once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
from concurrent.futures import Executor, ProcessPoolExecutor

from gridcore.errors import ConfigError

__all__ = [
    "MAX_WORKERS",
    "WATCHDOG_SECONDS",
    "WorkerPool",
    "check_workers",
    "die_with_parent",
    "process_pool",
    "stop_pool",
]

WATCHDOG_SECONDS = 1.0
"""How often a worker checks that its parent is alive."""

MAX_WORKERS = 256
"""The most worker processes a local pool may have (more only exhausts the machine)."""

_PR_SET_PDEATHSIG = 1


def check_workers(workers: object, what: str = "--workers") -> int:
    """`workers` as a count in [1, MAX_WORKERS], or ConfigError naming it and the bound."""
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ConfigError(
            f"{what} = {workers!r}: expected a whole number of worker processes in "
            f"[1, {MAX_WORKERS}]"
        )
    return workers


def _set_death_signal() -> bool:
    """Ask Linux to SIGKILL this process when its parent ends; whether it was set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int, interval: float) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(1)  # the parent is gone: nobody will read our results
        threading.Event().wait(interval)


def die_with_parent(
    parent: int, death_signal: bool = True, interval: float = WATCHDOG_SECONDS
) -> None:
    """A pool initializer: end this worker when process `parent` ends (see the module)."""
    if death_signal:
        _set_death_signal()
    if os.getppid() != parent:  # the parent died before the guards were in place
        os._exit(1)
    threading.Thread(
        target=_watch_parent, args=(parent, interval), name="gridcore-parent-watch", daemon=True
    ).start()


class WorkerPool(ProcessPoolExecutor):
    """A `ProcessPoolExecutor` that tells how many workers it has and can be stopped at
    once (`terminate`)."""

    def __init__(self, workers: int, death_signal: bool = True) -> None:
        super().__init__(workers, initializer=die_with_parent, initargs=(os.getpid(), death_signal))
        self.workers = workers

    def terminate(self) -> None:
        """Cancel the tasks not started and kill the workers now (their tasks are lost).

        The standard library has no way to stop a task under way; this reads two CPython
        details of the pool, stable since 3.2: its process table (`_processes`), to send
        SIGKILL, and its result pipe (`_result_queue`), to close this process's end of it.
        """
        processes = list((getattr(self, "_processes", None) or {}).values())
        results = getattr(self, "_result_queue", None)
        # Kill first: the pool's manager thread then takes its broken-pool path (it
        # closes the task pipe and joins the dead workers), and cancels the queued
        # futures itself, so none is both cancelled and failed.
        for proc in processes:
            if proc.is_alive():
                proc.kill()
        for proc in processes:
            proc.join(timeout=5)
        self.shutdown(wait=False, cancel_futures=True)
        # A worker killed while writing a result leaves half a message in the result
        # pipe, and the manager thread waits for the rest for ever (the interpreter
        # joins that thread at exit: seen in CI as a run that did not exit after
        # Ctrl-C). With every writer closed, ours last, its read ends (EOF) and the
        # pool counts itself broken.
        writer = getattr(results, "_writer", None)
        if writer is not None:
            writer.close()


def stop_pool(ex: Executor) -> None:
    """Stop an executor after an interrupted run: a `WorkerPool` kills its workers, any
    other executor is shut down without waiting, its pending tasks cancelled."""
    if isinstance(ex, WorkerPool):
        ex.terminate()
    else:
        ex.shutdown(wait=False, cancel_futures=True)


def process_pool(workers: int, *, death_signal: bool = True) -> WorkerPool:
    """A process pool of `workers` processes that end when this process ends.

    `death_signal=False` leaves out the Linux `prctl` guard (the watchdog stays): for
    tests of the portable path.
    """
    return WorkerPool(check_workers(workers), death_signal)

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
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor

from gridcore.errors import ConfigError

__all__ = [
    "MAX_WORKERS",
    "WATCHDOG_SECONDS",
    "check_workers",
    "die_with_parent",
    "process_pool",
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


def process_pool(workers: int, *, death_signal: bool = True) -> ProcessPoolExecutor:
    """A process pool of `workers` processes that end when this process ends.

    `death_signal=False` leaves out the Linux `prctl` guard (the watchdog stays): for
    tests of the portable path.
    """
    n = check_workers(workers)
    return ProcessPoolExecutor(n, initializer=die_with_parent, initargs=(os.getpid(), death_signal))

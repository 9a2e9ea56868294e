"""Every way the model uses SimPy beyond its public API, in one place.

The rest of the model only schedules events (`env.timeout`, `env.event`) and appends
callbacks to them; what it does differently from a textbook SimPy model is here:

1. **Driven processes** (`start`, `Resume`). Workers, arrivals, the working day and the
   sweeps are plain generators resumed by event callbacks, not `simpy.Process` objects:
   the same events, without the Python-level step a `Process` adds to each resume
   (`Process._resume`). A driven generator first receives its own `send`
   (`resume: Resume = yield`); to wait for an event it appends `resume` to the event's
   callbacks and yields (`env.timeout(d).callbacks.append(resume); yield`). It never
   returns: it ends parked at a bare `yield` nothing resumes.
2. **Urgent events** (`Now`). An event processed at the current instant before the
   normal ones (SimPy's URGENT priority, as its own interruptions use), built already
   triggered: it writes SimPy's private `_value` and `_ok` as `Event.succeed` would.
3. **Interrupting a wait** (`interrupt`). A driven process waiting on a timeout is cut
   short by taking its `resume` off the timeout's callbacks and resuming it with
   `INTERRUPTED`, at the current instant, as SimPy's `Process.interrupt` does.
4. **Counting events** (`event_count`): SimPy numbers scheduled events with a private
   itertools counter (`Environment._eid`); the model reports how many it scheduled.
5. **Pausing the cyclic collector** (`gc_paused`), an explicit option of the run.

Hot path: `start`'s callbacks and the `callbacks.append(resume); yield` idiom run for
almost every event of a run. What protects them: the golden runs
(`tests/sim/test_golden.py`) hold every output byte for byte, and the model tests
(`tests/sim/test_grid_model.py`) cover the interruption and the collector pause.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Generator, Iterator
from typing import Any

import simpy

__all__ = [
    "INTERRUPTED",
    "Now",
    "Resume",
    "event_count",
    "gc_paused",
    "interrupt",
    "start",
]

Resume = Callable[[Any], Any]
"""A driven process's own `send`: appended to an event's callbacks, it resumes the process."""

INTERRUPTED: Any = object()
"""Sent to a driven process whose wait `interrupt` cuts short."""


def start(env: simpy.Environment, gen: Generator[None, Any, None]) -> None:
    """Run `gen` as a process that event callbacks drive (see the module docstring, 1).

    Like a `simpy.Process`, it starts with one event at the current instant.
    """
    next(gen)
    send = gen.send
    ev = env.event()
    ev.callbacks.append(lambda _e: send(send))
    ev.succeed()


class Now(simpy.events.Event):
    """An event processed at the current instant before the normal ones (SimPy's urgent
    priority, as its interruptions have), with one callback."""

    def __init__(self, env: simpy.Environment, callback: Callable[[Any], Any]) -> None:
        self.env = env
        self.callbacks = [callback]
        self._value = None
        self._ok = True
        env.schedule(self, simpy.events.URGENT)


def interrupt(env: simpy.Environment, waiting: simpy.events.Event) -> None:
    """Resume now, with `INTERRUPTED`, the driven process waiting on `waiting` (its only
    callback); the event's end then no longer resumes it."""
    resume = waiting.callbacks[0]

    def cut_short(_e: Any) -> None:
        # as a SimPy interrupt, at the current instant, unless the wait ended meanwhile
        if waiting.callbacks is not None and resume in waiting.callbacks:
            waiting.callbacks.remove(resume)
            resume(INTERRUPTED)

    Now(env, cut_short)


def event_count(env: simpy.Environment) -> int:
    """Events scheduled so far (SimPy numbers them with a private itertools counter)."""
    counter = getattr(env, "_eid", None)
    return int(next(counter)) if counter is not None else 0


@contextlib.contextmanager
def gc_paused(pause: bool = True) -> Iterator[None]:
    """Pause Python's cyclic garbage collector (process-wide) for the block when `pause`,
    then restore its state (a collector the caller had disabled stays disabled).

    A street's run allocates millions of short-lived objects but makes only a few thousand
    reference cycles (its parked processes, a misroute's two callbacks): the collector's
    passes over the heap cost 13-15% of the run's CPU time and find next to nothing.
    Reference counting still frees everything else as it goes, so memory stays flat; the
    few cycles are collected once the collector runs again (`Street.release` breaks them
    first, so that they do not hold the whole street for it to walk). Because it changes
    process-wide state it is never a side effect: the caller asks for it
    (`run_partition(..., pause_gc=True)`, `run_scenario(..., pause_gc=True)`; the command
    line does).
    """
    was_enabled = gc.isenabled()
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if pause and was_enabled:
            gc.enable()

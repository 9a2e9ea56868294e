"""Where the full model's time goes, by the kind of SimPy event (a diagnostic, not a test).

Runs the yichang preset for 30 days on one core, as `bench_sim.py` times it, with SimPy's
`Environment.step` replaced by a copy that times each event's callbacks. The kind of an
event is the process its callback resumes (`worker`, `arrivals`, `sweeps`, `clock`...)
or the callback itself (`to_desk.<lambda>` is the dispatch desk). The bare model is
timed the same way for its per-event cost, and the table ends with the budget that the
issue's target (full events/s >= 0.5 x bare) leaves per event.

Timing each event adds ~0.1-0.2 µs to it (two `perf_counter_ns` calls), so the figures
are a little high; their proportions are what this is for.

Run: .venv/bin/python benchmarks/sim_costs.py
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from heapq import heappop
from typing import Any

import simpy
from simpy.core import EmptySchedule

from bench_sim import _bare_inputs, _scenario, bare_model, full_model_serial
from gridcore.sim.model import city_for, routing_index_for, staff_for


def _kind(callback: Callable[[Any], Any]) -> str:
    owner = getattr(callback, "__self__", None)
    code = getattr(owner, "gi_code", None)
    if code is not None:  # a driven generator's `send`
        return f"process {code.co_name}"
    name = getattr(callback, "__qualname__", type(callback).__name__)
    # "Desk.dispatch.<locals>.direct" -> "dispatch.direct": the street's part is noise
    parts = str(name).replace(".<locals>", "").split(".")
    return ".".join(parts[1:] if len(parts) > 1 and parts[0][:1].isupper() else parts)


def timed_run(run: Callable[[], Any]) -> tuple[Counter[str], Counter[str]]:
    """(events, nanoseconds) per kind of event over `run()`."""
    counts: Counter[str] = Counter()
    nanos: Counter[str] = Counter()
    clock = time.perf_counter_ns
    real_step = simpy.Environment.step

    def step(self: simpy.Environment) -> None:  # SimPy's step, timed
        try:
            self._now, _, _, event = heappop(self._queue)  # type: ignore[attr-defined]
        except IndexError:
            raise EmptySchedule() from None
        callbacks, event.callbacks = event.callbacks, None
        kind = _kind(callbacks[0]) if callbacks else "(no callback)"
        t = clock()
        for callback in callbacks:
            callback(event)
        nanos[kind] += clock() - t
        counts[kind] += 1
        if not event._ok and not hasattr(event, "_defused"):
            raise event._value

    simpy.Environment.step = step  # type: ignore[method-assign]
    try:
        run()
    finally:
        simpy.Environment.step = real_step  # type: ignore[method-assign]
    return counts, nanos


def main() -> None:
    s = _scenario("yichang")
    city_for(s)  # built outside the timed run, as in bench_sim
    routing_index_for(s)
    staff_for(s)
    arrivals, handles = _bare_inputs("yichang")
    full_model_serial("yichang")  # warm: imports, caches
    counts, nanos = timed_run(lambda: full_model_serial("yichang"))
    bare_counts, bare_nanos = timed_run(lambda: bare_model(arrivals, handles))
    n, ns = sum(counts.values()), sum(nanos.values())
    bare_us = sum(bare_nanos.values()) / sum(bare_counts.values()) / 1000
    print(f"full model, yichang 30 days: {n:,} events, {ns / 1e9:.2f} s in callbacks")
    print(f"{'kind of event':38} {'events':>8} {'share':>6} {'us/event':>9} {'time':>6}")
    for kind, t in nanos.most_common():
        c = counts[kind]
        print(f"{kind:38} {c:8,} {c / n:6.1%} {t / c / 1000:9.2f} {t / ns:6.1%}")
    print(f"{'all':38} {n:8,} {1:6.0%} {ns / n / 1000:9.2f}")
    print(
        f"\nbare model: {bare_us:.2f} us/event in callbacks; the target (>= 0.5 x bare's "
        f"events/s) leaves the full model ~{2 * bare_us:.2f} us/event in callbacks, "
        f"against {ns / n / 1000:.2f} now"
    )


if __name__ == "__main__":
    main()

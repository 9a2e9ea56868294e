"""Queue-only mode: one grid as an M/M/c queue, to check the engine against Erlang C.

c workers, Poisson arrivals, exponential handling, first come first served; no
duties, no escalation. The model is plain SimPy with callbacks (two events a
customer: an arrival timeout and a service timeout) and numpy draws in chunks.
Arrivals and service times come from separate streams, so two runs that differ only
in c see the same customers (common random numbers). With `queue_only.trace` the
customers are read from the file instead (`gridcore.sim.trace`), for checking the
engine against cases computed by hand.

`utilisation` is the busy server time inside the measurement window [warm-up,
horizon] over workers x window: a service running across an edge counts only its part
inside.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator

import numpy as np
import simpy

from gridcore.sim.rng import ExpBuffer
from gridcore.sim.scenario import QueueOnly, RunConfig
from gridcore.sim.stats import erlang_c, little_check, mmc_mean_wait
from gridcore.sim.trace import read_queue_trace

__all__ = ["mmc_theory", "run_mmc"]


def mmc_theory(q: QueueOnly) -> dict[str, float]:
    """Erlang C values for the queue: mean wait in queue (minutes), P(wait), utilisation."""
    lam = q.arrivals_per_hour / 60.0
    mu = 1.0 / q.mean_handling_minutes
    return {
        "queue_wait_minutes": mmc_mean_wait(q.workers, lam, mu),
        "p_wait": erlang_c(q.workers, lam / mu),
        "utilisation": q.utilisation,
    }


def run_mmc(
    q: QueueOnly, run: RunConfig, seed: np.random.SeedSequence
) -> tuple[dict[str, float], dict[str, float], int]:
    """Simulate the queue; returns (metrics, Little's law figures, events processed).

    Customers arriving in [warm-up, warm-up + days) are measured; arrivals stop at the
    horizon and the queue is drained, so every measured customer's wait is complete.
    """
    warm = run.warmup_days * 1440.0
    end = warm + run.days * 1440.0
    customers = _traced(q.trace) if q.trace else _drawn(q, seed)
    env = simpy.Environment()
    # customers waiting, FCFS: (arrival instant, service minutes)
    waiting: deque[tuple[float, float]] = deque()
    # state: free servers, queue-length area, last change instant, measured totals
    free = q.workers
    area = 0.0
    last = 0.0
    n = 0
    n_waited = 0
    wait_sum = 0.0
    busy = 0.0
    events = 0

    def account(now: float) -> None:
        # integral of the queue length, clipped to the measurement window
        nonlocal area, last
        lo = last if last > warm else warm
        hi = now if now < end else end
        if hi > lo:
            area += len(waiting) * (hi - lo)
        last = now

    def start_service(arrived: float, s: float, now: float) -> None:
        nonlocal n, n_waited, wait_sum, busy
        if warm <= arrived < end:
            n += 1
            w = now - arrived
            if w > 0.0:
                n_waited += 1
                wait_sum += w
        # busy time inside the window [warm, end] only
        lo = now if now > warm else warm
        hi = now + s if now + s < end else end
        if hi > lo:
            busy += hi - lo
        env.timeout(s).callbacks.append(depart)

    def arrive(_ev: simpy.Event) -> None:
        nonlocal free, events
        events += 1
        now = env.now
        s = next(services)
        if free:
            free -= 1
            start_service(now, s, now)
        else:
            account(now)
            waiting.append((now, s))
        schedule()

    def depart(_ev: simpy.Event) -> None:
        nonlocal free, events
        events += 1
        now = env.now
        if waiting:
            account(now)
            arrived, s = waiting.popleft()
            start_service(arrived, s, now)
        else:
            free += 1

    next_delay, services = customers

    def schedule() -> None:
        # the next customer, if it arrives before the horizon (arrivals stop there)
        now = env.now
        t = next_delay(now)
        if t is not None and now + t < end:
            env.timeout(t).callbacks.append(arrive)

    schedule()
    env.run()
    span = end - warm
    mean_wait = wait_sum / n if n else 0.0
    metrics = {
        "queue_wait_minutes": mean_wait,
        "p_wait": n_waited / n if n else 0.0,
        "utilisation": busy / (q.workers * span),
        "customers": float(n),
        "queue_length_mean": area / span,
    }
    lc = little_check("queue", area, n, mean_wait, span)
    little = {"relative_error": lc.relative_error, "tolerance": lc.tolerance}
    return metrics, little, events


Customers = tuple[Callable[[float], float | None], Iterator[float]]
"""(minutes from `now` to the next arrival, or None when no more come; service times in
arrival order)."""


def _drawn(q: QueueOnly, seed: np.random.SeedSequence) -> Customers:
    """Poisson arrivals and exponential service times, each from its own stream.

    Service times are drawn in arrival order; FCFS serves in that order, so the k-th
    customer served gets the k-th draw, as when drawn at the start of service.
    """
    arr_seq, svc_seq = seed.spawn(2)
    arr = ExpBuffer(np.random.default_rng(arr_seq))
    svc = ExpBuffer(np.random.default_rng(svc_seq))
    mean_ia = 60.0 / q.arrivals_per_hour
    mean_s = q.mean_handling_minutes

    def next_delay(_now: float) -> float:
        return arr() * mean_ia

    def times() -> Iterator[float]:
        while True:
            yield svc() * mean_s

    return next_delay, times()


def _traced(path: str) -> Customers:
    """The customers of a trace file (`gridcore.sim.trace.read_queue_trace`)."""
    t = read_queue_trace(path)
    instants = iter(t.arrival_minutes.tolist())

    def next_delay(now: float) -> float | None:
        at = next(instants, None)
        return None if at is None else at - now

    return next_delay, iter(t.service_minutes.tolist())

"""The writer of the crash test: appends real case actions until it is killed.

`write(url, seed, ack_path)` takes the seeded desk steps (`store_traffic.desk_steps`),
resumes after the last event in the journal, makes each step's event with the core
(`report`/`apply` on the stored case) and appends them in batches of seeded sizes, each
with a command id; after each append returns it writes "first last command_id" to
`ack_path` and flushes (an acknowledged append). The batch boundaries are a pure function
of the seed, so a journal cut inside a batch is detectable. The test runs it in a forked
child process (cheap to start: the parent has imported everything) and SIGKILLs it.
"""

from __future__ import annotations

import os
from functools import cache

import numpy as np
from store_traffic import Step, desk_steps

from gridcore.cases import Case, CategoryDeadlines, apply, report
from gridcore.categories import default_taxonomy
from gridcore.clock import CalendarSet
from gridcore.ids import AreaCode, CategoryCode
from gridcore.store import open_store

N_CASES = 1500
POLICY = CategoryDeadlines(default_taxonomy(), CalendarSet.standard())


@cache
def steps(seed: int) -> tuple[Step, ...]:
    """The writer's steps for this seed."""
    return tuple(desk_steps(N_CASES, seed))


def boundaries(seed: int, n_steps: int) -> list[int]:
    """The batch boundaries (cumulative sizes) the writer uses for this seed."""
    sizes = np.random.default_rng(seed).integers(1, 25, n_steps)
    out = [0]
    for k in sizes.tolist():
        if out[-1] >= n_steps:
            break
        out.append(min(out[-1] + k, n_steps))
    return out


def write(url: str, seed: int, ack_path: str) -> None:
    """Append the remaining batches, acknowledging each, until done (or killed)."""
    todo = steps(seed)
    bounds = boundaries(seed, len(todo))
    cases: dict[str, Case] = {}
    with open_store(url, policy=POLICY) as store, open(ack_path, "a") as ack:
        n = store.last_position()
        if n not in bounds:
            raise SystemExit(f"journal ends at {n}, inside a batch")
        ack.write(f"start {n}\n")
        ack.flush()
        at = bounds.index(n)
        for lo, hi in zip(bounds[at:], bounds[at + 1 :], strict=False):
            batch = []
            for s in todo[lo:hi]:
                if s.action == "report":
                    case, event, _ = report(
                        s.case_id,
                        s.actor,
                        s.at,
                        grid=AreaCode(s.grid),
                        category=CategoryCode(s.category),
                        policy=POLICY,
                    )
                else:
                    before = cases.get(s.case_id) or store.case(s.case_id)
                    case, event, _ = apply(
                        before, s.action, s.actor, s.at, s.reason, s.payload, policy=POLICY
                    )
                cases[s.case_id] = case
                batch.append(event)
            got = store.append(batch, command_id=f"{seed}-{lo}")
            ack.write(f"{got[0]} {got[-1]} {seed}-{lo}\n")
            ack.flush()
            os.fsync(ack.fileno())
        ack.write("done\n")

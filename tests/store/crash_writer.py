"""A writer process for the crash test: appends real case actions until it is killed.

    python crash_writer.py URL SEED ACKFILE

It takes the seeded desk steps (`store_traffic.desk_steps`), resumes after the last event
in the journal, makes each step's event with the core (`report`/`apply` on the stored
case) and appends them in batches of seeded sizes, each with a command id; after each
append returns it writes "first last command_id" to ACKFILE and flushes (an acknowledged
append). The batch boundaries are a pure function of the seed, so a journal cut inside a
batch is detectable.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from store_traffic import CATEGORIES, desk_steps

from gridcore.cases import Case, CategoryDeadlines, apply, report
from gridcore.categories import default_taxonomy
from gridcore.clock import CalendarSet
from gridcore.ids import AreaCode, CategoryCode
from gridcore.store import open_store
from gridcore.store.lights import light_instants

N_CASES = 1500


def boundaries(seed: int, n_steps: int) -> list[int]:
    """The batch boundaries (cumulative sizes) the writer uses for this seed."""
    sizes = np.random.default_rng(seed).integers(1, 25, n_steps)
    out = [0]
    for k in sizes.tolist():
        if out[-1] >= n_steps:
            break
        out.append(min(out[-1] + k, n_steps))
    return out


def main(url: str, seed: int, ack_path: str) -> None:
    policy = CategoryDeadlines(default_taxonomy(), CalendarSet.standard())
    steps = desk_steps(N_CASES, seed)
    bounds = boundaries(seed, len(steps))
    cases: dict[str, Case] = {}
    # Warm the calendars up (their first use builds the year's working-time tables), so
    # that the kills after "start" land among the appends, not in the set-up.
    first = report(
        steps[0].case_id,
        steps[0].actor,
        steps[0].at,
        grid=AreaCode(steps[0].grid),
        category=CategoryCode(steps[0].category),
        policy=policy,
    )[0]
    for cat in CATEGORIES:
        light_instants(first._replace(info=first.info._replace(category=cat)), policy)
    with open_store(url, policy=policy) as store, open(ack_path, "a") as ack:
        n = store.last_position()
        if n not in bounds:
            raise SystemExit(f"journal ends at {n}, inside a batch")
        ack.write(f"start {n}\n")
        ack.flush()
        for lo, hi in zip(bounds[bounds.index(n) :], bounds[bounds.index(n) + 1 :], strict=False):
            batch = []
            for s in steps[lo:hi]:
                if s.action == "report":
                    case, event, _ = report(
                        s.case_id,
                        s.actor,
                        s.at,
                        grid=AreaCode(s.grid),
                        category=CategoryCode(s.category),
                        policy=policy,
                    )
                else:
                    before = cases.get(s.case_id) or store.case(s.case_id)
                    case, event, _ = apply(
                        before, s.action, s.actor, s.at, s.reason, s.payload, policy=policy
                    )
                cases[s.case_id] = case
                batch.append(event)
            first = store.append(batch, command_id=f"{seed}-{lo}")
            ack.write(f"{first[0]} {first[-1]} {seed}-{lo}\n")
            ack.flush()
            os.fsync(ack.fileno())
        ack.write("done\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])

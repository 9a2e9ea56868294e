"""Seeded desk traffic: the actions a district desk takes, valid in the order given.

Used by the store's tests, its crash and concurrency runs and `benchmarks/bench_store.py`.
Each case follows the main loop (report, verify, register, dispatch, sign_for, start,
handle, close, evaluate) with side paths drawn at random (transfer, warn, supervise,
park/resume, rework) and may stop anywhere (an open case); cases overlap in time.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

from gridcore.cases import Actor, CaseEvent, CaseLog, DeskRole, Outcome
from gridcore.ids import AreaCode, CaseId, CategoryCode, PersonId

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 3, 4, 8, 30, tzinfo=TZ)
CATEGORIES = ("C0101", "C0102", "C0201", "C0301")
DISPATCHER = Actor(PersonId("desk-1"), DeskRole.DISPATCHER)
CHECKER = Actor(PersonId("check-1"), DeskRole.CHECKER)
SUPERVISOR = Actor(PersonId("boss-1"), DeskRole.SUPERVISOR)
SYSTEM = Actor(PersonId("system"), DeskRole.SYSTEM)


class Step(NamedTuple):
    """One action of the desk: `report` opens the case, anything else acts on it."""

    case_id: CaseId
    action: str
    actor: Actor
    at: datetime
    reason: str = ""
    payload: dict[str, Any] | None = None
    grid: str = ""
    category: str = ""


def apply_step(log: CaseLog, s: Step, **kw: Any) -> Outcome:
    """Do one step on a log (`kw` passes `command_id`, `expected_seq`...)."""
    if s.action == "report":
        return log.report(
            s.case_id,
            s.actor,
            s.at,
            grid=AreaCode(s.grid),
            category=CategoryCode(s.category),
            **kw,
        )
    return log.act(s.case_id, s.action, s.actor, s.at, s.reason, s.payload, **kw)


_Todo = tuple[str, Actor, str, dict[str, Any] | None]


def _path(rng: np.random.Generator, handler: Actor, other: Actor) -> list[_Todo]:
    owner = {"to": str(handler.id), "level": "grid"}
    p: list[_Todo] = [
        ("verify", DISPATCHER, "", None),
        ("register", DISPATCHER, "", None),
        ("dispatch", DISPATCHER, "", owner),
    ]
    holder = handler
    if rng.random() < 0.15:
        p.append(("transfer", DISPATCHER, "wrong team", {"to": str(other.id), "level": "grid"}))
        holder = other
    if rng.random() < 0.1:
        p.append(("warn", SYSTEM, "", {"light": "yellow"}))
    p += [("sign_for", holder, "", None), ("start", holder, "", None)]
    if rng.random() < 0.1:
        p += [("park", SUPERVISOR, "waiting for parts", None), ("resume", SUPERVISOR, "", None)]
    if rng.random() < 0.1:
        p.append(("supervise", SUPERVISOR, "", {"supervision": 1}))
    p.append(("handle", holder, "", None))
    if rng.random() < 0.1:
        p += [("rework", CHECKER, "not fixed", None), ("handle", holder, "", None)]
    p += [("close", CHECKER, "", None), ("evaluate", SUPERVISOR, "", None)]
    stop = len(p) if rng.random() < 0.6 else int(rng.integers(0, len(p)))
    return p[:stop]


def desk_steps(n_cases: int, seed: int, *, prefix: str = "c", t0: datetime = T0) -> list[Step]:
    """The steps of `n_cases` cases, interleaved in time order (ties by case), seeded."""
    rng = np.random.default_rng(seed)
    heap: list[tuple[datetime, int, int, Step]] = []
    rest: dict[int, list[_Todo]] = {}
    for i in range(n_cases):
        cid = CaseId(f"{prefix}{i:07d}")
        at = t0 + timedelta(seconds=int(i * 37 + rng.integers(0, 30)))
        grid = f"g{int(rng.integers(0, 400)):04d}"
        reporter = Actor(PersonId(f"w{int(rng.integers(0, 200)):03d}"), DeskRole.GRID_WORKER)
        handler = Actor(PersonId(f"h{int(rng.integers(0, 300)):03d}"), DeskRole.HANDLER)
        other = Actor(PersonId(f"h{int(rng.integers(300, 400)):03d}"), DeskRole.HANDLER)
        cat = CATEGORIES[int(rng.integers(0, len(CATEGORIES)))]
        rest[i] = _path(rng, handler, other)
        heapq.heappush(heap, (at, i, 0, Step(cid, "report", reporter, at, grid=grid, category=cat)))
    out: list[Step] = []
    while heap:
        at, i, k, step = heapq.heappop(heap)
        out.append(step)
        if k < len(rest[i]):
            action, actor, reason, payload = rest[i][k]
            nxt = at + timedelta(seconds=int(rng.integers(60, 4 * 3600)))
            heapq.heappush(
                heap, (nxt, i, k + 1, Step(step.case_id, action, actor, nxt, reason, payload))
            )
    return out


def desk_events(steps: Sequence[Step], policy: Any = None) -> list[CaseEvent]:
    """The events the steps make on a fresh in-memory log."""
    log = CaseLog(policy)
    for s in steps:
        apply_step(log, s)
    return list(log.all_events())


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """Consecutive slices of `size`."""
    for i in range(0, len(items), size):
        yield items[i : i + size]

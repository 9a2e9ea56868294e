"""Two writer processes, 10,000 actions each on overlapping cases, through
`CaseLog(policy, store=...)` with retry on `StaleSequenceError`: no lost update, no
duplicate, the final state equal to a serial replay of the journal (SQLite file and
PostgreSQL). `GRIDCORE_CONCURRENCY_ACTIONS` changes the count per writer."""

from __future__ import annotations

import json
import os
import traceback
from datetime import timedelta
from pathlib import Path

import numpy as np
from conftest import POLICY
from store_traffic import DISPATCHER, T0

from gridcore.cases import Action, Actor, CaseLog, DeskRole, State
from gridcore.errors import StaleSequenceError
from gridcore.ids import AreaCode, CaseId, CategoryCode, PersonId
from gridcore.store import open_store
from gridcore.store.verify import verify

ACTIONS = int(os.environ.get("GRIDCORE_CONCURRENCY_ACTIONS", "10000"))
N_CASES = 40  # few cases, so the two writers collide often
HANDLER = Actor(PersonId("h1"), DeskRole.HANDLER)
TO = {"to": "h1", "level": "grid"}


def _next(state: State, w: int) -> tuple[Action, Actor, str, dict[str, str] | None]:
    """The action a writer takes on a case in `state` (cases cycle handle <-> rework)."""
    desk = Actor(PersonId(f"desk-{w}"), DeskRole.DISPATCHER)
    checker = Actor(PersonId(f"check-{w}"), DeskRole.CHECKER)
    return {
        State.REPORTED: (Action.VERIFY, desk, "", None),
        State.VERIFIED: (Action.REGISTER, desk, "", None),
        State.REGISTERED: (Action.DISPATCH, desk, "", TO),
        State.DISPATCHED: (Action.SIGN_FOR, HANDLER, "", None),
        State.SIGNED_FOR: (Action.START, HANDLER, "", None),
        State.IN_PROGRESS: (Action.HANDLE, HANDLER, "", None),
        State.HANDLED: (Action.REWORK, checker, f"writer {w}", None),
    }[state]


def _writer(url: str, w: int, out: Path) -> None:
    rng = np.random.default_rng(100 + w)
    done: list[tuple[str, int]] = []
    retries = 0
    with open_store(url, policy=POLICY) as store:
        log = CaseLog(POLICY, store=store)
        for i in range(ACTIONS):
            cid = CaseId(f"k{int(rng.integers(0, N_CASES)):03d}")
            now = T0 + timedelta(days=1, seconds=i)
            while True:
                case = log.case(cid) if retries % 2 else log._cases.get(cid) or log.case(cid)
                action, actor, reason, payload = _next(case.state, w)
                try:
                    _, event, _ = log.act(
                        cid, action, actor, max(now, case.updated_at), reason, payload
                    )
                except StaleSequenceError:
                    retries += 1
                    continue
                done.append((event.case_id, event.seq))
                break
    out.write_text(json.dumps({"done": done, "retries": retries}))


def _fork(url: str, w: int, out: Path) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            _writer(url, w, out)
        except BaseException:
            out.with_suffix(".err").write_text(traceback.format_exc())
            code = 1
        os._exit(code)
    return pid


def test_two_writers_lose_nothing_and_double_nothing(durable_url: str, tmp_path: Path) -> None:
    """Every action either writer saw accepted is in the journal exactly once, nothing
    else is, and every case equals the replay of its events."""
    with open_store(durable_url, policy=POLICY) as store:
        log = CaseLog(POLICY, store=store)
        for k in range(N_CASES):
            log.report(
                CaseId(f"k{k:03d}"),
                DISPATCHER,
                T0,
                grid=AreaCode("g1"),
                category=CategoryCode("C0101"),
            )
        start = store.last_position()
    outs = [tmp_path / f"w{w}.json" for w in (1, 2)]
    pids = [_fork(durable_url, w, out) for w, out in zip((1, 2), outs, strict=True)]
    for pid, out in zip(pids, outs, strict=True):
        _, status = os.waitpid(pid, 0)
        err = out.with_suffix(".err")
        assert status == 0, err.read_text() if err.exists() else status
    results = [json.loads(out.read_text()) for out in outs]
    seen = [{(c, s) for c, s in r["done"]} for r in results]
    assert all(len(r["done"]) == ACTIONS for r in results)
    assert not seen[0] & seen[1]  # no action acknowledged to both writers
    assert sum(r["retries"] for r in results) > 0  # they did collide
    with open_store(durable_url, policy=POLICY) as store:
        journal = [s.event for s in store.all_events(after=start)]
        assert len(journal) == 2 * ACTIONS
        assert {(e.case_id, e.seq) for e in journal} == seen[0] | seen[1]
        assert verify(store).ok
        serial = CaseLog(POLICY)
        for s in store.all_events():
            serial.append(s.event)
        for cid in serial:
            assert store.case(cid) == serial.case(cid)

"""The append path's shortcuts, held to the plain definitions they stand for.

- `LightMemo`: light instants answered from a case's previous event on the same clock
  equal `light_instants` computed afresh (and `case_light`, by the contract suite).
- The projection written in batches of any size (new rows inserted, stored ones updated
  in all columns or only those a plain step changes) equals `projection_row` of the
  replayed case, and the kept counts by state equal counting the projection.
- `events_to_rows` (one pass over a batch) equals the row of each event alone.
- A batch writes each case's row once (from its last event) and the counts by the net
  change; the journal after it (events, rows, counts, outbox) equals appending the same
  events one per call, on every backend; a refused event writes nothing.
"""

from __future__ import annotations

import json
import random
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import BACKENDS, POLICY, make_url
from store_traffic import desk_events, desk_steps

from gridcore.cases import Action, Case, CaseEvent, CaseLog, DeadlinePolicy, follow
from gridcore.errors import CaseError, StaleSequenceError
from gridcore.ids import CaseId
from gridcore.store import SqlCaseStore, open_store, projection_row
from gridcore.store.lights import LightMemo, light_instants, to_us
from gridcore.store.rows import event_to_row, events_to_rows
from gridcore.store.verify import verify

EVENTS = tuple(desk_events(desk_steps(150, 23), POLICY))


@pytest.mark.parametrize("policy", [POLICY, None], ids=["policy", "no-policy"])
def test_the_memo_answers_as_light_instants_afresh(policy: DeadlinePolicy | None) -> None:
    """Every case after every event: with the memo fed in order, the same instants."""
    memo = LightMemo(policy)
    answered = 0
    seen = memo.seen

    def counting(*args: object) -> tuple[int, int] | None:
        nonlocal answered
        got = seen(*args)  # type: ignore[arg-type]
        answered += got is not None
        return got

    memo.seen = counting  # type: ignore[method-assign]
    cases: dict[str, Case] = {}
    for e in EVENTS:
        case = cases[e.case_id] = follow(cases.get(e.case_id), e)
        plain = light_instants(case, policy)
        assert light_instants(case, policy, memo) == plain, (case.id, case.seq)
        assert light_instants(case, policy, updated_us=to_us(case.updated_at)) == plain
    if policy is not None:
        assert answered > 50  # the memo did answer, not only the calendar


def test_a_full_memo_forgets_and_still_answers() -> None:
    """A memo of 3 cases over many: cleared when full, answers unchanged."""
    memo = LightMemo(POLICY, size=3)
    cases: dict[str, Case] = {}
    for e in EVENTS:
        case = cases[e.case_id] = follow(cases.get(e.case_id), e)
        assert light_instants(case, POLICY, memo) == light_instants(case, POLICY)
        assert len(memo._by_case) <= 3


def _batches(events: tuple[CaseEvent, ...], sizes: tuple[int, ...]) -> list[list[CaseEvent]]:
    it = iter(events)
    out = []
    k = 0
    while part := list(islice(it, sizes[k % len(sizes)])):
        out.append(part)
        k += 1
    return out


@pytest.mark.parametrize("sizes", [(1,), (7, 1, 50), (1_000,)], ids=["single", "mixed", "one"])
def test_batched_projection_equals_the_plain_one(
    store: SqlCaseStore, sizes: tuple[int, ...]
) -> None:
    """Appended in batches of these sizes: every row is `projection_row` of the replay
    (no memo), the counts equal counting the rows, and `verify` passes."""
    for part in _batches(EVENTS, sizes):
        store.append(part)
    log = CaseLog(POLICY)
    for e in EVENTS:
        log.append(e)
    last: dict[CaseId, int] = {}
    for s in store.all_events():
        last[s.event.case_id] = s.position
    counts: dict[str, int] = {}
    for cid in log:
        case = log.case(cid)
        want = projection_row(case, last[cid], POLICY)
        got = store._b.query("SELECT * FROM cases WHERE case_id = ?", [cid])[0]
        assert tuple(got[:16]) == want, cid
        counts[case.state.value] = counts.get(case.state.value, 0) + 1
    assert {s.value: n for s, n in store.state_counts().items()} == counts
    assert verify(store).ok


def test_rows_of_a_batch_are_each_events_fields() -> None:
    """One pass over a batch: each row is the event's fields, written plainly."""
    rows = events_to_rows(41, EVENTS)
    assert len(rows) == len(EVENTS)
    for pos, (row, e) in enumerate(zip(rows, EVENTS, strict=True), start=41):
        tz = e.at.tzinfo
        assert row == (
            pos,
            e.case_id,
            e.seq,
            e.at.isoformat(),
            to_us(e.at),
            tz.key if isinstance(tz, ZoneInfo) else None,
            e.actor,
            str(e.role),
            e.action.value,
            None if e.from_state is None else e.from_state.value,
            e.to_state.value,
            e.reason,
            json.dumps(dict(e.payload), ensure_ascii=False, separators=(",", ":")),
        )
        assert all(type(v) in (int, str, type(None)) for v in row)
    assert event_to_row(7, EVENTS[3]) == (7, *rows[3][1:])


def test_a_writer_sees_what_another_wrote_since_its_last_append(durable_url: str) -> None:
    """Two connections on one journal, each with its cache: after the other appended to a
    case, a stale event is refused and the next one is checked against the stored case
    (the others come from the cache); the journal verifies."""
    per_case: dict[str, list[CaseEvent]] = {}
    for e in EVENTS:
        per_case.setdefault(e.case_id, []).append(e)
    x, y = [cid for cid, evs in per_case.items() if len(evs) >= 6][:2]
    ex, ey = per_case[x], per_case[y]
    with open_store(durable_url, policy=POLICY) as a, open_store(durable_url, policy=POLICY) as b:
        a.append([*ex[:2], *ey[:2]])
        b.append(ex[2:4])  # b moves x on; a's cached x is now behind
        with pytest.raises(StaleSequenceError):
            a.append([ex[2]])
        a.append([ex[4], ey[2]])  # x read again, y from a's cache
        b.append([ey[3]])
        a.append([ex[5], ey[4]])
        assert a.case(x) == Case.replay(ex[:6]) and b.case(y) == Case.replay(ey[:5])
        assert verify(a).ok


def _journal(store: SqlCaseStore) -> dict[str, list[tuple[object, ...]]]:
    """Everything an append writes but the command ids: events, projection rows, counts
    by state (zeros left out), outbox; each in its key's order."""
    q = store._b.query
    return {
        "events": [tuple(r) for r in q("SELECT * FROM events ORDER BY position")],
        "cases": [tuple(r) for r in q("SELECT * FROM cases ORDER BY case_id")],
        "counts": [tuple(r) for r in q("SELECT * FROM case_counts WHERE n <> 0 ORDER BY state")],
        "outbox": [tuple(r) for r in q("SELECT * FROM outbox ORDER BY position")],
    }


def _refused(batch: list[CaseEvent], k: int) -> list[CaseEvent]:
    """The batch with its event k (its case's next after batch[:k]) given another action:
    the gate refuses it (no table entry, or not the event the table makes)."""
    e = batch[k]
    other = Action.VERIFY if e.action is not Action.VERIFY else Action.REGISTER
    return [*batch[:k], e._replace(action=other), *batch[k + 1 :]]


def _take(rest: list[CaseEvent], rng: random.Random) -> list[CaseEvent]:
    """The next batch, taken off `rest` (events in a valid order): 1-60 events from the
    front, and half the time, for each case reported in them, its next 1-3 events pulled
    forward (each case's events stay in order; other cases' are independent of it)."""
    batch = rest[: rng.randint(1, 60)]
    del rest[: len(batch)]
    if rng.random() < 0.5:
        for cid in [e.case_id for e in batch if e.seq == 1]:
            later = [i for i, e in enumerate(rest) if e.case_id == cid][: rng.randint(1, 3)]
            batch += [rest[i] for i in later]
            for i in reversed(later):
                del rest[i]
    return batch


@pytest.mark.parametrize("seed", [3, 11])
@pytest.mark.parametrize("kind", BACKENDS)
def test_a_batch_writes_what_one_event_a_call_writes(
    kind: str, seed: int, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Random batches (`_take`) write the same events,
    projection rows, counts and outbox as appending the same events one per call, after
    every batch: each case's row is written once per batch, from its last event, and the
    counts move by the net change. A batch with a refused event in its middle writes
    nothing and leaves the cache as the journal (the next batches still agree)."""
    rng = random.Random(seed)
    (tmp_path / "batched").mkdir()
    (tmp_path / "plain").mkdir()
    batched = open_store(make_url(kind, tmp_path / "batched", request), policy=POLICY)
    plain = open_store(make_url(kind, tmp_path / "plain", request), policy=POLICY)
    seen = {"several of a case": 0, "reported and moved": 0, "refused": 0}
    try:
        rest = list(EVENTS)
        while rest:
            batch = _take(rest, rng)
            ids = [e.case_id for e in batch]
            if len(set(ids)) < len(ids):
                seen["several of a case"] += 1
            reported = {e.case_id for e in batch if e.seq == 1}
            if any(e.seq > 1 and e.case_id in reported for e in batch):
                seen["reported and moved"] += 1
            if len(batch) >= 3 and rng.random() < 0.25:
                before = _journal(batched)
                bad = _refused(batch, rng.randrange(1, len(batch) - 1))
                with pytest.raises(CaseError) as caught:
                    batched.append(bad)
                assert not isinstance(caught.value, StaleSequenceError)
                assert _journal(batched) == before
                seen["refused"] += 1
            batched.append(batch)
            for e in batch:
                plain.append([e])
            assert _journal(batched) == _journal(plain), len(rest)
        assert verify(batched).ok
        assert all(n >= 3 for n in seen.values()), seen
    finally:
        batched.close()
        plain.close()

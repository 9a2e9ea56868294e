"""The journal's contract, on SQLite (file and memory) and a real PostgreSQL server."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

import pytest
from conftest import POLICY
from store_traffic import desk_events, desk_steps

from gridcore.cases import (
    OPEN_STATES,
    TRANSITIONS,
    Case,
    CaseEvent,
    CaseLog,
    EventLogError,
    State,
    case_light,
)
from gridcore.clock import WarningLight
from gridcore.errors import (
    ConfigError,
    StaleSequenceError,
    StoreError,
    TransitionRefused,
    UnknownItemError,
)
from gridcore.ids import CaseId
from gridcore.store import SqlCaseStore, open_store


@cache
def traffic(n: int = 120, seed: int = 7) -> tuple[CaseEvent, ...]:
    """Seeded desk events (a few hundred, many cases open)."""
    return tuple(desk_events(desk_steps(n, seed), POLICY))


def replayed(events: tuple[CaseEvent, ...]) -> dict[CaseId, Case]:
    log = CaseLog(POLICY)
    for e in events:
        log.append(e)
    return {cid: log.case(cid) for cid in log}


class TestAppendAndRead:
    def test_events_come_back_equal_in_position_order(self, store: SqlCaseStore) -> None:
        """Every event reads back equal, positions 1..n in append order."""
        evs = traffic()
        positions = store.append(evs[:100]) + store.append(evs[100:])
        assert positions == tuple(range(1, len(evs) + 1))
        got = list(store.all_events())
        assert [g.position for g in got] == list(positions)
        assert [g.event for g in got] == list(evs)
        assert store.last_position() == len(evs)

    def test_all_events_after_a_position_follows_the_journal(self, store: SqlCaseStore) -> None:
        """A reader resuming after position p gets exactly the later events."""
        evs = traffic()
        store.append(evs)
        assert [g.event for g in store.all_events(after=37)] == list(evs[37:])
        assert list(store.all_events(after=len(evs))) == []

    def test_case_equals_the_in_memory_logs_case(self, store: SqlCaseStore) -> None:
        """case() and events() give what an in-memory CaseLog holds."""
        evs = traffic()
        store.append(evs)
        expected = replayed(evs)
        for cid, case in expected.items():
            assert store.case(cid) == case
            assert store.events(cid) == tuple(e for e in evs if e.case_id == cid)
        assert len(store) == len(expected)
        assert set(store.case_ids()) == set(expected)
        assert evs[0].case_id in store and "nope" not in store

    def test_a_fresh_connection_sees_the_same_case(self, durable_url: str) -> None:
        """The projection and events outlive the connection (no cache involved)."""
        evs = traffic()
        with open_store(durable_url, policy=POLICY) as s:
            s.append(evs)
        with open_store(durable_url, policy=POLICY) as s:
            for cid, case in replayed(evs).items():
                assert s.case(cid) == case

    def test_unknown_case_is_a_typed_error_naming_it(self, store: SqlCaseStore) -> None:
        """A case never reported: UnknownItemError naming the id."""
        with pytest.raises(UnknownItemError, match="ghost"):
            store.case(CaseId("ghost"))
        assert store.events(CaseId("ghost")) == ()


class TestRefusals:
    def test_stale_sequence_writes_nothing(self, store: SqlCaseStore) -> None:
        """An event whose seq is not its case's next: StaleSequenceError, nothing written."""
        evs = traffic()
        store.append(evs[:50])
        again = evs[10]
        with pytest.raises(StaleSequenceError):
            store.append([evs[50], again])
        assert store.last_position() == 50

    def test_a_batch_is_all_or_nothing(self, store: SqlCaseStore) -> None:
        """A bad event anywhere in a batch leaves nothing of the batch."""
        evs = traffic()
        store.append(evs[:20])
        before = store.state_counts()
        index = {(e.case_id, e.seq): i for i, e in enumerate(evs)}
        nxt = next(e for e in evs[40:] if e.seq > 1 and index[(e.case_id, e.seq - 1)] < 40)
        bad = nxt._replace(to_state=State.CLOSED)
        with pytest.raises(EventLogError, match="to_state"):
            store.append([*evs[20:40], bad])
        assert store.last_position() == 20
        assert store.state_counts() == before
        assert store.append(evs[20:40]) == tuple(range(21, 41))

    def test_a_report_claiming_closed_is_refused(self, store: SqlCaseStore) -> None:
        """The store checks as CaseLog.append does: a report must be what report() makes."""
        report = traffic()[0]
        with pytest.raises(EventLogError):
            store.append([report._replace(to_state=State.CLOSED, from_state=State.REPORTED)])
        assert store.last_position() == 0

    def test_an_action_the_table_refuses_is_refused(self, store: SqlCaseStore) -> None:
        """An event the guards refuse (wrong role) raises TransitionRefused."""
        evs = traffic()
        report = evs[0]
        store.append([report])
        verify = next(e for e in evs if e.case_id == report.case_id and e.seq == 2)
        with pytest.raises(TransitionRefused):
            store.append([verify._replace(role="reporter")])
        assert store.last_position() == 1

    def test_a_payload_json_cannot_carry_is_refused(self, store: SqlCaseStore) -> None:
        """A payload with NaN cannot be stored losslessly: StoreError, nothing written."""
        evs = traffic()
        store.append([evs[0]])
        verify = next(e for e in evs if e.case_id == evs[0].case_id and e.seq == 2)
        with pytest.raises(StoreError, match="JSON"):
            store.append([verify._replace(payload={"x": float("nan")})])
        assert store.last_position() == 1


class TestCommands:
    def test_a_repeated_command_is_a_no_op_returning_the_first_result(
        self, store: SqlCaseStore
    ) -> None:
        """The same command_id twice: one write, the same positions returned."""
        evs = traffic()
        first = store.append(evs[:5], command_id="cmd-1")
        again = store.append(evs[:5], command_id="cmd-1")
        assert first == again == (1, 2, 3, 4, 5)
        assert store.last_position() == 5
        done = store.command("cmd-1")
        assert done is not None and [d.event for d in done] == list(evs[:5])
        assert store.command("cmd-2") is None

    def test_a_failed_command_can_be_retried(self, store: SqlCaseStore) -> None:
        """A refused append records no command id: the retry with good events writes."""
        evs = traffic()
        second = next(e for e in evs if e.seq == 2)
        with pytest.raises(StaleSequenceError):
            store.append([second], command_id="c")
        assert store.append([evs[0]], command_id="c") == (1,)

    def test_an_empty_command_id_is_refused(self, store: SqlCaseStore) -> None:
        """command_id must be a non-empty str."""
        with pytest.raises(ConfigError, match="command_id"):
            store.append(traffic()[:1], command_id="")


class TestQueries:
    def test_open_cases_by_grid_owner_level_category(self, store: SqlCaseStore) -> None:
        """open_cases filters equal a scan of the replayed cases."""
        evs = traffic()
        store.append(evs)
        cases = replayed(evs).values()
        open_ = [c for c in cases if c.state in OPEN_STATES]
        assert {r.case_id for r in store.open_cases()} == {c.id for c in open_}
        some = next(c for c in open_ if c.owner is not None)
        for kw, pick in (
            ({"grid": some.grid}, lambda c: c.grid == some.grid),
            ({"owner": some.owner}, lambda c: c.owner == some.owner),
            ({"level": "grid"}, lambda c: c.level == "grid"),
            ({"category": some.category}, lambda c: c.category == some.category),
            (
                {"grid": some.grid, "category": some.category},
                lambda c: c.grid == some.grid and c.category == some.category,
            ),
        ):
            got = [r.case_id for r in store.open_cases(**kw)]
            assert got == sorted(c.id for c in open_ if pick(c)), kw
        assert len(store.open_cases(limit=3)) == 3

    def test_state_counts_equal_a_scan(self, store: SqlCaseStore) -> None:
        """Counts by state equal counting the replayed cases."""
        evs = traffic()
        store.append(evs)
        counts: dict[State, int] = {}
        for c in replayed(evs).values():
            counts[c.state] = counts.get(c.state, 0) + 1
        assert store.state_counts() == counts

    def test_lit_cases_agree_with_case_light_at_every_instant(self, store: SqlCaseStore) -> None:
        """Yellow-or-red and red at T equal case_light over every case, at many T."""
        evs = traffic()
        store.append(evs)
        cases = list(replayed(evs).values())
        last = max(e.at for e in evs)
        for hours in (0, 1, 2, 5, 9, 30, 80):
            t = last + timedelta(hours=hours, minutes=7)
            lights = {c.id: case_light(c, t, POLICY) for c in cases}
            yellow = {r.case_id for r in store.lit_cases(t)}
            red = {r.case_id for r in store.lit_cases(t, WarningLight.RED)}
            assert yellow == {
                cid for cid, x in lights.items() if x in (WarningLight.YELLOW, WarningLight.RED)
            }
            assert red == {cid for cid, x in lights.items() if x is WarningLight.RED}

    def test_the_light_instants_are_exact_to_the_microsecond(self, store: SqlCaseStore) -> None:
        """At its yellow instant a case is yellow; a microsecond before, it is not."""
        evs = traffic()
        store.append(evs)
        checked = 0
        for cid, case in replayed(evs).items():
            row = store.projection(cid)
            for at, colours in (
                (row.yellow_at, (WarningLight.YELLOW, WarningLight.RED)),
                (row.red_at, (WarningLight.RED,)),
            ):
                if at is None or at <= case.updated_at:
                    continue
                checked += 1
                assert case_light(case, at, POLICY) in colours
                assert case_light(case, at - timedelta(microseconds=1), POLICY) not in colours
        assert checked > 20

    def test_lit_cases_refuses_a_naive_instant(self, store: SqlCaseStore) -> None:
        """A naive instant: ConfigError."""
        with pytest.raises(ConfigError, match="aware"):
            store.lit_cases(traffic()[0].at.replace(tzinfo=None))


class TestOutbox:
    def test_notifications_come_in_order_until_acknowledged(self, store: SqlCaseStore) -> None:
        """The outbox holds every notification the table makes, in event order, at least
        once: unacknowledged ones come again; each consumer has its own cursor."""
        evs = traffic()
        store.append(evs)
        expected = []
        cases: dict[CaseId, Case] = {}
        for e in evs:
            before = cases.get(e.case_id)
            after = (
                Case.replay([e])
                if before is None
                else TRANSITIONS[(before.state, e.action)].fold(before, e)
            )
            if before is not None:
                tr = TRANSITIONS[(before.state, e.action)]
                if tr.notify is not None:
                    expected.extend(tr.notify(after, e))
            cases[e.case_id] = after
        assert expected
        first = store.notifications(limit=5)
        assert [i.notification for i in first] == expected[:5]
        assert store.notifications(limit=5) == first  # not acknowledged: again
        store.ack(first[-1].position)
        rest = store.notifications(limit=10_000)
        assert [i.notification for i in rest] == expected[5:]
        assert [i.notification for i in store.notifications("other", limit=10_000)] == expected
        store.ack(1)  # never moves back
        assert store.notifications(limit=10_000) == rest


class TestUrls:
    def test_an_unknown_scheme_is_refused(self) -> None:
        """A URL of another database: ConfigError naming it."""
        with pytest.raises(ConfigError, match="mysql"):
            open_store("mysql://x/y")

    def test_a_missing_folder_is_refused(self, tmp_path: object) -> None:
        """sqlite:/// into a folder that does not exist: StoreError naming the folder."""
        with pytest.raises(StoreError, match="does not exist"):
            open_store(f"sqlite:///{tmp_path}/no/such/j.db")

    def test_postgresql_without_psycopg_names_the_extra(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without psycopg installed: StoreError telling to install gridcore[postgres]."""
        import sys

        monkeypatch.setitem(sys.modules, "psycopg", None)
        with pytest.raises(StoreError, match=r"gridcore\[postgres\]"):
            open_store("postgresql://u:secret@localhost/db")

    def test_a_password_never_appears_in_an_error(self, pg_cluster: object) -> None:
        """A refused connection names the URL without its password."""
        with pytest.raises(StoreError) as info:
            open_store("postgresql://u:hunter2@127.0.0.1:1/db?connect_timeout=2")
        assert "hunter2" not in str(info.value)

    def test_a_file_that_is_not_sqlite_is_refused(self, tmp_path: object) -> None:
        """A text file given as a journal: StoreError, the file untouched."""
        from pathlib import Path

        p = Path(str(tmp_path)) / "notes.db"
        p.write_text("hello, not a database\n" * 100)
        with pytest.raises(StoreError):
            open_store(f"sqlite:///{p}")
        assert p.read_text() == "hello, not a database\n" * 100


def test_lit_cases_since_keeps_only_those_newly_lit(store: SqlCaseStore) -> None:
    """since=s: the cases lit at T whose light changed after s (a sweep's window)."""
    evs = traffic()
    store.append(evs)
    t = max(e.at for e in evs) + timedelta(hours=6)
    s = t - timedelta(hours=2)
    window = {r.case_id for r in store.lit_cases(t, since=s)}
    assert window == {r.case_id for r in store.lit_cases(t)} - {
        r.case_id for r in store.lit_cases(s)
    }

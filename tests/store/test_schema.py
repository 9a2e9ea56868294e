"""Schema versions and migrations: an older journal is migrated or refused, a newer one
refused, a failed step leaves the journal as it was (SQLite file and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import POLICY
from store_traffic import desk_events, desk_steps

import gridcore.store.journal as journal
from gridcore.cases import Case, State, case_light
from gridcore.clock import WarningLight
from gridcore.errors import SchemaVersionError, StoreError
from gridcore.store import SCHEMA_VERSION, open_store
from gridcore.store.backends import connect
from gridcore.store.lights import to_us
from gridcore.store.rows import event_to_row
from gridcore.store.schema import steps
from gridcore.store.verify import verify

EVENTS = tuple(desk_events(desk_steps(60, 11), POLICY))


def write_v1_journal(url: str) -> None:
    """A journal as gridcore with schema 1 wrote it (no light columns, no outbox)."""
    b = connect(url)
    b.begin_write()
    for sql in steps(b.pk)[0][1]:
        b.execute(sql)
    b.executemany(
        "INSERT INTO gridcore_meta (key, value) VALUES (?, ?)",
        [("schema_version", "1"), ("created_with", "0.0.1")],
    )
    b.executemany(
        "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [event_to_row(i, e) for i, e in enumerate(EVENTS, start=1)],
    )
    cases: dict[str, tuple[Case, int]] = {}
    for i, e in enumerate(EVENTS, start=1):
        prior = cases.get(e.case_id)
        events = [e] if prior is None else None
        case = (
            Case.replay(events)
            if events
            else journal.TRANSITIONS[(prior[0].state, e.action)].fold(prior[0], e)
        )
        cases[e.case_id] = (case, i)
    b.executemany(
        "INSERT INTO cases VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [journal.projection_row(c, pos, POLICY)[:14] for c, pos in cases.values()],
    )
    b.commit()
    b.close()


def meta_version(url: str) -> str:
    b = connect(url)
    try:
        return str(b.query("SELECT value FROM gridcore_meta WHERE key = 'schema_version'")[0][0])
    finally:
        b.close()


class TestVersions:
    def test_an_older_journal_is_refused_until_migrated(self, durable_url: str) -> None:
        """Opening a schema-1 journal names the migrate command and changes nothing."""
        write_v1_journal(durable_url)
        with pytest.raises(SchemaVersionError, match="gridcore store migrate"):
            open_store(durable_url, policy=POLICY)
        assert meta_version(durable_url) == "1"

    def test_migrate_brings_it_to_the_current_schema_with_its_lights(
        self, durable_url: str
    ) -> None:
        """After migrate: current version, every event there, verify passes, lights right."""
        write_v1_journal(durable_url)
        with open_store(durable_url, policy=POLICY, create=False, migrate=True) as s:
            assert s.opened_at_version == 1
            assert s.schema_version() == SCHEMA_VERSION
            assert [x.event for x in s.all_events()] == list(EVENTS)
            assert verify(s).ok
            t = max(e.at for e in EVENTS) + timedelta(hours=3)
            lit = {r.case_id for r in s.lit_cases(t)}
            cases = [s.case(cid) for cid in s.case_ids()]
            assert lit == {
                c.id
                for c in cases
                if case_light(c, t, POLICY) in (WarningLight.YELLOW, WarningLight.RED)
            }
            assert lit
            s.append([])  # usable for writing
        with open_store(durable_url, policy=POLICY) as s:  # and opens plainly now
            assert s.last_position() == len(EVENTS)

    def test_a_version_2_journal_migrates_to_kept_counts(
        self, durable_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Schema 2 (counts through an index on state) -> 3 (a counts table): the counts
        are filled in the step, kept by later appends, and the journal verifies."""
        write_v1_journal(durable_url)
        real = journal.steps
        monkeypatch.setattr(journal, "steps", lambda pk: real(pk)[:2])
        monkeypatch.setattr(journal, "SCHEMA_VERSION", 2)
        open_store(durable_url, policy=POLICY, create=False, migrate=True).close()
        monkeypatch.undo()
        assert meta_version(durable_url) == "2"
        with pytest.raises(SchemaVersionError, match="at schema 2"):
            open_store(durable_url, policy=POLICY)
        with open_store(durable_url, policy=POLICY, create=False, migrate=True) as s:
            assert (s.opened_at_version, s.schema_version()) == (2, SCHEMA_VERSION)
            cases = {cid: s.case(cid) for cid in s.case_ids()}
            counts: dict[State, int] = {}
            for c in cases.values():
                counts[c.state] = counts.get(c.state, 0) + 1
            assert s.state_counts() == counts
            assert verify(s).ok
            more = tuple(desk_events(desk_steps(5, 12, prefix="m"), POLICY))
            s.append(more)
            assert sum(s.state_counts().values()) == len(cases) + 5
            assert verify(s).ok

    def test_a_newer_journal_is_refused_untouched(self, durable_url: str) -> None:
        """A journal from a newer gridcore: refused, naming the versions; not changed."""
        open_store(durable_url).close()
        b = connect(durable_url)
        b.execute("UPDATE gridcore_meta SET value = '99' WHERE key = 'schema_version'")
        b.close()
        with pytest.raises(SchemaVersionError, match=r"99.*newer"):
            open_store(durable_url)
        with pytest.raises(SchemaVersionError, match="newer"):
            open_store(durable_url, migrate=True)
        assert meta_version(durable_url) == "99"

    def test_a_failed_migration_step_leaves_the_journal_as_it_was(
        self, durable_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A step that fails half-way is rolled back whole (transactional DDL)."""
        write_v1_journal(durable_url)
        real = journal.steps

        def broken(pk: str) -> tuple[tuple[int, tuple[str, ...]], ...]:
            one, two, *_ = real(pk)
            return one, (2, (*two[1][:2], "ALTER TABLE no_such_table ADD COLUMN x INTEGER"))

        monkeypatch.setattr(journal, "steps", broken)
        with pytest.raises(StoreError, match="no_such_table"):
            open_store(durable_url, create=False, migrate=True)
        monkeypatch.setattr(journal, "steps", real)
        assert meta_version(durable_url) == "1"
        b = connect(durable_url)
        try:
            with pytest.raises(StoreError):
                b.query("SELECT yellow_at_us FROM cases")
        finally:
            b.close()
        with open_store(durable_url, policy=POLICY, create=False, migrate=True) as s:
            assert verify(s).ok

    def test_a_database_with_a_foreign_events_table_is_refused(self, durable_url: str) -> None:
        """An 'events' table that is not ours: refused, not adopted."""
        b = connect(durable_url)
        b.execute("CREATE TABLE events (id INTEGER)")
        b.close()
        with pytest.raises(SchemaVersionError, match="not a gridcore journal"):
            open_store(durable_url)

    def test_an_empty_database_without_create_is_refused(self, durable_url: str) -> None:
        """create=False on an empty database: the error tells to init it."""
        with pytest.raises(SchemaVersionError, match="store init"):
            open_store(durable_url, create=False)

    def test_two_opens_of_a_new_journal_create_it_once(self, durable_url: str) -> None:
        """A second open finds the schema and keeps it (no error, one version row)."""
        open_store(durable_url).close()
        with open_store(durable_url) as s:
            assert s.opened_at_version == SCHEMA_VERSION
        assert to_us(EVENTS[0].at) > 0

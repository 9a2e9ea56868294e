"""The journal: events, the projection of every case, commands and the outbox, in SQL.

Every append is one transaction under the journal's write lock: the events are checked
against the stored cases with `gridcore.cases.follow` (the check `CaseLog.append` makes),
then the event rows, the cases' projection rows, the notifications and the command id
are written together, or nothing is. Positions are 1, 2, 3... in commit order.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Final, NamedTuple

from gridcore import __version__
from gridcore.cases import (
    TRANSITIONS,
    Case,
    CaseEvent,
    DeadlinePolicy,
    DeskRole,
    Notification,
    State,
    follow,
)
from gridcore.clock import WarningLight
from gridcore.errors import ConfigError, SchemaVersionError, UnknownItemError
from gridcore.ids import CaseId

from .backends import Backend, Write
from .lights import LightMemo, light_instants, to_us
from .projection import (
    CASE_COLUMNS,
    CASE_SELECT,
    CaseRow,
    case_row,
    projection_row,
    projection_writes,
)
from .rows import (
    EVENT_COLUMNS,
    StoredEvent,
    event_from_row,
    events_to_rows,
    instant_columns,
    instant_from_columns,
)
from .schema import SCHEMA_VERSION, steps

__all__ = ["CASE_COLUMNS", "CaseRow", "OutboxItem", "SqlCaseStore", "projection_row"]

_CHUNK: Final = 5_000
_IN_CHUNK: Final = 500
_CACHE_SIZE: Final = 50_000
_CATCH_UP: Final = 100_000  # events by other writers read to update the cache, at most

_EVENT_SELECT: Final = f"SELECT {', '.join(EVENT_COLUMNS)} FROM events"
_INSERT_EVENT: Final = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})"
)
_ROLE_TEXT: Final[dict[str, str]] = {m.value: m.value for m in DeskRole}
_OUTBOX_COLUMNS: Final = (
    "position",
    "event_position",
    "case_id",
    "seq",
    "kind",
    "recipient",
    "to_role",
    "at",
    "zone",
    "detail",
)
_INSERT_OUTBOX: Final = (
    f"INSERT INTO outbox ({', '.join(_OUTBOX_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _OUTBOX_COLUMNS)})"
)


_INSERT_COMMAND: Final = (
    "INSERT INTO commands (command_id, first_position, n_events) VALUES (?, ?, ?)"
)
_LAST_POSITIONS: Final = (
    "SELECT COALESCE(MAX(position), 0), (SELECT COALESCE(MAX(position), 0) FROM outbox) FROM events"
)


class _Tx:
    """A write transaction in the making: the last positions given out (events and
    outbox) and the writes not yet sent (`Backend.write_all` sends them together)."""

    __slots__ = ("last", "last_note", "writes")

    def __init__(self, last: int, last_note: int) -> None:
        self.last = last
        self.last_note = last_note
        self.writes: list[Write] = []


class OutboxItem(NamedTuple):
    """A notification kept by the journal, with its outbox position and its event's."""

    position: int
    event_position: int
    notification: Notification


class SqlCaseStore:
    """The durable case journal on SQLite or PostgreSQL (make one with `open_store`).

    `policy` gives the stage limits the warning-light instants are computed with (the
    desk's `DeadlinePolicy`; without one, only deadlines recorded in the events count).
    """

    def __init__(
        self,
        backend: Backend,
        *,
        policy: DeadlinePolicy | None = None,
        create: bool = True,
        migrate: bool = False,
    ) -> None:
        self._b = backend
        self.policy = policy
        self._cache: OrderedDict[CaseId, Case] = OrderedDict()
        # The position the cache is current as of: every case it holds is the stored one
        # as of that position (None: unknown; see `_catch_up`).
        self._synced: int | None = None
        self._lights = LightMemo(policy, _CACHE_SIZE)
        try:
            version = self._version()
            self.opened_at_version = version
            """The schema version the journal had when opened (0: it was empty)."""
            if version == 0 and create:
                self._create()
            elif version < SCHEMA_VERSION and migrate:
                self.migrate()
            self._require_current()
        except BaseException:
            backend.close()
            raise

    # -- lifetime ------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The journal's URL (without a password)."""
        return self._b.url

    @property
    def dialect(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self._b.dialect

    def close(self) -> None:
        """Close the connection (idempotent)."""
        if self._b is not None:
            self._b.close()

    def __enter__(self) -> SqlCaseStore:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- schema --------------------------------------------------------------------

    def _version(self) -> int:
        if not self._b.has_table("gridcore_meta"):
            if self._b.has_table("events"):
                raise SchemaVersionError(
                    f"journal {self.url!r} has an 'events' table but no gridcore_meta: "
                    "not a gridcore journal (or from before schema versions)"
                )
            return 0
        rows = self._b.query("SELECT value FROM gridcore_meta WHERE key = 'schema_version'")
        if not rows or not str(rows[0][0]).isdigit():
            raise SchemaVersionError(
                f"journal {self.url!r}: gridcore_meta holds no schema_version: expected an integer"
            )
        return int(rows[0][0])

    def schema_version(self) -> int:
        """The schema version the journal is at."""
        return self._version()

    def _require_current(self) -> None:
        v = self._version()
        if v == 0:
            raise SchemaVersionError(
                f"journal {self.url!r} holds no gridcore journal: `gridcore store init URL` "
                "creates one"
            )
        if v < SCHEMA_VERSION:
            raise SchemaVersionError(
                f"journal {self.url!r} is at schema {v}, this gridcore ({__version__}) uses "
                f"{SCHEMA_VERSION}: run `gridcore store migrate URL` (or open_store(..., "
                "migrate=True)); the journal was not changed"
            )
        if v > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"journal {self.url!r} is at schema {v}, newer than this gridcore "
                f"({__version__}, schema {SCHEMA_VERSION}): upgrade gridcore; the journal "
                "was not changed"
            )

    def _create(self) -> None:
        self._b.begin_write()
        try:
            if self._b.has_table("gridcore_meta"):  # another process created it first
                self._b.rollback()
                return
            for version, statements in steps(self._b.pk):
                for sql in statements:
                    self._b.execute(sql)
                if version == 1:
                    self._b.executemany(
                        "INSERT INTO gridcore_meta (key, value) VALUES (?, ?)",
                        [("schema_version", "1"), ("created_with", __version__)],
                    )
                else:
                    self._set_version(version)
            self._b.commit()
        except BaseException:
            self._b.rollback()
            raise

    def _set_version(self, version: int) -> None:
        self._b.execute(
            "UPDATE gridcore_meta SET value = ? WHERE key = 'schema_version'", [str(version)]
        )

    def migrate(self) -> tuple[int, int]:
        """Bring the journal to `SCHEMA_VERSION`, one step a transaction; (from, to)."""
        start = self._version()
        if start == 0:
            raise SchemaVersionError(f"journal {self.url!r} is empty: `gridcore store init` it")
        if start > SCHEMA_VERSION:
            self._require_current()
        for version, statements in steps(self._b.pk):
            if version <= start:
                continue
            self._b.begin_write()
            try:
                if self._version() >= version:  # another process migrated it meanwhile
                    self._b.rollback()
                    continue
                for sql in statements:
                    self._b.execute(sql)
                if version == 2:
                    self._backfill_lights()
                self._set_version(version)
                self._b.commit()
            except BaseException:
                self._b.rollback()
                raise
        return start, self._version()

    def _backfill_lights(self) -> None:
        ids = [r[0] for r in self._b.query("SELECT case_id FROM cases WHERE is_open = 1")]
        updates = []
        for cid in ids:
            case = Case.replay(self.events(CaseId(cid)))
            updates.append((*light_instants(case, self.policy), cid))
        self._b.executemany(
            "UPDATE cases SET yellow_at_us = ?, red_at_us = ? WHERE case_id = ?", updates
        )

    # -- writing -------------------------------------------------------------------

    def append(
        self, events: Iterable[CaseEvent], *, command_id: str | None = None
    ) -> tuple[int, ...]:
        """Write a batch of events atomically (all or nothing); their positions.

        Each event must be the next of its case (`StaleSequenceError`) and one the
        transition table makes from the stored case (`EventLogError`,
        `TransitionRefused`); nothing is written otherwise. A `command_id` already done
        makes the call a no-op returning the positions the first call returned.
        """
        batch = tuple(events)
        if command_id is not None and (not isinstance(command_id, str) or not command_id):
            raise ConfigError(f"command_id {command_id!r}: expected a non-empty str or None")
        b = self._b
        positions_now = b.begin_write(_LAST_POSITIONS)
        try:
            if command_id is not None:
                done = b.query(
                    "SELECT first_position, n_events FROM commands WHERE command_id = ?",
                    [command_id],
                )
                if done:
                    b.rollback()
                    first, n = int(done[0][0]), int(done[0][1])
                    return tuple(range(first, first + n))
            tx = self._catch_up(positions_now[0])
            positions, cases = self._write(batch, tx)
            if command_id is not None:
                first = positions[0] if positions else 0
                tx.writes.append((_INSERT_COMMAND, [(command_id, first, len(positions))]))
            b.write_all(tx.writes, commit=True)
        except BaseException:
            b.rollback()
            raise
        self._remember(cases)
        if positions:
            self._synced = positions[-1]
        return positions

    def append_all(self, events: Iterable[CaseEvent], *, chunk: int = 5_000) -> int:
        """Append a stream of events in ONE transaction (an import): all or nothing.

        Written `chunk` events at a time, so the stream is never held whole; the number
        of events written.
        """
        b = self._b
        known: dict[CaseId, Case] = {}
        n = 0
        positions_now = b.begin_write(_LAST_POSITIONS)
        try:
            tx = self._catch_up(positions_now[0])
            it = iter(events)
            while part := tuple(itertools.islice(it, chunk)):
                n += len(self._write(part, tx, known)[0])
                b.write_all(tx.writes)
                tx.writes.clear()
            b.commit()
        except BaseException:
            b.rollback()
            raise
        self._cache.clear()
        self._remember(dict(itertools.islice(reversed(known.items()), _CACHE_SIZE)))
        self._synced = tx.last
        return n

    def _catch_up(self, positions: Sequence[Any]) -> _Tx:
        """Bring the cache up to the journal (inside the write transaction, whose
        `_LAST_POSITIONS` are `positions`: the events' and the outbox's last).

        Every write adds events, so the cases another writer changed since the position
        the cache is current as of are those of the events after it (a range of the
        primary key, usually empty): they are dropped from the cache, which is then
        current as of the last position, and `_write` trusts it for the cases it holds
        (no query for their seqs). A cache of unknown age, or far behind, is cleared.
        """
        b = self._b
        last, last_note = int(positions[0]), int(positions[1])
        synced = self._synced
        if synced != last:
            if synced is None or not 0 <= last - synced <= _CATCH_UP:
                self._cache.clear()
            else:
                rows = b.query("SELECT DISTINCT case_id FROM events WHERE position > ?", [synced])
                for (cid,) in rows:
                    self._cache.pop(cid, None)
            self._synced = last
        return _Tx(last, last_note)

    def _write(
        self, batch: Sequence[CaseEvent], tx: _Tx, known: dict[CaseId, Case] | None = None
    ) -> tuple[tuple[int, ...], dict[CaseId, Case]]:
        """Check a batch and add its writes to `tx` (the write transaction's: its cache
        is current as of `tx.last`, `_catch_up`); its positions and changed cases.

        `known`: cases already written in this transaction (updated in place).
        """
        if not batch:
            return (), {}
        last = tx.last
        ids = list(dict.fromkeys(e.case_id for e in batch))
        if known is None:
            current = self._load_for_write(ids)
        else:
            current = self._load_for_write([i for i in ids if i not in known])
            current.update((i, known[i]) for i in ids if i in known)
        stored = dict(current)  # the cases as their projection rows hold them now
        notes: list[tuple[int, Notification]] = []
        last_pos: dict[CaseId, int] = {}
        pos = last
        transitions = TRANSITIONS
        for e in batch:
            cid = e.case_id
            before = current.get(cid)
            after = follow(before, e)  # the check `CaseLog.append` makes: the one gate
            pos += 1
            if before is not None:
                tr = transitions.get((before.state, e.action))
                if tr is not None and tr.notify is not None:
                    notes.extend((pos, n) for n in tr.notify(after, e))
            current[cid] = after
            last_pos[cid] = pos
        rows = events_to_rows(last + 1, batch)
        tx.writes.append((_INSERT_EVENT, rows))
        changed: dict[CaseId, Case] = {cid: current[cid] for cid in last_pos}  # type: ignore[misc]
        if known is not None:
            known.update(changed)
        memo = self._lights
        if memo.policy is not self.policy:  # `policy` was replaced
            memo = self._lights = LightMemo(self.policy, _CACHE_SIZE)
        tx.writes += projection_writes(changed, stored, last_pos, rows, last + 1, memo)
        if notes:
            tx.writes.append((_INSERT_OUTBOX, self._outbox_rows(notes, batch, rows, tx)))
        tx.last = pos
        return tuple(range(last + 1, pos + 1)), changed

    @staticmethod
    def _outbox_rows(
        notes: list[tuple[int, Notification]],
        batch: Sequence[CaseEvent],
        event_rows: Sequence[Sequence[Any]],
        tx: _Tx,
    ) -> list[tuple[Any, ...]]:
        """The outbox rows of the notifications (each with its event's position; batch[i]
        is at `tx.last` + 1 + i), after `tx.last_note`; one at its event's instant takes
        the instant's text from the event's row."""
        first = tx.last + 1
        rows = []
        roles = _ROLE_TEXT
        for i, (pos, n) in enumerate(notes, start=tx.last_note + 1):
            k = pos - first
            if n.at is batch[k].at:
                at, zone = event_rows[k][3], event_rows[k][5]
            else:
                at, zone = instant_columns(n.at)
            role = roles.get(n.to_role) or str(n.to_role)
            rows.append((i, pos, n.case_id, n.seq, n.kind, n.to, role, at, zone, n.detail))
        tx.last_note += len(rows)
        return rows

    def _load_for_write(self, ids: Sequence[CaseId]) -> dict[CaseId, Case | None]:
        """The stored cases of `ids` (None for new ones): the cached ones as cached (the
        cache is current: `_catch_up`), the others read."""
        cache = self._cache
        out: dict[CaseId, Case | None] = {}
        rest = []
        for cid in ids:
            cached = cache.get(cid)
            if cached is None:
                rest.append(cid)
            else:
                out[cid] = cached
        if not rest:
            return out
        seqs: dict[str, int] = {}
        for i in range(0, len(rest), _IN_CHUNK):
            part = rest[i : i + _IN_CHUNK]
            marks = ", ".join("?" for _ in part)
            sql = f"SELECT case_id, seq FROM cases WHERE case_id IN ({marks})"
            seqs.update((r[0], int(r[1])) for r in self._b.query(sql, part))
        for cid in rest:
            seq = seqs.get(cid)
            out[cid] = None if seq is None else self._case_at(cid, seq)
        return out

    def _case_at(self, cid: CaseId, seq: int) -> Case:
        cached = self._cache.get(cid)
        if cached is not None and cached.seq == seq:
            return cached
        case = Case.replay(self.events(cid))
        self._remember({cid: case})
        return case

    def _remember(self, cases: Mapping[CaseId, Case]) -> None:
        # A cached case is used only when its seq equals the stored one: the journal only
        # grows and (case_id, seq) is unique, so an equal seq means the same case.
        cache = self._cache
        for cid, case in cases.items():
            cache[cid] = case
            cache.move_to_end(cid)
        while len(cache) > _CACHE_SIZE:
            cache.popitem(last=False)

    # -- reading -------------------------------------------------------------------

    def events(self, case_id: CaseId) -> tuple[CaseEvent, ...]:
        """The case's events in order (empty for a case never reported)."""
        rows = self._b.query(f"{_EVENT_SELECT} WHERE case_id = ? ORDER BY seq", [case_id])
        return tuple(event_from_row(r).event for r in rows)

    def all_events(self, after: int = 0) -> Iterator[StoredEvent]:
        """Every event after position `after`, in position (commit) order, read in chunks."""
        pos = int(after)
        while True:
            rows = self._b.query(
                f"{_EVENT_SELECT} WHERE position > ? ORDER BY position LIMIT {_CHUNK}", [pos]
            )
            if not rows:
                return
            for r in rows:
                yield event_from_row(r)
            pos = int(rows[-1][0])

    def last_position(self) -> int:
        """The position of the last event (0 when empty)."""
        return int(self._b.query("SELECT COALESCE(MAX(position), 0) FROM events")[0][0])

    def case(self, case_id: CaseId) -> Case:
        """The case as of its last stored event (`UnknownItemError` if never reported)."""
        rows = self._b.query("SELECT seq FROM cases WHERE case_id = ?", [case_id])
        if not rows:
            raise UnknownItemError("case", case_id, f"journal {self.url!r}")
        cached = self._cache.get(case_id)
        if cached is not None and cached.seq == int(rows[0][0]):
            return cached
        events = self.events(case_id)
        case = Case.replay(events)
        self._remember({case_id: case})
        return case

    def __contains__(self, case_id: object) -> bool:
        return bool(self._b.query("SELECT 1 FROM cases WHERE case_id = ?", [case_id]))

    def __len__(self) -> int:
        return int(self._b.query("SELECT COUNT(*) FROM cases")[0][0])

    def case_ids(self) -> Iterator[CaseId]:
        """Every case id, in id order, read in chunks."""
        last = ""
        while True:
            rows = self._b.query(
                f"SELECT case_id FROM cases WHERE case_id > ? ORDER BY case_id LIMIT {_CHUNK}",
                [last],
            )
            if not rows:
                return
            yield from (CaseId(r[0]) for r in rows)
            last = rows[-1][0]

    def command(self, command_id: str) -> tuple[StoredEvent, ...] | None:
        """The events a command id wrote (None if it was never done)."""
        done = self._b.query(
            "SELECT first_position, n_events FROM commands WHERE command_id = ?", [command_id]
        )
        if not done:
            return None
        first, n = int(done[0][0]), int(done[0][1])
        rows = self._b.query(
            f"{_EVENT_SELECT} WHERE position >= ? AND position < ? ORDER BY position",
            [first, first + n],
        )
        return tuple(event_from_row(r) for r in rows)

    def case_chunks(
        self, cases_per_chunk: int = 2_000
    ) -> Iterator[tuple[list[StoredEvent], dict[CaseId, tuple[Any, ...]]]]:
        """The journal a few thousand whole cases at a time, by case id: their events in
        (case, seq) order and their raw projection rows (`cases` columns). Events of a
        case missing from the projection come in the chunk whose id range holds them."""
        lo = ""
        while True:
            proj = self._b.query(
                f"{CASE_SELECT} WHERE case_id > ? ORDER BY case_id LIMIT {int(cases_per_chunk)}",
                [lo],
            )
            if len(proj) == cases_per_chunk:
                hi = proj[-1][0]
                rows = self._b.query(
                    f"{_EVENT_SELECT} WHERE case_id > ? AND case_id <= ? ORDER BY case_id, seq",
                    [lo, hi],
                )
            else:
                rows = self._b.query(
                    f"{_EVENT_SELECT} WHERE case_id > ? ORDER BY case_id, seq", [lo]
                )
            if not proj and not rows:
                return
            yield [event_from_row(r) for r in rows], {CaseId(r[0]): tuple(r) for r in proj}
            if len(proj) < cases_per_chunk:
                return
            lo = proj[-1][0]

    def last_instant_us(self) -> int | None:
        """The latest event instant (epoch µs), None when the journal is empty."""
        v = self._b.query("SELECT MAX(at_us) FROM events")[0][0]
        return None if v is None else int(v)

    def stats(self) -> tuple[int, int, int]:
        """(events, smallest position, largest position) of the journal (0s when empty)."""
        n, lo, hi = self._b.query("SELECT COUNT(*), MIN(position), MAX(position) FROM events")[0]
        return int(n), int(lo or 0), int(hi or 0)

    def command_events(self, command_id: str) -> tuple[CaseEvent, ...] | None:
        """The events a command id wrote (None if it was never done)."""
        done = self.command(command_id)
        return None if done is None else tuple(s.event for s in done)

    # -- queries (indexed) -----------------------------------------------------------

    def open_cases(
        self,
        *,
        grid: str | None = None,
        owner: str | None = None,
        level: str | None = None,
        category: str | None = None,
        limit: int | None = None,
    ) -> tuple[CaseRow, ...]:
        """The open cases (not final, closed or evaluated) matching every filter given,
        by case id."""
        where = ["is_open = 1"]
        params: list[Any] = []
        for column, value in (
            ("grid", grid),
            ("owner", owner),
            ("level", level),
            ("category", category),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = f"{CASE_SELECT} WHERE {' AND '.join(where)} ORDER BY case_id"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return tuple(map(case_row, self._b.query(sql, params)))

    def lit_cases(
        self,
        at: datetime,
        light: WarningLight = WarningLight.YELLOW,
        *,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> tuple[CaseRow, ...]:
        """The open cases whose warning light at `at` is `light` or worse (YELLOW: yellow
        or red; RED: red), by the instant they reached it; with `since`, only those that
        reached it after `since` (what a sweep run every few minutes asks). Valid for `at`
        at or after each case's last event."""
        for name, t in (("at", at), ("since", since)):
            if t is not None and (not isinstance(t, datetime) or t.tzinfo is None):
                raise ConfigError(f"instant {name!r} = {t!r}: expected an aware datetime")
        if light is WarningLight.YELLOW:
            column = "yellow_at_us"
        elif light is WarningLight.RED:
            column = "red_at_us"
        else:
            raise ConfigError(f"light {light!r}: expected WarningLight.YELLOW or RED")
        params: list[Any] = [to_us(at)]
        lower = ""
        if since is not None:
            lower = f" AND {column} > ?"
            params.append(to_us(since))
        sql = (
            f"{CASE_SELECT} WHERE {column} IS NOT NULL AND {column} <= ?{lower} "
            f"ORDER BY {column}, case_id"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return tuple(map(case_row, self._b.query(sql, params)))

    def state_counts(self) -> dict[State, int]:
        """How many cases are in each state (states with none are left out); from the
        counts kept with the projection (`verify` checks them against it)."""
        rows = self._b.query("SELECT state, n FROM case_counts WHERE n <> 0")
        return {State(s): int(n) for s, n in sorted(rows)}

    def projection(self, case_id: CaseId) -> CaseRow:
        """The case's projection row as stored."""
        rows = self._b.query(f"{CASE_SELECT} WHERE case_id = ?", [case_id])
        if not rows:
            raise UnknownItemError("case", case_id, f"journal {self.url!r}")
        return case_row(rows[0])

    # -- outbox --------------------------------------------------------------------

    def notifications(
        self, consumer: str = "default", *, limit: int = 100
    ) -> tuple[OutboxItem, ...]:
        """The next notifications `consumer` has not acknowledged, in order (at least once:
        the same ones come again until `ack`)."""
        rows = self._b.query(
            f"SELECT {', '.join(_OUTBOX_COLUMNS)} FROM outbox WHERE position > "
            "COALESCE((SELECT position FROM outbox_cursors WHERE consumer = ?), 0) "
            f"ORDER BY position LIMIT {int(limit)}",
            [consumer],
        )
        out = []
        for pos, epos, cid, seq, kind, to, role, at, zone, detail in rows:
            when = instant_from_columns(at, zone)
            n = Notification(kind, CaseId(cid), to, DeskRole(role), when, int(seq), detail)
            out.append(OutboxItem(int(pos), int(epos), n))
        return tuple(out)

    def ack(self, position: int, consumer: str = "default") -> None:
        """Acknowledge `consumer`'s notifications up to `position` (never moves back)."""
        b = self._b
        b.begin_write()
        try:
            rows = b.query("SELECT position FROM outbox_cursors WHERE consumer = ?", [consumer])
            if not rows:
                b.execute(
                    "INSERT INTO outbox_cursors (consumer, position) VALUES (?, ?)",
                    [consumer, int(position)],
                )
            elif int(rows[0][0]) < position:
                b.execute(
                    "UPDATE outbox_cursors SET position = ? WHERE consumer = ?",
                    [int(position), consumer],
                )
            b.commit()
        except BaseException:
            b.rollback()
            raise

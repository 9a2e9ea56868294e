"""The journal's schema, as plain SQL both SQLite and PostgreSQL run, and its migrations.

Tables (see docs/store.md for every column):

- `gridcore_meta`: key/value; `schema_version` is the version the journal is at.
- `events`: one row per accepted event, `position` 1, 2, 3... in commit order; unique
  (case_id, seq).
- `cases`: the projection, one row per case, written in the same transaction as its
  events: state, seq, grid, category, owner, level, handler, due, and the instants its
  warning light turns yellow and red; partial indexes on the open cases.
- `case_counts`: how many cases are in each state, kept with the projection.
- `commands`: the command ids already done and the positions their events got.
- `outbox`, `outbox_cursors`: the notifications of each append, in order, and how far
  each named reader has acknowledged them.

A journal is migrated one version at a time, each step in one transaction together with
the new `schema_version`: a failed step leaves the journal as it was.
"""

from __future__ import annotations

from typing import Final

__all__ = ["SCHEMA_VERSION", "steps"]

SCHEMA_VERSION: Final = 3
"""The schema version this gridcore writes and reads."""

# {pk}: a 64-bit integer primary key (SQLite's rowid alias; PostgreSQL's BIGINT).
_V1: Final = (
    "CREATE TABLE gridcore_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE events (
        position {pk},
        case_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at TEXT NOT NULL,
        at_us BIGINT NOT NULL,
        zone TEXT,
        actor TEXT NOT NULL,
        role TEXT NOT NULL,
        action TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        reason TEXT NOT NULL,
        payload TEXT NOT NULL,
        UNIQUE (case_id, seq)
    )""",
    """CREATE TABLE cases (
        case_id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        state TEXT NOT NULL,
        is_open SMALLINT NOT NULL,
        grid TEXT NOT NULL,
        category TEXT NOT NULL,
        owner TEXT,
        level TEXT,
        handler TEXT,
        first_handler TEXT,
        reported_at_us BIGINT NOT NULL,
        updated_at_us BIGINT NOT NULL,
        due_us BIGINT,
        last_position BIGINT NOT NULL
    )""",
    "CREATE INDEX cases_state ON cases (state)",
    "CREATE INDEX cases_open_grid ON cases (grid) WHERE is_open = 1",
    "CREATE INDEX cases_open_owner ON cases (owner) WHERE is_open = 1",
    "CREATE INDEX cases_open_level ON cases (level) WHERE is_open = 1",
    "CREATE INDEX cases_open_category ON cases (category) WHERE is_open = 1",
    """CREATE TABLE commands (
        command_id TEXT PRIMARY KEY,
        first_position BIGINT NOT NULL,
        n_events INTEGER NOT NULL
    )""",
)

_V2: Final = (
    "ALTER TABLE cases ADD COLUMN yellow_at_us BIGINT",
    "ALTER TABLE cases ADD COLUMN red_at_us BIGINT",
    "CREATE INDEX cases_yellow ON cases (yellow_at_us) WHERE yellow_at_us IS NOT NULL",
    "CREATE INDEX cases_red ON cases (red_at_us) WHERE red_at_us IS NOT NULL",
    """CREATE TABLE outbox (
        position {pk},
        event_position BIGINT NOT NULL,
        case_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        recipient TEXT NOT NULL,
        to_role TEXT NOT NULL,
        at TEXT NOT NULL,
        zone TEXT,
        detail TEXT NOT NULL
    )""",
    """CREATE TABLE outbox_cursors (
        consumer TEXT PRIMARY KEY,
        position BIGINT NOT NULL
    )""",
)


# Version 3: counts by state kept in a table (written with the projection, in the same
# transaction) instead of counted through an index on `state`, which every append had to
# update; the open cases by level and category from one index, in case-id order.
_V3: Final = (
    "CREATE TABLE case_counts (state TEXT PRIMARY KEY, n BIGINT NOT NULL)",
    "INSERT INTO case_counts (state, n) SELECT state, COUNT(*) FROM cases GROUP BY state",
    "DROP INDEX cases_state",
    "DROP INDEX cases_open_level",
    "CREATE INDEX cases_open_level_category ON cases (level, category, case_id) WHERE is_open = 1",
)


def steps(pk: str) -> tuple[tuple[int, tuple[str, ...]], ...]:
    """Every step (version, statements) from an empty database to `SCHEMA_VERSION`, with
    `{pk}` filled in. The journal runs each in one transaction with its backfill (step 2:
    the light instants of the cases already there; step 3 counts the cases by state in
    SQL) and the new `schema_version`."""
    return (
        (1, tuple(s.format(pk=pk) for s in _V1)),
        (2, tuple(s.format(pk=pk) for s in _V2)),
        (3, _V3),
    )

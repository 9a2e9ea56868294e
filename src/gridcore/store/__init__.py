"""The durable case journal: SQLite embedded by default, PostgreSQL for a city's desk.

`open_store(url)` gives a `SqlCaseStore` (the core's `CaseStore`): events appended
atomically and checked against the stored cases, a projection of every case kept in the
same transaction, indexed queries for the desk, an outbox of notifications, schema
versions and migrations. An edge: it depends on the core, never the reverse.

>>> with open_store("sqlite://:memory:") as store:
...     store.last_position()
0
"""

from __future__ import annotations

from gridcore.cases import DeadlinePolicy
from gridcore.errors import SchemaVersionError, StoreError

from .backends import connect, redact
from .journal import OutboxItem, SqlCaseStore
from .projection import CaseRow, projection_row
from .rows import StoredEvent
from .schema import SCHEMA_VERSION

__all__ = [
    "SCHEMA_VERSION",
    "CaseRow",
    "OutboxItem",
    "SchemaVersionError",
    "SqlCaseStore",
    "StoreError",
    "StoredEvent",
    "open_store",
    "projection_row",
    "redact",
]


def open_store(
    url: str,
    *,
    policy: DeadlinePolicy | None = None,
    create: bool = True,
    migrate: bool = False,
) -> SqlCaseStore:
    """Open the journal at `url`: `sqlite:///PATH` (relative; `sqlite:////ABS` absolute),
    `sqlite://:memory:` or `postgresql://user@host/db` (needs gridcore[postgres]).

    An empty database gets the schema (unless `create=False`); a journal at an older
    schema is refused with `SchemaVersionError` unless `migrate=True`, a newer one always.
    `policy` is the desk's deadline policy (for the warning-light instants).
    """
    return SqlCaseStore(connect(url), policy=policy, create=create, migrate=migrate)

"""Connections to the two databases the journal runs on, behind one small interface.

SQLite (the standard library's `sqlite3`): WAL, `synchronous=FULL` (a commit is on disk
when it returns), writers serialised by `BEGIN IMMEDIATE`. PostgreSQL (psycopg 3, the
`postgres` extra, imported only here and only when asked): writers serialised by one
transaction-scoped advisory lock, so positions are given in commit order and a reader
following the journal never sees a later position commit before an earlier one.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import urlsplit, urlunsplit

from gridcore.errors import ConfigError, StoreError

__all__ = ["Backend", "Write", "connect", "redact"]

_BUSY_TIMEOUT_MS: Final = 60_000

Write = tuple[str, Sequence[Sequence[Any]]]
"""A statement (`?` placeholders) and the rows to run it with."""
_LOCK_KEY: Final = 0x67726964  # "grid": the advisory lock of the journal's writers


class Backend(Protocol):
    """What the journal needs of a database connection."""

    dialect: str
    url: str
    pk: str

    def begin_write(self, then: str | None = None) -> list[tuple[Any, ...]]:
        """Start a transaction that holds the journal's write lock until commit/rollback;
        with `then` (a query without parameters), run it first thing in the transaction
        and return its rows (PostgreSQL: in the same round trip)."""

    def begin_read(self) -> None:
        """Start a transaction that reads one consistent snapshot."""

    def commit(self) -> None:
        """Commit the open transaction (durably)."""

    def rollback(self) -> None:
        """Roll the open transaction back."""

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a statement (`?` placeholders) and return its rows."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run a statement (`?` placeholders)."""

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run a statement once per row."""

    def write_all(self, writes: Sequence[Write], *, commit: bool = False) -> None:
        """Run each statement once per row of its rows, in order, then (`commit`) commit
        the transaction (PostgreSQL: all in one pipeline, one round trip)."""

    def has_table(self, name: str) -> bool:
        """Whether the database holds a table of that name."""

    def close(self) -> None:
        """Close the connection (an open transaction is rolled back)."""


def redact(url: str) -> str:
    """The URL without its password (for messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    user = parts.username or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def connect(url: str) -> Backend:
    """A connection for `url`: `sqlite:///PATH` (relative; `sqlite:////abs` absolute),
    `sqlite://:memory:`, or `postgresql://...` / `postgres://...`."""
    if not isinstance(url, str):
        raise ConfigError(f"journal URL {url!r}: expected a str such as 'sqlite:///cases.db'")
    if url in ("sqlite://:memory:", "sqlite:///:memory:", "sqlite://"):
        return SqliteBackend(":memory:", url)
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        if not path:
            raise ConfigError(f"journal URL {url!r}: expected sqlite:///PATH")
        return SqliteBackend(path, url)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresBackend(url)
    raise ConfigError(
        f"journal URL {redact(url)!r}: expected sqlite:///PATH, sqlite://:memory: or "
        "postgresql://..."
    )


class SqliteBackend:
    """The embedded journal: one SQLite file (or memory), WAL, durable commits."""

    dialect = "sqlite"
    pk = "INTEGER PRIMARY KEY"

    def __init__(self, path: str, url: str) -> None:
        self.url = url
        if path != ":memory:":
            folder = Path(path).parent
            if not folder.is_dir():
                raise StoreError(f"journal {url!r}: folder {str(folder)!r} does not exist")
        try:
            self._db = sqlite3.connect(
                path, isolation_level=None, timeout=_BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )
            if path != ":memory:":
                mode = self._db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreError(f"journal {url!r}: could not switch to WAL (got {mode!r})")
            self._db.execute("PRAGMA synchronous=FULL")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"journal {url!r}: cannot open as SQLite: {exc}") from None

    def begin_write(self, then: str | None = None) -> list[tuple[Any, ...]]:
        self._run("BEGIN IMMEDIATE", ())
        return [] if then is None else self.query(then)

    def begin_read(self) -> None:
        self._run("BEGIN", ())

    def commit(self) -> None:
        self._run("COMMIT", ())

    def rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._run(sql, params).fetchall()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._run(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            self._db.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise StoreError(f"journal {self.url!r}: {exc} (in {sql.split()[0:3]})") from None

    def write_all(self, writes: Sequence[Write], *, commit: bool = False) -> None:
        for sql, rows in writes:
            if rows:
                self.executemany(sql, rows)
        if commit:
            self.commit()

    def has_table(self, name: str) -> bool:
        rows = self.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [name])
        return bool(rows)

    def close(self) -> None:
        self.rollback()
        self._db.close()

    def _run(self, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise StoreError(
                f"journal {self.url!r}: {exc} (in {' '.join(sql.split()[:4])})"
            ) from None


class PostgresBackend:
    """A journal on a PostgreSQL server through psycopg 3 (the `postgres` extra)."""

    dialect = "postgresql"
    pk = "BIGINT PRIMARY KEY"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:
            raise StoreError(
                f"journal {redact(url)!r} needs psycopg 3: install gridcore[postgres]"
            ) from None
        self._psycopg = psycopg
        self.url = redact(url)
        self._sql: dict[str, str] = {}
        try:
            self._db = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(f"journal {self.url!r}: cannot connect: {exc}".strip()) from None
        self._in_tx = False

    def _text(self, sql: str) -> str:
        text = self._sql.get(sql)
        if text is None:
            text = self._sql[sql] = sql.replace("?", "%s")  # no "%" in our SQL
        return text

    def begin_write(self, then: str | None = None) -> list[tuple[Any, ...]]:
        # One round trip: without parameters psycopg sends the simple query protocol,
        # which runs the statements in order; the cursor's last result is `then`'s.
        self._in_tx = True
        sql = f"BEGIN; SELECT pg_advisory_xact_lock({_LOCK_KEY})"
        if then is not None:
            sql += f"; {then}"
        try:
            cur = self._db.execute(sql)
            while cur.nextset():
                pass
            return cur.fetchall() if then is not None else []
        except self._psycopg.Error as exc:
            raise StoreError(f"journal {self.url!r}: {exc}".strip()) from None

    def begin_read(self) -> None:
        self.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        self._in_tx = True

    def commit(self) -> None:
        self.execute("COMMIT")
        self._in_tx = False

    def rollback(self) -> None:
        if self._in_tx:
            self._in_tx = False
            with contextlib.suppress(self._psycopg.Error):  # the connection may be gone
                self._db.execute("ROLLBACK")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            cur = self._db.execute(self._text(sql), params or None)
            return cur.fetchall() if cur.description is not None else []
        except self._psycopg.Error as exc:
            raise StoreError(f"journal {self.url!r}: {exc}".strip()) from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        try:
            self._db.execute(self._text(sql), params or None)
        except self._psycopg.Error as exc:
            raise StoreError(f"journal {self.url!r}: {exc}".strip()) from None

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            with self._db.cursor() as cur:
                cur.executemany(self._text(sql), rows)
        except self._psycopg.Error as exc:
            raise StoreError(f"journal {self.url!r}: {exc}".strip()) from None

    def write_all(self, writes: Sequence[Write], *, commit: bool = False) -> None:
        # A statement that fails aborts the rest of the pipeline (the COMMIT too): the
        # transaction is then still open, for the caller's rollback.
        try:
            with self._db.pipeline(), self._db.cursor() as cur:
                for sql, rows in writes:
                    if rows:
                        cur.executemany(self._text(sql), rows)
                if commit:
                    cur.execute("COMMIT")
        except self._psycopg.Error as exc:
            raise StoreError(f"journal {self.url!r}: {exc}".strip()) from None
        if commit:
            self._in_tx = False

    def has_table(self, name: str) -> bool:
        return self.query("SELECT to_regclass(?) IS NOT NULL", [name])[0][0] is True

    def close(self) -> None:
        self.rollback()
        self._db.close()

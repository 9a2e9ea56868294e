"""`gridcore store ...`: create, import, export, verify, migrate a journal, and its metrics.

The warning-light instants are computed with the standard deadline policy (the built-in
taxonomy and `CalendarSet.standard()`), as the simulation's desk uses.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gridcore.errors import ConfigError, GridcoreError, StoreError

__all__ = ["register"]

_BY = ("grid", "person", "category", "day")


def _policy() -> Any:
    from gridcore.cases import CategoryDeadlines
    from gridcore.categories import default_taxonomy
    from gridcore.clock import CalendarSet

    return CategoryDeadlines(default_taxonomy(), CalendarSet.standard())


def _open(url: str, **kw: Any) -> Any:
    from gridcore.store import open_store

    return open_store(url, policy=_policy(), **kw)


def _cmd_init(args: argparse.Namespace) -> int:
    from gridcore.store import SCHEMA_VERSION

    with _open(args.url) as store:
        how = "created" if store.opened_at_version == 0 else "already there"
        print(f"journal {store.url}: schema {SCHEMA_VERSION} ({how})")
    return 0


def _read_events(path: Path) -> Iterator[Any]:
    from gridcore.cases import event_from_json

    try:
        fh = path.open(encoding="utf-8")
    except OSError as exc:
        raise StoreError(f"{path}: cannot read: {exc.strerror}") from None
    with fh:
        n = 0
        try:
            for n, line in enumerate(fh, start=1):  # noqa: B007 - n names a bad line
                if line.strip():
                    yield event_from_json(line)
        except UnicodeDecodeError as exc:
            raise StoreError(f"{path}: line {n + 1}: not UTF-8 ({exc.reason})") from None
        except GridcoreError as exc:
            raise StoreError(f"{path}: line {n}: {exc}") from None


def _cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise StoreError(f"{path}: no such file: expected the event JSON lines to import")
    with _open(args.url) as store:
        n = store.append_all(_read_events(path))
        print(f"journal {store.url}: imported {n} events from {path} (one transaction)")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from gridcore.cases import event_to_json

    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise ConfigError(f"{out} exists: give --overwrite to replace it")
    if out.is_dir():
        raise ConfigError(f"{out} is a folder: expected a file name")
    folder = out.parent if str(out.parent) else Path(".")
    if not folder.is_dir():
        raise ConfigError(f"{out}: folder {str(folder)!r} does not exist")
    with _open(args.url, create=False) as store:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=folder)
        try:
            n = 0
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                for stored in store.all_events():
                    fh.write(event_to_json(stored.event))
                    fh.write("\n")
                    n += 1
                fh.flush()
                os.fsync(fh.fileno())
            mask = os.umask(0)
            os.umask(mask)
            os.chmod(tmp, 0o666 & ~mask)
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        print(f"wrote {out}: {n} events from journal {store.url}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from gridcore.store.verify import verify

    with _open(args.url, create=False) as store:
        report = verify(store, lights=not args.ignore_lights)
        head = f"journal {store.url}: {report.cases} cases, {report.events} events"
        if report.ok:
            print(f"{head}: ok")
            return 0
        print(f"{head}: {len(report.problems)} problem(s); first: {report.problems[0]}")
        for p in report.problems[1:]:
            print(f"  {p}")
        return 1


def _cmd_metrics(args: argparse.Namespace) -> int:
    from gridcore.store.metrics import store_metrics

    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not args.overwrite:
        raise ConfigError(f"{out} exists: give --overwrite to replace it")
    with _open(args.url, create=False) as store:
        table = store_metrics(store, args.by or ())
    rows = table.to_rows()
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(table.names), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    if out is None:
        sys.stdout.write(text.getvalue())
    else:
        from gridcore.io.atomic import write_text_atomic

        write_text_atomic(out, text.getvalue(), newline="")
        print(f"wrote {out}: {len(rows)} rows")
    return 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    with _open(args.url, create=False, migrate=True) as store:
        from gridcore.store import SCHEMA_VERSION

        was = store.opened_at_version
        if was == SCHEMA_VERSION:
            print(f"journal {store.url}: already at schema {SCHEMA_VERSION}")
        else:
            print(f"journal {store.url}: migrated schema {was} -> {SCHEMA_VERSION}")
    return 0


def register(subparsers: Any) -> None:
    """Add `gridcore store ...` to the command line."""
    p = subparsers.add_parser("store", help="the durable case journal (SQLite, PostgreSQL)")
    sub = p.add_subparsers(dest="store_command", required=True)
    url_help = "sqlite:///PATH, sqlite:////ABS/PATH or postgresql://user@host/db"

    c = sub.add_parser("init", help="create an empty journal (nothing if one is there)")
    c.add_argument("url", help=url_help)
    c.set_defaults(func=_cmd_init)

    c = sub.add_parser("import", help="append event JSON lines, in one transaction")
    c.add_argument("url", help=url_help)
    c.add_argument("file", help="event JSON lines (as `export` and event_to_json write)")
    c.set_defaults(func=_cmd_import)

    c = sub.add_parser("export", help="write every event as JSON lines, in position order")
    c.add_argument("url", help=url_help)
    c.add_argument("--out", required=True, help="the .jsonl file to write (atomically)")
    c.add_argument("--overwrite", action="store_true", help="replace an existing file")
    c.set_defaults(func=_cmd_export)

    c = sub.add_parser("verify", help="replay every case against its projection; exit 1 if not")
    c.add_argument("url", help=url_help)
    c.add_argument(
        "--ignore-lights",
        action="store_true",
        help="skip the warning-light instants (journal written under another policy)",
    )
    c.set_defaults(func=_cmd_verify)

    c = sub.add_parser("metrics", help="the desk's metrics from the journal, as CSV")
    c.add_argument("url", help=url_help)
    c.add_argument("--by", choices=_BY, help="one row per grid, person, category or day")
    c.add_argument("--out", help="write the CSV here (default: standard output)")
    c.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    c.set_defaults(func=_cmd_metrics)

    c = sub.add_parser("migrate", help="bring a journal to this gridcore's schema version")
    c.add_argument("url", help=url_help)
    c.set_defaults(func=_cmd_migrate)

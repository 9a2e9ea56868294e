"""The interchange subcommands: `gridcore ingest csv` and `gridcore open311 ...`.

`register(subparsers)` adds them to the `gridcore` command line. Every failure is a
`GridcoreError` (the command line prints it on one line and exits 2).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gridcore.routing import RoutingIndex

__all__ = ["city_index", "register"]


def city_index(path: str) -> RoutingIndex:
    """The routing index of a GeoJSON hierarchy file."""
    from gridcore.io.geojson import read_geojson

    return RoutingIndex.build(read_geojson(path))


def _cmd_ingest_csv(args: argparse.Namespace) -> int:
    from gridcore.io.csv311 import ingest_csv, write_ingest
    from gridcore.io.mapping import read_csv_mapping

    mapping = read_csv_mapping(args.mapping)
    index = city_index(args.city) if args.city else None
    result = ingest_csv(args.file, mapping, index=index)
    events_p, quality_p = write_ingest(result, Path(args.out), overwrite=args.force)
    print(result.summary())
    print(f"wrote {events_p} ({len(result.events)} events), {quality_p}")
    return 0


def _cmd_open311_import(args: argparse.Namespace) -> int:
    from gridcore.io.mapping import read_open311_mapping
    from gridcore.io.open311 import read_requests
    from gridcore.io.open311_journal import import_requests
    from gridcore.store import open_store

    requests = read_requests(args.file)
    mapping = read_open311_mapping(args.mapping)
    index = city_index(args.city)
    with open_store(args.store) as store:
        result = import_requests(requests, mapping, index, store)
    print(result.summary())
    for p in result.problems[: args.show]:
        print(f"  {p.row_id}: {p.problem}: {p.detail}")
    if len(result.problems) > args.show:
        print(f"  ... {len(result.problems) - args.show} more")
    return 0


def _cmd_open311_export(args: argparse.Namespace) -> int:
    from gridcore.io.mapping import Open311Mapping, read_open311_mapping
    from gridcore.io.open311 import write_requests
    from gridcore.io.open311_journal import export_requests
    from gridcore.store import open_store

    mapping = read_open311_mapping(args.mapping) if args.mapping else Open311Mapping()
    index = city_index(args.city) if args.city else None
    with open_store(args.store, create=False) as store:
        requests, left_out = export_requests(store, mapping, index=index)
    path = write_requests(requests, args.out, overwrite=args.force)
    print(f"wrote {path}: {len(requests)} service requests")
    if left_out:
        shown = ", ".join(left_out[:10]) + (", ..." if len(left_out) > 10 else "")
        print(f"left out {len(left_out)} cases without a position (Open311 needs one): {shown}")
    return 0


def register(subparsers: Any) -> None:
    """Add `ingest` (csv) and `open311` to an argparse subparsers object."""
    p = subparsers.add_parser("ingest", help="import outside case logs as gridcore events")
    isub = p.add_subparsers(dest="ingest_command", required=True)
    c = isub.add_parser("csv", help="a 311-style CSV export -> events.jsonl + quality.csv")
    c.add_argument("file", help="the CSV export")
    c.add_argument("--mapping", required=True, help="the mapping file (TOML)")
    c.add_argument("--out", required=True, help="the folder for events.jsonl and quality.csv")
    c.add_argument("--city", help="a GeoJSON hierarchy: route cases by position")
    c.add_argument("--force", action="store_true", help="replace existing output files")
    c.set_defaults(func=_cmd_ingest_csv)

    p = subparsers.add_parser("open311", help="Open311 GeoReport v2 requests in and out")
    osub = p.add_subparsers(dest="open311_command", required=True)
    c = osub.add_parser("import", help="route requests (JSON or XML) into a journal")
    c.add_argument("file", help="service requests, JSON or XML")
    c.add_argument("--mapping", required=True, help="the mapping file (TOML)")
    c.add_argument("--city", required=True, help="the GeoJSON hierarchy to route by position")
    c.add_argument("--store", required=True, help="the journal URL (sqlite:///PATH, ...)")
    c.add_argument("--show", type=int, default=20, help="problems to print (default 20)")
    c.set_defaults(func=_cmd_open311_import)
    c = osub.add_parser("export", help="a journal's cases as service requests")
    c.add_argument("store", metavar="URL", help="the journal URL")
    c.add_argument("--out", required=True, help="the file to write (.json or .xml)")
    c.add_argument("--mapping", help="the mapping file (default: open/closed by state)")
    c.add_argument("--city", help="place cases reported without a position at their grid")
    c.add_argument("--force", action="store_true", help="replace an existing file")
    c.set_defaults(func=_cmd_open311_export)

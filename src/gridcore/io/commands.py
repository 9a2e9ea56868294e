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

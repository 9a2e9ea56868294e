"""The `gridcore` command line: an edge over the core, never imported by it."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from gridcore.errors import FileFormatError, GridcoreError

__all__ = ["EXIT_BROKEN_PIPE", "main"]


def _cmd_city(args: argparse.Namespace) -> int:
    from gridcore.io.folder import check_writable_file
    from gridcore.io.geojson import write_geojson
    from gridcore.io.staff_csv import write_roster_csv
    from gridcore.synth import synthetic_city

    # every output is checked before anything is computed or written
    check_writable_file(args.out, overwrite=args.overwrite)
    if args.staff_dir:
        staff = Path(args.staff_dir)
        if staff.exists() and not staff.is_dir():
            raise FileFormatError(str(staff), "", "", "a folder for --staff-dir", "a file")
        for name in ("people.csv", "assignments.csv"):
            check_writable_file(staff / name, overwrite=args.overwrite)
    if args.boundary:
        return _tile_boundary(args)
    city = synthetic_city(args.preset, seed=args.seed)
    h = city.hierarchy
    path = write_geojson(h, args.out)
    print(f"wrote {path}: {len(h.grids)} grids, {h.total_households} households")
    if args.staff_dir:
        staff = Path(args.staff_dir)
        staff.mkdir(parents=True, exist_ok=True)
        write_roster_csv(city.roster, staff / "people.csv", staff / "assignments.csv")
        print(
            f"wrote {staff}/people.csv, assignments.csv: {len(city.roster.people)} people "
            f"(policy {city.policy.name!r})"
        )
    return 0


def _tile_boundary(args: argparse.Namespace) -> int:
    """`city --boundary`: tile a real outline (the outputs were checked by the caller)."""
    from gridcore.errors import ConfigError
    from gridcore.io.boundary import read_outlines, read_street_names
    from gridcore.io.geojson import write_geojson
    from gridcore.tiling import tile_outlines

    if args.grids is None:
        raise ConfigError("city --boundary: --grids N is required (the number of grids)")
    if args.staff_dir:
        raise ConfigError("city --boundary: --staff-dir is for synthetic cities only")
    outlines, metric = read_outlines(args.boundary, crs=args.crs)
    streets = read_street_names(args.streets) if args.streets else ()
    h = tile_outlines(outlines, args.grids, seed=args.seed, crs=metric, streets=streets)
    path = write_geojson(h, args.out)
    km2 = sum(o.polygon.area for o in outlines) / 1e6
    print(
        f"wrote {path}: {len(h.grids)} grids in {len(h.at_level('community'))} communities and "
        f"{len(h.at_level('street'))} streets of {', '.join(o.code for o in outlines)}; "
        f"{km2:.2f} km², {h.total_households / km2:.0f} households/km² (synthetic households); "
        f"coordinates in {metric}"
    )
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from gridcore.io.geojson import read_geojson

    h = read_geojson(args.file)
    from gridcore.validation import validate

    report = validate(
        h, households=(args.households_min, args.households_max), tolerance=args.tolerance
    )
    print(report.to_text())
    return 0 if report.ok else 1


def _cmd_summary(args: argparse.Namespace) -> int:
    from gridcore.synth import build_city

    h = build_city(args.preset, seed=args.seed)
    print(json.dumps(h.summary(), ensure_ascii=False, indent=2))
    return 0


def _cmd_cases_diagram(args: argparse.Namespace) -> int:
    from gridcore.cases import mermaid_diagram

    print(mermaid_diagram())
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from gridcore.sim.commands import default_demo

    print(default_demo())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `gridcore` command."""
    parser = argparse.ArgumentParser(
        prog="gridcore", description="Community grid governance: cities, cases, simulation."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="run the main job on built-in defaults")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser(
        "city", help="write a seeded synthetic city, or a tiled real outline, as GeoJSON"
    )
    p.add_argument("--preset", default="yichang", help="preset name (default: yichang)")
    p.add_argument("--boundary", help="tile this boundary GeoJSON (districts with adcodes)")
    p.add_argument("--grids", type=int, help="with --boundary: the number of grids")
    p.add_argument("--streets", help="with --boundary: a code,name CSV of the real streets")
    p.add_argument("--crs", default="GCJ02", help="with --boundary: the file's CRS (GCJ02)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="the GeoJSON file to write")
    p.add_argument("--staff-dir", help="also write people.csv and assignments.csv here")
    p.add_argument("--overwrite", action="store_true", help="replace files that exist")
    p.set_defaults(func=_cmd_city)

    p = sub.add_parser("summary", help="print a summary of a synthetic city")
    p.add_argument("--preset", default="yichang")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_cmd_summary)

    p = sub.add_parser("validate", help="check a hierarchy file; exit 1 when it has findings")
    p.add_argument("file")
    p.add_argument("--households-min", type=int, default=200)
    p.add_argument("--households-max", type=int, default=300)
    p.add_argument("--tolerance", type=float, default=1e-6, help="area tolerance (map units²)")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("cases", help="the case transition table")
    csub = p.add_subparsers(dest="cases_command", required=True)
    d = csub.add_parser("diagram", help="print the transition table as a Mermaid diagram")
    d.set_defaults(func=_cmd_cases_diagram)

    # the edges that bring their own subcommands (optional extras are imported lazily)
    from gridcore import report, sweep
    from gridcore.calibrate import commands as calibrate_commands
    from gridcore.io import commands as io_commands
    from gridcore.server import commands as server_commands
    from gridcore.sim import commands
    from gridcore.store import cli as store_cli

    for register in (
        commands.register,
        sweep.register,
        report.register,
        io_commands.register,
        store_cli.register,
        server_commands.register,
        calibrate_commands.register,
    ):
        register(sub)
    return parser


EXIT_INTERRUPTED = 130
"""The exit code after Ctrl-C (128 + SIGINT, as a shell reports it)."""

EXIT_BROKEN_PIPE = 128 + 13
"""The exit code when the reader of stdout went away (as a process killed by SIGPIPE)."""


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout without a file descriptor (captured in tests)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    0 done, 1 done with findings or failed self-checks, 2 a gridcore error (one line on
    stderr, also when it was raised in a worker process), 130 stopped with Ctrl-C (the
    command's workers stopped, no output folder left half written), 141 when stdout was
    closed early (`gridcore cases diagram | head`): the command ends quietly, as `cat`
    would.
    """
    from concurrent.futures.process import BrokenProcessPool

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        sys.stdout.flush()
    except GridcoreError as exc:
        print(f"gridcore: error: {exc}", file=sys.stderr)
        return 2
    except BrokenProcessPool as exc:
        print(f"gridcore: error: a worker process died before finishing ({exc})", file=sys.stderr)
        return 2
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("\ngridcore: stopped (Ctrl-C)", file=sys.stderr)
        return EXIT_INTERRUPTED
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""`gridcore calibrate EVENTS --city CITY.geojson --out fitted.toml`."""

from __future__ import annotations

import argparse
from typing import Any

from gridcore.calibrate._log import EventLog, event_log_from_events, read_event_log

__all__ = ["read_log", "register"]


def read_log(source: str) -> EventLog:
    """An event log from a JSON-lines file, or from a journal URL (`sqlite:///...`,
    `postgresql://...`: every event of the store)."""
    if "://" in source:
        from gridcore.store import open_store

        with open_store(source, create=False) as store:
            return event_log_from_events(store.all_events(), source)
    return read_event_log(source)


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from gridcore.calibrate.calibration import calibrate
    from gridcore.calibrate.output import output_paths, write_calibration
    from gridcore.io.geojson import read_geojson
    from gridcore.sim.scenario import load_scenario

    output_paths(args.out, force=args.force)  # before the work: writable, nothing replaced
    log = read_log(args.events)
    city = read_geojson(args.city)
    base = load_scenario(args.base) if args.base else None
    from pathlib import Path

    name = args.name or Path(args.out).stem
    cal = calibrate(
        log,
        households=city.total_households,
        city=str(Path(args.city).resolve()),
        base=base,
        name=name,
    )
    paths = write_calibration(cal, args.out, force=args.force)
    print(f"calibrated {log.n_events:,} events of {log.table.n_cases:,} cases from {args.events}")
    print(f"{'key':<44} {'dist':<12} {'estimate':>12} {'95% interval':>26} {'n':>8}  test")
    for key, e in sorted(cal.entries.items()):
        if key.startswith(("categories.", "observed.")) or not isinstance(e.get("estimate"), float):
            continue
        lo, hi = e.get("ci_low"), e.get("ci_high")
        interval = (
            f"[{lo:.4g}, {hi:.4g}]" if isinstance(lo, float) and isinstance(hi, float) else ""
        )
        ok = "fails" if e.get("passes") is False or e.get("poisson") is False else "ok"
        print(
            f"{key:<44} {e.get('dist', '')!s:<12} {e['estimate']:>12.4g} {interval:>26} "
            f"{e.get('sample_size', ''):>8}  {ok}"
        )
    fails = cal.failing()
    if fails:
        print(
            "fits that FAIL their test (the data disagree with the fitted form): "
            + ", ".join(fails)
        )
    if cal.dirt:
        print(
            "left out of a dirty log: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(cal.dirt.items()))
        )
    print(f"not in a log (left at the base values): {', '.join(sorted(cal.not_fitted))}")
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def register(subparsers: Any) -> None:
    """Add `calibrate` to an argparse subparsers object."""
    p = subparsers.add_parser(
        "calibrate", help="fit a scenario to a case log (needs gridcore[calibrate])"
    )
    p.add_argument("events", help="an event JSON-lines file, or a journal URL (sqlite:///...)")
    p.add_argument("--city", required=True, help="the city's GeoJSON hierarchy (households)")
    p.add_argument("--out", required=True, help="the fitted scenario to write (.toml)")
    p.add_argument("--base", help="a scenario whose other keys the fit keeps (default: defaults)")
    p.add_argument("--name", help="the fitted scenario's name (default: the output's stem)")
    p.add_argument("--force", action="store_true", help="replace existing output files")
    p.set_defaults(func=_cmd_calibrate)

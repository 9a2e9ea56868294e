"""The `simulate` and `compare` subcommands, and the default demo (the main job).

`register(subparsers)` adds them to the `gridcore` command line; a progress bar goes
to stderr (plain text), the summary table with 95% intervals to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from typing import Any, TextIO

from gridcore.errors import ScenarioError
from gridcore.sim.case_rows import TABLE_FORMATS, case_table_format
from gridcore.sim.folders import write_events
from gridcore.sim.results import Comparison, ScenarioResult
from gridcore.sim.scenario import (
    OVERLAYS,
    Scenario,
    apply_overlay,
    apply_overrides,
    load_scenario,
    preset_scenario,
)
from gridcore.sim.stats import Estimate

__all__ = [
    "default_demo",
    "format_comparison",
    "format_summary",
    "progress_bar",
    "register",
    "write_events",
]

# (metric, label, scale, unit) shown in the summary table, in this order
_SHOWN: tuple[tuple[str, str, float, str], ...] = (
    ("queue_wait_minutes", "mean wait in queue", 1.0, "min"),
    ("p_wait", "probability of waiting", 100.0, "%"),
    ("utilisation", "server utilisation", 100.0, "%"),
    ("cases", "cases reported", 1.0, ""),
    ("response_minutes_mean", "response time (report to sign-for)", 1.0, "min"),
    ("response_minutes_p90", "response time p90", 1.0, "min"),
    ("response_minutes_grid_mean", "response time, grid cases", 1.0, "min"),
    ("resolution_hours_mean", "resolution time (report to close)", 1.0, "h"),
    ("resolution_hours_p90", "resolution time p90", 1.0, "h"),
    ("on_time_rate", "on-time closure rate", 100.0, "%"),
    ("closure_rate", "closure rate", 100.0, "%"),
    ("accurate_dispatch_rate", "accurate dispatch rate", 100.0, "%"),
    ("escalations_per_100_cases", "rule escalations per 100 cases", 1.0, ""),
    ("warnings_per_100_cases", "warnings per 100 cases", 1.0, ""),
    ("supervisions_per_100_cases", "supervisions per 100 cases", 1.0, ""),
    ("returns_per_100_cases", "returns (misrouted) per 100 cases", 1.0, ""),
    ("share_resolved_grid", "resolved at grid", 100.0, "%"),
    ("share_resolved_community", "resolved at community", 100.0, "%"),
    ("share_resolved_street", "resolved at street", 100.0, "%"),
    ("share_resolved_department", "resolved at department", 100.0, "%"),
    ("worker_utilisation", "grid worker utilisation, staffed h", 100.0, "%"),
    ("worker_share_patrol", "worker time on patrol", 100.0, "%"),
    ("worker_share_visit", "worker time on visits", 100.0, "%"),
    ("worker_share_case", "worker time on cases", 100.0, "%"),
    ("worker_share_idle", "worker time idle", 100.0, "%"),
    ("patrol_coverage", "patrol coverage", 100.0, "%"),
    ("visit_rate", "household visit rate", 100.0, "%"),
    ("severity_at_discovery_mean", "severity when a patrol finds it", 1.0, ""),
    ("open_cases_end", "cases open at the horizon", 1.0, ""),
)


def progress_bar(
    stream: TextIO = sys.stderr,
    width: int = 30,
    workers: int | None = None,
    unit: str = "tasks",
) -> Callable[[int, int], None]:
    """A plain-text progress callback `(done, total)` drawing on `stream`: the tasks
    (streets) done, how many are running (with `workers`: every worker while tasks are
    queued, then those left), the time so far and the time left at the pace so far."""
    start = time.monotonic()

    def show(done: int, total: int) -> None:
        filled = int(width * done / total) if total else width
        bar = "#" * filled + "." * (width - filled)
        secs = time.monotonic() - start
        left = total - done
        running = f", {min(workers, left)} running" if workers else ""
        eta = f", ETA {_duration(secs / done * left)}" if 0 < done < total else ""
        end = "\n" if done >= total else ""
        stream.write(f"\r[{bar}] {done}/{total} {unit}{running}, {secs:.1f} s{eta}{end}")
        stream.flush()

    return show


def _duration(seconds: float) -> str:
    """`42 s`, `3 min 05 s` or `1 h 02 min`."""
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def _num(x: float, scale: float) -> str:
    if math.isnan(x):
        return "-"
    v = x * scale
    return f"{v:,.1f}" if abs(v) < 1e5 else f"{v:,.0f}"


def _ci(e: Estimate, scale: float) -> str:
    if math.isnan(e.half_width):
        return ""
    return f"± {_num(e.half_width, scale)}"


def format_summary(result: ScenarioResult) -> str:
    """The summary table: each shown metric's mean and 95% interval half width."""
    est = result.estimates()
    s = result.scenario
    lines = [
        f"scenario {s.name!r}: {s.run.days:g} days (+{s.run.warmup_days:g} warm-up), "
        f"{len(result.replications)} replication(s), seed {s.run.seed}",
        f"{'metric':<38} {'mean':>12} {'95% CI':>12}",
        "-" * 64,
    ]
    theory = dict(result.theory)
    for name, label, scale, unit in _SHOWN:
        if name not in est:
            continue
        e = est[name]
        lab = f"{label} ({unit})" if unit else label
        extra = ""
        if name in theory:
            extra = f"   theory {_num(theory[name], scale)}"
        lines.append(f"{lab:<38} {_num(e.mean, scale):>12} {_ci(e, scale):>12}{extra}")
    checks = "all passed" if result.checks_ok() else "FAILED (see checks.csv)"
    lines.append("-" * 64)
    lines.append(f"self-checks (Little's law, conservation): {checks}")
    return "\n".join(lines)


def format_comparison(cmp: Comparison) -> str:
    """The differences (what-if - base) with their 95% intervals."""
    rows = {r["metric"]: r for r in cmp.rows()}
    lines = [
        f"base {cmp.base.scenario.name!r} vs what-if {cmp.whatif.scenario.name!r} "
        f"({len(cmp.base.replications)} paired replications, common random numbers)",
        f"{'metric':<38} {'base':>10} {'what-if':>10} {'difference [95% CI]':>30}",
        "-" * 92,
    ]
    for name, label, scale, unit in _SHOWN:
        r = rows.get(name)
        if r is None:
            continue
        lab = f"{label} ({unit})" if unit else label
        diff = f"{_num(r['difference'], scale)}"
        if not math.isnan(r["ci_low"]):
            diff += f" [{_num(r['ci_low'], scale)}, {_num(r['ci_high'], scale)}]"
        lines.append(
            f"{lab:<38} {_num(r['base'], scale):>10} {_num(r['whatif'], scale):>10} {diff:>30}"
        )
    return "\n".join(lines)


def _parse_set(values: list[str]) -> dict[str, Any]:
    import tomllib

    out: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ScenarioError("--set", item, "KEY=VALUE with a TOML value")
        try:
            out[key.strip()] = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            out[key.strip()] = raw.strip()
    return out


def _scenario(args: argparse.Namespace, file: str | None) -> Scenario:
    s = load_scenario(file) if file else preset_scenario(args.preset)
    for name in args.overlay or ():
        s = apply_overlay(s, name)
    over: dict[str, Any] = {}
    if args.days is not None:
        over["run.days"] = args.days
    if args.warmup_days is not None:
        over["run.warmup_days"] = args.warmup_days
    if args.replications is not None:
        over["run.replications"] = args.replications
    if args.seed is not None:
        over["run.seed"] = args.seed
    over.update(_parse_set(args.set or []))
    return apply_overrides(s, over) if over else s


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--days", type=float, help="simulated days (run.days)")
    p.add_argument("--warmup-days", type=float, help="warm-up days (run.warmup_days)")
    p.add_argument("--replications", type=int, help="replications (run.replications)")
    p.add_argument("--seed", type=int, help="base seed (run.seed)")
    p.add_argument(
        "--overlay", action="append", choices=sorted(OVERLAYS), help="a named what-if overlay"
    )
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a dotted key")
    p.add_argument("--out", help="write the results folder here")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an --out folder that holds something else than this run's results",
    )
    p.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    p.add_argument(
        "--executor",
        metavar="SPEC",
        help="where the streets run: local (process pool, default) or dask://HOST:PORT "
        "(a Dask scheduler); the results are the same, byte for byte",
    )
    p.add_argument(
        "--tables",
        choices=TABLE_FORMATS,
        default="auto",
        help="the per-case table of --out: parquet (needs pyarrow), csv, or auto "
        "(parquet when pyarrow is installed; default)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--allow-invalid-city",
        action="store_true",
        help="simulate a GeoJSON city even when `gridcore validate` has findings on it",
    )


def check_city(scenario: Scenario, allow_invalid: bool = False) -> None:
    """Refuse (ScenarioError listing the findings) a GeoJSON city that fails `validate`.

    Every finding counts but households out of the 200-300 range (the simulation runs on
    any household counts; the overlays that cut more grids make them smaller). Synthetic
    preset cities are valid by construction and are not read here.
    """
    if scenario.queue_only is not None or not scenario.city.geojson:
        return
    from gridcore.io.geojson import read_geojson
    from gridcore.validation import FindingKind, validate

    h = read_geojson(scenario.city.geojson)
    report = validate(h)
    findings = [f for f in report.findings if f.kind != FindingKind.HOUSEHOLDS]
    if findings and not allow_invalid:
        shown = "; ".join(f.message for f in findings[:10])
        more = f" (and {len(findings) - 10} more)" if len(findings) > 10 else ""
        raise ScenarioError(
            "city.geojson",
            scenario.city.geojson,
            f"a city that passes `gridcore validate` (or --allow-invalid-city): "
            f"{len(findings)} finding(s): {shown}{more}",
        )


def _preflight(args: argparse.Namespace, scenarios: tuple[Scenario, ...]) -> None:
    """Every check that can fail before the run: workers, executor, table format, cities
    (the output folder is checked by `gridcore.sim.folders` before it runs)."""
    if args.workers is not None:
        from gridcore.sim.pool import check_workers

        check_workers(args.workers)
    if args.executor is not None:
        from gridcore.sim.executors import parse_executor_spec

        parse_executor_spec(args.executor)
    case_table_format(args.tables)
    for s in scenarios:
        check_city(s, args.allow_invalid_city)


@contextlib.contextmanager
def _executor(args: argparse.Namespace) -> Iterator[Executor | None]:
    """The executor of `--executor` (with `--workers` local processes) or of `--workers`
    alone; none when both are absent (the runner's default pool). Shut down on leaving
    the `with`; stopped at once (workers killed, queued tasks cancelled) if the run
    fails or is interrupted."""
    if args.executor is None and args.workers is None:
        yield None
        return
    from gridcore.sim.executors import executor_from_spec
    from gridcore.sim.pool import stop_pool

    ex = executor_from_spec(args.executor or "local", args.workers)
    try:
        yield ex
    except BaseException:
        stop_pool(ex)
        raise
    ex.shutdown()


def _bar(args: argparse.Namespace, scenario: Scenario) -> Callable[[int, int], None] | None:
    """The progress bar (none with `--quiet`): streets of a grid run, replications of a
    queue-only one."""
    if args.quiet:
        return None
    unit = "replications" if scenario.queue_only is not None else "streets"
    return progress_bar(workers=_workers_shown(args), unit=unit)


def _workers_shown(args: argparse.Namespace) -> int | None:
    """The local workers the bar counts as running (unknown for a Dask cluster)."""
    if args.executor not in (None, "local"):
        return None
    from gridcore.sim.run import default_workers

    return args.workers or default_workers()


def _cmd_simulate(args: argparse.Namespace) -> int:
    s = _scenario(args, args.scenario)
    _preflight(args, (s,))
    if args.events and (not args.out or s.queue_only is not None):
        raise ScenarioError("--events", True, "--out and a grid scenario (not queue_only)")
    with _executor(args) as ex:
        if args.out:
            from gridcore.sim.folders import simulate_into

            result = simulate_into(
                args.out,
                s,
                ex,
                _bar(args, s),
                pause_gc=True,
                tables=args.tables,
                overwrite=args.overwrite,
                events=args.events,
            )
        else:
            from gridcore.sim.run import run_scenario

            result = run_scenario(s, ex, _bar(args, s), pause_gc=True)
    print(format_summary(result))
    if args.out:
        print(f"results written to {args.out}")
    return 0 if result.checks_ok() else 1


def _cmd_compare(args: argparse.Namespace) -> int:
    from gridcore.sim.run import compare

    base = _scenario(args, args.base)
    whatif = _scenario(args, args.whatif) if args.whatif else base
    for name in args.whatif_overlay or ():
        whatif = apply_overlay(whatif, name)
    _preflight(args, (base, whatif))
    with _executor(args) as ex:
        if args.out:
            from gridcore.sim.folders import compare_into

            cmp = compare_into(
                args.out,
                base,
                whatif,
                ex,
                _bar(args, base),
                pause_gc=True,
                tables=args.tables,
                overwrite=args.overwrite,
            )
        else:
            cmp = compare(base, whatif, ex, _bar(args, base), pause_gc=True)
    print(format_comparison(cmp))
    if args.out:
        print(f"results written to {args.out} (base/, whatif/, comparison.csv)")
    return 0


def register(subparsers: Any) -> None:
    """Add `simulate` and `compare` to an argparse subparsers object."""
    p = subparsers.add_parser("simulate", help="run a what-if simulation (SimPy)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--scenario", help="a scenario file (.toml or .json)")
    src.add_argument("--preset", default="yichang", help="a preset place (default: yichang)")
    _common(p)
    p.add_argument(
        "--events",
        action="store_true",
        help="also write events.jsonl (replication 0's case events) into the --out folder",
    )
    p.set_defaults(func=_cmd_simulate)

    p = subparsers.add_parser("compare", help="base vs what-if with common random numbers")
    p.add_argument("base", nargs="?", help="the base scenario file (default: --preset)")
    p.add_argument("whatif", nargs="?", help="the what-if scenario file")
    p.add_argument("--preset", default="yichang", help="preset for a missing base")
    p.add_argument(
        "--whatif-overlay",
        action="append",
        choices=sorted(OVERLAYS),
        help="derive the what-if from the base with this overlay",
    )
    _common(p)
    p.set_defaults(func=_cmd_compare)


def default_demo() -> str:
    """Run the default simulation (yichang, 30 days, 2 replications) and return its summary."""
    from gridcore.sim.run import default_workers, run_scenario

    s = apply_overrides(
        preset_scenario("yichang"), {"run.days": 30, "run.replications": 2, "run.seed": 1}
    )
    bar = progress_bar(workers=default_workers(), unit="streets")
    result = run_scenario(s, progress=bar, pause_gc=True)
    return format_summary(result)

"""The command line: ``gridcore sweep FILE.toml --out DIR [--executor ...]``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gridcore.sim.executors import EXECUTOR_HELP, executor_from_spec
from gridcore.sweep.loading import load_sweep
from gridcore.sweep.records import SweepProgress
from gridcore.sweep.running import run_sweep, sweep_key

__all__ = ["register"]


def _print_progress(stream: Any) -> Callable[[SweepProgress], None]:
    last = [0.0]
    tty = bool(getattr(stream, "isatty", lambda: False)())

    def show(p: SweepProgress) -> None:
        now = time.monotonic()
        final = p.done + p.failed >= p.total
        if tty:
            stream.write("\r" + p.to_text() + ("\n" if final else ""))
            stream.flush()
        elif final or now - last[0] >= 2.0:
            print(p.to_text(), file=stream)
            last[0] = now

    return show


def _cmd_sweep(args: argparse.Namespace) -> int:
    if args.workers is not None:
        from gridcore.sim.pool import check_workers

        check_workers(args.workers)
    sweep = load_sweep(args.file)
    from gridcore.io.folder import check_destination

    check_destination(args.out, "sweep", sweep_key(sweep), overwrite=args.overwrite)
    n_runs = len(sweep.points) * sweep.replications
    print(
        f"sweep {sweep.name!r}: {len(sweep.points)} points x {sweep.replications} "
        f"replications = {n_runs} runs -> {args.out}",
        file=sys.stderr,
    )
    ex = executor_from_spec(args.executor, args.workers)
    try:
        result = run_sweep(
            sweep, args.out, ex, _print_progress(sys.stderr), overwrite=args.overwrite
        )
    finally:
        ex.shutdown(wait=False, cancel_futures=True)
    for f in result.failures:
        print(
            f"failed: run {f.key} point {f.point} replication {f.replication} "
            f"{dict(f.overrides)}: {f.headline()}",
            file=sys.stderr,
        )
    print(
        f"{result.total} runs: {result.executed} run now, {result.reused} reused, "
        f"{len(result.failures)} failed, {result.elapsed_s:.1f} s; "
        f"wrote {Path(args.out) / 'aggregate.csv'}"
    )
    return 0 if result.ok else 1


def register(subparsers: Any) -> None:
    """Add ``gridcore sweep FILE.toml --out DIR [--executor ...] [--workers N]``."""
    p = subparsers.add_parser(
        "sweep", help="run a parameter sweep (points x replications) and aggregate it"
    )
    p.add_argument("file", help="the sweep TOML file")
    p.add_argument("--out", required=True, help="results folder (resumed if it exists)")
    p.add_argument(
        "--executor",
        default="local",
        help=EXECUTOR_HELP,
    )
    p.add_argument("--workers", type=int, default=None, help="local processes (default: cores)")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the contents of an --out folder that is not this sweep's",
    )
    p.set_defaults(func=_cmd_sweep)

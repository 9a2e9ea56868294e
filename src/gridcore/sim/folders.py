"""Runs written into their results folder as they go: `simulate_into`, `compare_into`.

The run happens inside the folder being written (`gridcore.io.folder.write_whole`: a
hidden temporary sibling, sealed with its manifest and renamed into place at the end),
so the per-case rows can stream into it street by street (`gridcore.sim.case_rows`)
and memory stays flat however long the horizon. A run that fails or is interrupted
(Ctrl-C) leaves no folder that looks complete: the temporary is removed and a folder
that was there before stays as it was. The runner is looked up in `gridcore.sim.run` at
each call (tests replace it to prove that the checks come before any work).
"""

from __future__ import annotations

from concurrent.futures import Executor
from pathlib import Path

import gridcore.sim.run as runner
from gridcore.io.folder import check_destination, seal, write_whole
from gridcore.sim.case_rows import case_table_format, open_case_rows
from gridcore.sim.results import Comparison, ScenarioResult, comparison_key, scenario_key
from gridcore.sim.run import Progress, paired, side_progress
from gridcore.sim.scenario import Scenario

__all__ = ["compare_into", "simulate_into", "write_events"]


def simulate_into(
    folder: str | Path,
    scenario: Scenario,
    executor: Executor | None = None,
    progress: Progress | None = None,
    *,
    pause_gc: bool = False,
    tables: str = "auto",
    overwrite: bool = False,
    events: bool = False,
) -> ScenarioResult:
    """Run `scenario` into the results folder `folder` (see `ScenarioResult.write` for its
    files; the per-case table is `cases.parquet` or `cases.csv`, `tables` as in
    `gridcore.sim.case_rows`). `events=True` also writes replication 0's case events
    (`events.jsonl`), streamed from the run's own streets as they end. Refused before
    running (FileFormatError) when `folder` holds anything but a run of the same
    scenario, unless `overwrite`."""
    key = scenario_key(scenario)
    check_destination(folder, "run", key, overwrite=overwrite)
    fmt = case_table_format(tables)
    done: list[ScenarioResult] = []

    def fill(d: Path) -> None:
        done.append(_run_into(d, scenario, executor, progress, pause_gc, fmt, events))

    write_whole(folder, "run", key, fill)
    return done[0]


def compare_into(
    folder: str | Path,
    base: Scenario,
    whatif: Scenario,
    executor: Executor | None = None,
    progress: Progress | None = None,
    *,
    pause_gc: bool = False,
    tables: str = "auto",
    overwrite: bool = False,
) -> Comparison:
    """`gridcore.sim.run.compare` into a comparison folder (base/, whatif/, comparison.csv
    and .json), each side's per-case rows streamed as in `simulate_into`."""
    whatif = paired(base, whatif)
    key = comparison_key(base, whatif)
    check_destination(folder, "comparison", key, overwrite=overwrite)
    fmt = case_table_format(tables)
    done: list[Comparison] = []

    def fill(d: Path) -> None:
        sides = []
        for side, (part, s) in enumerate((("base", base), ("whatif", whatif))):
            (d / part).mkdir()
            track = side_progress(progress, side)
            sides.append(_run_into(d / part, s, executor, track, pause_gc, fmt))
            seal(d / part, "run", sides[-1].key())
        cmp = Comparison(sides[0], sides[1])
        cmp.fill_comparison(d)
        done.append(cmp)

    write_whole(folder, "comparison", key, fill)
    return done[0]


def _run_into(
    d: Path,
    scenario: Scenario,
    executor: Executor | None,
    progress: Progress | None,
    pause_gc: bool,
    fmt: str,
    events: bool = False,
) -> ScenarioResult:
    """Run `scenario` with its per-case rows (and with `events` replication 0's case
    events) streamed into `d`, then write the rest."""
    if scenario.queue_only is not None:
        result = runner.run_scenario(scenario, executor, progress, pause_gc=pause_gc)
    else:
        with open_case_rows(d, fmt, events) as rows:
            result = runner.run_scenario(
                scenario, executor, progress, pause_gc=pause_gc, case_rows=rows, events=events
            )
    result.fill(d)
    return result


def write_events(scenario: Scenario, path: Path, replication: int = 0) -> int:
    """Write replication `replication`'s case events as JSON lines (the format
    `gridcore.cases.event_to_json` writes and the journal and `gridcore calibrate` read):
    every measured case, street by street, each case's events in order, as
    `simulate_into(..., events=True)` writes them during a run. Here the streets are
    simulated again, one after another, with their events kept (a replication is a pure
    function of the scenario and its index, so these are that run's own events), one
    street in memory at a time. Returns the count."""
    from gridcore.cases import event_to_json
    from gridcore.sim.model import partition_events, partitions

    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for j in range(len(partitions(scenario))):
            _, evs = partition_events(scenario, replication, j)
            f.write("".join(event_to_json(e) + "\n" for e in evs))
            n += len(evs)
    return n

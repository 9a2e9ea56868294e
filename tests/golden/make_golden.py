"""Golden outputs: checksums of runs that a behaviour-neutral change must leave byte-identical.

- four simulation runs through the command line (yichang 30 days and yubei 7 days, seeds 1
  and 2, one replication, two workers, the per-case table as CSV: a Parquet file's bytes
  name the pyarrow version that wrote it): every file of each results folder;
- a case log driven by a seeded random desk (300 cases, random actors and actions, refusals
  included), its events as JSON lines, the refused rules, the replay of every case and the
  metrics over the log.

`python tests/golden/make_golden.py` prints the checksums as JSON; `--write` stores them in
`tests/golden/golden.json`, which `tests/sim/test_golden.py` compares against. Regenerate
only for a change that is meant to change behaviour, and say so in its commit.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from gridcore.cases import Action, Actor, Case, CaseLog, CategoryDeadlines, DeskRole, event_to_json
from gridcore.categories import default_taxonomy
from gridcore.cli import main as cli_main
from gridcore.clock import CalendarSet
from gridcore.errors import GridcoreError
from gridcore.ids import AreaCode, CaseId, CategoryCode, PersonId
from gridcore.metrics import compute_metrics

HERE = Path(__file__).resolve().parent
STORED = HERE / "golden.json"

SIM_RUNS = {
    "yichang-30d-s1": ["--preset", "yichang", "--days", "30", "--seed", "1"],
    "yichang-30d-s2": ["--preset", "yichang", "--days", "30", "--seed", "2"],
    "yubei-7d-s1": ["--preset", "yubei", "--days", "7", "--seed", "1"],
    "yubei-7d-s2": ["--preset", "yubei", "--days", "7", "--seed", "2"],
}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sim_checksums(name: str) -> dict[str, str]:
    """Checksums of every file of one golden simulation run."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / name
        args = ["simulate", *SIM_RUNS[name], "--replications", "1", "--workers", "2"]
        args += ["--tables", "csv"]
        with contextlib.redirect_stdout(io.StringIO()):
            code = cli_main([*args, "--out", str(out), "--quiet"])
        if code != 0:
            raise SystemExit(f"golden run {name} exited {code}")
        return {
            f"{name}/{p.relative_to(out)}": _sha(p.read_bytes())
            for p in sorted(out.rglob("*"))
            if p.is_file()
        }


TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 8, 30, tzinfo=TZ)
ACTORS = [
    Actor(PersonId("grid-1"), DeskRole.GRID_WORKER),
    Actor(PersonId("desk-1"), DeskRole.DISPATCHER),
    Actor(PersonId("h1"), DeskRole.HANDLER),
    Actor(PersonId("h2"), DeskRole.HANDLER),
    Actor(PersonId("h3"), DeskRole.HANDLER, "dept-a"),
    Actor(PersonId("chk-1"), DeskRole.CHECKER),
    Actor(PersonId("h1"), DeskRole.CHECKER),
    Actor(PersonId("sup-1"), DeskRole.SUPERVISOR),
    Actor(PersonId("eva-1"), DeskRole.EVALUATOR),
    Actor(PersonId("system"), DeskRole.SYSTEM),
]
OWNERS = ["h1", "h2", "h3", "dept-a", "street:1"]
LEVELS = ["grid", "community", "street", "district", "department"]
ACTIONS = [a for a in Action if a is not Action.REPORT]
CATEGORIES = ["E0101", "C0101", "E0401", "G0302", "G0801"]


def _payload(rng: np.random.Generator, action: Action) -> dict[str, object]:
    pick = rng.integers(0, 8)
    if action in (Action.DISPATCH, Action.TRANSFER, Action.APPROVE_RETURN, Action.ESCALATE):
        return {"to": OWNERS[pick % len(OWNERS)], "level": LEVELS[rng.integers(0, len(LEVELS))]}
    if action is Action.SUPERVISE:
        return {"supervision": int(rng.integers(1, 4))}
    if action is Action.WARN:
        return {"light": ["yellow", "red"][pick % 2]}
    if action is Action.MERGE:
        return {"into": f"g-{pick}"}
    if action is Action.ASSIST:
        return {"co_handlers": ["chk-1", "h2"][: 1 + pick % 2]}
    if action is Action.REQUEST_EXTENSION:
        return {"extra_s": [600, 3600][pick % 2]}
    return {}


def case_log_lines(n_cases: int = 300, steps: int = 40, seed: int = 7) -> list[str]:
    """A seeded random desk over `n_cases` cases: events, refusals, replays and metrics."""
    rng = np.random.default_rng(seed)
    log = CaseLog(CategoryDeadlines(default_taxonomy(), CalendarSet.standard()))
    lines: list[str] = []
    for i in range(n_cases):
        cid = CaseId(f"g-{i}")
        now = T0 + timedelta(minutes=int(rng.integers(0, 60 * 24 * 20)))
        log.report(
            cid,
            Actor(PersonId(f"res-{i % 17}"), DeskRole.REPORTER),
            now,
            grid=AreaCode(f"4205020010010{i % 10}"),
            category=CategoryCode(CATEGORIES[i % len(CATEGORIES)]),
            channel=["hotline", "patrol", "camera"][i % 3],
        )
        for _ in range(steps):
            now += timedelta(minutes=int(rng.integers(1, 600)))
            case = log.case(cid)
            if case.is_final:
                break
            action = ACTIONS[rng.integers(0, len(ACTIONS))]
            if rng.random() < 0.6:  # lean on the main loop so cases get somewhere
                action = {
                    "reported": Action.VERIFY,
                    "verified": Action.REGISTER,
                    "registered": Action.DISPATCH,
                    "dispatched": Action.SIGN_FOR,
                    "signed_for": Action.START,
                    "in_progress": Action.HANDLE,
                    "handled": Action.CLOSE,
                    "closed": Action.EVALUATE,
                }.get(str(case.state), action)
            actor = ACTORS[rng.integers(0, len(ACTORS))]
            if action in (Action.SIGN_FOR, Action.START, Action.HANDLE) and case.owner:
                actor = Actor(PersonId(case.owner), DeskRole.HANDLER)
            try:
                log.act(cid, action, actor, now, payload=_payload(rng, action))
            except GridcoreError as e:
                lines.append(f"refused {cid} {action} {type(e).__name__} {getattr(e, 'rule', '')}")
    for e in log.all_events():
        lines.append(event_to_json(e))
    for i in range(n_cases):
        cid = CaseId(f"g-{i}")
        lines.append(repr(Case.replay(log.events(cid)) == log.case(cid)))
        lines.append(repr(log.case(cid)))
    for row in compute_metrics(log.all_events(), by="category").to_rows():
        lines.append(json.dumps(row, sort_keys=True, default=str))
    return lines


def all_checksums() -> dict[str, str]:
    """Every golden checksum, by name."""
    sums: dict[str, str] = {}
    for name in SIM_RUNS:
        sums.update(sim_checksums(name))
    sums["case-log"] = _sha("\n".join(case_log_lines()).encode())
    return sums


if __name__ == "__main__":
    sums = all_checksums()
    text = json.dumps(sums, indent=1, sort_keys=True) + "\n"
    if "--write" in sys.argv:
        STORED.write_text(text)
    sys.stdout.write(text)

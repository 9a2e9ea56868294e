"""Metrics over ~1M events (~110k cases): vectorised `gridcore.metrics` vs a naive dict loop.

Run: `.venv/bin/pytest benchmarks/bench_metrics.py --benchmark-only`.
The log is built once per module from a seed; only the named calls are timed.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import pytest

from gridcore.metrics import EventTable, compute_metrics

SH = ZoneInfo("Asia/Shanghai")
N_CASES = 110_000
SEED = 20240304
LEVELS = ("grid", "community", "street", "department")


@attrs.frozen
class BenchEvent:
    """The attributes of gridcore.cases.CaseEvent (built directly: no guards to pay for)."""

    case_id: str
    seq: int
    at: datetime
    actor: str
    role: str
    action: str
    from_state: str | None
    to_state: str
    reason: str
    payload: Mapping[str, Any]


def synthetic_log(n_cases: int = N_CASES, seed: int = SEED) -> list[BenchEvent]:
    """A seeded log: ~9 events a case, with reworks, transfers, returns, parks, cancels."""
    rng = np.random.default_rng(seed)
    t0 = datetime(2024, 1, 1, tzinfo=SH)
    start_min = rng.integers(0, 90 * 24 * 60, n_cases)
    gaps = rng.exponential(45.0, (n_cases, 16)) + 1.0
    grid = rng.integers(0, 1000, n_cases)
    cat = rng.integers(0, 40, n_cases)
    fate = rng.random(n_cases)
    reworks = rng.binomial(2, 0.2, n_cases)
    transfer = rng.random(n_cases) < 0.25
    ret = rng.random(n_cases) < 0.1
    park = rng.random(n_cases) < 0.15
    ext = rng.random(n_cases) < 0.3
    dept = rng.integers(0, 60, (n_cases, 3))
    level = rng.integers(0, len(LEVELS), (n_cases, 3))
    handler = rng.integers(0, 3000, (n_cases, 2))
    limit_h = rng.choice([2, 5, 8, 24, 72], n_cases)
    events: list[BenchEvent] = []
    append = events.append
    for c in range(n_cases):
        cid = f"C{c:07d}"
        t = t0 + timedelta(minutes=int(start_min[c]))
        g = gaps[c]
        k = 0
        seq = 0
        state: str | None = None

        def ev(action: str, to: str, actor: str, payload: Mapping[str, Any] | None = None) -> None:
            nonlocal seq, state, t, k
            seq += 1
            t = t + timedelta(minutes=float(g[k % 16]))
            k += 1
            append(BenchEvent(cid, seq, t, actor, "x", action, state, to, "", payload or {}))
            state = to

        ev("report", "reported", "R1", {"grid": f"G{grid[c]:04d}", "category": f"K{cat[c]:02d}"})
        ev("verify", "verified", "V1")
        if fate[c] < 0.05:
            ev("cancel", "cancelled", "V1")
            continue
        ev("register", "registered", "V1")

        def dispatch(action: str, i: int, to: str) -> None:
            due = (t + timedelta(hours=int(limit_h[c]))).isoformat()
            pay = {"to": f"D{dept[c, i]:02d}", "level": LEVELS[level[c, i]], "due": due}
            ev(action, to, "DISP", pay)

        dispatch("dispatch", 0, "dispatched")
        if ret[c]:
            ev("request_return", "return_requested", f"P{handler[c, 0]}")
            ev("approve_return", "registered", "DISP")
            dispatch("dispatch", 1, "dispatched")
        if fate[c] < 0.12:
            continue  # still waiting for sign-for
        ev("sign_for", "in_progress", f"P{handler[c, 0]}")
        if transfer[c]:
            dispatch("transfer", 2, "dispatched")
            ev("sign_for", "in_progress", f"P{handler[c, 1]}")
        if park[c]:
            ev("park", "parked", "SUP")
            ev("resume", "in_progress", "SUP", {"due": (t + timedelta(hours=8)).isoformat()})
        if ext[c]:
            ev("approve_extension", "in_progress", "SUP", {"due": (t + timedelta(hours=4)).isoformat()})
        if fate[c] < 0.2:
            continue  # in progress
        for _ in range(int(reworks[c])):
            ev("handle", "handled", f"P{handler[c, 0]}")
            ev("rework", "in_progress", "CHK", {"due": (t + timedelta(hours=2)).isoformat()})
        ev("handle", "handled", f"P{handler[c, 0]}")
        ev("close", "closed", "CHK")
        ev("evaluate", "evaluated", "EVAL")
    return events


def naive_metrics_by_grid(events: list[BenchEvent]) -> dict[str, dict[str, float]]:
    """The baseline: one Python dict per case, then per-grid lists and statistics."""
    cases: dict[str, dict[str, Any]] = {}
    for e in sorted(events, key=lambda e: (e.case_id, e.seq)):
        c = cases.setdefault(
            e.case_id,
            {"rework": 0, "passes": 0, "first_to": None, "resent": False, "closed_at": None,
             "due": None, "sign": None, "state": None, "dispatched": False},
        )
        a = e.action
        c["state"] = e.to_state
        if a == "report":
            c["grid"], c["reported"] = e.payload["grid"], e.at
        elif a == "sign_for" and c["sign"] is None:
            c["sign"] = e.at
        elif a == "close":
            c["closed_at"] = e.at
        elif a == "reopen":
            c["closed_at"] = None
        elif a == "rework":
            c["rework"] += 1
        if a in ("transfer", "approve_return"):
            c["passes"] += 1
        if c["closed_at"] is None and "due" in e.payload:
            c["due"] = datetime.fromisoformat(e.payload["due"])
        if a in ("dispatch", "transfer", "approve_return", "escalate") and "to" in e.payload:
            if a == "dispatch" and not c["dispatched"]:
                c["dispatched"], c["first_to"] = True, e.payload["to"]
            elif e.payload["to"] != c["first_to"]:
                c["resent"] = True
    as_of = max(e.at for e in events)
    groups: dict[str, list[dict[str, Any]]] = {}
    for c in cases.values():
        groups.setdefault(c["grid"], []).append(c)
    out: dict[str, dict[str, float]] = {}
    for grid, cs in groups.items():
        closed = [c for c in cs if c["closed_at"] is not None]
        due = [
            c for c in cs
            if c["closed_at"] is not None
            or (c["due"] is not None and c["due"] <= as_of
                and c["state"] not in ("cancelled", "merged", "voided", "parked"))
        ]
        on_time = [c for c in closed if c["due"] is None or c["closed_at"] <= c["due"]]
        disp = [c for c in cs if c["dispatched"]]
        resp = [(c["sign"] - c["reported"]).total_seconds() for c in cs if c["sign"]]
        reso = [(c["closed_at"] - c["reported"]).total_seconds() for c in closed]
        out[grid] = {
            "n_cases": len(cs),
            "closure_rate": len(closed) / len(due) if due else float("nan"),
            "on_time_rate": len(on_time) / len(due) if due else float("nan"),
            "rework_rate": sum(c["rework"] > 0 for c in closed) / len(closed) if closed else float("nan"),
            "accurate_dispatch_rate": sum(not c["resent"] for c in disp) / len(disp) if disp else float("nan"),
            "n_passes": sum(c["passes"] for c in cs),
            "response_s_mean": statistics.fmean(resp) if resp else float("nan"),
            "resolution_s_p90": statistics.quantiles(reso, n=10, method="inclusive")[8] if len(reso) > 1 else float("nan"),
        }
    return out


@pytest.fixture(scope="module")
def log() -> list[BenchEvent]:
    return synthetic_log()


@pytest.fixture(scope="module")
def table(log: list[BenchEvent]) -> EventTable:
    return EventTable.from_events(log)


def test_event_table_from_events(benchmark: Any, log: list[BenchEvent]) -> None:
    """The one lean pass over ~1M events."""
    t = benchmark.pedantic(EventTable.from_events, args=(log,), rounds=3, iterations=1)
    assert len(t) == len(log) and t.n_cases == N_CASES
    assert 900_000 <= len(log) <= 1_100_000


def test_metrics_by_grid_from_table(benchmark: Any, table: EventTable) -> None:
    """Facts + per-grid metrics (wall time) from a built table."""
    m = benchmark.pedantic(compute_metrics, args=(table,), kwargs={"by": "grid"}, rounds=5)
    assert int(m["n_cases"].sum()) == N_CASES and len(m) == 1000


def test_metrics_with_working_calendar(benchmark: Any, table: EventTable) -> None:
    """Facts + per-grid metrics in wall and working time (China calendar, 08:30-17:30)."""
    from gridcore.clock import WorkingHoursCalendar

    cal = WorkingHoursCalendar()
    m = benchmark.pedantic(
        compute_metrics, args=(table,), kwargs={"by": "grid", "calendar": cal}, rounds=5
    )
    assert np.all(m["resolution_work_s_mean"] <= m["resolution_s_mean"])


def test_end_to_end_vectorised(benchmark: Any, log: list[BenchEvent]) -> None:
    """from_events + metrics by grid: the figure compared with the naive baseline."""

    def run() -> Any:
        return compute_metrics(EventTable.from_events(log), by="grid")

    m = benchmark.pedantic(run, rounds=3, iterations=1)
    ref = naive_metrics_by_grid(log[:60_000])
    small = compute_metrics(EventTable.from_events(log[:60_000]), by="grid")
    for r in small.to_rows():
        for k, v in ref[r["grid"]].items():
            assert v == pytest.approx(r[k], nan_ok=True), (r["grid"], k)
    assert int(m["n_cases"].sum()) == N_CASES


def test_baseline_naive_dict_loop(benchmark: Any, log: list[BenchEvent]) -> None:
    """Baseline: per-case Python dicts, per-grid lists (same metrics subset)."""
    out = benchmark.pedantic(naive_metrics_by_grid, args=(log,), rounds=1, iterations=1)
    assert sum(v["n_cases"] for v in out.values()) == N_CASES

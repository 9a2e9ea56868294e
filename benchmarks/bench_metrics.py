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

import numpy as np
import pytest

from gridcore.cases import Action, CaseEvent, State
from gridcore.ids import CaseId, PersonId
from gridcore.metrics import CaseFacts, EventTable, compute_metrics

SH = ZoneInfo("Asia/Shanghai")
N_CASES = 100_000
SEED = 20240304
LEVELS = ("grid", "community", "street", "department")
_ACTION = {a.value: a for a in Action}
_STATE = {s.value: s for s in State}


class _Writer:
    """Appends the events of one case with consecutive seqs and increasing instants."""

    def __init__(self, out: list[CaseEvent], cid: str, t: datetime, gaps: np.ndarray) -> None:
        self.out, self.cid, self.t, self.gaps = out, cid, t, gaps.tolist()
        self.seq = 0
        self.state: State | None = None

    def ev(self, action: str, to: str | None, actor: str, payload: Mapping[str, Any]) -> None:
        self.seq += 1
        self.t = self.t + timedelta(minutes=self.gaps[self.seq % 16])
        new = self.state if to is None else _STATE[to]
        assert new is not None
        self.out.append(
            CaseEvent(
                CaseId(self.cid),
                self.seq,
                self.t,
                PersonId(actor),
                "x",
                _ACTION[action],
                self.state,
                new,
                "",
                payload,
            )
        )
        self.state = new

    def due(self, hours: int) -> str:
        return (self.t + timedelta(hours=hours)).isoformat()


def synthetic_log(n_cases: int = N_CASES, seed: int = SEED) -> list[CaseEvent]:
    """A seeded log of real `CaseEvent`s, built directly (the desk's guards are not timed here).

    ~10 events a case, with reworks, transfers, returns, parks, extensions and cancels.
    """
    rng = np.random.default_rng(seed)
    t0 = datetime(2024, 1, 1, tzinfo=SH)
    start_min = rng.integers(0, 90 * 24 * 60, n_cases).tolist()
    gaps = rng.exponential(45.0, (n_cases, 16)) + 1.0
    grid = rng.integers(0, 1000, n_cases).tolist()
    cat = rng.integers(0, 40, n_cases).tolist()
    fate = rng.random(n_cases).tolist()
    reworks = rng.binomial(2, 0.2, n_cases).tolist()
    transfer = (rng.random(n_cases) < 0.25).tolist()
    ret = (rng.random(n_cases) < 0.1).tolist()
    park = (rng.random(n_cases) < 0.15).tolist()
    ext = (rng.random(n_cases) < 0.3).tolist()
    dept = rng.integers(0, 60, (n_cases, 3)).tolist()
    level = rng.integers(0, len(LEVELS), (n_cases, 3)).tolist()
    handler = rng.integers(0, 3000, (n_cases, 2)).tolist()
    limit_h = rng.choice([2, 5, 8, 24, 72], n_cases).tolist()
    events: list[CaseEvent] = []
    for c in range(n_cases):
        w = _Writer(events, f"C{c:07d}", t0 + timedelta(minutes=start_min[c]), gaps[c])
        h0, h1 = f"P{handler[c][0]}", f"P{handler[c][1]}"

        def route(action: str, i: int, w: _Writer = w, c: int = c) -> None:
            pay = {"to": f"D{dept[c][i]:02d}", "level": LEVELS[level[c][i]]}
            w.ev(action, "dispatched", "DISP", {**pay, "due": w.due(limit_h[c])})

        w.ev("report", "reported", "R1", {"grid": f"G{grid[c]:04d}", "category": f"K{cat[c]:02d}"})
        w.ev("verify", "verified", "V1", {})
        if fate[c] < 0.05:
            w.ev("cancel", "cancelled", "V1", {})
            continue
        w.ev("register", "registered", "V1", {})
        route("dispatch", 0)
        if ret[c]:
            w.ev("request_return", None, h0, {})
            route("approve_return", 1)
        if fate[c] < 0.12:
            continue  # still waiting for sign-for
        w.ev("sign_for", "signed_for", h0, {})
        if transfer[c]:
            route("transfer", 2)
            w.ev("sign_for", "signed_for", h1, {})
        w.ev("start", "in_progress", h0, {})
        if park[c]:
            w.ev("park", "parked", "SUP", {})
            w.ev("resume", "in_progress", "SUP", {"due": w.due(8)})
        if ext[c]:
            w.ev("approve_extension", None, "SUP", {"due": w.due(4)})
        if fate[c] < 0.2:
            continue  # in progress
        for _ in range(reworks[c]):
            w.ev("handle", "handled", h0, {})
            w.ev("rework", "in_progress", "CHK", {"due": w.due(2)})
        w.ev("handle", "handled", h0, {})
        w.ev("close", "closed", "CHK", {})
        w.ev("evaluate", "evaluated", "EVAL", {})
    return events


def _p90(values: list[float]) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def naive_metrics_by_grid(events: list[CaseEvent]) -> dict[str, dict[str, float]]:
    """The baseline: one Python dict per case, then per-grid lists and statistics."""
    cases: dict[str, dict[str, Any]] = {}
    for e in sorted(events, key=lambda e: (e.case_id, e.seq)):
        c = cases.setdefault(
            e.case_id,
            {
                "rework": 0,
                "passes": 0,
                "first_to": None,
                "resent": False,
                "closed_at": None,
                "due": None,
                "sign": None,
                "state": None,
                "dispatched": False,
            },
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
            if not c["dispatched"]:
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
            c
            for c in cs
            if c["closed_at"] is not None
            or (
                c["due"] is not None
                and c["due"] <= as_of
                and c["state"] not in ("cancelled", "merged", "voided", "parked")
            )
        ]
        on_time = [c for c in closed if c["due"] is None or c["closed_at"] <= c["due"]]
        disp = [c for c in cs if c["dispatched"]]
        resp = [(c["sign"] - c["reported"]).total_seconds() for c in cs if c["sign"]]
        reso = [(c["closed_at"] - c["reported"]).total_seconds() for c in closed]
        out[grid] = {
            "n_cases": len(cs),
            "closure_rate": len(closed) / len(due) if due else float("nan"),
            "on_time_rate": len(on_time) / len(due) if due else float("nan"),
            "rework_rate": sum(c["rework"] > 0 for c in closed) / len(closed)
            if closed
            else float("nan"),
            "accurate_dispatch_rate": sum(not c["resent"] for c in disp) / len(disp)
            if disp
            else float("nan"),
            "n_passes": sum(c["passes"] for c in cs),
            "response_s_mean": statistics.fmean(resp) if resp else float("nan"),
            "resolution_s_p90": _p90(reso),
        }
    return out


@pytest.fixture(scope="module")
def log() -> list[CaseEvent]:
    return synthetic_log()


@pytest.fixture(scope="module")
def table(log: list[CaseEvent]) -> EventTable:
    return EventTable.from_events(log)


def test_event_table_from_events(benchmark: Any, log: list[CaseEvent]) -> None:
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


def test_end_to_end_vectorised(benchmark: Any, log: list[CaseEvent]) -> None:
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


def test_streamed_chunks_like_the_simulation(benchmark: Any, log: list[CaseEvent]) -> None:
    """The simulation's use: ~20k-event chunks of ended cases, each read and folded to facts
    as of an instant, then concatenated (200k events; the figure per event is comparable)."""
    part = log[:200_000]
    while part[-1].case_id == log[len(part)].case_id:  # whole cases only
        part = part[:-1]
    chunks: list[list[CaseEvent]] = []
    start = 0
    while start < len(part):
        end = min(start + 20_000, len(part))
        while end < len(part) and part[end].case_id == part[end - 1].case_id:
            end += 1
        chunks.append(part[start:end])
        start = end
    as_of = max(e.at for e in part)

    def run() -> CaseFacts:
        return CaseFacts.concat(EventTable.from_events(c).facts(as_of) for c in chunks)

    facts = benchmark.pedantic(run, rounds=5, iterations=1)
    whole = EventTable.from_events(part).facts(as_of)
    assert sorted(facts.case_ids) == sorted(whole.case_ids)
    assert int(facts.closed.sum()) == int(whole.closed.sum())
    benchmark.extra_info["events_per_s"] = round(len(part) / benchmark.stats.stats.mean)


def test_baseline_naive_dict_loop(benchmark: Any, log: list[CaseEvent]) -> None:
    """Baseline: per-case Python dicts, per-grid lists (same metrics subset)."""
    out = benchmark.pedantic(naive_metrics_by_grid, args=(log,), rounds=1, iterations=1)
    assert sum(v["n_cases"] for v in out.values()) == N_CASES

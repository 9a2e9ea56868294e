"""Checking a journal end to end: every case replayed, its projection compared, positions
contiguous. What `gridcore store verify` runs."""

from __future__ import annotations

from itertools import groupby

import attrs

from gridcore.cases import Case, State, follow
from gridcore.errors import GridcoreError
from gridcore.ids import CaseId

from .journal import SqlCaseStore
from .projection import CASE_COLUMNS, projection_row
from .rows import StoredEvent

__all__ = ["VerifyReport", "verify"]


@attrs.frozen
class VerifyReport:
    """What `verify` found: counts and the problems (empty when the journal is sound)."""

    cases: int
    events: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Whether no problem was found."""
        return not self.problems


def verify(store: SqlCaseStore, *, lights: bool = True, max_problems: int = 20) -> VerifyReport:
    """Replay every case through `gridcore.cases.follow` (the checks of an append) and
    compare it with its projection row; check positions are 1..n, then (when nothing
    else was found) the counts by state. `lights=False` leaves out the warning-light
    instants (when the journal was written under another policy than `store.policy`).
    Stops collecting after `max_problems`."""
    problems: list[str] = []
    n_events, lo, hi = store.stats()
    if n_events and (lo != 1 or hi != n_events):
        problems.append(f"positions run {lo}..{hi} for {n_events} events: expected 1..{n_events}")
    n_cases = 0
    counts: dict[State, int] = {}
    for stored, projection in store.case_chunks():
        for cid, group in groupby(stored, key=lambda s: s.event.case_id):
            evs = list(group)
            n_cases += 1
            problem, case = _check_case(
                store, CaseId(cid), evs, projection.pop(CaseId(cid), None), lights
            )
            if problem:
                problems.append(problem)
            if case is not None:
                counts[case.state] = counts.get(case.state, 0) + 1
        for cid in projection:
            n_cases += 1
            problems.append(f"case {cid!r}: a projection row but no events")
        if len(problems) >= max_problems:
            break
    if not problems:
        kept = store.state_counts()
        if kept != counts:
            problems.append(
                f"counts by state {_counts_text(kept)}: the replayed cases give "
                f"{_counts_text(counts)}"
            )
    return VerifyReport(n_cases, n_events, tuple(problems[:max_problems]))


def _counts_text(counts: dict[State, int]) -> str:
    return "{" + ", ".join(f"{s.value}: {n}" for s, n in sorted(counts.items())) + "}"


def _check_case(
    store: SqlCaseStore,
    cid: CaseId,
    evs: list[StoredEvent],
    row: tuple[object, ...] | None,
    lights: bool,
) -> tuple[str, Case | None]:
    """The first problem of the case ("" if none) and its replay (None if it fails)."""
    case: Case | None = None
    for s in evs:
        try:
            case = follow(case, s.event)
        except GridcoreError as exc:
            return f"case {cid!r} at position {s.position}: {exc}", None
    assert case is not None
    if row is None:
        return f"case {cid!r}: events but no projection row", case
    expected = projection_row(case, evs[-1].position, store.policy)
    for name, got, want in zip(CASE_COLUMNS, row, expected, strict=True):
        if not lights and name in ("yellow_at_us", "red_at_us"):
            continue
        if got != want:
            return f"case {cid!r}: projection {name} = {got!r}, its replay gives {want!r}", case
    return "", case

"""Deadlines: where stage limits come from, and the deadlines `apply` writes into events.

A `DeadlinePolicy` answers a category's calendar, stage limits and severity;
`FixedDeadlines` and `CategoryDeadlines` are the two built in. `due_after` gives a
deadline as the ISO 8601 text an event's payload carries ("due"); `stage_deadline`
reads the current stage's deadline back from a case.

Hot path: `due_after` runs at every dispatch, escalation, rework, reopen, extension and
resume. It works on epoch microseconds through the calendar's `add_us` (exact, declared
by the `Calendar` protocol) and formats the text once per distinct (instant, zone): the
built-in policies own a bounded memo of those texts (`DeadlineMemo`), and
`CategoryDeadlines` remembers each category's summed budget. What protects it: the
property test `TestDeadlineFastPath` in `tests/unit/test_cases.py` (the text equals
`cal.add(start, work).isoformat()` in any zone, DST gaps and folds included) and the
golden runs (`tests/sim/test_golden.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from types import MappingProxyType
from typing import Final, NamedTuple, Protocol
from zoneinfo import ZoneInfo

import attrs

from gridcore._time import EPOCH, ONE_US
from gridcore.cases.records import Case
from gridcore.cases.vocabulary import STATE_STAGE, State
from gridcore.categories import Stage, Taxonomy
from gridcore.clock import Calendar, CalendarSet, RoundTheClock

__all__ = [
    "DISPATCH_STAGES",
    "FAST_ZONES",
    "REWORK_STAGES",
    "WALL",
    "Budget",
    "CategoryDeadlines",
    "DeadlineMemo",
    "DeadlinePolicy",
    "FixedDeadlines",
    "calendar_of",
    "due_after",
    "memo_of",
    "resolution_budget",
    "stage_deadline",
]

_ZERO: Final = timedelta(0)

WALL: Final = RoundTheClock()
"""The calendar of a case without a policy: elapsed time."""

DISPATCH_STAGES: Final = (Stage.SIGN_FOR, Stage.HANDLE)
"""The stages whose limits make up the resolution deadline set at dispatch."""

REWORK_STAGES: Final = (Stage.HANDLE,)
"""The stages whose limits make up the deadline reset by a rework."""

FAST_ZONES: Final = (ZoneInfo, timezone)
"""The zones whose `datetime.fromtimestamp(s, tz)` is the representation `add` returns
(the UTC round trip): deadlines in them are made on epoch microseconds."""

# Below 4e9 s (the year 2096) a float second resolves a microsecond with margin, so
# `fromtimestamp(us / 1e6)` is exact; later instants take the datetime path.
_FAST_MAX_US: Final = 4 * 10**15
_MEMO_SIZE: Final = 4096


class DeadlinePolicy(Protocol):
    """Where deadlines come from: a calendar, stage limits and a severity per category."""

    def calendar_for(self, category: str) -> Calendar:
        """The working-time calendar of the category."""
        ...

    def limit_for(self, category: str, stage: Stage) -> timedelta | None:
        """The working-time limit of `stage` for the category (None: no limit)."""
        ...

    def severity_for(self, category: str) -> int:
        """The category's severity 1..4 (0 when unknown)."""
        ...

    def level_limit_for(self, category: str, level: str) -> timedelta | None:
        """The working time an owner at `level` has to resolve the case from the moment it
        climbed there (None: the category's sign-for + handling limits again)."""
        ...


class Budget(NamedTuple):
    """The working time a deadline stands for: its calendar, the summed limits, in seconds."""

    calendar: Calendar
    work: timedelta
    seconds: float


class DeadlineMemo:
    """What a built-in policy remembers: deadline texts by (instant, zone), budgets by key.

    Pure caches: forgetting them changes no answer (a built-in policy is a value: its
    limits do not change). The texts are bounded (cleared when full).
    """

    __slots__ = ("budgets", "texts")

    def __init__(self) -> None:
        self.texts: dict[tuple[int, tzinfo | None], str] = {}
        self.budgets: dict[tuple[str, tuple[Stage, ...]], Budget | None] = {}

    def text(self, due_us: int, tz: tzinfo | None) -> str:
        """The ISO 8601 text of the instant `due_us` in zone `tz` (made once)."""
        key = (due_us, tz)
        text = self.texts.get(key)
        if text is None:
            text = datetime.fromtimestamp(due_us / 1e6, tz).isoformat()
            if len(self.texts) >= _MEMO_SIZE:
                self.texts.clear()
            self.texts[key] = text
        return text

    def budget(
        self, policy: DeadlinePolicy, category: str, stages: tuple[Stage, ...]
    ) -> Budget | None:
        """`summed_budget(policy, category, stages)`, summed once per category and stages."""
        key = (category, stages)
        budgets = self.budgets
        if key not in budgets:
            budgets[key] = summed_budget(policy, category, stages)
        return budgets[key]


def _read_only(limits: Mapping[Stage, timedelta]) -> Mapping[Stage, timedelta]:
    """A read-only copy: the policy is a value, its limits cannot change under it."""
    return MappingProxyType(dict(limits))


@attrs.frozen
class FixedDeadlines:
    """The same calendar and stage limits for every category (tests, simple desks)."""

    calendar: Calendar = attrs.field(factory=RoundTheClock)
    limits: Mapping[Stage, timedelta] = attrs.field(factory=dict, converter=_read_only, hash=False)
    severity: int = 2
    level_limits: Mapping[str, timedelta] = attrs.field(factory=dict, hash=False)
    memo: DeadlineMemo = attrs.field(
        factory=DeadlineMemo, init=False, eq=False, repr=False, hash=False
    )

    def calendar_for(self, category: str) -> Calendar:
        """The one calendar."""
        return self.calendar

    def limit_for(self, category: str, stage: Stage) -> timedelta | None:
        """The one limit of `stage`, None when absent."""
        return self.limits.get(stage)

    def severity_for(self, category: str) -> int:
        """The one severity."""
        return self.severity

    def level_limit_for(self, category: str, level: str) -> timedelta | None:
        """The one limit of `level`, None when absent."""
        return self.level_limits.get(level)


@attrs.frozen
class CategoryDeadlines:
    """Deadlines from a `Taxonomy`'s stage limits and a `CalendarSet` (cached per category)."""

    taxonomy: Taxonomy
    calendars: CalendarSet
    _cache: dict[str, tuple[Calendar, Mapping[Stage, timedelta], int]] = attrs.field(
        factory=dict, init=False, eq=False, repr=False, hash=False
    )
    memo: DeadlineMemo = attrs.field(
        factory=DeadlineMemo, init=False, eq=False, repr=False, hash=False
    )

    def _entry(self, category: str) -> tuple[Calendar, Mapping[Stage, timedelta], int]:
        hit = self._cache.get(category)
        if hit is None:
            cat = self.taxonomy.get(category)
            hit = (self.calendars.get(cat.calendar), cat.limits, cat.severity)
            self._cache[category] = hit
        return hit

    def calendar_for(self, category: str) -> Calendar:
        """The calendar named by the category."""
        return self._entry(category)[0]

    def limit_for(self, category: str, stage: Stage) -> timedelta | None:
        """The category's limit for `stage`."""
        return self._entry(category)[1].get(stage)

    def severity_for(self, category: str) -> int:
        """The category's severity."""
        return self._entry(category)[2]

    def level_limit_for(self, category: str, level: str) -> timedelta | None:
        """The category's limit for an owner at `level` (`Category.level_limits`)."""
        for lv, limit in self.taxonomy.get(category).level_limits.items():
            if lv == level:
                return limit
        return None


_BUILT_IN: Final = (CategoryDeadlines, FixedDeadlines)


def memo_of(policy: DeadlinePolicy | None) -> DeadlineMemo | None:
    """The memo a built-in policy owns (None for any other policy)."""
    return policy.memo if isinstance(policy, _BUILT_IN) else None


def summed_budget(
    policy: DeadlinePolicy, category: str, stages: tuple[Stage, ...]
) -> Budget | None:
    """The calendar and the summed limits of `stages` (None: no stage has a limit)."""
    work = _ZERO
    found = False
    for st in stages:
        lim = policy.limit_for(category, st)
        if lim is not None:
            work += lim
            found = True
    return Budget(policy.calendar_for(category), work, work.total_seconds()) if found else None


def resolution_budget(
    policy: DeadlinePolicy, category: str, stages: tuple[Stage, ...], memo: DeadlineMemo | None
) -> Budget | None:
    """The budget of `stages` for the category, from the policy's memo when it has one."""
    if memo is not None:
        return memo.budget(policy, category, stages)
    return summed_budget(policy, category, stages)


def calendar_of(case: Case, policy: DeadlinePolicy | None) -> Calendar:
    """The calendar the case's clock runs on (elapsed time without a policy)."""
    return WALL if policy is None else policy.calendar_for(case.info.category)


def due_after(
    cal: Calendar, start: datetime, work: timedelta, memo: DeadlineMemo | None = None
) -> str:
    """`cal.add(start, work).isoformat()`: the same text, on epoch microseconds when it can.

    `memo` (a policy's) keeps the texts made, so cases due at one instant share one.
    """
    tz = start.tzinfo
    if work > _ZERO and type(start) is datetime and type(tz) in FAST_ZONES:
        start_us = (start - EPOCH) // ONE_US
        if 0 < start_us < _FAST_MAX_US:
            due_us = cal.add_us(start_us, work // ONE_US)
            if due_us < _FAST_MAX_US:
                if memo is not None:
                    return memo.text(due_us, tz)
                return datetime.fromtimestamp(due_us / 1e6, tz).isoformat()
    return cal.add(start, work).isoformat()


def stage_deadline(
    case: Case, policy: DeadlinePolicy | None
) -> tuple[Stage, datetime, timedelta] | None:
    """The current stage, its deadline and its working-time limit; None when no clock runs.

    The handling stage (signed for, in progress, and parked, frozen) ends at `due`; the
    other stages end their category limit after they began (`stage_since`).
    """
    stage = STATE_STAGE[case.state]
    if case.state is State.PARKED:
        stage = Stage.HANDLE
    if stage is None:
        return None
    if stage is Stage.HANDLE:
        if case.due is None:
            return None
        budget = case.due_budget
        if budget is None:
            if policy is None:
                return None
            budget = policy.limit_for(case.info.category, Stage.HANDLE)
            if budget is None:
                return None
        return stage, case.due, budget
    if policy is None:
        return None
    limit = policy.limit_for(case.info.category, stage)
    if limit is None:
        return None
    return stage, policy.calendar_for(case.info.category).add(case.stage_since, limit), limit

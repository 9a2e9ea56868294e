"""What an action computes before its event is made: deadlines and defaults.

A prepare step adds to the payload what the action decides from the case and the
policy: a fresh "due" (+ "budget_s") at dispatch, escalation of an undispatched case,
reopen and rework; the moved "due" of an approved extension and of a resume (with the
parked working time); the owner a transfer or a return keeps its level at. The event
then carries it all, so replaying needs no calendar.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Final, TypeAlias

from gridcore.cases.deadlines import (
    DISPATCH_STAGES,
    REWORK_STAGES,
    DeadlinePolicy,
    calendar_of,
    due_after,
    memo_of,
    resolution_budget,
)
from gridcore.cases.records import Case
from gridcore.cases.vocabulary import Action, JSONValue
from gridcore.categories import Stage

__all__ = ["PREPARE", "Prepare"]

Prepare: TypeAlias = Callable[[Case, datetime, "DeadlinePolicy | None", dict[str, JSONValue]], None]
"""Adds what an action computes (deadlines, defaults) to the payload before the event."""


def _resolution(
    case: Case,
    now: datetime,
    policy: DeadlinePolicy | None,
    p: dict[str, JSONValue],
    stages: tuple[Stage, ...],
) -> None:
    """Write a fresh "due" (+ "budget_s") counted from `now` over `stages`, if limits exist."""
    if policy is None:
        return
    memo = memo_of(policy)
    budget = resolution_budget(policy, case.info.category, stages, memo)
    if budget is not None:
        p["due"] = due_after(budget.calendar, now, budget.work, memo)
        p["budget_s"] = budget.seconds


def _prep_dispatch(
    c: Case, now: datetime, policy: DeadlinePolicy | None, p: dict[str, JSONValue]
) -> None:
    if "due" not in p:
        _resolution(c, now, policy, p, DISPATCH_STAGES)


def _prep_escalate(
    c: Case, now: datetime, policy: DeadlinePolicy | None, p: dict[str, JSONValue]
) -> None:
    # Each climb gives the new owner a fresh deadline (三级督办), in working time from now:
    # the category's limit for the new level, else its sign-for + handling limits again.
    if "due" in p or policy is None:
        return
    level = p.get("level")
    cat = c.info.category
    limit = policy.level_limit_for(cat, level) if isinstance(level, str) else None
    if limit is None:
        _resolution(c, now, policy, p, DISPATCH_STAGES)
    else:
        p["due"] = due_after(policy.calendar_for(cat), now, limit, memo_of(policy))
        p["budget_s"] = limit.total_seconds()


def _prep_reroute(
    c: Case, now: datetime, policy: DeadlinePolicy | None, p: dict[str, JSONValue]
) -> None:
    if p.get("level") is None:
        p["level"] = c.level


def _prep_reopen(
    c: Case, now: datetime, policy: DeadlinePolicy | None, p: dict[str, JSONValue]
) -> None:
    p["to"] = c.owner
    p["level"] = c.level
    if "due" not in p:
        _resolution(c, now, policy, p, DISPATCH_STAGES)


def _prep_rework(
    c: Case, now: datetime, policy: DeadlinePolicy | None, p: dict[str, JSONValue]
) -> None:
    if "due" not in p:
        _resolution(c, now, policy, p, REWORK_STAGES)
        if "due" not in p and c.due is not None:
            p["due"] = c.due.isoformat()


def _prep_extension(
    c: Case, now: datetime, policy: DeadlinePolicy | None, p: dict[str, JSONValue]
) -> None:
    ext = c.extra.pending_extension
    assert ext is not None  # guarded by G_PENDING_EXT
    p["extra_s"] = ext.total_seconds()
    if c.due is not None:
        p["due"] = due_after(calendar_of(c, policy), c.due, ext, memo_of(policy))


def _prep_resume(
    c: Case, now: datetime, policy: DeadlinePolicy | None, p: dict[str, JSONValue]
) -> None:
    since = c.extra.parked_since
    assert since is not None  # a parked case always has parked_since
    cal = calendar_of(c, policy)
    parked = cal.between(since, now)
    p["parked_s"] = parked.total_seconds()
    if c.due is not None:
        # The clock stopped while parked: the deadline moves by the parked working time.
        p["due"] = due_after(cal, c.due, parked, memo_of(policy))


PREPARE: Final[Mapping[Action, Prepare]] = MappingProxyType(
    {
        Action.DISPATCH: _prep_dispatch,
        Action.ESCALATE: _prep_escalate,
        Action.TRANSFER: _prep_reroute,
        Action.APPROVE_RETURN: _prep_reroute,
        Action.REOPEN: _prep_reopen,
        Action.REWORK: _prep_rework,
        Action.APPROVE_EXTENSION: _prep_extension,
        Action.RESUME: _prep_resume,
    }
)

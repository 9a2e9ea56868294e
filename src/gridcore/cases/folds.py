"""Folds: how each accepted event changes a case (shared by `apply` and replay).

A fold is a plain function `(case, event) -> case`; the table (`table.py`) names the one
each transition uses. Most events are plain steps (`fold_same` inside a stage, whose
clock keeps running; `fold_new` into another stage, whose clock starts at the event),
which rebuild only the small case record and share its parts.

Hot path: a fold runs once per accepted action and per replayed event. What protects
it: the property test `tests/property/test_case_machine.py` (every case equals the
replay of its events, and their JSON round trip) and the golden runs
(`tests/sim/test_golden.py`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Final, TypeAlias

from gridcore.cases.records import (
    NO_EXTRA,
    UNASSIGNED,
    Case,
    CaseAssignment,
    CaseEvent,
    CaseExtra,
    CaseInfo,
    assignment_record,
    case_record,
    info_record,
)
from gridcore.cases.vocabulary import (
    START_STATE,
    STATE_STAGE,
    Action,
    EventLogError,
    Payload,
    State,
)
from gridcore.categories import Stage
from gridcore.ids import AreaCode, CaseId, CategoryCode, PersonId

__all__ = ["FOLDS", "Fold", "case_from_report", "fold_new", "fold_same"]

Fold: TypeAlias = Callable[[Case, CaseEvent], Case]
"""How an accepted event changes a case (shared by `apply` and `Case.replay`)."""


@functools.lru_cache(maxsize=4096)
def _instant(text: str) -> datetime:
    """`datetime.fromisoformat(text)`, remembered: deadlines recur (a pure function)."""
    return datetime.fromisoformat(text)


@functools.lru_cache(maxsize=4096)
def _seconds(s: float) -> timedelta:
    """`timedelta(seconds=s)`, remembered: budgets recur (a pure function)."""
    return timedelta(seconds=s)


def case_from_report(e: CaseEvent) -> Case:
    if e.action != Action.REPORT or e.seq != 1 or e.from_state is not None:
        raise EventLogError(
            f"case {e.case_id!r}: first event is {e.action!r} #{e.seq}: expected report #1"
        )
    p = e.payload
    info = info_record(
        (
            CategoryCode(str(p["category"])),
            AreaCode(str(p["grid"])),
            e.actor,
            str(p.get("channel", "")),
            e.at,
            int(p.get("severity", 0) or 0),  # type: ignore[arg-type]
        )
    )
    return case_record((e.case_id, START_STATE, 1, e.at, e.at, 1, UNASSIGNED, info, NO_EXTRA))


def fold_same(c: Case, e: CaseEvent) -> Case:
    """A plain step inside the same stage: only state, seq and time change."""
    # A plain step is most of a case's steps: built in one C call.
    return case_record(
        (c.id, e.to_state, e.seq, e.at, c.stage_since, c.stage_seq, c.assignment, c.info, c.extra),
    )


def fold_new(c: Case, e: CaseEvent) -> Case:
    """A plain step into another stage: its clock starts now."""
    at = e.at
    seq = e.seq
    return case_record((c.id, e.to_state, seq, at, at, seq, c.assignment, c.info, c.extra))


# A plain dict: the stage of each state, looked up twice per evolved fold.
_STAGE_OF: Final[dict[State, Stage | None]] = dict(STATE_STAGE)


def _evolved(
    c: Case, e: CaseEvent, assignment: CaseAssignment, info: CaseInfo, extra: CaseExtra
) -> Case:
    if _STAGE_OF[e.to_state] is _STAGE_OF[c.state]:
        return case_record(
            (c.id, e.to_state, e.seq, e.at, c.stage_since, c.stage_seq, assignment, info, extra),
        )
    at = e.at
    seq = e.seq
    return case_record((c.id, e.to_state, seq, at, at, seq, assignment, info, extra))


def _due_of(a: CaseAssignment, p: Payload) -> tuple[datetime | None, timedelta | None]:
    raw = p.get("due")
    if raw is None:
        return a.due, a.due_budget
    due = _instant(str(raw))
    b = p.get("budget_s")
    if b is None:
        return due, a.due_budget
    return due, _seconds(float(b))  # type: ignore[arg-type]


def _with_due(a: CaseAssignment, p: Payload) -> CaseAssignment:
    if p.get("due") is None:
        return a
    due, budget = _due_of(a, p)
    return assignment_record(
        (a.owner, a.level, a.handler, a.first_handler, due, budget, a.handled_by)
    )


def _fired(x: CaseExtra, p: Payload) -> frozenset[tuple[str, int]]:
    rule = p.get("rule")
    if rule is None:
        return x.fired
    return x.fired | {(str(rule), int(p.get("epoch", 0) or 0))}  # type: ignore[arg-type]


def _routed(c: Case, e: CaseEvent, extra: CaseExtra) -> Case:
    """The case handed to a new owner ("to"/"level"), waiting for its sign-for."""
    p = e.payload
    a = c.assignment
    due, budget = _due_of(a, p)
    level = p.get("level")
    to = str(p["to"])
    new = assignment_record(
        (
            to,
            a.level if level is None else str(level),
            None,
            a.first_handler,
            due,
            budget,
            a.handled_by,
        )
    )
    return _evolved(c, e, new, c.info, extra)


def _fold_dispatch(c: Case, e: CaseEvent) -> Case:
    sup = e.payload.get("supervisor")
    x = c.extra if sup is None else c.extra._replace(supervisor=PersonId(str(sup)))
    return _routed(c, e, x)


def _fold_sign_for(c: Case, e: CaseEvent) -> Case:
    a = c.assignment
    # 首办必须负责: the first sign-for fixes the first handler for good.
    who = e.actor
    first = who if a.first_handler is None else a.first_handler
    # 核查: everyone who ever signed for it is remembered, so none of them checks it.
    ever = a.handled_by if who in a.handled_by else (*a.handled_by, who)
    new = assignment_record((a.owner, a.level, who, first, a.due, a.due_budget, ever))
    return _evolved(c, e, new, c.info, c.extra)


def _released(x: CaseExtra, **changes: Any) -> CaseExtra:
    """The side-path state a case drops when it leaves its handler."""
    return x._replace(
        pending_return=None, pending_extension=None, beyond_authority=False, **changes
    )


def _fold_transfer(c: Case, e: CaseEvent) -> Case:
    return _routed(c, e, _released(c.extra, transfer_count=c.extra.transfer_count + 1))


def _fold_approve_return(c: Case, e: CaseEvent) -> Case:
    return _routed(c, e, _released(c.extra, return_count=c.extra.return_count + 1))


def _fold_escalate(c: Case, e: CaseEvent) -> Case:
    p = e.payload
    x = c.extra
    sup = p.get("supervision")
    supervisor = p.get("supervisor")
    x = _released(
        x,
        escalation_level=x.escalation_level + 1,
        supervision=x.supervision if sup is None else max(x.supervision, int(sup)),  # type: ignore[arg-type]
        supervisor=x.supervisor if supervisor is None else PersonId(str(supervisor)),
        fired=_fired(x, p),
    )
    new = _routed(c, e, x)
    # A climb starts the new owner's clock, also when the case was still unsigned (the
    # sign-for stage then begins again at the new level).
    return new if new.stage_seq == e.seq else new._replace(stage_since=e.at, stage_seq=e.seq)


def _fold_reopen(c: Case, e: CaseEvent) -> Case:
    return _routed(c, e, c.extra._replace(reopen_count=c.extra.reopen_count + 1))


def _fold_extra(c: Case, e: CaseEvent, extra: CaseExtra) -> Case:
    return _evolved(c, e, c.assignment, c.info, extra)


def _fold_register(c: Case, e: CaseEvent) -> Case:
    sev = e.payload.get("severity")
    info = c.info if sev is None else c.info._replace(severity=int(sev))  # type: ignore[arg-type]
    return _evolved(c, e, c.assignment, info, c.extra)


def _fold_request_return(c: Case, e: CaseEvent) -> Case:
    return _fold_extra(c, e, c.extra._replace(pending_return=e.reason))


def _fold_reject_return(c: Case, e: CaseEvent) -> Case:
    return _fold_extra(c, e, c.extra._replace(pending_return=None))


def _fold_assist(c: Case, e: CaseEvent) -> Case:
    raw = e.payload.get("co_handlers")
    added = (PersonId(str(x)) for x in raw)  # type: ignore[union-attr]
    co = tuple(dict.fromkeys((*c.extra.co_handlers, *added)))
    return _fold_extra(c, e, c.extra._replace(co_handlers=co))


def _fold_request_extension(c: Case, e: CaseEvent) -> Case:
    ext = timedelta(seconds=float(e.payload["extra_s"]))  # type: ignore[arg-type]
    return _fold_extra(c, e, c.extra._replace(pending_extension=ext))


def _fold_approve_extension(c: Case, e: CaseEvent) -> Case:
    p = e.payload
    ext = timedelta(seconds=float(p["extra_s"]))  # type: ignore[arg-type]
    x = c.extra._replace(pending_extension=None, extension_granted=c.extra.extension_granted + ext)
    a = _with_due(c.assignment, p)
    if a.due_budget is not None and p.get("budget_s") is None:
        a = a._replace(due_budget=a.due_budget + ext)
    return _evolved(c, e, a, c.info, x)


def _fold_reject_extension(c: Case, e: CaseEvent) -> Case:
    return _fold_extra(c, e, c.extra._replace(pending_extension=None))


def _fold_park(c: Case, e: CaseEvent) -> Case:
    return _fold_extra(c, e, c.extra._replace(parked_since=e.at))


def _fold_resume(c: Case, e: CaseEvent) -> Case:
    parked = timedelta(seconds=float(e.payload.get("parked_s", 0.0) or 0.0))  # type: ignore[arg-type]
    x = c.extra._replace(parked_since=None, parked_total=c.extra.parked_total + parked)
    return _evolved(c, e, _with_due(c.assignment, e.payload), c.info, x)


def _fold_declare(c: Case, e: CaseEvent) -> Case:
    return _fold_extra(c, e, c.extra._replace(beyond_authority=True))


def _fold_supervise(c: Case, e: CaseEvent) -> Case:
    p = e.payload
    sup = int(p["supervision"])  # type: ignore[arg-type]
    x = c.extra._replace(supervision=max(c.extra.supervision, sup), fired=_fired(c.extra, p))
    return _fold_extra(c, e, x)


def _fold_warn(c: Case, e: CaseEvent) -> Case:
    return _fold_extra(c, e, c.extra._replace(fired=_fired(c.extra, e.payload)))


def _fold_rework(c: Case, e: CaseEvent) -> Case:
    x = c.extra._replace(rework_count=c.extra.rework_count + 1)
    return _evolved(c, e, _with_due(c.assignment, e.payload), c.info, x)


def _fold_merge(c: Case, e: CaseEvent) -> Case:
    into = CaseId(str(e.payload["into"]))
    return _fold_extra(c, e, c.extra._replace(merged_into=into))


FOLDS: Final[Mapping[Action, Callable[[Case, CaseEvent], Case]]] = MappingProxyType(
    {
        Action.REGISTER: _fold_register,
        Action.DISPATCH: _fold_dispatch,
        Action.SIGN_FOR: _fold_sign_for,
        Action.TRANSFER: _fold_transfer,
        Action.APPROVE_RETURN: _fold_approve_return,
        Action.ESCALATE: _fold_escalate,
        Action.REOPEN: _fold_reopen,
        Action.REQUEST_RETURN: _fold_request_return,
        Action.REJECT_RETURN: _fold_reject_return,
        Action.ASSIST: _fold_assist,
        Action.REQUEST_EXTENSION: _fold_request_extension,
        Action.APPROVE_EXTENSION: _fold_approve_extension,
        Action.REJECT_EXTENSION: _fold_reject_extension,
        Action.PARK: _fold_park,
        Action.RESUME: _fold_resume,
        Action.DECLARE_BEYOND_AUTHORITY: _fold_declare,
        Action.SUPERVISE: _fold_supervise,
        Action.WARN: _fold_warn,
        Action.REWORK: _fold_rework,
        Action.MERGE: _fold_merge,
    }
)

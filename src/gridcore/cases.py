"""The case (事件/案件) closed loop: states, actions, the transition table, the case record.

The table is data (`TRANSITIONS`): (state, action) -> `Transition` with the next state,
the desk roles allowed to take the action and the guards (typed functions) that must
pass. One pure function, `apply`, checks an action against the table and returns the new
case, the event that records it and the notifications it causes; a refused action raises
`gridcore.errors.TransitionRefused` naming the case, state, action, actor and rule, and
changes nothing. A case is a fold of its events (`Case.replay`); `CaseLog` owns cases and
their event lists and appends with optimistic concurrency.

The iron rules (铁律) are guards that no caller can bypass:

- 签收必须办理: once signed for, a case leaves its handler only by transfer, an approved
  return or an escalation; it cannot be voided, merged, cancelled, re-dispatched or
  signed for by anyone else, and only its handler acts on it.
- 首办必须负责: the first handler is fixed at the first sign-for and stays accountable
  through every transfer; no event can name another one.
- 转办必须阐明理由: a transfer and a return request need a non-empty reason, kept in the
  event.
- The check before closing (核查) is done by someone who is neither the handler nor a
  co-handler.

Deadlines: the resolution deadline `due` is set at dispatch from the category's
sign-for + handling limits in working time (`DeadlinePolicy`), moved by an approved
extension and by the working time spent parked (挂账), and reset by a rework or a reopen.
Every event that sets or moves it writes "due" (ISO 8601) into its payload, so replaying
needs no calendar.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, NamedTuple, Protocol, TypeAlias, cast
from zoneinfo import ZoneInfo

import attrs

from gridcore.categories import Stage, Taxonomy
from gridcore.clock import (
    Calendar,
    CalendarSet,
    RoundTheClock,
    WarningLight,
    WorkingHoursCalendar,
    warning_light,
    warning_light_us,
)
from gridcore.errors import (
    CaseError,
    ConfigError,
    FileFormatError,
    StaleSequenceError,
    TransitionRefused,
    UnknownItemError,
)
from gridcore.ids import AreaCode, CaseId, CategoryCode, PersonId

__all__ = [
    "FINAL_STATES",
    "HELD_STATES",
    "OPEN_STATES",
    "OWNER_LEVELS",
    "PARENT_LEVEL",
    "RESOLVED_STATES",
    "START_STATE",
    "STATE_STAGE",
    "TRANSITIONS",
    "Action",
    "Actor",
    "Assignment",
    "Case",
    "CaseEvent",
    "CaseExtra",
    "CaseInfo",
    "CaseLog",
    "CategoryDeadlines",
    "DeadlinePolicy",
    "DeskRole",
    "DuplicateCaseError",
    "EventLogError",
    "FixedDeadlines",
    "Guard",
    "JSONValue",
    "Notification",
    "Outcome",
    "Payload",
    "Rule",
    "State",
    "Transition",
    "apply",
    "case_light",
    "event_from_dict",
    "event_from_json",
    "event_to_dict",
    "event_to_json",
    "follow",
    "level_rank",
    "mermaid_diagram",
    "report",
    "stage_deadline",
]

JSONValue: TypeAlias = "str | int | float | bool | list[JSONValue] | dict[str, JSONValue] | None"
"""A value that JSON carries as is."""

Payload: TypeAlias = Mapping[str, JSONValue]
"""An event's extra data: JSON-safe values by key (lists as lists, never tuples)."""


class EventLogError(CaseError):
    """An event or event list that does not fit the case it is folded onto."""


class DuplicateCaseError(CaseError):
    """A report for a case id that the log already holds."""


# -- states, actions, roles, rules ---------------------------------------------------


class State(StrEnum):
    """Where a case is in its life."""

    REPORTED = "reported"
    VERIFIED = "verified"
    REGISTERED = "registered"
    DISPATCHED = "dispatched"
    SIGNED_FOR = "signed_for"
    IN_PROGRESS = "in_progress"
    PARKED = "parked"
    HANDLED = "handled"
    CLOSED = "closed"
    EVALUATED = "evaluated"
    CANCELLED = "cancelled"
    MERGED = "merged"
    VOIDED = "voided"


class Action(StrEnum):
    """What a desk can do to a case; each accepted action becomes one event."""

    REPORT = "report"
    VERIFY = "verify"
    CANCEL = "cancel"
    REGISTER = "register"
    DISPATCH = "dispatch"
    SIGN_FOR = "sign_for"
    START = "start"
    HANDLE = "handle"
    CLOSE = "close"
    REWORK = "rework"
    EVALUATE = "evaluate"
    REOPEN = "reopen"
    REQUEST_RETURN = "request_return"
    APPROVE_RETURN = "approve_return"
    REJECT_RETURN = "reject_return"
    TRANSFER = "transfer"
    ASSIST = "assist"
    REQUEST_EXTENSION = "request_extension"
    APPROVE_EXTENSION = "approve_extension"
    REJECT_EXTENSION = "reject_extension"
    PARK = "park"
    RESUME = "resume"
    DECLARE_BEYOND_AUTHORITY = "declare_beyond_authority"
    ESCALATE = "escalate"
    SUPERVISE = "supervise"
    WARN = "warn"
    MERGE = "merge"
    VOID = "void"


class DeskRole(StrEnum):
    """The role in which a person (or the system) acts on a case."""

    REPORTER = "reporter"
    GRID_WORKER = "grid_worker"
    DISPATCHER = "dispatcher"
    HANDLER = "handler"
    CHECKER = "checker"
    SUPERVISOR = "supervisor"
    EVALUATOR = "evaluator"
    SYSTEM = "system"


class Rule(StrEnum):
    """The rule that refused an action (`TransitionRefused.rule`)."""

    TABLE = "transition_table"
    ROLE = "role_allowed"
    TIME_ORDER = "time_order"
    SIGNED_MUST_HANDLE = "签收必须办理"
    FIRST_HANDLER = "首办必须负责"
    REASON = "转办必须阐明理由"
    CHECKER_NOT_HANDLER = "checker_not_handler"
    BY_HANDLER = "by_handler"
    BY_OWNER = "by_owner"
    REASON_REQUIRED = "reason_required"
    PAYLOAD = "payload"
    PENDING = "pending_request"
    ESCALATE_UP = "escalate_upwards"
    UNIQUE_ID = "unique_case_id"


START_STATE: Final = State.REPORTED
"""The state of a case right after its `report` event."""

OWNER_LEVELS: Final[tuple[str, ...]] = (
    "grid",
    "community",
    "street",
    "district",
    "city",
    "department",
)
"""Levels an owner can sit at (the "level" payload)."""

_LEVEL_RANK: Final[Mapping[str, int]] = MappingProxyType(
    {"grid": 0, "community": 1, "street": 2, "district": 3, "department": 3, "city": 4}
)

PARENT_LEVEL: Final[Mapping[str, str]] = MappingProxyType(
    {"grid": "community", "community": "street", "street": "department", "district": "city"}
)
"""The level a case escalates to from each level (grid -> community -> street -> department)."""


def level_rank(level: str | None) -> int:
    """Height of a level: grid 0 < community 1 < street 2 < district = department 3 < city 4."""
    if level is None:
        return -1
    return _LEVEL_RANK[level]


STATE_STAGE: Final[Mapping[State, Stage | None]] = MappingProxyType(
    {
        State.REPORTED: Stage.VERIFY,
        State.VERIFIED: Stage.DISPATCH,
        State.REGISTERED: Stage.DISPATCH,
        State.DISPATCHED: Stage.SIGN_FOR,
        State.SIGNED_FOR: Stage.HANDLE,
        State.IN_PROGRESS: Stage.HANDLE,
        State.PARKED: None,
        State.HANDLED: Stage.CHECK,
        State.CLOSED: None,
        State.EVALUATED: None,
        State.CANCELLED: None,
        State.MERGED: None,
        State.VOIDED: None,
    }
)
"""The time-limited stage each state belongs to (None: no clock runs)."""

FINAL_STATES: Final = frozenset({State.EVALUATED, State.CANCELLED, State.MERGED, State.VOIDED})
"""States with no exit in the table."""

RESOLVED_STATES: Final = frozenset({State.CLOSED, State.EVALUATED})
"""States that count as resolved (a closed case can still be evaluated or reopened)."""

OPEN_STATES: Final = frozenset(State) - FINAL_STATES - RESOLVED_STATES
"""States of a case still being worked on."""

HELD_STATES: Final = frozenset({State.SIGNED_FOR, State.IN_PROGRESS, State.PARKED, State.HANDLED})
"""States in which a handler holds the case (签收必须办理 applies)."""

# Actions that would take a signed-for case away from its handler without a transfer,
# a return or an escalation: refused under 签收必须办理 rather than "no transition".
_RELEASING: Final = frozenset(
    {Action.CANCEL, Action.VOID, Action.MERGE, Action.DISPATCH, Action.SIGN_FOR}
)

_REPORT_ROLES: Final = frozenset(
    {DeskRole.REPORTER, DeskRole.GRID_WORKER, DeskRole.DISPATCHER, DeskRole.SYSTEM}
)


# -- values ----------------------------------------------------------------------------


@attrs.frozen
class Actor:
    """Who takes an action: a person id, the desk role, and the unit (department) acted for."""

    id: PersonId
    role: DeskRole
    unit: str = ""


class CaseInfo(NamedTuple):
    """What a case is about, fixed at report (severity may be set again at registration)."""

    category: CategoryCode
    grid: AreaCode
    reporter: PersonId
    channel: str
    reported_at: datetime
    severity: int


_ZERO: Final = timedelta(0)


class CaseExtra(NamedTuple):
    """The side-path part of a case: counters, pending requests, parking, supervision."""

    co_handlers: tuple[PersonId, ...] = ()
    rework_count: int = 0
    transfer_count: int = 0
    return_count: int = 0
    escalation_level: int = 0
    reopen_count: int = 0
    supervision: int = 0
    supervisor: PersonId | None = None
    parked_since: datetime | None = None
    parked_total: timedelta = _ZERO
    extension_granted: timedelta = _ZERO
    pending_return: str | None = None
    pending_extension: timedelta | None = None
    beyond_authority: bool = False
    merged_into: CaseId | None = None
    fired: frozenset[tuple[str, int]] = frozenset()


_NO_EXTRA: Final = CaseExtra()


class Assignment(NamedTuple):
    """Who holds a case and by when: owner and level, handler, first handler, deadline."""

    owner: str | None = None
    level: str | None = None
    handler: PersonId | None = None
    first_handler: PersonId | None = None
    due: datetime | None = None
    due_budget: timedelta | None = None


_UNASSIGNED: Final = Assignment()


class Case(NamedTuple):
    """A case as of its last event (a fold of its events).

    The record is small so that `apply` stays cheap: who holds it and by when is in
    `assignment`, what is fixed at report in `info`, the side-path counters and requests
    in `extra`; versions share these parts while unchanged. Properties give flat names.
    A named tuple (see docs/design.md): `_replace` changes fields, `_fields` names them.
    """

    id: CaseId
    state: State
    seq: int
    updated_at: datetime
    stage_since: datetime
    stage_seq: int
    assignment: Assignment
    info: CaseInfo
    extra: CaseExtra = _NO_EXTRA

    @property
    def owner(self) -> str | None:
        """The person or department the case is dispatched to (None before dispatch)."""
        return self.assignment.owner

    @property
    def level(self) -> str | None:
        """The level the owner sits at (one of `OWNER_LEVELS`)."""
        return self.assignment.level

    @property
    def handler(self) -> PersonId | None:
        """Who signed for it and holds it now (None until signed for by the current owner)."""
        return self.assignment.handler

    @property
    def first_handler(self) -> PersonId | None:
        """Who signed for it first (首办): fixed for good at the first sign-for."""
        return self.assignment.first_handler

    @property
    def due(self) -> datetime | None:
        """The resolution deadline (None before dispatch or without limits)."""
        return self.assignment.due

    @property
    def due_budget(self) -> timedelta | None:
        """The working time `due` stands for (sign-for + handling limits, + extensions)."""
        return self.assignment.due_budget

    @property
    def category(self) -> CategoryCode:
        """The category code."""
        return self.info.category

    @property
    def grid(self) -> AreaCode:
        """The grid the case is in."""
        return self.info.grid

    @property
    def reporter(self) -> PersonId:
        """Who reported it (told at sign-for, handling and completion)."""
        return self.info.reporter

    @property
    def severity(self) -> int:
        """Severity 1 (low) .. 4 (critical); 0 when unknown."""
        return self.info.severity

    @property
    def stage(self) -> Stage | None:
        """The time-limited stage the case is in (None when no clock runs)."""
        return STATE_STAGE[self.state]

    @property
    def co_handlers(self) -> tuple[PersonId, ...]:
        """Everyone added by assist (协办), in order."""
        return self.extra.co_handlers

    @property
    def rework_count(self) -> int:
        """Failed checks so far (返工)."""
        return self.extra.rework_count

    @property
    def transfer_count(self) -> int:
        """Transfers so far (转办)."""
        return self.extra.transfer_count

    @property
    def return_count(self) -> int:
        """Approved returns so far (回退)."""
        return self.extra.return_count

    @property
    def escalation_level(self) -> int:
        """Escalations so far."""
        return self.extra.escalation_level

    @property
    def reopen_count(self) -> int:
        """Reopens so far."""
        return self.extra.reopen_count

    @property
    def parked_since(self) -> datetime | None:
        """When the case was parked (挂账), None unless parked."""
        return self.extra.parked_since

    @property
    def extension_granted(self) -> timedelta:
        """Working time added by approved extensions (延时)."""
        return self.extra.extension_granted

    @property
    def pending_return(self) -> str | None:
        """The reason of a return request awaiting the dispatcher, else None."""
        return self.extra.pending_return

    @property
    def pending_extension(self) -> timedelta | None:
        """The working time of an extension request awaiting approval, else None."""
        return self.extra.pending_extension

    @property
    def merged_into(self) -> CaseId | None:
        """The case this one was merged into as a duplicate."""
        return self.extra.merged_into

    @property
    def is_final(self) -> bool:
        """Whether no action can change the case any more."""
        return self.state in FINAL_STATES

    @property
    def accountable(self) -> str | None:
        """Who answers for the case now: the first handler once signed for, else the owner."""
        return self.first_handler if self.first_handler is not None else self.owner

    @classmethod
    def replay(cls, events: Iterable[CaseEvent]) -> Case:
        """The case as the fold of its events (first one a report), checking their order."""
        it = iter(events)
        first = next(it, None)
        if first is None:
            raise EventLogError("cannot replay an empty event list: expected a report first")
        case = _case_from_report(first)
        for e in it:
            if e.seq != case.seq + 1 or e.case_id != case.id or e.from_state != case.state:
                raise EventLogError(
                    f"case {case.id!r}: event {e.case_id!r}#{e.seq} from {e.from_state!r} "
                    f"does not follow #{case.seq} in state {case.state.value!r}"
                )
            tr = _TABLE.get((case.state, e.action))
            if tr is None or tr.target != e.to_state:
                raise EventLogError(
                    f"case {case.id!r}: event #{e.seq} {e.action!r} from {case.state.value!r} "
                    f"to {e.to_state!r} is not in the transition table"
                )
            case = tr.fold(case, e)
        return case


class CaseEvent(NamedTuple):
    """One accepted action on a case, immutable; a case's state is the fold of these.

    A named tuple (see docs/design.md): `_replace` changes fields, `_fields` names them.
    """

    case_id: CaseId
    seq: int
    at: datetime
    actor: PersonId
    role: str
    action: Action
    from_state: State | None
    to_state: State
    reason: str
    payload: Payload  # compared, not hashed (a read-only view)

    def __hash__(self) -> int:
        # Every field but `payload` (a MappingProxyType, unhashable), as the attrs class
        # hashed: equal events hash equal.
        return hash(self[:9])

    def to_json(self) -> str:
        """This event as a JSON text (instants ISO 8601 with offset)."""
        return event_to_json(self)

    @classmethod
    def from_json(cls, text: str) -> CaseEvent:
        """The event from `to_json` text."""
        return event_from_json(text)


@attrs.frozen
class Notification:
    """A message for the application to deliver: to a person, or to a role when `to` is ""."""

    kind: str
    case_id: CaseId
    to: str
    to_role: DeskRole
    at: datetime
    seq: int
    detail: str = ""


Outcome: TypeAlias = tuple[Case, CaseEvent, tuple[Notification, ...]]
"""What `apply` returns: the new case, its event and the notifications it causes."""

GuardCheck: TypeAlias = Callable[[Case, Actor, str, Payload], str]
"""A guard's test: (case, actor, reason, payload) -> "" when it passes, else what is wrong."""

Fold: TypeAlias = Callable[[Case, CaseEvent], Case]
"""How an accepted event changes a case (shared by `apply` and `Case.replay`)."""

Prepare: TypeAlias = Callable[[Case, datetime, "DeadlinePolicy | None", dict[str, JSONValue]], None]
"""Adds what an action computes (deadlines, defaults) to the payload before the event."""

Notify: TypeAlias = Callable[[Case, CaseEvent], tuple[Notification, ...]]
"""The notifications an accepted event causes."""


@attrs.frozen
class Guard:
    """A named check on an action: `check` returns "" when it passes, else what is wrong."""

    rule: Rule
    check: GuardCheck
    doc: str


@attrs.frozen
class Transition:
    """One entry of the table: from `source` by `action` to `target`, by `roles`, if `guards`."""

    source: State
    action: Action
    target: State
    roles: frozenset[DeskRole]
    guards: tuple[Guard, ...]
    fold: Fold = attrs.field(repr=False)
    prepare: Prepare | None = attrs.field(default=None, repr=False)
    notify: Notify | None = attrs.field(default=None, repr=False)


# -- fast constructors -----------------------------------------------------------------
#
# `Case` and `CaseEvent` are named tuples: the hot paths build them with
# `_tuple_new(Case, (...))`, one C call (about 0.3 us for ten fields, against 1.5 us for
# an attrs slotted class filled slot by slot), skipping the generated `__new__`'s
# argument parsing; the value is the one `Case(...)` gives.
#
# attrs' frozen __init__ sets each field through `object.__setattr__` by name (about 0.1 us
# a field). For the attrs values below the hot paths call each slot's member descriptor
# directly, which the frozen `__setattr__` never sees; the instances are
# indistinguishable from constructed ones (same type, fields, equality, hash).

_tuple_new: Final = tuple.__new__

_SlotSet: TypeAlias = Callable[[object, Any], None]
_new_obj: Final = object.__new__


def _slot_setters(cls: type, names: Sequence[str]) -> tuple[_SlotSet, ...]:
    fields = [f.name for f in attrs.fields(cls)]
    if list(names) != fields:  # pragma: no cover - guards against a field list drifting
        raise ConfigError(f"fast constructor of {cls.__name__}: fields {fields}, got {names}")
    return tuple(cls.__dict__[n].__set__ for n in names)


def _assignment(
    owner: str | None,
    level: str | None,
    handler: PersonId | None,
    first_handler: PersonId | None,
    due: datetime | None,
    due_budget: timedelta | None,
) -> Assignment:
    """`Assignment(...)` in one C call (same value)."""
    a: Assignment = _tuple_new(Assignment, (owner, level, handler, first_handler, due, due_budget))
    return a


(_n_kind, _n_case_id, _n_to, _n_to_role, _n_at, _n_seq, _n_detail) = _slot_setters(
    Notification, ("kind", "case_id", "to", "to_role", "at", "seq", "detail")
)


def _notification(
    kind: str, case_id: CaseId, to: str, to_role: DeskRole, at: datetime, seq: int, detail: str
) -> Notification:
    """`Notification(...)` without attrs' per-field `object.__setattr__` (same value)."""
    n: Notification = _new_obj(Notification)
    _n_kind(n, kind)
    _n_case_id(n, case_id)
    _n_to(n, to)
    _n_to_role(n, to_role)
    _n_at(n, at)
    _n_seq(n, seq)
    _n_detail(n, detail)
    return n


def _case_info(
    category: CategoryCode,
    grid: AreaCode,
    reporter: PersonId,
    channel: str,
    reported_at: datetime,
    severity: int,
) -> CaseInfo:
    """`CaseInfo(...)` in one C call (same value)."""
    i: CaseInfo = _tuple_new(CaseInfo, (category, grid, reporter, channel, reported_at, severity))
    return i


# -- guards ---------------------------------------------------------------------------

_EMPTY: Final[Payload] = MappingProxyType({})


def _reason(c: Case, a: Actor, reason: str, p: Payload) -> str:
    return "" if reason.strip() else "a non-empty reason is required"


def _by_handler(c: Case, a: Actor, reason: str, p: Payload) -> str:
    if a.id == c.assignment.handler:
        return ""
    return f"only the handler {c.handler!r} may do this"


def _by_owner(c: Case, a: Actor, reason: str, p: Payload) -> str:
    owner = c.assignment.owner
    if owner == a.id or (a.unit and owner == a.unit):
        return ""
    return f"dispatched to {c.owner!r}, not to {a.id!r} (unit {a.unit!r})"


def _holder(c: Case, a: Actor) -> str:
    # Before sign-for the owner (a person or a unit) holds the case, after it the handler.
    if c.handler is not None:
        return "" if a.id == c.handler else f"only the handler {c.handler!r} may do this"
    if c.owner == a.id or (a.unit and c.owner == a.unit):
        return ""
    return f"only the owner {c.owner!r} may do this"


def _by_holder(c: Case, a: Actor, reason: str, p: Payload) -> str:
    return _holder(c, a)


def _by_holder_or_desk(c: Case, a: Actor, reason: str, p: Payload) -> str:
    return "" if a.role is DeskRole.DISPATCHER else _holder(c, a)


def _checker(c: Case, a: Actor, reason: str, p: Payload) -> str:
    if a.id == c.assignment.handler:
        return f"{a.id!r} is the handler: the check is done by someone else"
    if a.id in c.extra.co_handlers:
        return f"{a.id!r} is a co-handler: the check is done by someone else"
    return ""


def _to(c: Case, a: Actor, reason: str, p: Payload) -> str:
    to = p.get("to")
    if not isinstance(to, str) or not to:
        return f"payload 'to' = {to!r}: expected the non-empty id of the new owner"
    return _level_ok(p, required=False)


def _to_and_level(c: Case, a: Actor, reason: str, p: Payload) -> str:
    to = p.get("to")
    if not isinstance(to, str) or not to:
        return f"payload 'to' = {to!r}: expected the non-empty id of the new owner"
    return _level_ok(p, required=True)


def _level_ok(p: Payload, required: bool) -> str:
    level = p.get("level")
    if level is None and not required:
        return ""
    if not isinstance(level, str) or level not in _LEVEL_RANK:
        return f"payload 'level' = {level!r}: expected one of {list(OWNER_LEVELS)}"
    return ""


def _to_other(c: Case, a: Actor, reason: str, p: Payload) -> str:
    if p.get("to") == c.owner:
        return f"payload 'to' = {c.owner!r} is the current owner: expected another one"
    return ""


def _level_up(c: Case, a: Actor, reason: str, p: Payload) -> str:
    level = p.get("level")
    if isinstance(level, str) and _LEVEL_RANK[level] > level_rank(c.level):
        return ""
    return f"payload 'level' = {level!r} is not above the current level {c.level!r}"


def _supervision(c: Case, a: Actor, reason: str, p: Payload) -> str:
    s = p.get("supervision")
    if type(s) is int and 1 <= s <= 3:
        return ""
    return f"payload 'supervision' = {s!r}: expected a 督办 level 1, 2 or 3"


def _supervision_optional(c: Case, a: Actor, reason: str, p: Payload) -> str:
    return "" if p.get("supervision") is None else _supervision(c, a, reason, p)


def _light(c: Case, a: Actor, reason: str, p: Payload) -> str:
    light = p.get("light")
    if light in ("yellow", "red"):
        return ""
    return f"payload 'light' = {light!r}: expected 'yellow' or 'red'"


def _into(c: Case, a: Actor, reason: str, p: Payload) -> str:
    into = p.get("into")
    if not isinstance(into, str) or not into or into == c.id:
        return f"payload 'into' = {into!r}: expected the id of another case"
    return ""


def _co_handlers(c: Case, a: Actor, reason: str, p: Payload) -> str:
    co = p.get("co_handlers")
    if not isinstance(co, list) or not co or not all(isinstance(x, str) and x for x in co):
        return f"payload 'co_handlers' = {co!r}: expected a non-empty list of person ids"
    if c.handler in co:
        return f"payload 'co_handlers' names the handler {c.handler!r}"
    return ""


def _extra_s(c: Case, a: Actor, reason: str, p: Payload) -> str:
    x = p.get("extra_s")
    if isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) and x > 0:
        return ""
    return f"payload 'extra_s' = {x!r}: expected a positive number of working seconds"


def _severity_optional(c: Case, a: Actor, reason: str, p: Payload) -> str:
    s = p.get("severity")
    if s is None or (type(s) is int and 0 <= s <= 4):
        return ""
    return f"payload 'severity' = {s!r}: expected an int 0..4"


def _due_optional(c: Case, a: Actor, reason: str, p: Payload) -> str:
    raw = p.get("due")
    if raw is None:
        return ""
    try:
        due = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        due = None
    if due is None or due.tzinfo is None:
        return f"payload 'due' = {raw!r}: expected an ISO 8601 instant with an offset"
    return ""


def _pending_return(c: Case, a: Actor, reason: str, p: Payload) -> str:
    return "" if c.extra.pending_return is not None else "no return request is pending"


def _no_pending_return(c: Case, a: Actor, reason: str, p: Payload) -> str:
    if c.extra.pending_return is None:
        return ""
    return "a return request is pending: the dispatcher decides it first"


def _pending_extension(c: Case, a: Actor, reason: str, p: Payload) -> str:
    return "" if c.extra.pending_extension is not None else "no extension request is pending"


def _no_pending_extension(c: Case, a: Actor, reason: str, p: Payload) -> str:
    if c.extra.pending_extension is None:
        return ""
    return "an extension request is already pending"


_G_REASON_IRON = Guard(Rule.REASON, _reason, "a transfer or a return states why")
_G_REASON = Guard(Rule.REASON_REQUIRED, _reason, "the action states why")
_G_BY_HANDLER = Guard(Rule.BY_HANDLER, _by_handler, "only the handler acts (签收必须办理)")
_G_BY_OWNER = Guard(Rule.BY_OWNER, _by_owner, "only the owner dispatched to signs for it")
_G_BY_HOLDER = Guard(Rule.BY_HANDLER, _by_holder, "only who holds the case (handler or owner)")
_G_BY_HOLDER_OR_DESK = Guard(Rule.BY_HANDLER, _by_holder_or_desk, "the holder or the dispatcher")
_G_CHECKER = Guard(Rule.CHECKER_NOT_HANDLER, _checker, "the check is by someone else")
_G_TO = Guard(Rule.PAYLOAD, _to, "a new owner 'to' (and optional 'level')")
_G_TO_LEVEL = Guard(Rule.PAYLOAD, _to_and_level, "a new owner 'to' and its 'level'")
_G_TO_OTHER = Guard(Rule.PAYLOAD, _to_other, "the new owner differs from the current one")
_G_LEVEL_UP = Guard(Rule.ESCALATE_UP, _level_up, "escalation goes to a higher level")
_G_SUPERVISION = Guard(Rule.PAYLOAD, _supervision, "a 督办 level 1..3")
_G_SUPERVISION_OPT = Guard(Rule.PAYLOAD, _supervision_optional, "an optional 督办 level 1..3")
_G_LIGHT = Guard(Rule.PAYLOAD, _light, "the warning light reached")
_G_INTO = Guard(Rule.PAYLOAD, _into, "the case merged into")
_G_CO = Guard(Rule.PAYLOAD, _co_handlers, "co-handlers other than the handler")
_G_EXTRA = Guard(Rule.PAYLOAD, _extra_s, "the extension asked, in working seconds")
_G_SEVERITY = Guard(Rule.PAYLOAD, _severity_optional, "an optional severity 0..4")
_G_DUE = Guard(Rule.PAYLOAD, _due_optional, "an optional explicit deadline 'due'")
_G_PENDING_RETURN = Guard(Rule.PENDING, _pending_return, "a return request is pending")
_G_NO_PENDING_RETURN = Guard(Rule.PENDING, _no_pending_return, "no return request pending")
_G_PENDING_EXT = Guard(Rule.PENDING, _pending_extension, "an extension request is pending")
_G_NO_PENDING_EXT = Guard(Rule.PENDING, _no_pending_extension, "no extension request pending")


# -- the table ------------------------------------------------------------------------

_R = DeskRole
_S = State
_GW_H = (_R.HANDLER, _R.GRID_WORKER)
_DESK = (_R.DISPATCHER, _R.SUPERVISOR)
_WORK = (_S.SIGNED_FOR, _S.IN_PROGRESS)
_HOLD = (_S.DISPATCHED, _S.SIGNED_FOR, _S.IN_PROGRESS)
_EARLY = (_S.REPORTED, _S.VERIFIED, _S.REGISTERED, _S.DISPATCHED)
_ALIVE = (
    _S.REPORTED,
    _S.VERIFIED,
    _S.REGISTERED,
    _S.DISPATCHED,
    _S.SIGNED_FOR,
    _S.IN_PROGRESS,
    _S.PARKED,
    _S.HANDLED,
)

# (action, sources, target (None: stays), roles, guards): the whole life cycle in one place.
_SPEC: Final[
    tuple[
        tuple[Action, tuple[State, ...], State | None, tuple[DeskRole, ...], tuple[Guard, ...]], ...
    ]
] = (
    (Action.VERIFY, (_S.REPORTED,), _S.VERIFIED, (_R.GRID_WORKER, _R.DISPATCHER), ()),
    (Action.CANCEL, (_S.REPORTED,), _S.CANCELLED, (_R.GRID_WORKER, _R.DISPATCHER), (_G_REASON,)),
    (Action.REGISTER, (_S.VERIFIED,), _S.REGISTERED, (_R.DISPATCHER,), (_G_SEVERITY,)),
    (Action.DISPATCH, (_S.REGISTERED,), _S.DISPATCHED, (_R.DISPATCHER,), (_G_TO_LEVEL, _G_DUE)),
    (Action.SIGN_FOR, (_S.DISPATCHED,), _S.SIGNED_FOR, _GW_H, (_G_BY_OWNER,)),
    (Action.START, (_S.SIGNED_FOR,), _S.IN_PROGRESS, _GW_H, (_G_BY_HANDLER,)),
    (
        Action.HANDLE,
        (_S.IN_PROGRESS,),
        _S.HANDLED,
        _GW_H,
        (_G_BY_HANDLER, _G_NO_PENDING_RETURN),
    ),
    (Action.CLOSE, (_S.HANDLED,), _S.CLOSED, (_R.CHECKER, _R.SUPERVISOR), (_G_CHECKER,)),
    (
        Action.REWORK,
        (_S.HANDLED,),
        _S.IN_PROGRESS,
        (_R.CHECKER, _R.SUPERVISOR),
        (_G_CHECKER, _G_REASON, _G_DUE),
    ),
    (Action.EVALUATE, (_S.CLOSED,), _S.EVALUATED, (_R.EVALUATOR, _R.SUPERVISOR, _R.SYSTEM), ()),
    (Action.REOPEN, (_S.CLOSED,), _S.DISPATCHED, _DESK, (_G_REASON, _G_DUE)),
    (
        Action.REQUEST_RETURN,
        _HOLD,
        None,
        _GW_H,
        (_G_BY_HOLDER, _G_REASON_IRON, _G_NO_PENDING_RETURN),
    ),
    (
        Action.APPROVE_RETURN,
        _HOLD,
        _S.DISPATCHED,
        (_R.DISPATCHER,),
        (_G_PENDING_RETURN, _G_TO, _G_TO_OTHER),
    ),
    (Action.REJECT_RETURN, _HOLD, None, (_R.DISPATCHER,), (_G_PENDING_RETURN,)),
    (
        Action.TRANSFER,
        _HOLD,
        _S.DISPATCHED,
        (*_GW_H, _R.DISPATCHER),
        (_G_BY_HOLDER_OR_DESK, _G_REASON_IRON, _G_TO, _G_TO_OTHER, _G_NO_PENDING_RETURN),
    ),
    (Action.ASSIST, _WORK, None, (*_GW_H, _R.DISPATCHER), (_G_BY_HOLDER_OR_DESK, _G_CO)),
    (
        Action.REQUEST_EXTENSION,
        _WORK,
        None,
        _GW_H,
        (_G_BY_HANDLER, _G_REASON, _G_EXTRA, _G_NO_PENDING_EXT),
    ),
    (Action.APPROVE_EXTENSION, _WORK, None, _DESK, (_G_PENDING_EXT,)),
    (Action.REJECT_EXTENSION, _WORK, None, _DESK, (_G_PENDING_EXT,)),
    (Action.PARK, _WORK, _S.PARKED, _DESK, (_G_REASON, _G_NO_PENDING_RETURN)),
    (Action.RESUME, (_S.PARKED,), _S.IN_PROGRESS, (*_DESK, _R.SYSTEM), ()),
    (Action.DECLARE_BEYOND_AUTHORITY, _WORK, None, _GW_H, (_G_BY_HANDLER, _G_REASON)),
    (
        Action.ESCALATE,
        (_S.REGISTERED, *_HOLD),
        _S.DISPATCHED,
        (*_DESK, _R.SYSTEM),
        (_G_REASON, _G_TO_LEVEL, _G_LEVEL_UP, _G_SUPERVISION_OPT, _G_DUE),
    ),
    (Action.SUPERVISE, _ALIVE, None, (_R.SUPERVISOR, _R.SYSTEM), (_G_SUPERVISION,)),
    (Action.WARN, _ALIVE, None, (_R.SUPERVISOR, _R.SYSTEM), (_G_LIGHT,)),
    (Action.MERGE, _EARLY, _S.MERGED, (_R.DISPATCHER,), (_G_INTO,)),
    (Action.VOID, _EARLY, _S.VOIDED, _DESK, (_G_REASON,)),
)


def mermaid_diagram() -> str:
    """The table as a Mermaid `stateDiagram-v2` (`[*]` marks the start and the final states)."""
    lines = ["stateDiagram-v2", f"    [*] --> {START_STATE.value}"]
    for (src, action), tr in TRANSITIONS.items():
        lines.append(f"    {src.value} --> {tr.target.value} : {action.value}")
    for s in State:
        if s in FINAL_STATES:
            lines.append(f"    {s.value} --> [*]")
    return "\n".join(lines) + "\n"


# -- deadlines ------------------------------------------------------------------------


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


@attrs.frozen
class FixedDeadlines:
    """The same calendar and stage limits for every category (tests, simple desks)."""

    calendar: Calendar = attrs.field(factory=RoundTheClock)
    limits: Mapping[Stage, timedelta] = attrs.field(factory=dict, hash=False)
    severity: int = 2
    level_limits: Mapping[str, timedelta] = attrs.field(factory=dict, hash=False)

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
    # (category, stages) -> (calendar, summed limits, their seconds) or None: the
    # resolution budget of `_resolution`, summed once per category.
    _budgets: dict[tuple[str, tuple[Stage, ...]], _Budget | None] = attrs.field(
        factory=dict, init=False, eq=False, repr=False, hash=False
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


_WALL: Final = RoundTheClock()

_Budget: TypeAlias = tuple[Calendar, timedelta, float]


def _budget(policy: DeadlinePolicy, cat: str, stages: tuple[Stage, ...]) -> _Budget | None:
    """The calendar and the summed limits of `stages` (None: no stage has a limit)."""
    if type(policy) is CategoryDeadlines:
        # Exactly this class (a subclass may answer differently): summed once per category.
        budgets = policy._budgets
        key = (cat, stages)
        if key not in budgets:
            budgets[key] = _sum_limits(policy, cat, stages)
        return budgets[key]
    return _sum_limits(policy, cat, stages)


def _sum_limits(policy: DeadlinePolicy, cat: str, stages: tuple[Stage, ...]) -> _Budget | None:
    budget = _ZERO
    found = False
    for st in stages:
        lim = policy.limit_for(cat, st)
        if lim is not None:
            budget += lim
            found = True
    return (policy.calendar_for(cat), budget, budget.total_seconds()) if found else None


# Deadlines as ISO 8601 text, made on epoch seconds: `Calendar.add_seconds` is exact to the
# microsecond and several times cheaper than `add` on datetimes, and the text is formatted
# once per distinct (instant, zone) -- cases dispatched outside working hours share one.
# Only for the calendars and zones whose `add` is known to give the instant and the
# representation `datetime.fromtimestamp(due_s, tz)` gives (the UTC round trip).
_FAST_CALENDARS: Final = (WorkingHoursCalendar, RoundTheClock)
_FAST_ZONES: Final = (ZoneInfo, timezone)
# Below 4e9 s (the year 2096) a float second resolves a microsecond with margin, so the
# float round trip is exact; later instants take the datetime path.
_FAST_MAX_S: Final = 4e9
_MEMO_SIZE: Final = 4096
_due_text: dict[tuple[float, tzinfo | None], str] = {}
# text -> datetime.fromisoformat(text) for the texts made above: the fold of the event
# reads its "due" back without parsing it (the same value parsing gives).
_due_parsed: dict[str, datetime] = {}
# budget seconds -> timedelta(seconds=...), as the fold makes it
_budget_td: dict[float, timedelta] = {}


def _due_after(cal: Calendar, start: datetime, work: timedelta, work_s: float) -> str:
    """`cal.add(start, work).isoformat()`, the same text, cheaply when it can."""
    tz = start.tzinfo
    if (
        work_s > 0.0
        and type(start) is datetime
        and type(cal) in _FAST_CALENDARS
        and type(tz) in _FAST_ZONES
    ):
        start_s = start.timestamp()
        if 0.0 < start_s < _FAST_MAX_S:
            due_s = cal.add_seconds(start_s, work_s)
            if due_s < _FAST_MAX_S:
                key = (due_s, tz)
                text = _due_text.get(key)
                if text is None:
                    text = datetime.fromtimestamp(due_s, tz).isoformat()
                    if len(_due_text) >= _MEMO_SIZE:
                        _due_text.clear()
                        _due_parsed.clear()
                    _due_text[key] = text
                    _due_parsed[text] = datetime.fromisoformat(text)
                return text
    return cal.add(start, work).isoformat()


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
    got = _budget(policy, case.info.category, stages)
    if got is not None:
        cal, budget, budget_s = got
        p["due"] = _due_after(cal, now, budget, budget_s)
        p["budget_s"] = budget_s


_DISPATCH_STAGES: Final = (Stage.SIGN_FOR, Stage.HANDLE)
_REWORK_STAGES: Final = (Stage.HANDLE,)


def _calendar(case: Case, policy: DeadlinePolicy | None) -> Calendar:
    return _WALL if policy is None else policy.calendar_for(case.info.category)


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


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_US: Final = timedelta(microseconds=1)
_FAST_MAX_US: Final = round(_FAST_MAX_S * 1e6)
_FastCalendar: TypeAlias = "WorkingHoursCalendar | RoundTheClock"


def case_light(
    case: Case,
    now: datetime,
    policy: DeadlinePolicy | None,
    yellow_at: float = 0.8,
    red_at: float = 1.0,
) -> WarningLight | None:
    """The warning light of the case's current stage at `now` (frozen while parked).

    None when no clock runs (final, closed, or no limits known).
    """
    # The fast path: the same arithmetic on epoch microseconds (ints, exact) through the
    # calendars' `add_us`/`between_us`, for the calendars and zones `_due_after` knows;
    # anything else (or out of range) takes the datetime path below.
    state = case.state
    parked = state is State.PARKED
    at = case.extra.parked_since if parked else now
    if type(at) is datetime and type(at.tzinfo) in _FAST_ZONES:
        stage = Stage.HANDLE if parked else _STAGE_OF[state]
        if stage is None:
            return None
        cat = case.info.category
        if stage is Stage.HANDLE:
            a = case.assignment
            due = a.due
            if due is None:
                return None
            budget = a.due_budget
            if budget is None:
                if policy is None:
                    return None
                budget = policy.limit_for(cat, Stage.HANDLE)
                if budget is None:
                    return None
            cal = _WALL if policy is None else policy.calendar_for(cat)
            if (
                type(cal) in _FAST_CALENDARS
                and type(budget) is timedelta
                and type(due) is datetime
                and type(due.tzinfo) in _FAST_ZONES
            ):
                fast = cast(_FastCalendar, cal)
                end_us = (due - _EPOCH) // _US
                return _light_us(fast, at, due, end_us, budget // _US, yellow_at, red_at)
        elif policy is not None:
            limit = policy.limit_for(cat, stage)
            if limit is None:
                return None
            cal = policy.calendar_for(cat)
            since = case.stage_since
            tz = since.tzinfo
            if (
                type(cal) in _FAST_CALENDARS
                and type(limit) is timedelta
                and limit > _ZERO
                and type(since) is datetime
                and type(tz) in _FAST_ZONES
            ):
                fast = cast(_FastCalendar, cal)
                end_us = fast.add_us((since - _EPOCH) // _US, limit // _US)
                if 0 < end_us < _FAST_MAX_US:
                    # The instant `cal.add(since, limit)` gives, in the same wall time
                    # (`add` returns the UTC round trip's representation, or one equal to
                    # it): `at < deadline` below compares exactly as the datetime path.
                    deadline = datetime.fromtimestamp(end_us / 1e6, tz)
                    return _light_us(fast, at, deadline, end_us, limit // _US, yellow_at, red_at)
        else:
            return None
    sd = stage_deadline(case, policy)
    if sd is None:
        return None
    _, deadline, limit = sd
    cal = _calendar(case, policy)
    at = case.extra.parked_since if case.state is State.PARKED else now
    assert at is not None  # a parked case always has parked_since
    if at < deadline:
        used = max(limit - cal.between(at, deadline), _ZERO)
    else:
        used = limit + cal.between(deadline, at)
    if limit <= _ZERO:
        return WarningLight.RED if used > _ZERO else WarningLight.YELLOW
    return warning_light(used, limit, yellow_at, red_at)


def _light_us(
    cal: _FastCalendar,
    at: datetime,
    deadline: datetime,
    end_us: int,
    limit_us: int,
    yellow_at: float,
    red_at: float,
) -> WarningLight:
    """`case_light`'s last steps on microseconds: `deadline` is the instant `end_us`."""
    at_us = (at - _EPOCH) // _US
    # Aware datetimes of different zones compare as UTC instants, so the ints answer;
    # in one zone they compare as wall times (a DST fold can differ): ask them.
    before = (at < deadline) if at.tzinfo is deadline.tzinfo else (at_us < end_us)
    if before:
        used = limit_us - cal.between_us(at_us, end_us)
        if used < 0:
            used = 0
    else:
        used = limit_us + cal.between_us(end_us, at_us)
    if limit_us <= 0:
        return WarningLight.RED if used > 0 else WarningLight.YELLOW
    return warning_light_us(used, limit_us, yellow_at, red_at)


# -- apply ----------------------------------------------------------------------------


def _refuse(
    case_id: str, state: str, action: str, actor: Actor, rule: Rule, detail: str
) -> TransitionRefused:
    return TransitionRefused(
        case_id, str(state), str(action), f"{actor.id} ({actor.role})", rule, detail
    )


def _missing_rule(state: State, action: str) -> Rule:
    if state in HELD_STATES and action in _RELEASING:
        return Rule.SIGNED_MUST_HANDLE
    return Rule.TABLE


def _check(
    case: Case,
    action: Action | str,
    actor: Actor,
    now: datetime,
    reason: str,
    payload: Payload | None,
) -> Transition:
    """The table entry for the action if every rule lets it through, else raise."""
    tr = _TABLE.get((case.state, action))  # type: ignore[arg-type]
    if tr is None:
        rule = _missing_rule(case.state, action)
        detail = (
            "a signed-for case leaves its handler only by transfer, return or escalation"
            if rule is Rule.SIGNED_MUST_HANDLE
            else f"no transition for action {action!r} from state {case.state.value!r}"
        )
        raise _refuse(case.id, case.state, action, actor, rule, detail)
    if actor.role not in tr.roles:
        raise _refuse(
            case.id,
            case.state,
            action,
            actor,
            Rule.ROLE,
            f"role {actor.role!r} may not; allowed: {sorted(tr.roles)}",
        )
    if now.tzinfo is None:
        raise ConfigError(f"case {case.id!r}: instant 'now' = {now!r} is naive: expected aware")
    if now < case.updated_at:
        raise _refuse(
            case.id,
            case.state,
            action,
            actor,
            Rule.TIME_ORDER,
            f"now {now.isoformat()} is before the last event at {case.updated_at.isoformat()}",
        )
    if payload:
        fh = payload.get("first_handler", case.first_handler)
        if fh != case.first_handler:
            raise _refuse(
                case.id,
                case.state,
                action,
                actor,
                Rule.FIRST_HANDLER,
                f"the first handler is {case.first_handler!r} and cannot become {fh!r}",
            )
    else:
        payload = _EMPTY
    for g in tr.guards:
        detail = g.check(case, actor, reason, payload)
        if detail:
            raise _refuse(case.id, case.state, action, actor, g.rule, detail)
    return tr


def _prep_dispatch(
    c: Case, now: datetime, policy: DeadlinePolicy | None, p: dict[str, JSONValue]
) -> None:
    if "due" not in p:
        _resolution(c, now, policy, p, _DISPATCH_STAGES)


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
        _resolution(c, now, policy, p, _DISPATCH_STAGES)
    else:
        limit_s = limit.total_seconds()
        p["due"] = _due_after(policy.calendar_for(cat), now, limit, limit_s)
        p["budget_s"] = limit_s


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
        _resolution(c, now, policy, p, _DISPATCH_STAGES)


def _prep_rework(
    c: Case, now: datetime, policy: DeadlinePolicy | None, p: dict[str, JSONValue]
) -> None:
    if "due" not in p:
        _resolution(c, now, policy, p, _REWORK_STAGES)
        if "due" not in p and c.due is not None:
            p["due"] = c.due.isoformat()


def _prep_extension(
    c: Case, now: datetime, policy: DeadlinePolicy | None, p: dict[str, JSONValue]
) -> None:
    ext = c.extra.pending_extension
    assert ext is not None  # guarded by _G_PENDING_EXT
    ext_s = ext.total_seconds()
    p["extra_s"] = ext_s
    if c.due is not None:
        p["due"] = _due_after(_calendar(c, policy), c.due, ext, ext_s)


def _prep_resume(
    c: Case, now: datetime, policy: DeadlinePolicy | None, p: dict[str, JSONValue]
) -> None:
    since = c.extra.parked_since
    assert since is not None  # a parked case always has parked_since
    cal = _calendar(c, policy)
    parked = cal.between(since, now)
    p["parked_s"] = parked.total_seconds()
    if c.due is not None:
        # The clock stopped while parked: the deadline moves by the parked working time.
        p["due"] = _due_after(cal, c.due, parked, parked.total_seconds())


_PREPARE: Final[Mapping[Action, Prepare]] = MappingProxyType(
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


def apply(
    case: Case,
    action: Action | str,
    actor: Actor,
    now: datetime,
    reason: str = "",
    payload: Payload | None = None,
    *,
    policy: DeadlinePolicy | None = None,
    notify: bool = True,
) -> Outcome:
    """Apply one action: the new case, its event and notifications, or `TransitionRefused`.

    Pure: `case` is not changed, nothing is read but the arguments. `policy` supplies the
    deadlines of actions that set or move `due`. `notify=False` skips making the
    notifications (the outcome's third item is then empty) for callers that drop them.

    >>> from datetime import datetime, timezone
    >>> t = datetime(2024, 3, 1, 9, tzinfo=timezone.utc)
    >>> c, e, _ = report(CaseId("c1"), Actor(PersonId("r"), DeskRole.REPORTER), t,
    ...                  grid=AreaCode("g1"), category=CategoryCode("x"))
    >>> apply(c, Action.VERIFY, Actor(PersonId("d"), DeskRole.DISPATCHER), t)[0].state.value
    'verified'
    """
    state = case.state
    hot = _HOT.get((state, action))  # type: ignore[arg-type]
    if (
        hot is None
        or actor.role not in hot[1]
        or now.tzinfo is None
        or now < case.updated_at
        or (payload and "first_handler" in payload)
    ):
        # Anything unusual goes through the full check, which names the refusing rule.
        _check(case, action, actor, now, reason, payload)
        hot = _HOT[(state, action)]  # type: ignore[index]
    tr, _, checks, target, fold, prep, tell = hot
    if checks:
        given = payload if payload else _EMPTY
        for check in checks:
            if check(case, actor, reason, given):
                _check(case, action, actor, now, reason, payload)  # raises, naming the rule
    if payload or prep is not None or actor.unit:
        p: dict[str, JSONValue] = dict(payload) if payload else {}
        if actor.unit:
            p["unit"] = actor.unit
        if prep is not None:
            prep(case, now, policy, p)
        frozen_p = MappingProxyType(p) if p else _EMPTY
    else:
        # The common case: nothing to record beyond the event itself; share one empty view.
        frozen_p = _EMPTY
    # The hottest constructor of the simulation: `CaseEvent(...)` in one C call.
    event: CaseEvent = _tuple_new(
        CaseEvent,
        (
            case.id,
            case.seq + 1,
            now,
            actor.id,
            actor.role,
            tr.action,
            state,
            target,
            reason,
            frozen_p,
        ),
    )
    new = fold(case, event)
    return new, event, (() if tell is None or not notify else tell(new, event))


def _apply(
    case: Case,
    action: Action | str,
    actor: Actor,
    now: datetime,
    reason: str,
    payload: Payload | None,
    policy: DeadlinePolicy | None,
) -> Outcome:
    """`apply` with positional arguments (the path of `CaseLog.act` with a payload)."""
    return apply(case, action, actor, now, reason, payload, policy=policy)


def report(
    case_id: CaseId,
    actor: Actor,
    now: datetime,
    *,
    grid: AreaCode,
    category: CategoryCode,
    channel: str = "patrol",
    severity: int | None = None,
    reason: str = "",
    payload: Payload | None = None,
    policy: DeadlinePolicy | None = None,
) -> Outcome:
    """Open a case: its first event ("report", in `START_STATE`).

    Severity comes from the argument, else from `policy` (the category's), else 0.
    """
    if actor.role not in _REPORT_ROLES:
        raise _refuse(
            case_id,
            "-",
            Action.REPORT,
            actor,
            Rule.ROLE,
            f"role {actor.role!r} may not; allowed: {sorted(_REPORT_ROLES)}",
        )
    if now.tzinfo is None:
        raise ConfigError(f"case {case_id!r}: instant 'now' = {now!r} is naive: expected aware")
    if not case_id or not grid or not category:
        raise _refuse(
            case_id,
            "-",
            Action.REPORT,
            actor,
            Rule.PAYLOAD,
            f"case id {case_id!r}, grid {grid!r} and category {category!r} must be non-empty",
        )
    if severity is None:
        severity = 0 if policy is None else policy.severity_for(category)
    p: dict[str, JSONValue] = dict(payload) if payload else {}
    p["grid"] = grid
    p["category"] = category
    p["channel"] = channel
    p["severity"] = severity
    if actor.unit:
        p["unit"] = actor.unit
    event = CaseEvent(
        case_id,
        1,
        now,
        actor.id,
        actor.role,
        _REPORT,
        None,
        START_STATE,
        reason,
        MappingProxyType(p),
    )
    # What `_case_from_report(event)` folds, built from the arguments (replay checks it).
    info = _case_info(
        CategoryCode(str(category)),
        AreaCode(str(grid)),
        actor.id,
        str(channel),
        now,
        int(severity or 0),
    )
    case = _tuple_new(Case, (case_id, START_STATE, 1, now, now, 1, _UNASSIGNED, info, _NO_EXTRA))
    return case, event, ()


# -- folds: how each event changes a case (shared by apply and replay) ----------------


def _case_from_report(e: CaseEvent) -> Case:
    if e.action != Action.REPORT or e.seq != 1 or e.from_state is not None:
        raise EventLogError(
            f"case {e.case_id!r}: first event is {e.action!r} #{e.seq}: expected report #1"
        )
    p = e.payload
    info = CaseInfo(
        CategoryCode(str(p["category"])),
        AreaCode(str(p["grid"])),
        e.actor,
        str(p.get("channel", "")),
        e.at,
        int(p.get("severity", 0) or 0),  # type: ignore[arg-type]
    )
    return Case(e.case_id, START_STATE, 1, e.at, e.at, 1, _UNASSIGNED, info)


def _fold_same(c: Case, e: CaseEvent) -> Case:
    """A plain step inside the same stage: only state, seq and time change."""
    # A plain step is most of a case's steps: built in one C call.
    return _tuple_new(
        Case,
        (c.id, e.to_state, e.seq, e.at, c.stage_since, c.stage_seq, c.assignment, c.info, c.extra),
    )


def _fold_new(c: Case, e: CaseEvent) -> Case:
    """A plain step into another stage: its clock starts now."""
    at = e.at
    seq = e.seq
    return _tuple_new(Case, (c.id, e.to_state, seq, at, at, seq, c.assignment, c.info, c.extra))


# A plain dict: the stage of each state, looked up twice per evolved fold.
_STAGE_OF: Final[dict[State, Stage | None]] = dict(STATE_STAGE)


def _evolved(
    c: Case, e: CaseEvent, assignment: Assignment, info: CaseInfo, extra: CaseExtra
) -> Case:
    if _STAGE_OF[e.to_state] is _STAGE_OF[c.state]:
        return _tuple_new(
            Case,
            (c.id, e.to_state, e.seq, e.at, c.stage_since, c.stage_seq, assignment, info, extra),
        )
    at = e.at
    seq = e.seq
    return _tuple_new(Case, (c.id, e.to_state, seq, at, at, seq, assignment, info, extra))


def _due_of(a: Assignment, p: Payload) -> tuple[datetime | None, timedelta | None]:
    raw = p.get("due")
    if raw is None:
        return a.due, a.due_budget
    # A text `_due_after` made is known parsed; any other is parsed here (same value).
    due = _due_parsed.get(raw) if type(raw) is str else None
    if due is None:
        due = datetime.fromisoformat(str(raw))
    b = p.get("budget_s")
    if b is None:
        return due, a.due_budget
    bs = float(b)  # type: ignore[arg-type]
    td = _budget_td.get(bs)
    if td is None:
        td = timedelta(seconds=bs)
        if len(_budget_td) >= _MEMO_SIZE:
            _budget_td.clear()
        _budget_td[bs] = td
    return due, td


def _with_due(a: Assignment, p: Payload) -> Assignment:
    if p.get("due") is None:
        return a
    due, budget = _due_of(a, p)
    return _assignment(a.owner, a.level, a.handler, a.first_handler, due, budget)


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
    new = _assignment(
        str(p["to"]), a.level if level is None else str(level), None, a.first_handler, due, budget
    )
    return _evolved(c, e, new, c.info, extra)


def _fold_dispatch(c: Case, e: CaseEvent) -> Case:
    sup = e.payload.get("supervisor")
    x = c.extra if sup is None else c.extra._replace(supervisor=PersonId(str(sup)))
    return _routed(c, e, x)


def _fold_sign_for(c: Case, e: CaseEvent) -> Case:
    a = c.assignment
    # 首办必须负责: the first sign-for fixes the first handler for good.
    first = e.actor if a.first_handler is None else a.first_handler
    new = _assignment(a.owner, a.level, e.actor, first, a.due, a.due_budget)
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


_FOLD: Final[Mapping[Action, Callable[[Case, CaseEvent], Case]]] = MappingProxyType(
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


# -- notifications --------------------------------------------------------------------


def _to_reporter(kind: str) -> Callable[[Case, CaseEvent], tuple[Notification, ...]]:
    role = DeskRole.REPORTER

    def make(c: Case, e: CaseEvent) -> tuple[Notification, ...]:
        # `_notification(kind, c.id, c.info.reporter, role, e.at, e.seq, "")` inlined
        n: Notification = _new_obj(Notification)
        _n_kind(n, kind)
        _n_case_id(n, c.id)
        _n_to(n, c.info.reporter)
        _n_to_role(n, role)
        _n_at(n, e.at)
        _n_seq(n, e.seq)
        _n_detail(n, "")
        return (n,)

    return make


def _to_supervisor(kind: str) -> Callable[[Case, CaseEvent], tuple[Notification, ...]]:
    role = DeskRole.SUPERVISOR

    def make(c: Case, e: CaseEvent) -> tuple[Notification, ...]:
        to = c.extra.supervisor or ""
        return (_notification(kind, c.id, to, role, e.at, e.seq, e.reason),)

    return make


_NOTIFY: Final[Mapping[Action, Callable[[Case, CaseEvent], tuple[Notification, ...]]]] = (
    MappingProxyType(
        {
            Action.SIGN_FOR: _to_reporter("signed_for"),
            Action.START: _to_reporter("handling"),
            Action.CLOSE: _to_reporter("completed"),
            Action.WARN: _to_supervisor("warning"),
            Action.ESCALATE: _to_supervisor("escalation"),
            Action.SUPERVISE: _to_supervisor("supervision"),
        }
    )
)


# -- the table, built ---------------------------------------------------------------


def _build_table() -> dict[tuple[State, Action], Transition]:
    table: dict[tuple[State, Action], Transition] = {}
    for action, sources, target, roles, guards in _SPEC:
        for src in sources:
            key = (src, action)
            if key in table:
                raise ConfigError(f"transition table: ({src.value}, {action.value}) given twice")
            to = src if target is None else target
            fold = _FOLD.get(action)
            if fold is None:
                fold = _fold_same if STATE_STAGE[src] is STATE_STAGE[to] else _fold_new
            table[key] = Transition(
                src,
                action,
                to,
                frozenset(roles),
                guards,
                fold,
                _PREPARE.get(action),
                _NOTIFY.get(action),
            )
    return table


_TABLE: Final = _build_table()

_Hot: TypeAlias = tuple[
    Transition,
    frozenset[DeskRole],
    tuple[GuardCheck, ...],
    State,
    Fold,
    "Prepare | None",
    "Notify | None",
]
# The table unpacked for the hot paths: one lookup gives everything `apply` needs, with
# the guards' check functions precomputed per (state, action).
_HOT: Final[dict[tuple[State, Action], _Hot]] = {
    key: (
        tr,
        tr.roles,
        tuple(g.check for g in tr.guards),
        tr.target,
        tr.fold,
        tr.prepare,
        tr.notify,
    )
    for key, tr in _TABLE.items()
}
_REPORT: Final = Action.REPORT
_MERGE: Final = Action.MERGE
TRANSITIONS: Final[Mapping[tuple[State, Action], Transition]] = MappingProxyType(_TABLE)
"""The transition table: (state, action) -> `Transition`. `report` creates a case in
`START_STATE` and is not in the table."""


# -- JSON -----------------------------------------------------------------------------

_EVENT_SOURCE: Final = "<case event>"


def event_to_dict(e: CaseEvent) -> dict[str, JSONValue]:
    """The event as a JSON-safe dict ("at" ISO 8601 with offset, "zone" when it has a key)."""
    tz = e.at.tzinfo
    return {
        "case_id": e.case_id,
        "seq": e.seq,
        "at": e.at.isoformat(),
        "zone": tz.key if isinstance(tz, ZoneInfo) else None,
        "actor": e.actor,
        "role": str(e.role),
        "action": e.action.value,
        "from_state": None if e.from_state is None else e.from_state.value,
        "to_state": e.to_state.value,
        "reason": e.reason,
        "payload": dict(e.payload),
    }


def event_to_json(e: CaseEvent) -> str:
    """The event as compact JSON text (lossless; see `event_from_json`)."""
    try:
        return json.dumps(
            event_to_dict(e), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        )
    except (TypeError, ValueError) as exc:
        raise EventLogError(
            f"case {e.case_id!r} event #{e.seq}: payload is not JSON-safe: {exc}"
        ) from None


def _field(d: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    v = d.get(key)
    if not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
        raise FileFormatError(_EVENT_SOURCE, where, key, f"a {kind.__name__}", v)
    return v


def event_from_dict(d: Mapping[str, Any]) -> CaseEvent:
    """The event from `event_to_dict`'s shape; `FileFormatError` names a bad field."""
    where = f"event {d.get('case_id')!r}#{d.get('seq')!r}"
    try:
        at = datetime.fromisoformat(_field(d, "at", str, where))
    except ValueError:
        raise FileFormatError(
            _EVENT_SOURCE, where, "at", "an ISO 8601 instant", d.get("at")
        ) from None
    if at.tzinfo is None:
        raise FileFormatError(_EVENT_SOURCE, where, "at", "an instant with an offset", d.get("at"))
    zone = d.get("zone")
    if zone is not None:
        at = at.astimezone(ZoneInfo(_field(d, "zone", str, where)))
    try:
        action = Action(_field(d, "action", str, where))
        to_state = State(_field(d, "to_state", str, where))
        raw_from = d.get("from_state")
        from_state = None if raw_from is None else State(_field(d, "from_state", str, where))
    except ValueError as exc:
        raise FileFormatError(
            _EVENT_SOURCE, where, "action/state", "a known value", str(exc)
        ) from None
    payload = _field(d, "payload", dict, where)
    return CaseEvent(
        CaseId(_field(d, "case_id", str, where)),
        _field(d, "seq", int, where),
        at,
        PersonId(_field(d, "actor", str, where)),
        _role(_field(d, "role", str, where)),
        action,
        from_state,
        to_state,
        _field(d, "reason", str, where),
        MappingProxyType(dict(payload)),
    )


def _role(raw: str) -> str:
    try:
        return DeskRole(raw)
    except ValueError:
        return raw


def event_from_json(text: str) -> CaseEvent:
    """The event from `event_to_json` text."""
    try:
        d = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(_EVENT_SOURCE, f"char {exc.pos}", "", "JSON text", exc.msg) from None
    if not isinstance(d, dict):
        raise FileFormatError(_EVENT_SOURCE, "", "", "a JSON object", type(d).__name__)
    return event_from_dict(d)


# -- the log --------------------------------------------------------------------------

_ROUTING_ACTIONS: Final = frozenset(
    {Action.DISPATCH, Action.TRANSFER, Action.APPROVE_RETURN, Action.ESCALATE, Action.REOPEN}
)
_DESK_ACTIONS: Final = frozenset({Action.VERIFY, Action.REGISTER})


def follow(case: Case | None, event: CaseEvent) -> Case:
    """The case after `event`, an event written elsewhere, checked as `apply` checks.

    `case` is the case as stored (None before its report). `StaleSequenceError` unless
    `event.seq` is its next one; `EventLogError` or `TransitionRefused` unless the event is
    one the transition table and its guards make from `case`. `CaseLog.append` and the
    durable journal (`gridcore.store`) both go through it.
    """
    cid = event.case_id
    expected = 1 if case is None else case.seq + 1
    if event.seq != expected:
        raise StaleSequenceError(cid, expected, event.seq)
    if case is None:
        if event.role not in _REPORT_ROLES:
            raise EventLogError(
                f"case {cid!r} event #1: role {event.role!r} may not report; allowed: "
                f"{sorted(_REPORT_ROLES)}"
            )
        return _case_from_report(event)
    if case.id != cid:
        raise EventLogError(f"event of case {cid!r} given to follow case {case.id!r}")
    if event.from_state != case.state:
        raise EventLogError(
            f"case {cid!r} event #{event.seq}: from_state {event.from_state!r}, "
            f"expected {case.state.value!r}"
        )
    actor = Actor(event.actor, _desk_role(event), str(event.payload.get("unit", "")))
    tr = _check(case, event.action, actor, event.at, event.reason, event.payload)
    if tr.target != event.to_state:
        raise EventLogError(
            f"case {cid!r} event #{event.seq}: to_state {event.to_state!r}, "
            f"expected {tr.target.value!r}"
        )
    return tr.fold(case, event)


class CaseLog:
    """Cases and their event lists, changed only through guarded actions or checked events.

    Optimistic concurrency: `act(..., expected_seq=n)` and `append(event)` fail with
    `StaleSequenceError` when another writer appended first.
    """

    __slots__ = ("_all", "_cases", "_events", "_views", "policy")

    def __init__(self, policy: DeadlinePolicy | None = None) -> None:
        self.policy = policy
        self._cases: dict[CaseId, Case] = {}
        self._events: dict[CaseId, list[CaseEvent]] = {}
        self._all: list[CaseEvent] = []
        self._views: dict[CaseId, tuple[CaseEvent, ...]] = {}

    def report(
        self,
        case_id: CaseId,
        actor: Actor,
        now: datetime,
        *,
        grid: AreaCode,
        category: CategoryCode,
        channel: str = "patrol",
        severity: int | None = None,
        reason: str = "",
        payload: Payload | None = None,
    ) -> Outcome:
        """Open a new case (see `report`); `DuplicateCaseError` if the id is taken."""
        if case_id in self._cases:
            raise DuplicateCaseError(f"case {case_id!r} already exists: expected a new case id")
        out = report(
            case_id,
            actor,
            now,
            grid=grid,
            category=category,
            channel=channel,
            severity=severity,
            reason=reason,
            payload=payload,
            policy=self.policy,
        )
        self._cases[case_id] = out[0]
        self._events[case_id] = [out[1]]
        self._all.append(out[1])
        return out

    def act(
        self,
        case_id: CaseId,
        action: Action | str,
        actor: Actor,
        now: datetime,
        reason: str = "",
        payload: Payload | None = None,
        *,
        expected_seq: int | None = None,
    ) -> Outcome:
        """Apply an action to a held case and record its event.

        `expected_seq` is the seq the caller last saw; a different current one is stale.
        """
        case = self._cases.get(case_id)
        if case is None:
            raise UnknownItemError("case", case_id, "case log")
        if expected_seq is not None and expected_seq != case.seq:
            raise StaleSequenceError(case_id, case.seq + 1, expected_seq + 1)
        if payload and action == _MERGE and (case.state, _MERGE) in _TABLE:
            into = payload.get("into")
            if isinstance(into, str) and into not in self._cases:
                raise _refuse(
                    case_id,
                    case.state,
                    action,
                    actor,
                    Rule.PAYLOAD,
                    f"payload 'into' = {into!r} is not a case in this log",
                )
        hot = _HOT.get((case.state, action))  # type: ignore[arg-type]
        if (
            hot is None
            or payload
            or hot[5] is not None  # prepare
            or actor.unit
            or actor.role not in hot[1]
            or now.tzinfo is None
            or now < case.updated_at
        ):
            out = _apply(case, action, actor, now, reason, payload, self.policy)
            new, event = out[0], out[1]
        else:
            # The plain path of `_apply`, inlined: most actions carry no payload.
            tr, _, checks, target, fold, _, notify = hot
            for check in checks:
                if check(case, actor, reason, _EMPTY):
                    _check(case, action, actor, now, reason, payload)  # raises, naming the rule
            event = CaseEvent(
                case_id,
                case.seq + 1,
                now,
                actor.id,
                actor.role,
                tr.action,
                case.state,
                target,
                reason,
                _EMPTY,
            )
            new = fold(case, event)
            out = (new, event, () if notify is None else notify(new, event))
        self._cases[case_id] = new
        self._events[case_id].append(event)
        self._all.append(event)
        return out

    def append(self, event: CaseEvent) -> Case:
        """Record an event written elsewhere, after the same checks `apply` makes.

        Raises `StaleSequenceError` unless `event.seq` is the next one of its case.
        """
        cid = event.case_id
        case = self._cases.get(cid)
        new = follow(case, event)
        if case is None:
            self._events[cid] = []
        self._cases[cid] = new
        self._events[cid].append(event)
        self._all.append(event)
        return new

    def case(self, case_id: CaseId) -> Case:
        """The case as of its last event."""
        try:
            return self._cases[case_id]
        except KeyError:
            raise UnknownItemError("case", case_id, "case log") from None

    def events(self, case_id: CaseId) -> tuple[CaseEvent, ...]:
        """The case's events in order."""
        try:
            events = self._events[case_id]
        except KeyError:
            raise UnknownItemError("case", case_id, "case log") from None
        # Lists only grow, so a cached tuple of the same length is still the whole list:
        # repeated reads cost no copy, and appending costs nothing extra.
        cached = self._views.get(case_id)
        if cached is None or len(cached) != len(events):
            cached = tuple(events)
            self._views[case_id] = cached
        return cached

    def all_events(self) -> Sequence[CaseEvent]:
        """Every event in the order appended (a read-only view)."""
        return _ReadOnly(self._all)

    def cases(self) -> Iterator[Case]:
        """Every case, in the order reported."""
        return iter(self._cases.values())

    def __len__(self) -> int:
        return len(self._cases)

    def __contains__(self, case_id: object) -> bool:
        return case_id in self._cases

    def __iter__(self) -> Iterator[CaseId]:
        return iter(self._cases)

    def accountable_at(self, case_id: CaseId, t: datetime) -> str | None:
        """Who is accountable for the case at instant `t`: one answer.

        The first handler from the first sign-for on (首办必须负责); before it, the owner it
        was last dispatched, transferred, returned or escalated to; before any dispatch,
        the desk person who last verified or registered it; None before that (just
        reported: nobody has taken it yet) or before the case existed.
        """
        who: str | None = None
        for e in self.events(case_id):
            if e.at > t:
                break
            if e.action == Action.SIGN_FOR:
                return e.actor
            if e.action in _ROUTING_ACTIONS:
                to = e.payload.get("to")
                who = str(to) if to is not None else who
            elif e.action in _DESK_ACTIONS:
                who = e.actor
        return who


def _desk_role(e: CaseEvent) -> DeskRole:
    try:
        return DeskRole(e.role)
    except ValueError:
        raise EventLogError(
            f"case {e.case_id!r} event #{e.seq}: role {e.role!r}: expected one of "
            f"{[r.value for r in DeskRole]}"
        ) from None


class _ReadOnly(Sequence[CaseEvent]):
    """A list seen through a window that cannot change it."""

    __slots__ = ("_data",)

    def __init__(self, data: list[CaseEvent]) -> None:
        self._data = data

    def __len__(self) -> int:
        return len(self._data)

    def __getitem__(self, i: Any) -> Any:
        return self._data[i]

    def __iter__(self) -> Iterator[CaseEvent]:
        return iter(self._data)

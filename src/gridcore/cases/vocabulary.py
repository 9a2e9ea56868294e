"""The words of the case desk: states, actions, roles, rules, levels and stages.

Plain data only (enums, frozen sets and read-only maps); every other module of
`gridcore.cases` speaks in these terms.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Final, TypeAlias

from gridcore.categories import Stage
from gridcore.errors import CaseError

__all__ = [
    "FINAL_STATES",
    "HELD_STATES",
    "LEVEL_RANK",
    "OPEN_STATES",
    "OWNER_LEVELS",
    "PARENT_LEVEL",
    "RELEASING",
    "REPORT_ROLES",
    "RESOLVED_STATES",
    "START_STATE",
    "STATE_STAGE",
    "Action",
    "DeskRole",
    "DuplicateCaseError",
    "EventLogError",
    "JSONValue",
    "Payload",
    "Rule",
    "State",
    "level_rank",
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

LEVEL_RANK: Final[Mapping[str, int]] = MappingProxyType(
    {"grid": 0, "community": 1, "street": 2, "district": 3, "department": 3, "city": 4}
)
"""The height of each level (see `level_rank`)."""

PARENT_LEVEL: Final[Mapping[str, str]] = MappingProxyType(
    {"grid": "community", "community": "street", "street": "department", "district": "city"}
)
"""The level a case escalates to from each level (grid -> community -> street -> department)."""


def level_rank(level: str | None) -> int:
    """Height of a level: grid 0 < community 1 < street 2 < district = department 3 < city 4."""
    if level is None:
        return -1
    return LEVEL_RANK[level]


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
RELEASING: Final = frozenset(
    {Action.CANCEL, Action.VOID, Action.MERGE, Action.DISPATCH, Action.SIGN_FOR}
)
"""Actions refused on a held case under 签收必须办理 (rather than "no transition")."""

REPORT_ROLES: Final = frozenset(
    {DeskRole.REPORTER, DeskRole.GRID_WORKER, DeskRole.DISPATCHER, DeskRole.SYSTEM}
)
"""The roles that may open a case (`report`)."""

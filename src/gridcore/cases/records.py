"""The case desk's records: who acts, the case and its parts, the event, the notification.

Every record is a named tuple (see docs/design.md: `_replace` changes fields, `_fields`
names them) and each has ONE builder here, the only place the hot paths build it:
`case_record`, `event_record`, `assignment_record`, `info_record`, `notification_record`
take the fields in order as one tuple and build the record in one C call
(`tuple.__new__`), the very value the class's constructor gives without its argument
parsing. The folds, `apply`, `report` and the JSON reader build through them.

Hot path: `case_record` and `event_record` run once per accepted action (the desk's
and the simulation's inner loop). What protects them: the property test
`tests/property/test_case_machine.py` (every outcome equals its replay and its JSON
round trip) and the golden runs (`tests/sim/test_golden.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final, NamedTuple, TypeAlias, TypeVar, cast

import attrs

from gridcore.cases.vocabulary import FINAL_STATES, STATE_STAGE, Action, DeskRole, Payload, State
from gridcore.categories import Stage
from gridcore.errors import CaseError
from gridcore.ids import AreaCode, CaseId, CategoryCode, PersonId

__all__ = [
    "ABOVE",
    "NO_EXTRA",
    "UNASSIGNED",
    "Actor",
    "Assignment",
    "Case",
    "CaseAssignment",
    "CaseEvent",
    "CaseExtra",
    "CaseInfo",
    "Notification",
    "Outcome",
    "assignment_record",
    "case_record",
    "event_record",
    "info_record",
    "notification_record",
]


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


NO_EXTRA: Final = CaseExtra()
"""The side-path part of a case with nothing on a side path."""


class CaseAssignment(NamedTuple):
    """Who holds a case and by when: owner and level, handler, first handler, deadline,
    and everyone who ever signed for it."""

    owner: str | None = None
    level: str | None = None
    handler: PersonId | None = None
    first_handler: PersonId | None = None
    due: datetime | None = None
    due_budget: timedelta | None = None
    handled_by: tuple[PersonId, ...] = ()


Assignment = CaseAssignment
"""The old name of `CaseAssignment` (kept: `gridcore.cases.Assignment` still works)."""

UNASSIGNED: Final = CaseAssignment()
"""The assignment of a case not yet dispatched."""


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
    assignment: CaseAssignment
    info: CaseInfo
    extra: CaseExtra = NO_EXTRA

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
    def handled_by(self) -> tuple[PersonId, ...]:
        """Everyone who ever signed for the case, in order (the first handler first)."""
        return self.assignment.handled_by

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
        return ABOVE.replay(events)


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
        return ABOVE.event_to_json(self)

    @classmethod
    def from_json(cls, text: str) -> CaseEvent:
        """The event from `to_json` text."""
        return ABOVE.event_from_json(text)


class Notification(NamedTuple):
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


# -- the modules above -------------------------------------------------------------------


class _Above:
    """What the records' conveniences call in the modules above them.

    The records sit below the transition table that folds them and the codec that writes
    them, so they cannot import either (no import cycle); `gridcore.cases.machine` and
    `gridcore.cases.serial` set these when they load (the package imports both), and
    `Case.replay`, `CaseEvent.to_json` and `CaseEvent.from_json` call them.
    """

    __slots__ = ("event_from_json", "event_to_json", "replay")

    def __init__(self) -> None:
        self.replay: Callable[[Iterable[CaseEvent]], Case] = _not_loaded
        self.event_to_json: Callable[[CaseEvent], str] = _not_loaded
        self.event_from_json: Callable[[str], CaseEvent] = _not_loaded


def _not_loaded(*args: object) -> Any:  # pragma: no cover - the package loads them first
    raise CaseError("gridcore.cases is not loaded: import gridcore.cases first")


ABOVE: Final = _Above()
"""The functions above the records that `Case.replay` and `CaseEvent`'s JSON methods use."""


# -- the builders ------------------------------------------------------------------------

_R = TypeVar("_R")


def _builder(cls: type[_R]) -> Callable[[tuple[Any, ...]], _R]:
    """`cls` from its fields in order (one tuple), in one C call: the value `cls(*f)` gives."""
    return cast(Callable[[tuple[Any, ...]], _R], partial(tuple.__new__, cls))


case_record: Final = _builder(Case)
"""`Case` from (id, state, seq, updated_at, stage_since, stage_seq, assignment, info,
extra): the one builder of cases."""

event_record: Final = _builder(CaseEvent)
"""`CaseEvent` from (case_id, seq, at, actor, role, action, from_state, to_state, reason,
payload): the one builder of events."""

assignment_record: Final = _builder(CaseAssignment)
"""`CaseAssignment` from (owner, level, handler, first_handler, due, due_budget,
handled_by)."""

info_record: Final = _builder(CaseInfo)
"""`CaseInfo` from (category, grid, reporter, channel, reported_at, severity)."""

notification_record: Final = _builder(Notification)
"""`Notification` from (kind, case_id, to, to_role, at, seq, detail)."""

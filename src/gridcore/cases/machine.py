"""The machine: `apply` (whose head is the one transition gate), `report`, `replay`.

The gate at the head of `apply` is the ONE admission check (`CaseLog.act`,
`CaseLog.append` and the simulation all come through `apply`): one lookup of the table
entry, the role, the time order, the first handler and the entry's guard functions.
Only when it refuses is `broken_rule`, the plain definition of the rules in order,
called to name the refusing rule in `TransitionRefused`. `apply` then prepares the
payload, builds the event and folds it.

Hot path: `apply` runs once per action of the desk and of the simulation.
What protects them: the property test `tests/property/test_case_machine.py` (the gate
admits exactly what `broken_rule` lets through and names the same rule, and the machine
agrees with a plainly written reference model of the life cycle) and the golden runs
(`tests/sim/test_golden.py`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from types import MappingProxyType
from typing import Final

from gridcore._time import earlier
from gridcore.cases.deadlines import DeadlinePolicy
from gridcore.cases.folds import case_from_report
from gridcore.cases.records import (
    ABOVE,
    NO_EXTRA,
    UNASSIGNED,
    Actor,
    Case,
    CaseEvent,
    Outcome,
    case_record,
    event_record,
    info_record,
)
from gridcore.cases.table import ENTRIES
from gridcore.cases.vocabulary import (
    HELD_STATES,
    RELEASING,
    REPORT_ROLES,
    START_STATE,
    Action,
    DeskRole,
    EventLogError,
    JSONValue,
    Payload,
    Rule,
)
from gridcore.errors import CaseError, ConfigError, StaleSequenceError, TransitionRefused
from gridcore.ids import AreaCode, CaseId, CategoryCode

__all__ = [
    "EMPTY_PAYLOAD",
    "apply",
    "broken_rule",
    "follow",
    "refusal",
    "refused",
    "replay",
    "report",
]

EMPTY_PAYLOAD: Final[Payload] = MappingProxyType({})
"""The one empty payload that payload-free events share."""


def refusal(
    case_id: str, state: str, action: str, actor: Actor, rule: Rule, detail: str
) -> TransitionRefused:
    """The `TransitionRefused` of an action, naming the actor by id and role."""
    return TransitionRefused(
        case_id, str(state), str(action), f"{actor.id} ({actor.role})", rule, detail
    )


def broken_rule(
    case: Case,
    action: Action | str,
    actor: Actor,
    now: datetime,
    reason: str,
    payload: Payload | None,
) -> tuple[Rule, str] | None:
    """The first rule the action breaks and what is wrong, None when every rule passes.

    The plain definition of the gate, rule by rule in the order they are reported: the
    table, the role, the time order, the first handler, then the entry's guards. A naive
    `now` is a `ConfigError`.
    """
    tr = ENTRIES.get((case.state, action))  # type: ignore[arg-type]
    if tr is None:
        if case.state in HELD_STATES and action in RELEASING:
            return Rule.SIGNED_MUST_HANDLE, (
                "a signed-for case leaves its handler only by transfer, return or escalation"
            )
        return Rule.TABLE, f"no transition for action {action!r} from state {case.state.value!r}"
    if actor.role not in tr.roles:
        return Rule.ROLE, f"role {actor.role!r} may not; allowed: {sorted(tr.roles)}"
    if now.tzinfo is None:
        raise ConfigError(f"case {case.id!r}: instant 'now' = {now!r} is naive: expected aware")
    if earlier(now, case.updated_at):
        return Rule.TIME_ORDER, (
            f"now {now.isoformat()} is before the last event at {case.updated_at.isoformat()}"
        )
    given = payload if payload else EMPTY_PAYLOAD
    fh = given.get("first_handler", case.first_handler)
    if fh != case.first_handler:
        return Rule.FIRST_HANDLER, (
            f"the first handler is {case.first_handler!r} and cannot become {fh!r}"
        )
    for g in tr.transition.guards:
        detail = g.check(case, actor, reason, given)
        if detail:
            return g.rule, detail
    return None


def refused(
    case: Case,
    action: Action | str,
    actor: Actor,
    now: datetime,
    reason: str,
    payload: Payload | None,
) -> TransitionRefused:
    """The refusal of an action the gate did not admit, naming the rule `broken_rule` finds.

    A naive `now` raises `ConfigError` instead.
    """
    found = broken_rule(case, action, actor, now, reason, payload)
    if found is None:  # pragma: no cover - the gate and its definition disagree
        raise CaseError(f"case {case.id!r}: the gate refused {action!r} but no rule is broken")
    rule, detail = found
    return refusal(case.id, case.state, action, actor, rule, detail)


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
    >>> from gridcore.cases import DeskRole
    >>> from gridcore.ids import PersonId
    >>> t = datetime(2024, 3, 1, 9, tzinfo=timezone.utc)
    >>> c, e, _ = report(CaseId("c1"), Actor(PersonId("r"), DeskRole.REPORTER), t,
    ...                  grid=AreaCode("g1"), category=CategoryCode("x"))
    >>> apply(c, Action.VERIFY, Actor(PersonId("d"), DeskRole.DISPATCHER), t)[0].state.value
    'verified'
    """
    # The gate, the only admission check there is (`CaseLog.act` and `append` come
    # through here): anything it does not admit is refused, named by `broken_rule`.
    entry = ENTRIES.get((case.state, action))  # type: ignore[arg-type]
    if entry is None:
        raise refused(case, action, actor, now, reason, payload)
    # Unpacked, not read by name: a named tuple's fields are slower to read one by one.
    tr, roles, checks, target, fold, prep, tell = entry
    if (
        actor.role not in roles
        or now.tzinfo is None
        or earlier(now, case.updated_at)
        or (
            payload
            and "first_handler" in payload
            and payload["first_handler"] != case.assignment.first_handler
        )
    ):
        raise refused(case, action, actor, now, reason, payload)
    if checks:
        given = payload if payload else EMPTY_PAYLOAD
        for check in checks:
            if check(case, actor, reason, given):
                raise refused(case, action, actor, now, reason, payload)
    if payload or prep is not None or actor.unit:
        p: dict[str, JSONValue] = dict(payload) if payload else {}
        if actor.unit:
            p["unit"] = actor.unit
        if prep is not None:
            prep(case, now, policy, p)
        frozen_p = MappingProxyType(p) if p else EMPTY_PAYLOAD
    else:
        # The common case: nothing to record beyond the event itself; share one empty view.
        frozen_p = EMPTY_PAYLOAD
    event = event_record(
        (
            case.id,
            case.seq + 1,
            now,
            actor.id,
            actor.role,
            tr.action,
            case.state,
            target,
            reason,
            frozen_p,
        )
    )
    new = fold(case, event)
    return new, event, (() if tell is None or not notify else tell(new, event))


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
    if actor.role not in REPORT_ROLES:
        raise refusal(
            case_id,
            "-",
            Action.REPORT,
            actor,
            Rule.ROLE,
            f"role {actor.role!r} may not; allowed: {sorted(REPORT_ROLES)}",
        )
    if now.tzinfo is None:
        raise ConfigError(f"case {case_id!r}: instant 'now' = {now!r} is naive: expected aware")
    if not case_id or not grid or not category:
        raise refusal(
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
    event = event_record(
        (
            case_id,
            1,
            now,
            actor.id,
            actor.role,
            Action.REPORT,
            None,
            START_STATE,
            reason,
            MappingProxyType(p),
        )
    )
    # What `case_from_report(event)` folds, built from the arguments (replay checks it).
    info = info_record(
        (
            CategoryCode(str(category)),
            AreaCode(str(grid)),
            actor.id,
            str(channel),
            now,
            int(severity or 0),
        )
    )
    case = case_record((case_id, START_STATE, 1, now, now, 1, UNASSIGNED, info, NO_EXTRA))
    return case, event, ()


def follow(case: Case | None, event: CaseEvent) -> Case:
    """The case after `event`, an event written elsewhere, checked as `apply` checks.

    `case` is the case as stored (None before its report). `StaleSequenceError` unless
    `event.seq` is its next one; `EventLogError` or `TransitionRefused` unless the event is
    one the transition table and its guards make from `case` (it goes through the gate of
    `apply`). `CaseLog.append` and the durable journal (`gridcore.store`) both use it.
    """
    cid = event.case_id
    expected = 1 if case is None else case.seq + 1
    if event.seq != expected:
        raise StaleSequenceError(cid, expected, event.seq)
    if case is None:
        if event.role not in REPORT_ROLES:
            raise EventLogError(
                f"case {cid!r} event #1: role {event.role!r} may not report; allowed: "
                f"{sorted(REPORT_ROLES)}"
            )
        return case_from_report(event)
    if case.id != cid:
        raise EventLogError(f"event of case {cid!r} given to follow case {case.id!r}")
    if event.from_state != case.state:
        raise EventLogError(
            f"case {cid!r} event #{event.seq}: from_state {event.from_state!r}, "
            f"expected {case.state.value!r}"
        )
    actor = Actor(event.actor, _desk_role(event), str(event.payload.get("unit", "")))
    # Through the gate (the deadline texts are the event's own: no policy asked).
    made = apply(case, event.action, actor, event.at, event.reason, event.payload, notify=False)[1]
    if made.to_state != event.to_state:
        raise EventLogError(
            f"case {cid!r} event #{event.seq}: to_state {event.to_state!r}, "
            f"expected {made.to_state.value!r}"
        )
    return ENTRIES[(case.state, made.action)][4](case, event)  # Entry.fold


def _desk_role(e: CaseEvent) -> DeskRole:
    try:
        return DeskRole(e.role)
    except ValueError:
        raise EventLogError(
            f"case {e.case_id!r} event #{e.seq}: role {e.role!r}: expected one of "
            f"{[r.value for r in DeskRole]}"
        ) from None


def replay(events: Iterable[CaseEvent]) -> Case:
    """The case as the fold of its events (first one a report), checking their order."""
    it = iter(events)
    first = next(it, None)
    if first is None:
        raise EventLogError("cannot replay an empty event list: expected a report first")
    case = case_from_report(first)
    for e in it:
        if e.seq != case.seq + 1 or e.case_id != case.id or e.from_state != case.state:
            raise EventLogError(
                f"case {case.id!r}: event {e.case_id!r}#{e.seq} from {e.from_state!r} "
                f"does not follow #{case.seq} in state {case.state.value!r}"
            )
        entry = ENTRIES.get((case.state, e.action))
        if entry is None or entry[3] != e.to_state:  # Entry.target
            raise EventLogError(
                f"case {case.id!r}: event #{e.seq} {e.action!r} from {case.state.value!r} "
                f"to {e.to_state!r} is not in the transition table"
            )
        case = entry[4](case, e)  # Entry.fold
    return case


ABOVE.replay = replay  # `Case.replay` (the records cannot import this module)

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
from gridcore.errors import (
    CaseError,
    ConfigError,
    SequenceGapError,
    StaleSequenceError,
    TransitionRefused,
)
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
    last = case.updated_at
    if (
        actor.role not in roles
        or now.tzinfo is None
        or (
            # `earlier(now, last)` with its fast case inlined: one zone, both fold=0.
            now < last
            if now.tzinfo is not last.tzinfo or not (now.fold or last.fold)
            else earlier(now, last)
        )
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
    """The case after `event`, an event written elsewhere, if it is exactly one the table makes.

    `case` is the case as stored (None before its report). The event must be the one that
    `report` or `apply` (the gate, the table and its guards) make from `case` for the same
    actor, role, instant, reason and payload: same action, from and to state, and every
    payload field the action writes, with its type (deadline texts and parked time, which
    depend on the policy, by type only). `SequenceGapError` when events are missing
    before it, `StaleSequenceError` when another writer appended first; else
    `EventLogError` or `TransitionRefused` naming what differs. `CaseLog.append` and the
    durable journal (`gridcore.store`) both go through it.
    """
    cid = event.case_id
    expected = 1 if case is None else case.seq + 1
    if event.seq > expected:
        raise SequenceGapError(cid, expected, event.seq)
    if event.seq != expected:
        raise StaleSequenceError(cid, expected, event.seq)
    if case is not None and case.id != cid:
        raise EventLogError(f"event of case {cid!r} given to follow case {case.id!r}")
    where = f"case {cid!r} event #{event.seq}"
    if case is None:
        made = _report_again(event, where)
    else:
        actor = Actor(event.actor, _desk_role(event), str(event.payload.get("unit", "")))
        if event.from_state != case.state:
            raise EventLogError(
                f"{where}: from_state {event.from_state!r}, expected {case.state.value!r}"
            )
        # Through the gate (the deadline texts are the event's own: no policy asked).
        new, made, _ = apply(
            case, event.action, actor, event.at, event.reason, event.payload, notify=False
        )
    detail = _difference(made, event)
    if detail:
        raise EventLogError(f"{where} is not the event the transition table makes: {detail}")
    if case is None:
        return case_from_report(event)
    given = event.payload
    made_p = made.payload
    if len(given) == len(made_p) and (not made_p or not made_p.keys() & _POLICY_FIELDS):
        # The given event is the made one: the same instant, actor, reason, states (the
        # fields a fold reads besides the payload; it reads no role) and, checked above,
        # the same payload keys with equal values of one type, none set by the policy.
        # Its fold is the one `apply` made.
        return new
    return ENTRIES[(case.state, made.action)][4](case, event)  # Entry.fold


# Payload fields whose value depends on the policy (calendars, limits): checked by type.
_POLICY_FIELDS: Final = frozenset({"due", "budget_s", "parked_s"})


def _difference(made: CaseEvent, given: CaseEvent) -> str:
    """What differs between the event the table makes and the one given ("" if nothing)."""
    # `follow` hands `apply` the given event's own instant, actor and reason objects, and
    # the table's members are singletons: when all six are the very same objects they
    # are equal and of one type, and the field by field comparison below has nothing to
    # find among them.
    if not (
        made.at is given.at
        and made.actor is given.actor
        and made.reason is given.reason
        and made.action is given.action
        and made.from_state is given.from_state
        and made.to_state is given.to_state
    ):
        detail = _field_difference(made, given)
        if detail:
            return detail
    if made.role is not given.role and str(made.role) != str(given.role):
        return f"role = {given.role!r}, expected {str(made.role)!r}"
    for key, want in made.payload.items():
        if key not in given.payload:
            return f"payload {key!r} is missing, expected {want!r}"
        got = given.payload[key]
        if key in _POLICY_FIELDS:
            if not _same_kind(got, want):
                return f"payload {key!r} = {got!r}, expected a {type(want).__name__}"
        elif got is not want and (got != want or type(got) is not type(want)):
            return f"payload {key!r} = {got!r}, expected {want!r}"
    return ""


def _field_difference(made: CaseEvent, given: CaseEvent) -> str:
    """The first of the event's own fields that differs ("" if none)."""
    for name in ("action", "from_state", "to_state", "actor", "at", "reason"):
        want, got = getattr(made, name), getattr(given, name)
        if want != got or type(want) is not type(got):
            return f"{name} = {got!r}, expected {want!r}"
    return ""


def _same_kind(a: object, b: object) -> bool:
    """Both text, or both numbers (not booleans)."""
    if isinstance(b, str):
        return isinstance(a, str)
    return isinstance(a, int | float) and not isinstance(a, bool)


def _report_again(event: CaseEvent, where: str) -> CaseEvent:
    """The report event `report` makes from the given one's fields (typed errors first)."""
    p = event.payload
    for key in ("grid", "category"):
        value = p.get(key)
        if not isinstance(value, str) or not value:
            raise EventLogError(f"{where}: payload {key!r} = {value!r}, expected a non-empty text")
    channel = p.get("channel")
    if not isinstance(channel, str):
        raise EventLogError(f"{where}: payload 'channel' = {channel!r}, expected a text")
    severity = p.get("severity")
    if type(severity) is not int or not 0 <= severity <= 4:
        raise EventLogError(f"{where}: payload 'severity' = {severity!r}, expected an int 0..4")
    if event.role not in REPORT_ROLES:
        raise EventLogError(
            f"{where}: role {event.role!r} may not report; allowed: {sorted(REPORT_ROLES)}"
        )
    actor = Actor(event.actor, _desk_role(event), str(p.get("unit", "")))
    return report(
        event.case_id,
        actor,
        event.at,
        grid=AreaCode(str(p["grid"])),
        category=CategoryCode(str(p["category"])),
        channel=channel,
        severity=severity,
        reason=event.reason,
        payload=p,
    )[1]


# The desk roles by their text (a dict lookup; calling the enum costs ~1 µs).
_DESK_ROLES: Final[dict[str, DeskRole]] = {r.value: r for r in DeskRole}


def _desk_role(e: CaseEvent) -> DeskRole:
    role = _DESK_ROLES.get(e.role)
    if role is not None:
        return role
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

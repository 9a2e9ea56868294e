"""Escalation rules as data, and the escalations due at a given instant.

A rule pairs a trigger (a stage overdue, the yellow light reached, severity at
registration, the handler declaring the case beyond their authority, too many transfers
and returns (推诿), a reopen) with a response (escalate to the parent level or to the
department that owns the category there; tell the supervisor with a supervision level
督办 1..3; or just warn). `due_escalations` is pure: it reads cases and `now` and returns
`Escalation` values in a deterministic order; applying one goes through
`gridcore.cases.apply` like any other action, so the transition table and its guards
still decide.

Levels: grid -> community -> street -> department (district or city). A rule fires at
most once per case and stage at each level of the ladder (time triggers), per
declaration (beyond authority), per count of transfers and returns (推诿) and per
reopen; what fired is recorded in the case's events ("rule", "epoch") so replaying a
log remembers it.

The ladder (三级督办, 三级联动): each climb gives the new owner a fresh deadline from the
category's limit for its level (`gridcore.cases` writes it at the escalation), so the
time rules fire again when that deadline turns yellow and red (`ladder_epoch`); every
climb raises the supervision level (督办 1..3) by one, at least to the rule's own; a
rule climbs no higher than its `top` level, where supervision goes on without a climb;
a rule with `after` fires only once that other rule has fired in the same epoch at an
earlier sweep (the default rules climb an unsigned case after its supervision).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Final

import attrs

from gridcore.cases import (
    PARENT_LEVEL,
    STATE_STAGE,
    TRANSITIONS,
    Action,
    Actor,
    Case,
    CaseLog,
    DeadlinePolicy,
    DeskRole,
    JSONValue,
    Outcome,
    Payload,
    State,
    apply,
    case_light,
    level_rank,
)
from gridcore.categories import Stage
from gridcore.clock import RED_AT, YELLOW_AT, WarningLight
from gridcore.errors import ConfigError
from gridcore.ids import CaseId, PersonId

__all__ = [
    "SYSTEM_ACTOR",
    "TOP_LEVEL",
    "Escalation",
    "EscalationRule",
    "OwnerFor",
    "Response",
    "Trigger",
    "apply_escalations",
    "climb_target",
    "default_owner",
    "default_rules",
    "due_escalations",
    "ladder_epoch",
]


class Trigger(StrEnum):
    """What makes a rule fire."""

    STAGE_OVERDUE = "stage_overdue"
    YELLOW_REACHED = "yellow_reached"
    SEVERITY = "severity_at_registration"
    BEYOND_AUTHORITY = "beyond_authority"
    BUCK_PASSING = "buck_passing"
    REOPENED = "reopened"


class Response(StrEnum):
    """What a fired rule does."""

    ESCALATE_PARENT = "escalate_parent"
    ESCALATE_DEPARTMENT = "escalate_department"
    SUPERVISE = "supervise"
    WARN = "warn"


_ACTION: Final[Mapping[Response, Action]] = MappingProxyType(
    {
        Response.ESCALATE_PARENT: Action.ESCALATE,
        Response.ESCALATE_DEPARTMENT: Action.ESCALATE,
        Response.SUPERVISE: Action.SUPERVISE,
        Response.WARN: Action.WARN,
    }
)

_TIME_TRIGGERS: Final = frozenset({Trigger.STAGE_OVERDUE, Trigger.YELLOW_REACHED})
_STAGE_ORDER: Final[Mapping[Stage, int]] = MappingProxyType({s: i for i, s in enumerate(Stage)})

# Members and tables bound once for the sweep's per-case loop (an enum member read
# through its class costs several dict lookups in Python 3.11).
_OVERDUE: Final = Trigger.STAGE_OVERDUE
_SEVERITY: Final = Trigger.SEVERITY
_BEYOND: Final = Trigger.BEYOND_AUTHORITY
_BUCK: Final = Trigger.BUCK_PASSING
_GREEN: Final = WarningLight.GREEN
_RED: Final = WarningLight.RED
_ESCALATE: Final = Action.ESCALATE
_SUPERVISE: Final = Action.SUPERVISE
_TRIGGER_TEXT: Final[Mapping[Trigger, str]] = {t: t.value for t in Trigger}
_STAGE_OF: Final[Mapping[State, Stage | None]] = dict(STATE_STAGE)
_BY_ID: Final = operator.attrgetter("id")

SYSTEM_ACTOR: Final = Actor(PersonId("system"), DeskRole.SYSTEM)
"""The actor that applies rule-made escalations."""

TOP_LEVEL: Final = "department"
"""The default top of the ladder: a rule climbs no higher."""

MAX_SUPERVISION: Final = 3
"""The highest supervision level (督办 3)."""

_STAGES_PER_LEVEL: Final = len(Stage)


def ladder_epoch(case: Case, stage: Stage) -> int:
    """The epoch a time rule fires in: the stage, at the case's rung of the ladder.

    One per stage and escalation: a climb starts the stages' epochs afresh, so the time
    rules fire again at the new level (before any escalation it is the stage's order).
    """
    return _STAGE_ORDER[stage] + _STAGES_PER_LEVEL * case.extra.escalation_level


def _stages(value: Iterable[Stage | str]) -> frozenset[Stage]:
    try:
        return frozenset(Stage(s) for s in value)
    except ValueError as exc:
        raise ConfigError(f"escalation rule field 'stages': {exc}") from None


def _check_rule(inst: EscalationRule) -> None:
    if not inst.name:
        raise ConfigError("escalation rule field 'name' is empty: expected a name")
    if not 1 <= inst.supervision <= 3:
        raise ConfigError(
            f"escalation rule {inst.name!r} field 'supervision' = {inst.supervision!r}: "
            "expected a 督办 level 1, 2 or 3"
        )
    if inst.threshold < 0:
        raise ConfigError(
            f"escalation rule {inst.name!r} field 'threshold' = {inst.threshold!r}: "
            "expected a non-negative int"
        )
    try:
        level_rank(inst.top)
    except KeyError:
        raise ConfigError(
            f"escalation rule {inst.name!r} field 'top' = {inst.top!r}: expected a level "
            "among grid, community, street, district, department, city"
        ) from None
    if inst.after == inst.name:
        raise ConfigError(
            f"escalation rule {inst.name!r} field 'after': expected another rule's name"
        )
    if inst.stages and inst.trigger not in _TIME_TRIGGERS:
        raise ConfigError(
            f"escalation rule {inst.name!r} field 'stages': only time triggers "
            f"({sorted(_TIME_TRIGGERS)}) look at stages, not {inst.trigger.value!r}"
        )


@attrs.frozen
class EscalationRule:
    """One rule: when `trigger` holds, do `response`.

    `threshold`: severity >= threshold (SEVERITY), transfers + returns > threshold
    (BUCK_PASSING). `stages`: the stages a time trigger watches (empty: all).
    `supervision`: the 督办 level written with the response (a climb writes at least
    one more than the case had). `top`: the highest level an escalating rule climbs to.
    `after`: the name of a rule that must have fired for the case in the same epoch, at
    an earlier sweep, before this one fires ("" : none).
    """

    name: str
    trigger: Trigger = attrs.field(converter=Trigger)
    response: Response = attrs.field(converter=Response)
    threshold: int = 0
    supervision: int = 1
    stages: frozenset[Stage] = attrs.field(default=frozenset(), converter=_stages)
    top: str = TOP_LEVEL
    after: str = ""

    def __attrs_post_init__(self) -> None:
        _check_rule(self)


@attrs.frozen
class Escalation:
    """An action a rule asks for on a case; apply it with `apply_to` or `apply_escalations`."""

    case_id: CaseId
    rule: str
    trigger: Trigger
    action: Action
    reason: str
    payload: Payload = attrs.field(hash=False)

    def apply_to(
        self,
        case: Case,
        now: datetime,
        actor: Actor = SYSTEM_ACTOR,
        policy: DeadlinePolicy | None = None,
    ) -> Outcome:
        """Apply through the transition table (refusals raise as for any action)."""
        return apply(case, self.action, actor, now, self.reason, self.payload, policy=policy)


OwnerFor = Callable[[Case, str], str]
"""(case, target level) -> the id of the owner there (routing is the application's)."""


def default_owner(case: Case, level: str) -> str:
    """A stand-in owner id: "department:<category>" or "<level>:<grid>"."""
    if level == "department":
        return f"department:{case.category}"
    return f"{level}:{case.grid}"


def default_rules() -> tuple[EscalationRule, ...]:
    """A sensible default rule set: warn at yellow; supervise when a stage is overdue and
    climb a level when handling is overdue, or, after its supervision, when the sign-for
    is; send severe cases to the department; supervise buck-passing and reopens."""
    return (
        EscalationRule("yellow_warning", Trigger.YELLOW_REACHED, Response.WARN),
        EscalationRule("overdue_supervise", Trigger.STAGE_OVERDUE, Response.SUPERVISE),
        EscalationRule(
            "handling_overdue_up",
            Trigger.STAGE_OVERDUE,
            Response.ESCALATE_PARENT,
            supervision=2,
            stages={Stage.HANDLE},
        ),
        EscalationRule(
            "sign_for_overdue_up",
            Trigger.STAGE_OVERDUE,
            Response.ESCALATE_PARENT,
            stages={Stage.SIGN_FOR},
            after="overdue_supervise",
        ),
        EscalationRule(
            "severe_to_department",
            Trigger.SEVERITY,
            Response.ESCALATE_DEPARTMENT,
            threshold=4,
            supervision=2,
        ),
        EscalationRule("beyond_authority_up", Trigger.BEYOND_AUTHORITY, Response.ESCALATE_PARENT),
        EscalationRule(
            "buck_passing", Trigger.BUCK_PASSING, Response.SUPERVISE, threshold=2, supervision=3
        ),
        EscalationRule("reopened", Trigger.REOPENED, Response.SUPERVISE, supervision=2),
    )


def _count_fires(rule: EscalationRule, case: Case) -> int | None:
    """The epoch a rule of the other triggers fires in, else None."""
    x = case.extra
    trig = rule.trigger
    if trig is _SEVERITY:
        # "At registration": only while nobody has signed for the case yet.
        severe = case.info.severity >= rule.threshold and case.assignment.first_handler is None
        return 0 if severe else None
    if trig is _BEYOND:
        return case.stage_seq if x.beyond_authority else None
    if trig is _BUCK:
        passed = x.transfer_count + x.return_count
        return passed if passed > rule.threshold else None
    return x.reopen_count if x.reopen_count > 0 else None


def climb_target(rule: EscalationRule, case: Case) -> str | None:
    """The level an escalating rule would move the case to, or None: already there or
    higher (the table would refuse it), or above the rule's `top`."""
    current = case.level or "grid"
    if rule.response is Response.ESCALATE_DEPARTMENT:
        target = "department"
    else:
        parent = PARENT_LEVEL.get(current)
        if parent is None:
            return None
        target = parent
    rank = level_rank(target)
    if rank <= level_rank(case.level) or rank > level_rank(rule.top):
        return None
    return target


def due_escalations(
    cases: Iterable[Case],
    now: datetime,
    rules: Sequence[EscalationRule],
    *,
    policy: DeadlinePolicy | None = None,
    owner_for: OwnerFor = default_owner,
    yellow_at: float = YELLOW_AT,
    red_at: float = RED_AT,
) -> list[Escalation]:
    """The escalations due at `now`, sorted by case id then rule order.

    A rule already fired for the case in the same epoch is skipped; at most one
    escalation (a change of owner) per case per call, since the next one must see the
    case at its new level. Only actions the table allows in the case's state are returned.
    """
    if len({r.name for r in rules}) != len(rules):
        names = [r.name for r in rules]
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ConfigError(f"escalation rules: names {dup} given twice: expected unique names")
    out: list[Escalation] = []
    for case in sorted(cases, key=_BY_ID):
        state = case.state
        if state not in _WATCHED:
            continue
        escalated = False
        # The light is the same for every time rule of the case: computed once, when
        # the first time rule asks for it.
        light: WarningLight | None = None
        light_known = False
        rule_light: WarningLight | None
        for rule in rules:
            action = _ACTION[rule.response]
            if (state, action) not in TRANSITIONS:
                continue
            trig = rule.trigger
            if trig in _TIME_TRIGGERS:
                stage = _STAGE_OF[state]
                if stage is None or (rule.stages and stage not in rule.stages):
                    continue  # no clock runs (parked, closed, final) or a stage not watched
                if not light_known:
                    light = case_light(case, now, policy, yellow_at, red_at)
                    light_known = True
                if light is None or light is _GREEN or (trig is _OVERDUE and light is not _RED):
                    continue
                epoch = ladder_epoch(case, stage)
                rule_light = light
            else:
                count = _count_fires(rule, case)
                if count is None:
                    continue
                epoch = count
                rule_light = None
            name = rule.name
            fired = case.extra.fired
            if (name, epoch) in fired or (rule.after and (rule.after, epoch) not in fired):
                continue
            trigger = _TRIGGER_TEXT[trig]
            payload: dict[str, JSONValue] = {"rule": name, "epoch": epoch, "trigger": trigger}
            reason = f"{trigger} (rule {name})"
            if action is _ESCALATE:
                if escalated:
                    continue
                level = climb_target(rule, case)
                if level is None:
                    continue
                payload["to"] = owner_for(case, level)
                payload["level"] = level
                # 督办 rises on each climb: one more than the case had, at least the rule's
                rises = min(MAX_SUPERVISION, case.extra.supervision + 1)
                payload["supervision"] = max(rule.supervision, rises)
                escalated = True
            elif action is _SUPERVISE:
                payload["supervision"] = rule.supervision
            else:
                payload["light"] = "red" if rule_light is _RED else "yellow"
            out.append(Escalation(case.id, name, trig, action, reason, MappingProxyType(payload)))
    return out


_WATCHED: Final = frozenset(
    s for s in State if any((s, a) in TRANSITIONS for a in set(_ACTION.values()))
)


def apply_escalations(
    log: CaseLog,
    escalations: Iterable[Escalation],
    now: datetime,
    actor: Actor = SYSTEM_ACTOR,
) -> list[Outcome]:
    """Apply escalations to the cases of `log` in order, through `CaseLog.act`."""
    return [log.act(e.case_id, e.action, actor, now, e.reason, e.payload) for e in escalations]

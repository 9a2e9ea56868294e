"""Escalation rules: triggers, responses, order, no double firing, applying via the table."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gridcore.cases import Action, Actor, CaseLog, DeskRole, FixedDeadlines, State
from gridcore.categories import Stage
from gridcore.clock import RoundTheClock
from gridcore.errors import ConfigError
from gridcore.escalation import (
    Escalation,
    EscalationRule,
    Response,
    Trigger,
    apply_escalations,
    default_rules,
    due_escalations,
)
from gridcore.ids import AreaCode, CaseId, CategoryCode, PersonId

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 3, 4, 9, 0, tzinfo=TZ)
H = timedelta(hours=1)
LIMITS = {
    Stage.VERIFY: H,
    Stage.DISPATCH: H,
    Stage.SIGN_FOR: H,
    Stage.HANDLE: 4 * H,
    Stage.CHECK: H,
}
POLICY = FixedDeadlines(RoundTheClock(), LIMITS)

REPORTER = Actor(PersonId("r"), DeskRole.REPORTER)
DESK = Actor(PersonId("d"), DeskRole.DISPATCHER)
HANDLER = Actor(PersonId("h"), DeskRole.HANDLER)
HANDLER2 = Actor(PersonId("h2"), DeskRole.HANDLER)

OVERDUE_UP = EscalationRule(
    "overdue_up", Trigger.STAGE_OVERDUE, Response.ESCALATE_PARENT, supervision=2
)
YELLOW = EscalationRule("yellow", Trigger.YELLOW_REACHED, Response.WARN)


def _signed(log: CaseLog, cid: str, severity: int | None = None) -> None:
    """Report .. sign-for at T0 (handling due T0 + 5 h at grid level)."""
    c = CaseId(cid)
    log.report(c, REPORTER, T0, grid=AreaCode("g1"), category=CategoryCode("x"), severity=severity)
    log.act(c, Action.VERIFY, DESK, T0)
    log.act(c, Action.REGISTER, DESK, T0)
    log.act(c, Action.DISPATCH, DESK, T0, payload={"to": "h", "level": "grid"})
    log.act(c, Action.SIGN_FOR, HANDLER, T0)


class TestTimeTriggers:
    def test_nothing_due_while_green(self) -> None:
        """Two hours into five: green, no escalation."""
        log = CaseLog(POLICY)
        _signed(log, "c1")
        assert due_escalations(log.cases(), T0 + 2 * H, [OVERDUE_UP, YELLOW], policy=POLICY) == []

    def test_yellow_warns_and_overdue_escalates_to_the_parent(self) -> None:
        """At 4.5 h yellow warns; past 5 h the case goes to the community."""
        log = CaseLog(POLICY)
        _signed(log, "c1")
        due = due_escalations(log.cases(), T0 + 4.5 * H, [OVERDUE_UP, YELLOW], policy=POLICY)
        assert [(e.rule, e.action, e.payload["light"]) for e in due] == [
            ("yellow", Action.WARN, "yellow")
        ]
        late = due_escalations(log.cases(), T0 + 6 * H, [OVERDUE_UP], policy=POLICY)
        assert len(late) == 1
        e = late[0]
        assert e.action is Action.ESCALATE
        assert (e.payload["level"], e.payload["to"], e.payload["supervision"]) == (
            "community",
            "community:g1",
            2,
        )

    def test_a_rule_fires_once_per_case_and_stage(self) -> None:
        """After a warning is applied the same rule does not fire again in that stage."""
        log = CaseLog(POLICY)
        _signed(log, "c1")
        first = due_escalations(log.cases(), T0 + 4.5 * H, [YELLOW], policy=POLICY)
        outcomes = apply_escalations(log, first, T0 + 4.5 * H)
        assert [n.kind for n in outcomes[0][2]] == ["warning"]
        assert due_escalations(log.cases(), T0 + 7 * H, [YELLOW], policy=POLICY) == []

    def test_applied_escalation_moves_the_case_and_replays(self) -> None:
        """The escalation goes through the table: new owner, level, supervision."""
        log = CaseLog(POLICY)
        _signed(log, "c1")
        due = due_escalations(log.cases(), T0 + 6 * H, [OVERDUE_UP], policy=POLICY)
        case, _, notes = apply_escalations(log, due, T0 + 6 * H)[0]
        assert (case.state, case.level, case.owner) == (
            State.DISPATCHED,
            "community",
            "community:g1",
        )
        assert case.first_handler == "h"
        assert [n.kind for n in notes] == ["escalation"]
        # The new owner has its own deadline (6 h + 5 h): 3 h into it nothing is due.
        log.act(
            CaseId("c1"),
            Action.SIGN_FOR,
            Actor(PersonId("x"), DeskRole.HANDLER, "community:g1"),
            T0 + 6 * H,
        )
        assert due_escalations(log.cases(), T0 + 9 * H, [OVERDUE_UP], policy=POLICY) == []

    def test_each_rule_sees_its_own_light(self) -> None:
        """The light is computed once per case, but only time rules carry it: a warning
        from another trigger says yellow even when the case is red."""
        log = CaseLog(POLICY)
        _signed(log, "c1")
        for _ in range(3):  # three transfers: buck passing
            case = log.case(CaseId("c1"))
            to = "h2" if case.owner == "h" else "h"
            log.act(CaseId("c1"), Action.TRANSFER, DESK, T0, "wrong desk", {"to": to})
        red_warn = EscalationRule("red_warn", Trigger.STAGE_OVERDUE, Response.WARN)
        buck_warn = EscalationRule("buck_warn", Trigger.BUCK_PASSING, Response.WARN, threshold=2)
        due = due_escalations(log.cases(), T0 + 9 * H, [YELLOW, red_warn, buck_warn], policy=POLICY)
        assert [(e.rule, e.payload["light"]) for e in due] == [
            ("yellow", "red"),
            ("red_warn", "red"),
            ("buck_warn", "yellow"),
        ]

    def test_stage_filter_limits_a_time_rule(self) -> None:
        """A rule watching only the check stage ignores a late sign-for."""
        log = CaseLog(POLICY)
        c = CaseId("c1")
        log.report(c, REPORTER, T0, grid=AreaCode("g1"), category=CategoryCode("x"))
        rule = EscalationRule(
            "check_late", Trigger.STAGE_OVERDUE, Response.SUPERVISE, stages={Stage.CHECK}
        )
        assert due_escalations(log.cases(), T0 + 9 * H, [rule], policy=POLICY) == []
        any_stage = EscalationRule("late", Trigger.STAGE_OVERDUE, Response.SUPERVISE)
        due = due_escalations(log.cases(), T0 + 9 * H, [any_stage], policy=POLICY)
        assert [(e.action, e.payload["supervision"]) for e in due] == [(Action.SUPERVISE, 1)]

    def test_parked_cases_do_not_run_late(self) -> None:
        """The clock stops while parked: no time trigger fires."""
        log = CaseLog(POLICY)
        _signed(log, "c1")
        log.act(CaseId("c1"), Action.PARK, DESK, T0 + H, "waiting for parts")
        assert due_escalations(log.cases(), T0 + 99 * H, [OVERDUE_UP, YELLOW], policy=POLICY) == []


class TestOtherTriggers:
    def test_severe_case_goes_to_the_department_at_registration(self) -> None:
        """Severity 4 >= 4: a registered case is escalated straight to the department."""
        log = CaseLog(POLICY)
        c = CaseId("c1")
        log.report(c, REPORTER, T0, grid=AreaCode("g1"), category=CategoryCode("fire"), severity=4)
        log.act(c, Action.VERIFY, DESK, T0)
        log.act(c, Action.REGISTER, DESK, T0)
        rule = EscalationRule(
            "severe", Trigger.SEVERITY, Response.ESCALATE_DEPARTMENT, threshold=4, supervision=3
        )
        due = due_escalations(log.cases(), T0, [rule], policy=POLICY)
        assert [(e.payload["level"], e.payload["to"]) for e in due] == [
            ("department", "department:fire")
        ]
        case, ev, _ = apply_escalations(log, due, T0)[0]
        assert case.state is State.DISPATCHED and case.due == T0 + 5 * H
        assert ev.payload["due"] == (T0 + 5 * H).isoformat()
        assert due_escalations(log.cases(), T0, [rule], policy=POLICY) == []

    def test_severity_is_judged_before_anyone_signs_for(self) -> None:
        """A severe case already signed for at grid level is not re-routed by severity."""
        log = CaseLog(POLICY)
        _signed(log, "c1", severity=4)
        rule = EscalationRule("severe", Trigger.SEVERITY, Response.ESCALATE_DEPARTMENT, threshold=4)
        assert due_escalations(log.cases(), T0, [rule]) == []

    def test_beyond_authority_escalates(self) -> None:
        """The handler declares it beyond their authority; the rule takes it up a level."""
        log = CaseLog(POLICY)
        _signed(log, "c1")
        rule = EscalationRule("beyond", Trigger.BEYOND_AUTHORITY, Response.ESCALATE_PARENT)
        assert due_escalations(log.cases(), T0, [rule]) == []
        log.act(CaseId("c1"), Action.DECLARE_BEYOND_AUTHORITY, HANDLER, T0, "needs a permit")
        due = due_escalations(log.cases(), T0, [rule])
        case = apply_escalations(log, due, T0)[0][0]
        assert case.level == "community" and not case.extra.beyond_authority
        assert due_escalations(log.cases(), T0, [rule]) == []

    def test_buck_passing_is_supervised(self) -> None:
        """More than one transfer (推诿) brings a level-3 supervision, once per count."""
        log = CaseLog(POLICY)
        _signed(log, "c1")
        c = CaseId("c1")
        rule = EscalationRule(
            "buck", Trigger.BUCK_PASSING, Response.SUPERVISE, threshold=1, supervision=3
        )
        log.act(c, Action.TRANSFER, HANDLER, T0, "not mine", payload={"to": "h2"})
        assert due_escalations(log.cases(), T0, [rule]) == []
        log.act(c, Action.SIGN_FOR, HANDLER2, T0)
        log.act(c, Action.TRANSFER, HANDLER2, T0, "not mine either", payload={"to": "h"})
        due = due_escalations(log.cases(), T0, [rule])
        assert [(e.action, e.payload["supervision"]) for e in due] == [(Action.SUPERVISE, 3)]
        case = apply_escalations(log, due, T0)[0][0]
        assert case.extra.supervision == 3
        assert due_escalations(log.cases(), T0, [rule]) == []

    def test_reopened_case_is_supervised(self) -> None:
        """A reopen triggers supervision."""
        log = CaseLog(POLICY)
        _signed(log, "c1")
        c = CaseId("c1")
        log.act(c, Action.START, HANDLER, T0)
        log.act(c, Action.HANDLE, HANDLER, T0)
        log.act(c, Action.CLOSE, Actor(PersonId("k"), DeskRole.CHECKER), T0)
        rule = EscalationRule("reopened", Trigger.REOPENED, Response.SUPERVISE, supervision=2)
        assert due_escalations(log.cases(), T0, [rule]) == []
        log.act(c, Action.REOPEN, DESK, T0, "resident complained")
        assert len(due_escalations(log.cases(), T0, [rule])) == 1


class TestOrderAndRules:
    def test_order_is_case_id_then_rule_order(self) -> None:
        """Deterministic: sorted by case id, then by the order of the rules."""
        log = CaseLog(POLICY)
        for cid in ("c3", "c1", "c2"):
            _signed(log, cid)
        sup = EscalationRule("sup", Trigger.STAGE_OVERDUE, Response.SUPERVISE)
        due = due_escalations(log.cases(), T0 + 6 * H, [YELLOW, sup, OVERDUE_UP], policy=POLICY)
        assert [(e.case_id, e.rule) for e in due] == [
            (cid, r) for cid in ("c1", "c2", "c3") for r in ("yellow", "sup", "overdue_up")
        ]

    def test_one_escalation_per_case_per_call(self) -> None:
        """Two escalating rules: only the first moves the case this time."""
        log = CaseLog(POLICY)
        _signed(log, "c1")
        dept = EscalationRule("dept", Trigger.STAGE_OVERDUE, Response.ESCALATE_DEPARTMENT)
        due = due_escalations(log.cases(), T0 + 6 * H, [OVERDUE_UP, dept], policy=POLICY)
        assert [e.rule for e in due] == ["overdue_up"]

    def test_no_escalation_above_the_top(self) -> None:
        """A case at department level has no parent to go to."""
        log = CaseLog(POLICY)
        c = CaseId("c1")
        log.report(c, REPORTER, T0, grid=AreaCode("g1"), category=CategoryCode("x"))
        log.act(c, Action.VERIFY, DESK, T0)
        log.act(c, Action.REGISTER, DESK, T0)
        log.act(c, Action.DISPATCH, DESK, T0, payload={"to": "dept", "level": "department"})
        assert due_escalations(log.cases(), T0 + 9 * H, [OVERDUE_UP], policy=POLICY) == []

    def test_default_rules_are_valid_and_named_uniquely(self) -> None:
        """The built-in set builds and runs."""
        rules = default_rules()
        assert len({r.name for r in rules}) == len(rules)
        log = CaseLog(POLICY)
        _signed(log, "c1")
        due = due_escalations(log.cases(), T0 + 6 * H, rules, policy=POLICY)
        assert {e.rule for e in due} == {
            "yellow_warning",
            "overdue_supervise",
            "handling_overdue_up",
        }
        apply_escalations(log, due, T0 + 6 * H)

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"name": ""}, "name"),
            ({"supervision": 4}, "supervision"),
            ({"threshold": -1}, "threshold"),
            ({"trigger": "reopened", "stages": {"handle"}}, "stages"),
            ({"stages": {"lunch"}}, "stages"),
        ],
    )
    def test_bad_rules_are_refused(self, kwargs: dict[str, object], match: str) -> None:
        """A rule that cannot work is refused when built, naming the field."""
        args: dict[str, object] = {
            "name": "r",
            "trigger": "stage_overdue",
            "response": "supervise",
            **kwargs,
        }
        with pytest.raises(ConfigError, match=match):
            EscalationRule(**args)  # type: ignore[arg-type]

    def test_duplicate_rule_names_are_refused(self) -> None:
        """Rule names key what fired: they must be unique."""
        with pytest.raises(ConfigError, match="twice"):
            due_escalations([], T0, [YELLOW, YELLOW])

    def test_escalation_applies_to_a_bare_case(self) -> None:
        """`Escalation.apply_to` is `cases.apply` with the rule's action."""
        log = CaseLog(POLICY)
        _signed(log, "c1")
        e = Escalation(
            CaseId("c1"),
            "manual",
            Trigger.BEYOND_AUTHORITY,
            Action.SUPERVISE,
            "look at it",
            {"supervision": 1},
        )
        case, event, _ = e.apply_to(log.case(CaseId("c1")), T0)
        assert event.action is Action.SUPERVISE and case.extra.supervision == 1

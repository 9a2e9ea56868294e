"""The escalation ladder by time (三级督办, 三级联动): fresh deadlines per level, time rules
firing again at each level, a configurable top, and an unsigned case climbing."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gridcore.cases import Action, Actor, Case, CaseLog, DeskRole, FixedDeadlines, State
from gridcore.categories import Category, Stage, Taxonomy
from gridcore.clock import RoundTheClock
from gridcore.errors import ConfigError, TaxonomyError
from gridcore.escalation import (
    EscalationRule,
    Response,
    Trigger,
    apply_escalations,
    default_rules,
    due_escalations,
    ladder_epoch,
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
LEVEL_LIMITS = {"community": 8 * H, "street": 10 * H}
POLICY = FixedDeadlines(RoundTheClock(), LIMITS, level_limits=LEVEL_LIMITS)

REPORTER = Actor(PersonId("r"), DeskRole.REPORTER)
DESK = Actor(PersonId("d"), DeskRole.DISPATCHER)
HANDLER = Actor(PersonId("h"), DeskRole.HANDLER)

SUPERVISE = EscalationRule("overdue_supervise", Trigger.STAGE_OVERDUE, Response.SUPERVISE)
WARN = EscalationRule("yellow_warning", Trigger.YELLOW_REACHED, Response.WARN)
CLIMB = EscalationRule(
    "handling_overdue_up",
    Trigger.STAGE_OVERDUE,
    Response.ESCALATE_PARENT,
    supervision=2,
    stages={Stage.HANDLE},
)
SIGN_CLIMB = EscalationRule(
    "sign_for_overdue_up",
    Trigger.STAGE_OVERDUE,
    Response.ESCALATE_PARENT,
    stages={Stage.SIGN_FOR},
    after="overdue_supervise",
)


def _dispatched(log: CaseLog, cid: str = "c1") -> CaseId:
    """Report .. dispatch to the grid at T0 (due T0 + 5 h: sign-for 1 h + handling 4 h)."""
    c = CaseId(cid)
    log.report(c, REPORTER, T0, grid=AreaCode("g1"), category=CategoryCode("x"))
    log.act(c, Action.VERIFY, DESK, T0)
    log.act(c, Action.REGISTER, DESK, T0)
    log.act(c, Action.DISPATCH, DESK, T0, payload={"to": "team:g1", "level": "grid"})
    return c


def _sweep(log: CaseLog, now: datetime, rules: list[EscalationRule]) -> list[str]:
    """One sweep: the due escalations applied; returns 'rule:action' for each."""
    due = due_escalations(log.cases(), now, rules, policy=POLICY)
    apply_escalations(log, due, now)
    return [f"{e.rule}:{e.action.value}" for e in due]


def _sign(log: CaseLog, c: CaseId, now: datetime) -> Case:
    case = log.case(c)
    unit = case.owner or ""
    return log.act(c, Action.SIGN_FOR, Actor(PersonId("p"), DeskRole.HANDLER, unit), now)[0]


class TestFreshDeadlines:
    def test_a_climb_gives_the_new_owner_the_levels_limit_from_the_climb(self) -> None:
        """Escalated at 6 h to the community (limit 8 h): due 14 h, not the old 5 h."""
        log = CaseLog(POLICY)
        c = _dispatched(log)
        _sign(log, c, T0)
        assert _sweep(log, T0 + 6 * H, [CLIMB]) == ["handling_overdue_up:escalate"]
        case = log.case(c)
        assert (case.level, case.due, case.due_budget) == ("community", T0 + 14 * H, 8 * H)

    def test_a_level_without_its_own_limit_gets_the_categorys_limits_again(self) -> None:
        """No limit for the street in this policy's table but 10 h; with none at all the
        street gets sign-for + handling (5 h) from the climb."""
        policy = FixedDeadlines(RoundTheClock(), LIMITS)
        log = CaseLog(policy)
        c = _dispatched(log)
        up = {"to": "community:g1", "level": "community"}
        log.act(c, Action.ESCALATE, DESK, T0 + 2 * H, "beyond grid authority", up)
        assert log.case(c).due == T0 + 7 * H

    def test_the_deadline_is_in_working_time_from_the_climb(self) -> None:
        """On a working-hours calendar the new deadline skips the night."""
        from datetime import time

        from gridcore.clock import NoHolidays, WorkingHoursCalendar

        cal = WorkingHoursCalendar(
            periods=((time(8), time(12)), (time(14), time(18))), holidays=NoHolidays(), tz=TZ
        )
        policy = FixedDeadlines(cal, LIMITS, level_limits={"community": 2 * H})
        log = CaseLog(policy)
        c = _dispatched(log)
        at = T0.replace(hour=17)
        up = {"to": "community:g1", "level": "community"}
        log.act(c, Action.ESCALATE, DESK, at, "beyond grid authority", up)
        assert log.case(c).due == (T0 + timedelta(days=1)).replace(hour=9)

    def test_the_sign_for_clock_restarts_at_the_new_level(self) -> None:
        """An unsigned case that climbs starts its sign-for stage again at the climb."""
        log = CaseLog(POLICY)
        c = _dispatched(log)
        up = {"to": "community:g1", "level": "community"}
        case = log.act(c, Action.ESCALATE, DESK, T0 + 2 * H, "beyond grid authority", up)[0]
        assert case.state is State.DISPATCHED
        assert case.stage_since == T0 + 2 * H and case.stage_seq == case.seq


class TestTheLadder:
    def test_time_rules_fire_again_at_the_new_level(self) -> None:
        """Yellow and red fire at the grid, and again at the community's own deadline."""
        log = CaseLog(POLICY)
        c = _dispatched(log)
        _sign(log, c, T0)
        rules = [WARN, SUPERVISE, CLIMB]
        assert _sweep(log, T0 + 4.5 * H, rules) == ["yellow_warning:warn"]
        assert _sweep(log, T0 + 6 * H, rules) == [
            "overdue_supervise:supervise",
            "handling_overdue_up:escalate",
        ]
        _sign(log, c, T0 + 6 * H)
        assert _sweep(log, T0 + 10 * H, rules) == []  # 4 h of 8: green
        assert _sweep(log, T0 + 13 * H, rules) == ["yellow_warning:warn"]  # 7 h of 8
        assert _sweep(log, T0 + 15 * H, rules) == [
            "overdue_supervise:supervise",
            "handling_overdue_up:escalate",
        ]
        assert log.case(c).level == "street"

    def test_supervision_rises_on_each_climb(self) -> None:
        """督办 2 at the first climb, 3 at the second (at least the rule's own level)."""
        log = CaseLog(POLICY)
        c = _dispatched(log)
        _sign(log, c, T0)
        _sweep(log, T0 + 6 * H, [CLIMB])
        assert log.case(c).extra.supervision == 2
        _sign(log, c, T0 + 6 * H)
        _sweep(log, T0 + 15 * H, [CLIMB])
        assert log.case(c).extra.supervision == 3

    def test_the_ladder_stops_at_its_top_where_supervision_goes_on(self) -> None:
        """With top = community, the overdue case at the community is supervised, not
        moved; its time rules still fire there."""
        climb = EscalationRule(
            "up",
            Trigger.STAGE_OVERDUE,
            Response.ESCALATE_PARENT,
            stages={Stage.HANDLE},
            top="community",
        )
        log = CaseLog(POLICY)
        c = _dispatched(log)
        _sign(log, c, T0)
        assert _sweep(log, T0 + 6 * H, [SUPERVISE, climb]) == [
            "overdue_supervise:supervise",
            "up:escalate",
        ]
        _sign(log, c, T0 + 6 * H)
        assert _sweep(log, T0 + 15 * H, [SUPERVISE, climb]) == ["overdue_supervise:supervise"]
        assert log.case(c).level == "community"

    def test_an_unsigned_case_climbs_after_its_supervision(self) -> None:
        """Nobody signs: at 1.5 h it is supervised; it climbs at the next sweep, not the
        same one; at the community its sign-for clock starts again."""
        log = CaseLog(POLICY)
        c = _dispatched(log)
        rules = [SUPERVISE, SIGN_CLIMB]
        assert _sweep(log, T0 + 1.5 * H, rules) == ["overdue_supervise:supervise"]
        assert _sweep(log, T0 + 1.75 * H, rules) == ["sign_for_overdue_up:escalate"]
        case = log.case(c)
        assert (case.level, case.state, case.stage_since) == (
            "community",
            State.DISPATCHED,
            T0 + 1.75 * H,
        )
        assert _sweep(log, T0 + 2.5 * H, rules) == []  # 45 min of its new hour

    def test_the_default_rules_climb_an_unsigned_case(self) -> None:
        """The default rule set holds the sign-for climb, after its supervision."""
        names = [r.name for r in default_rules()]
        assert "sign_for_overdue_up" in names
        rule = default_rules()[names.index("sign_for_overdue_up")]
        assert rule.after == "overdue_supervise" and rule.stages == {Stage.SIGN_FOR}
        assert names.index("overdue_supervise") < names.index("sign_for_overdue_up")

    def test_the_epoch_counts_the_climbs(self) -> None:
        """Before any climb the epoch is the stage's order; a climb starts a new set."""
        log = CaseLog(POLICY)
        c = _dispatched(log)
        before = ladder_epoch(log.case(c), Stage.SIGN_FOR)
        up = {"to": "community:g1", "level": "community"}
        log.act(c, Action.ESCALATE, DESK, T0 + H, "beyond grid authority", up)
        assert before == list(Stage).index(Stage.SIGN_FOR)
        assert ladder_epoch(log.case(c), Stage.SIGN_FOR) == before + len(Stage)

    def test_replaying_the_log_gives_the_same_ladder(self) -> None:
        """The fold of the events is the live case, deadlines and supervision included."""
        log = CaseLog(POLICY)
        c = _dispatched(log)
        _sign(log, c, T0)
        _sweep(log, T0 + 6 * H, [SUPERVISE, CLIMB])
        _sign(log, c, T0 + 6 * H)
        _sweep(log, T0 + 15 * H, [SUPERVISE, CLIMB])
        assert Case.replay(log.events(c)) == log.case(c)


class TestRuleData:
    def test_a_top_that_is_no_level_is_refused(self) -> None:
        """`top` names a level."""
        with pytest.raises(ConfigError, match="'top'"):
            EscalationRule("x", Trigger.STAGE_OVERDUE, Response.ESCALATE_PARENT, top="moon")

    def test_a_rule_cannot_wait_for_itself(self) -> None:
        """`after` names another rule."""
        with pytest.raises(ConfigError, match="'after'"):
            EscalationRule("x", Trigger.STAGE_OVERDUE, Response.WARN, after="x")


class TestTaxonomyLevelLimits:
    def _leaf(self, **kw: object) -> Category:
        return Category(
            CategoryCode("E0101"),
            "rubbish",
            "暴露垃圾",
            "event",
            limits=LIMITS,
            **kw,  # type: ignore[arg-type]
        )

    def test_level_limits_are_read_and_written(self, tmp_path: object) -> None:
        """A taxonomy file keeps each category's per-level limits (JSON and TOML)."""
        from pathlib import Path

        from gridcore.io.taxonomy import read_taxonomy, write_taxonomy

        tax = Taxonomy([self._leaf(level_limits={"community": 16 * H, "street": 24 * H})])
        for suffix in ("json", "toml"):
            path = Path(str(tmp_path)) / f"tax.{suffix}"
            write_taxonomy(tax, path)
            back = read_taxonomy(path).get(CategoryCode("E0101"))
            assert dict(back.level_limits) == {"community": 16 * H, "street": 24 * H}

    def test_bad_level_limits_are_refused_naming_the_field(self) -> None:
        """An unknown level or a non-positive duration is refused."""
        with pytest.raises(TaxonomyError, match="level_limits"):
            self._leaf(level_limits={"moon": H})
        with pytest.raises(TaxonomyError, match=r"level_limits\.street"):
            self._leaf(level_limits={"street": timedelta(0)})

    def test_the_category_policy_reads_the_level_limits(self) -> None:
        """`CategoryDeadlines.level_limit_for` answers from the taxonomy (None: unset)."""
        from gridcore.cases import CategoryDeadlines
        from gridcore.clock import CalendarSet

        tax = Taxonomy([self._leaf(level_limits={"street": 24 * H})])
        policy = CategoryDeadlines(tax, CalendarSet.of(RoundTheClock()))
        assert policy.level_limit_for("E0101", "street") == 24 * H
        assert policy.level_limit_for("E0101", "community") is None

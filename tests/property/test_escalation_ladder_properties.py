"""Property: the escalation ladder over any sequence of sweeps (and sign-fors between)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.cases import (
    Action,
    Actor,
    Case,
    CaseLog,
    DeskRole,
    FixedDeadlines,
    State,
    level_rank,
    stage_deadline,
)
from gridcore.categories import Stage
from gridcore.clock import RoundTheClock
from gridcore.escalation import EscalationRule, Response, Trigger, due_escalations
from gridcore.ids import AreaCode, CaseId, CategoryCode, PersonId

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 3, 4, 9, 0, tzinfo=TZ)
H = timedelta(hours=1)
LIMITS = {Stage.VERIFY: H, Stage.DISPATCH: H, Stage.SIGN_FOR: H, Stage.HANDLE: 4 * H}
POLICY = FixedDeadlines(RoundTheClock(), LIMITS, level_limits={"community": 8 * H})
DESK = Actor(PersonId("d"), DeskRole.DISPATCHER)
SYSTEM = Actor(PersonId("system"), DeskRole.SYSTEM)
WARN = EscalationRule("yellow_warning", Trigger.YELLOW_REACHED, Response.WARN)
SUPERVISE = EscalationRule("overdue_supervise", Trigger.STAGE_OVERDUE, Response.SUPERVISE)


def _dispatched(log: CaseLog) -> CaseId:
    c = CaseId("c1")
    reporter = Actor(PersonId("r"), DeskRole.REPORTER)
    log.report(c, reporter, T0, grid=AreaCode("g1"), category=CategoryCode("x"))
    log.act(c, Action.VERIFY, DESK, T0)
    log.act(c, Action.REGISTER, DESK, T0)
    log.act(c, Action.DISPATCH, DESK, T0, payload={"to": "team:g1", "level": "grid"})
    return c


def _rules(top: str) -> list[EscalationRule]:
    return [
        WARN,
        SUPERVISE,
        EscalationRule(
            "handling_overdue_up",
            Trigger.STAGE_OVERDUE,
            Response.ESCALATE_PARENT,
            supervision=2,
            stages={Stage.HANDLE},
            top=top,
        ),
        EscalationRule(
            "sign_for_overdue_up",
            Trigger.STAGE_OVERDUE,
            Response.ESCALATE_PARENT,
            stages={Stage.SIGN_FOR},
            after="overdue_supervise",
            top=top,
        ),
    ]


@settings(max_examples=150, deadline=None)
@given(
    steps=st.lists(st.tuples(st.integers(1, 900), st.booleans()), min_size=1, max_size=30),
    top=st.sampled_from(["community", "street", "department"]),
)
def test_a_case_climbs_one_level_a_sweep_never_early_never_past_the_top(
    steps: list[tuple[int, bool]], top: str
) -> None:
    """For any sweeps (minutes apart) with sign-fors between: at most one level a sweep,
    only once the current deadline has passed, never above the top; the log's replay is
    the live case and climbs the same ladder."""
    rules = _rules(top)
    log = CaseLog(POLICY)
    cid = _dispatched(log)
    now = T0
    ladder = ["grid"]
    for minutes, sign in steps:
        now += timedelta(minutes=minutes)
        case = log.case(cid)
        if sign and case.state is State.DISPATCHED:
            who = Actor(PersonId("p"), DeskRole.HANDLER, case.owner or "")
            case = log.act(cid, Action.SIGN_FOR, who, now)[0]
        before = log.case(cid)
        deadline = stage_deadline(before, POLICY)
        for e in due_escalations([before], now, rules, policy=POLICY):
            log.act(
                cid, e.action, Actor(PersonId("system"), DeskRole.SYSTEM), now, e.reason, e.payload
            )
        after = log.case(cid)
        climbed = level_rank(after.level) - level_rank(before.level)
        assert climbed in (0, 1)
        if climbed:
            assert deadline is not None and now > deadline[1]
            ladder.append(str(after.level))
        assert level_rank(after.level) <= level_rank(top)
    replayed = Case.replay(log.events(cid))
    assert replayed == log.case(cid)
    levels = ["grid"] + [
        str(e.payload["level"]) for e in log.events(cid) if e.action == Action.ESCALATE
    ]
    assert levels == ladder

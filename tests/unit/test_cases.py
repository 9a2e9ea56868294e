"""The case closed loop: the table itself, the iron rules, the log, deadlines, JSON."""

from __future__ import annotations

import functools
from collections import deque
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.cases import (
    FINAL_STATES,
    START_STATE,
    TRANSITIONS,
    Action,
    Actor,
    Assignment,
    Case,
    CaseEvent,
    CaseExtra,
    CaseInfo,
    CaseLog,
    CategoryDeadlines,
    DeskRole,
    DuplicateCaseError,
    EventLogError,
    FixedDeadlines,
    Rule,
    State,
    apply,
    case_light,
    event_from_dict,
    event_from_json,
    event_to_dict,
    event_to_json,
    mermaid_diagram,
    report,
    stage_deadline,
)
from gridcore.cases.deadlines import DeadlineMemo, due_after
from gridcore.cases.table import build_table, table_spec
from gridcore.categories import Stage, default_taxonomy
from gridcore.clock import (
    Calendar,
    CalendarSet,
    NoHolidays,
    RoundTheClock,
    WarningLight,
    WorkingHoursCalendar,
    warning_light,
)
from gridcore.errors import (
    ConfigError,
    FileFormatError,
    GridcoreError,
    SequenceGapError,
    StaleSequenceError,
    TaxonomyError,
    TransitionRefused,
    UnknownItemError,
)
from gridcore.ids import AreaCode, CaseId, CategoryCode, PersonId

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 3, 4, 9, 0, tzinfo=TZ)  # a Monday, 09:00
H = timedelta(hours=1)

REPORTER = Actor(PersonId("resident-1"), DeskRole.REPORTER)
WORKER = Actor(PersonId("worker-1"), DeskRole.GRID_WORKER)
DESK = Actor(PersonId("desk-1"), DeskRole.DISPATCHER)
HANDLER = Actor(PersonId("h-1"), DeskRole.HANDLER)
HANDLER2 = Actor(PersonId("h-2"), DeskRole.HANDLER)
CHECKER = Actor(PersonId("chk-1"), DeskRole.CHECKER)
SUPERVISOR = Actor(PersonId("sup-1"), DeskRole.SUPERVISOR)
EVALUATOR = Actor(PersonId("eva-1"), DeskRole.EVALUATOR)
CID = CaseId("C-1")


class _Plus8(tzinfo):
    """A fixed +08:00 zone of a type the fast paths do not know."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return 8 * H

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "+08"


def _log(policy: FixedDeadlines | None = None) -> CaseLog:
    log = CaseLog(policy)
    log.report(CID, REPORTER, T0, grid=AreaCode("g1"), category=CategoryCode("road"))
    return log


def _signed(policy: FixedDeadlines | None = None) -> CaseLog:
    """A log holding one case signed for by HANDLER."""
    log = _log(policy)
    log.act(CID, Action.VERIFY, WORKER, T0 + H)
    log.act(CID, Action.REGISTER, DESK, T0 + H)
    log.act(CID, Action.DISPATCH, DESK, T0 + H, payload={"to": "h-1", "level": "grid"})
    log.act(CID, Action.SIGN_FOR, HANDLER, T0 + 2 * H)
    return log


def _handled(policy: FixedDeadlines | None = None) -> CaseLog:
    log = _signed(policy)
    log.act(CID, Action.START, HANDLER, T0 + 2 * H)
    log.act(CID, Action.HANDLE, HANDLER, T0 + 3 * H)
    return log


def _finish_by(log: CaseLog, handler: Actor, at: datetime) -> None:
    """The owner `handler` signs for the case, starts and reports it handled at `at`."""
    log.act(CID, Action.SIGN_FOR, handler, at)
    log.act(CID, Action.START, handler, at)
    log.act(CID, Action.HANDLE, handler, at + H)


def _refused(log: CaseLog, rule: Rule, *args: object, **kw: object) -> TransitionRefused:
    """Assert the action is refused by `rule` and leaves the log unchanged."""
    before_case = log.case(CID)
    before_events = log.events(CID)
    with pytest.raises(TransitionRefused) as info:
        log.act(CID, *args, **kw)  # type: ignore[arg-type]
    assert info.value.rule == rule, info.value
    assert log.case(CID) == before_case
    assert log.events(CID) == before_events
    return info.value


class TestTable:
    def test_every_state_is_reachable_from_the_start(self) -> None:
        """Breadth-first search over the table reaches every state from `reported`."""
        seen = {START_STATE}
        todo = deque([START_STATE])
        while todo:
            s = todo.popleft()
            for (src, _), tr in TRANSITIONS.items():
                if src is s and tr.target not in seen:
                    seen.add(tr.target)
                    todo.append(tr.target)
        assert seen == set(State)

    def test_every_non_final_state_has_an_exit(self) -> None:
        """A state that is not final can be left by some action to another state."""
        for s in set(State) - FINAL_STATES:
            assert any(src is s and tr.target is not s for (src, _), tr in TRANSITIONS.items()), s

    def test_final_states_have_no_exit(self) -> None:
        """No entry of the table starts from a final state."""
        assert not [k for k in TRANSITIONS if k[0] in FINAL_STATES]

    def test_entries_are_consistent(self) -> None:
        """Each entry's key matches its source and action and names at least one role."""
        for (src, action), tr in TRANSITIONS.items():
            assert (tr.source, tr.action) == (src, action)
            assert tr.roles
            assert all(g.doc for g in tr.guards)

    def test_a_table_that_cannot_reach_a_state_is_refused_when_built(self) -> None:
        """Without `verify` nothing reaches `verified`: building the table fails."""
        spec = [s for s in table_spec() if s[0] is not Action.VERIFY]
        with pytest.raises(ConfigError, match="cannot be reached"):
            build_table(spec)

    def test_a_table_with_a_stuck_state_is_refused_when_built(self) -> None:
        """Without `resume` a parked case could never leave: building the table fails."""
        spec = [s for s in table_spec() if s[0] is not Action.RESUME]
        with pytest.raises(ConfigError, match=r"\['parked'\] are not final but have no exit"):
            build_table(spec)

    def test_a_table_giving_an_entry_twice_is_refused_when_built(self) -> None:
        """The same (state, action) twice is a `ConfigError` naming it."""
        spec = list(table_spec())
        with pytest.raises(ConfigError, match="given twice"):
            build_table([*spec, spec[0]])

    def test_mermaid_has_one_line_per_transition_and_start_and_ends(self) -> None:
        """The diagram lists every transition, the start and every final state."""
        text = mermaid_diagram()
        lines = text.splitlines()
        assert lines[0] == "stateDiagram-v2"
        assert "    [*] --> reported" in lines
        for (src, action), tr in TRANSITIONS.items():
            assert f"    {src.value} --> {tr.target.value} : {action.value}" in lines
        for s in FINAL_STATES:
            assert f"    {s.value} --> [*]" in lines
        assert len(lines) == 2 + len(TRANSITIONS) + len(FINAL_STATES)


class TestMainLoop:
    def test_main_loop_reaches_evaluated_and_replays(self) -> None:
        """report .. evaluate runs through every main state; the fold equals the live case."""
        log = _handled()
        log.act(CID, Action.CLOSE, CHECKER, T0 + 4 * H)
        case, _, _ = log.act(CID, Action.EVALUATE, EVALUATOR, T0 + 5 * H, payload={"score": 95})
        assert case.state is State.EVALUATED
        assert [e.to_state for e in log.events(CID)] == [
            State.REPORTED,
            State.VERIFIED,
            State.REGISTERED,
            State.DISPATCHED,
            State.SIGNED_FOR,
            State.IN_PROGRESS,
            State.HANDLED,
            State.CLOSED,
            State.EVALUATED,
        ]
        assert [e.seq for e in log.events(CID)] == list(range(1, 10))
        assert Case.replay(log.events(CID)) == case

    def test_report_payload_carries_grid_category_and_channel(self) -> None:
        """Metrics rely on these keys of the report event."""
        _, e, _ = report(
            CID, WORKER, T0, grid=AreaCode("g9"), category=CategoryCode("x"), channel="patrol"
        )
        assert e.payload["grid"] == "g9"
        assert e.payload["category"] == "x"
        assert e.payload["channel"] == "patrol"
        assert e.from_state is None

    def test_dispatch_payload_carries_to_and_level(self) -> None:
        """Metrics rely on "to" and "level" in routing events."""
        log = _signed()
        e = log.events(CID)[3]
        assert e.action is Action.DISPATCH
        assert (e.payload["to"], e.payload["level"]) == ("h-1", "grid")

    def test_cancel_as_not_existing_needs_a_reason(self) -> None:
        """A report that does not exist is cancelled, with a reason."""
        log = _log()
        _refused(log, Rule.REASON_REQUIRED, Action.CANCEL, WORKER, T0)
        case, _, _ = log.act(CID, Action.CANCEL, WORKER, T0, "nothing found on site")
        assert case.state is State.CANCELLED and case.is_final

    def test_report_of_a_taken_id_is_refused(self) -> None:
        """Case ids are unique in a log."""
        log = _log()
        with pytest.raises(DuplicateCaseError):
            log.report(CID, REPORTER, T0, grid=AreaCode("g1"), category=CategoryCode("x"))

    def test_unknown_case_is_named(self) -> None:
        """Acting on a case the log does not hold names it."""
        with pytest.raises(UnknownItemError, match="C-404"):
            _log().act(CaseId("C-404"), Action.VERIFY, DESK, T0)


class TestRefusals:
    def test_refusal_names_case_state_action_actor_and_rule(self) -> None:
        """The error message carries everything needed to understand it."""
        exc = _refused(_log(), Rule.TABLE, Action.CLOSE, CHECKER, T0)
        assert (exc.case_id, exc.state, exc.action) == ("C-1", "reported", "close")
        assert "chk-1" in exc.actor
        msg = str(exc)
        assert "C-1" in msg and "reported" in msg and "close" in msg and "transition_table" in msg

    def test_role_not_allowed_is_refused(self) -> None:
        """A reporter cannot register a case."""
        log = _log()
        log.act(CID, Action.VERIFY, WORKER, T0)
        _refused(log, Rule.ROLE, Action.REGISTER, REPORTER, T0)

    def test_going_back_in_time_is_refused(self) -> None:
        """Events of a case are in time order."""
        _refused(_log(), Rule.TIME_ORDER, Action.VERIFY, WORKER, T0 - H)

    def test_naive_instant_is_a_config_error(self) -> None:
        """Every instant is timezone-aware."""
        with pytest.raises(ConfigError, match="naive"):
            _log().act(CID, Action.VERIFY, WORKER, datetime(2024, 3, 4, 9))

    def test_dispatch_needs_an_owner_and_a_level(self) -> None:
        """Without "to" and "level" a dispatch cannot be routed."""
        log = _log()
        log.act(CID, Action.VERIFY, WORKER, T0)
        log.act(CID, Action.REGISTER, DESK, T0)
        _refused(log, Rule.PAYLOAD, Action.DISPATCH, DESK, T0, payload={"to": "h-1"})
        _refused(log, Rule.PAYLOAD, Action.DISPATCH, DESK, T0, payload={"level": "grid"})
        _refused(
            log, Rule.PAYLOAD, Action.DISPATCH, DESK, T0, payload={"to": "h", "level": "planet"}
        )

    def test_all_refusals_are_gridcore_errors(self) -> None:
        """One exception tree."""
        assert issubclass(TransitionRefused, GridcoreError)


class TestIronRules:
    def test_transfer_without_reason_is_refused(self) -> None:
        """转办必须阐明理由."""
        log = _signed()
        _refused(log, Rule.REASON, Action.TRANSFER, HANDLER, T0 + 3 * H, payload={"to": "h-2"})
        _refused(
            log, Rule.REASON, Action.TRANSFER, HANDLER, T0 + 3 * H, "   ", payload={"to": "h-2"}
        )

    def test_transfer_reason_is_kept_in_the_event(self) -> None:
        """The reason of a transfer is recorded."""
        log = _signed()
        _, e, _ = log.act(
            CID, Action.TRANSFER, HANDLER, T0 + 3 * H, "belongs to water", payload={"to": "h-2"}
        )
        assert e.reason == "belongs to water"
        assert e.payload["level"] == "grid"  # the current level when none is given

    def test_return_request_without_reason_is_refused(self) -> None:
        """A return (回退) states why, like a transfer."""
        log = _signed()
        _refused(log, Rule.REASON, Action.REQUEST_RETURN, HANDLER, T0 + 3 * H)

    @pytest.mark.parametrize("action", [Action.VOID, Action.MERGE, Action.CANCEL])
    def test_signed_for_case_cannot_be_dropped(self, action: Action) -> None:
        """签收必须办理: no void, merge or cancel once signed for."""
        log = _signed()
        _refused(
            log, Rule.SIGNED_MUST_HANDLE, action, DESK, T0 + 3 * H, "x", payload={"into": "C-2"}
        )

    def test_signed_for_case_cannot_be_taken_by_someone_else(self) -> None:
        """签收必须办理: a second sign-for or a re-dispatch is refused."""
        log = _signed()
        _refused(log, Rule.SIGNED_MUST_HANDLE, Action.SIGN_FOR, HANDLER2, T0 + 3 * H)
        _refused(
            log,
            Rule.SIGNED_MUST_HANDLE,
            Action.DISPATCH,
            DESK,
            T0 + 3 * H,
            payload={"to": "h-2", "level": "grid"},
        )

    def test_only_the_handler_works_the_case(self) -> None:
        """Another handler cannot start or finish it."""
        log = _signed()
        _refused(log, Rule.BY_HANDLER, Action.START, HANDLER2, T0 + 3 * H)

    def test_only_the_owner_signs_for(self) -> None:
        """A case dispatched to h-1 cannot be signed for by h-2; a unit member can sign."""
        log = _log()
        log.act(CID, Action.VERIFY, WORKER, T0)
        log.act(CID, Action.REGISTER, DESK, T0)
        log.act(CID, Action.DISPATCH, DESK, T0, payload={"to": "dept-water", "level": "street"})
        _refused(log, Rule.BY_OWNER, Action.SIGN_FOR, HANDLER2, T0)
        member = Actor(PersonId("w-7"), DeskRole.HANDLER, unit="dept-water")
        case, e, _ = log.act(CID, Action.SIGN_FOR, member, T0)
        assert case.handler == "w-7"
        assert e.payload["unit"] == "dept-water"

    def test_handler_cannot_check_own_work(self) -> None:
        """The check is by someone other than the handler."""
        log = _handled()
        own = Actor(PersonId("h-1"), DeskRole.CHECKER)
        _refused(log, Rule.CHECKER_NOT_HANDLER, Action.CLOSE, own, T0 + 4 * H)
        _refused(log, Rule.CHECKER_NOT_HANDLER, Action.REWORK, own, T0 + 4 * H, "redo")

    def test_co_handler_cannot_check(self) -> None:
        """Nor by anyone who assisted."""
        log = _signed()
        log.act(CID, Action.ASSIST, HANDLER, T0 + 2 * H, payload={"co_handlers": ["chk-1"]})
        log.act(CID, Action.START, HANDLER, T0 + 2 * H)
        log.act(CID, Action.HANDLE, HANDLER, T0 + 3 * H)
        _refused(log, Rule.CHECKER_NOT_HANDLER, Action.CLOSE, CHECKER, T0 + 4 * H)
        other = Actor(PersonId("chk-2"), DeskRole.CHECKER)
        assert log.act(CID, Action.CLOSE, other, T0 + 4 * H)[0].state is State.CLOSED

    def test_former_handler_cannot_check_after_a_transfer(self) -> None:
        """核查: who handled the case and transferred it cannot close it as checker."""
        log = _signed()
        log.act(CID, Action.TRANSFER, HANDLER, T0 + 3 * H, "not mine", payload={"to": "h-2"})
        _finish_by(log, HANDLER2, T0 + 4 * H)
        former = Actor(PersonId("h-1"), DeskRole.CHECKER)
        err = _refused(log, Rule.CHECKER_NOT_HANDLER, Action.CLOSE, former, T0 + 6 * H)
        assert "handled the case before" in str(err)
        _refused(log, Rule.CHECKER_NOT_HANDLER, Action.REWORK, former, T0 + 6 * H, "redo")
        assert log.case(CID).handled_by == ("h-1", "h-2")
        assert log.act(CID, Action.CLOSE, CHECKER, T0 + 6 * H)[0].state is State.CLOSED

    def test_former_handler_cannot_check_after_a_return(self) -> None:
        """核查: nor after a return (回退) gave the case to someone else."""
        log = _signed()
        log.act(CID, Action.REQUEST_RETURN, HANDLER, T0 + 3 * H, "wrong grid")
        log.act(CID, Action.APPROVE_RETURN, DESK, T0 + 3 * H, payload={"to": "h-2"})
        _finish_by(log, HANDLER2, T0 + 4 * H)
        former = Actor(PersonId("h-1"), DeskRole.SUPERVISOR)
        _refused(log, Rule.CHECKER_NOT_HANDLER, Action.CLOSE, former, T0 + 6 * H)

    def test_former_handler_cannot_check_a_later_rework_round(self) -> None:
        """核查: after a rework round the case moved on; its first handler still cannot check."""
        log = _handled()
        log.act(CID, Action.REWORK, CHECKER, T0 + 4 * H, "not clean")
        log.act(
            CID,
            Action.ESCALATE,
            SUPERVISOR,
            T0 + 5 * H,
            "stuck",
            payload={"to": "h-2", "level": "community"},
        )
        log.act(CID, Action.SIGN_FOR, HANDLER2, T0 + 5 * H)
        log.act(CID, Action.START, HANDLER2, T0 + 5 * H)
        log.act(CID, Action.HANDLE, HANDLER2, T0 + 6 * H)
        former = Actor(PersonId("h-1"), DeskRole.CHECKER)
        _refused(log, Rule.CHECKER_NOT_HANDLER, Action.CLOSE, former, T0 + 7 * H)
        assert log.act(CID, Action.CLOSE, CHECKER, T0 + 7 * H)[0].state is State.CLOSED

    def test_past_co_handler_cannot_check_after_a_transfer(self) -> None:
        """核查: a co-handler (协办) of an earlier handler stays excluded after a transfer."""
        log = _signed()
        log.act(CID, Action.ASSIST, HANDLER, T0 + 2 * H, payload={"co_handlers": ["a-9"]})
        log.act(CID, Action.TRANSFER, HANDLER, T0 + 3 * H, "not mine", payload={"to": "h-2"})
        _finish_by(log, HANDLER2, T0 + 4 * H)
        helper = Actor(PersonId("a-9"), DeskRole.CHECKER)
        _refused(log, Rule.CHECKER_NOT_HANDLER, Action.CLOSE, helper, T0 + 6 * H)

    def test_handlers_are_remembered_through_replay(self) -> None:
        """Everyone who signed for the case is part of the case, so replay knows them too."""
        log = _signed()
        log.act(CID, Action.TRANSFER, HANDLER, T0 + 3 * H, "not mine", payload={"to": "h-2"})
        log.act(CID, Action.SIGN_FOR, HANDLER2, T0 + 4 * H)
        assert Case.replay(log.events(CID)).handled_by == ("h-1", "h-2")

    def test_first_handler_stays_through_transfers(self) -> None:
        """首办必须负责: the first handler is fixed at the first sign-for."""
        log = _signed()
        log.act(CID, Action.TRANSFER, HANDLER, T0 + 3 * H, "not mine", payload={"to": "h-2"})
        case, _, _ = log.act(CID, Action.SIGN_FOR, HANDLER2, T0 + 4 * H)
        assert (case.handler, case.first_handler) == ("h-2", "h-1")
        assert case.transfer_count == 1
        assert log.accountable_at(CID, T0 + 5 * H) == "h-1"

    def test_event_naming_another_first_handler_is_refused(self) -> None:
        """首办必须负责: no payload can rename the first handler."""
        log = _signed()
        _refused(
            log,
            Rule.FIRST_HANDLER,
            Action.TRANSFER,
            HANDLER,
            T0 + 3 * H,
            "x",
            payload={"to": "h-2", "first_handler": "h-2"},
        )

    def test_accountable_before_sign_for_is_the_desk_then_the_owner(self) -> None:
        """Before the first sign-for: nobody, then the desk, then the owner dispatched to."""
        log = _signed()
        assert log.accountable_at(CID, T0) is None
        assert log.accountable_at(CID, T0 + H - timedelta(seconds=1)) is None
        assert log.accountable_at(CID, T0 + H) == "h-1"  # dispatched at T0 + H
        assert log.accountable_at(CID, T0 - H) is None


class TestSidePaths:
    def test_return_approved_redispatches_and_counts(self) -> None:
        """回退: requested with a reason, approved by the dispatcher to another owner."""
        log = _signed()
        log.act(CID, Action.START, HANDLER, T0 + 3 * H)
        log.act(CID, Action.REQUEST_RETURN, HANDLER, T0 + 3 * H, "not our matter")
        assert log.case(CID).pending_return == "not our matter"
        _refused(log, Rule.PENDING, Action.HANDLE, HANDLER, T0 + 3 * H)
        case, e, _ = log.act(
            CID, Action.APPROVE_RETURN, DESK, T0 + 3 * H, payload={"to": "h-2", "level": "street"}
        )
        assert case.state is State.DISPATCHED
        assert (case.owner, case.level, case.handler) == ("h-2", "street", None)
        assert case.return_count == 1 and case.pending_return is None
        assert e.payload["to"] == "h-2"

    def test_return_rejected_keeps_the_handler(self) -> None:
        """A rejected return leaves the case with its handler."""
        log = _signed()
        _refused(log, Rule.PENDING, Action.APPROVE_RETURN, DESK, T0 + 3 * H, payload={"to": "x"})
        log.act(CID, Action.REQUEST_RETURN, HANDLER, T0 + 3 * H, "not ours")
        case, _, _ = log.act(CID, Action.REJECT_RETURN, DESK, T0 + 3 * H, "it is yours")
        assert case.state is State.SIGNED_FOR and case.handler == "h-1"
        assert case.pending_return is None

    def test_escalate_goes_up_only(self) -> None:
        """An escalation moves the case to a higher level and notifies the supervisor."""
        log = _signed()
        _refused(
            log,
            Rule.ESCALATE_UP,
            Action.ESCALATE,
            SUPERVISOR,
            T0 + 3 * H,
            "too big",
            payload={"to": "x", "level": "grid"},
        )
        case, _, notes = log.act(
            CID,
            Action.ESCALATE,
            SUPERVISOR,
            T0 + 3 * H,
            "too big",
            payload={"to": "street-1", "level": "street", "supervision": 2},
        )
        assert (case.state, case.level, case.owner) == (State.DISPATCHED, "street", "street-1")
        assert case.escalation_level == 1 and case.extra.supervision == 2
        assert case.first_handler == "h-1"
        assert [(n.kind, n.to_role) for n in notes] == [("escalation", DeskRole.SUPERVISOR)]

    def test_merge_needs_a_known_other_case(self) -> None:
        """A duplicate is merged into another case of the log."""
        log = _log()
        log.report(CaseId("C-2"), REPORTER, T0, grid=AreaCode("g1"), category=CategoryCode("x"))
        _refused(log, Rule.PAYLOAD, Action.MERGE, DESK, T0, payload={"into": "C-1"})
        _refused(log, Rule.PAYLOAD, Action.MERGE, DESK, T0, payload={"into": "C-9"})
        case, _, _ = log.act(CID, Action.MERGE, DESK, T0, payload={"into": "C-2"})
        assert case.state is State.MERGED and case.merged_into == "C-2"

    def test_rework_sends_back_and_counts(self) -> None:
        """A failed check returns the case to its handler, rework count + 1."""
        log = _handled()
        case, _, _ = log.act(CID, Action.REWORK, CHECKER, T0 + 4 * H, "still leaking")
        assert (case.state, case.handler, case.rework_count) == (State.IN_PROGRESS, "h-1", 1)

    def test_reopen_after_close_goes_back_to_the_owner(self) -> None:
        """A closed case can be reopened with a reason; it returns to its owner."""
        log = _handled()
        log.act(CID, Action.CLOSE, CHECKER, T0 + 4 * H)
        _refused(log, Rule.REASON_REQUIRED, Action.REOPEN, DESK, T0 + 5 * H)
        case, e, _ = log.act(CID, Action.REOPEN, DESK, T0 + 5 * H, "came back")
        assert (case.state, case.owner, case.reopen_count) == (State.DISPATCHED, "h-1", 1)
        assert e.payload["to"] == "h-1"

    def test_void_before_sign_for(self) -> None:
        """作废 with a reason, before anyone signed for it."""
        log = _log()
        case, _, _ = log.act(CID, Action.VOID, DESK, T0, "test entry")
        assert case.state is State.VOIDED


class TestNotifications:
    def test_reporter_told_at_sign_for_handling_and_completion(self) -> None:
        """Three messages to the reporter along the main loop."""
        log = _signed()
        sign_notes = log.act(CID, Action.START, HANDLER, T0 + 2 * H)[2]
        log.act(CID, Action.HANDLE, HANDLER, T0 + 3 * H)
        close_notes = log.act(CID, Action.CLOSE, CHECKER, T0 + 4 * H)[2]
        first = Case.replay(log.events(CID)[:4])
        notes = apply(first, Action.SIGN_FOR, HANDLER, T0 + 2 * H)[2]
        kinds = [n.kind for n in (*notes, *sign_notes, *close_notes)]
        assert kinds == ["signed_for", "handling", "completed"]
        assert {n.to for n in (*notes, *sign_notes, *close_notes)} == {"resident-1"}
        assert close_notes[0].at == T0 + 4 * H and close_notes[0].seq == 8

    def test_supervisor_told_at_a_warning(self) -> None:
        """A warning goes to the supervisor named at dispatch."""
        log = _log()
        log.act(CID, Action.VERIFY, WORKER, T0)
        log.act(CID, Action.REGISTER, DESK, T0)
        log.act(
            CID,
            Action.DISPATCH,
            DESK,
            T0,
            payload={"to": "h-1", "level": "grid", "supervisor": "sup-1"},
        )
        notes = log.act(CID, Action.WARN, SUPERVISOR, T0, payload={"light": "yellow"})[2]
        assert [(n.kind, n.to) for n in notes] == [("warning", "sup-1")]

    def test_notify_false_skips_the_notifications_only(self) -> None:
        """The same case and event, with no notifications made."""
        case = Case.replay(_signed().events(CID)[:4])  # dispatched to h-1
        loud = apply(case, Action.SIGN_FOR, HANDLER, T0 + 2 * H)
        quiet = apply(case, Action.SIGN_FOR, HANDLER, T0 + 2 * H, notify=False)
        assert quiet[:2] == loud[:2]
        assert [n.kind for n in loud[2]] == ["signed_for"]
        assert quiet[2] == ()

    def test_quiet_actions_notify_nobody(self) -> None:
        """Verify and register tell nobody."""
        log = _log()
        assert log.act(CID, Action.VERIFY, WORKER, T0)[2] == ()


BERLIN = ZoneInfo("Europe/Berlin")
# 2026-10-25: clocks go back from 03:00 CEST to 02:00 CET, so 02:00-03:00 happens twice.
FIRST_0245 = datetime(2026, 10, 25, 2, 45, tzinfo=BERLIN)  # fold=0: CEST, 00:45 UTC
SECOND_0215 = datetime(2026, 10, 25, 2, 15, fold=1, tzinfo=BERLIN)  # CET, 01:15 UTC


class TestTimeOrder:
    """Actions are ordered by absolute instant, also across a daylight-saving fold."""

    def _reported_at(self, at: datetime) -> CaseLog:
        log = CaseLog()
        log.report(CID, REPORTER, at, grid=AreaCode("g1"), category=CategoryCode("road"))
        return log

    def test_the_fold_example_is_what_it_claims(self) -> None:
        """02:15 (second pass) is 30 minutes after 02:45 (first pass), as instants."""
        assert SECOND_0215.astimezone(UTC) - FIRST_0245.astimezone(UTC) == timedelta(minutes=30)

    def test_a_later_instant_in_the_repeated_hour_is_accepted(self) -> None:
        """Last event 02:45 CEST, action 02:15 CET (later): accepted."""
        log = self._reported_at(FIRST_0245)
        assert log.act(CID, Action.VERIFY, WORKER, SECOND_0215)[0].state is State.VERIFIED

    def test_an_earlier_instant_in_the_repeated_hour_is_refused(self) -> None:
        """Last event 02:15 CET, action 02:45 CEST (earlier, though its wall clock is later)."""
        log = self._reported_at(SECOND_0215)
        _refused(log, Rule.TIME_ORDER, Action.VERIFY, WORKER, FIRST_0245)

    def test_an_appended_event_is_ordered_the_same_way(self) -> None:
        """`append` (and `follow`) refuse an event dated before the last one, as instants."""
        log = self._reported_at(SECOND_0215)
        other = self._reported_at(SECOND_0215)
        event = other.act(CID, Action.VERIFY, WORKER, SECOND_0215)[1]._replace(at=FIRST_0245)
        with pytest.raises(TransitionRefused) as info:
            log.append(event)
        assert info.value.rule == Rule.TIME_ORDER

    def test_accountable_at_reads_events_up_to_the_instant(self) -> None:
        """Verified at 02:45 CEST: at 02:15 CET (later) the desk person is accountable."""
        log = self._reported_at(datetime(2026, 10, 25, 2, 0, tzinfo=BERLIN))
        log.act(CID, Action.VERIFY, DESK, FIRST_0245)
        assert log.accountable_at(CID, SECOND_0215) == "desk-1"
        before = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN)  # fold=0: 00:30 UTC
        assert log.accountable_at(CID, before) is None

    def test_the_light_counts_time_used_by_instant(self) -> None:
        """A stage due at 02:45 CEST is past due at 02:15 CET: red, not green."""
        policy = FixedDeadlines(RoundTheClock(), {Stage.VERIFY: timedelta(minutes=45)})
        log = CaseLog(policy)
        log.report(
            CID,
            REPORTER,
            datetime(2026, 10, 25, 2, 0, tzinfo=BERLIN),
            grid=AreaCode("g1"),
            category=CategoryCode("road"),
        )
        assert case_light(log.case(CID), SECOND_0215, policy) is WarningLight.RED


class TestConcurrency:
    def test_stale_expected_seq_is_refused(self) -> None:
        """Two writers who read seq 1: the second one fails."""
        log = _log()
        log.act(CID, Action.VERIFY, WORKER, T0, expected_seq=1)
        with pytest.raises(StaleSequenceError) as info:
            log.act(CID, Action.VOID, DESK, T0, "dup", expected_seq=1)
        assert (info.value.expected, info.value.got) == (3, 2)
        assert log.case(CID).state is State.VERIFIED

    def test_append_with_stale_seq_fails(self) -> None:
        """Appending an event whose seq is not the next one fails clearly."""
        log = _log()
        _, e, _ = apply(log.case(CID), Action.VERIFY, WORKER, T0)
        log.append(e)
        with pytest.raises(StaleSequenceError, match="stale"):
            log.append(e)

    def test_append_replicates_another_log(self) -> None:
        """A second log fed the events of the first holds the same cases."""
        src = _handled()
        dst = CaseLog()
        for e in src.all_events():
            dst.append(e)
        assert dst.case(CID) == src.case(CID)

    def test_append_checks_the_rules_too(self) -> None:
        """An event forged to bypass a guard is refused on append."""
        src = _handled()
        events = list(src.events(CID))
        forged = apply(src.case(CID), Action.CLOSE, CHECKER, T0 + 4 * H)[1]
        forged = forged._replace(actor=PersonId("h-1"))
        dst = CaseLog()
        for e in events:
            dst.append(e)
        with pytest.raises(TransitionRefused) as info:
            dst.append(forged)
        assert info.value.rule == Rule.CHECKER_NOT_HANDLER

    def test_replay_rejects_events_out_of_order(self) -> None:
        """A gap in the sequence is an error."""
        events = list(_handled().events(CID))
        with pytest.raises(EventLogError):
            Case.replay([events[0], events[2]])
        with pytest.raises(EventLogError):
            Case.replay([])


# A working calendar with no holidays: 08:30-12:00, 14:00-17:30, Monday to Friday.
WORKING = WorkingHoursCalendar(tz=TZ, holidays=NoHolidays())
LIMITS = {
    Stage.VERIFY: H,
    Stage.DISPATCH: H / 2,
    Stage.SIGN_FOR: H,
    Stage.HANDLE: 4 * H,
    Stage.CHECK: 2 * H,
}


class TestDeadlines:
    def test_dispatch_sets_due_in_working_time(self) -> None:
        """Sign-for 1 h + handling 4 h from Monday 10:00 ends Monday 17:00."""
        log = _signed(FixedDeadlines(WORKING, LIMITS))
        case = log.case(CID)
        assert case.due == datetime(2024, 3, 4, 17, 0, tzinfo=TZ)
        assert case.due_budget == 5 * H
        dispatch = log.events(CID)[3]
        assert dispatch.payload["due"] == "2024-03-04T17:00:00+08:00"

    def test_approved_extension_moves_due_across_the_night(self) -> None:
        """Two more working hours from Monday 17:00: half an hour, then Tuesday to 10:00."""
        log = _signed(FixedDeadlines(WORKING, LIMITS))
        log.act(
            CID, Action.REQUEST_EXTENSION, HANDLER, T0 + 2 * H, "parts", payload={"extra_s": 7200}
        )
        assert log.case(CID).pending_extension == 2 * H
        case, e, _ = log.act(CID, Action.APPROVE_EXTENSION, DESK, T0 + 2 * H)
        assert case.due == datetime(2024, 3, 5, 10, 0, tzinfo=TZ)
        assert case.extension_granted == 2 * H and case.due_budget == 7 * H
        assert case.pending_extension is None
        assert e.payload["due"] == "2024-03-05T10:00:00+08:00"

    def test_rejected_extension_keeps_due(self) -> None:
        """A rejected extension changes no deadline."""
        log = _signed(FixedDeadlines(WORKING, LIMITS))
        due = log.case(CID).due
        log.act(CID, Action.REQUEST_EXTENSION, HANDLER, T0 + 2 * H, "x", payload={"extra_s": 60})
        case, _, _ = log.act(CID, Action.REJECT_EXTENSION, DESK, T0 + 2 * H)
        assert case.due == due and case.pending_extension is None

    def test_parked_working_time_moves_due(self) -> None:
        """Parked Monday 11:00 to Tuesday 09:00 = 1 h + 3.5 h + 0.5 h = 5 working hours."""
        log = _signed(FixedDeadlines(WORKING, LIMITS))
        log.act(CID, Action.PARK, SUPERVISOR, T0 + 2 * H, "waiting for the owner")
        case, e, _ = log.act(CID, Action.RESUME, SUPERVISOR, datetime(2024, 3, 5, 9, tzinfo=TZ))
        assert case.state is State.IN_PROGRESS and case.parked_since is None
        assert e.payload["parked_s"] == 5 * 3600
        # Monday 17:00 + 5 working hours: 0.5 h Monday, 08:30-12:00 and 14:00-15:00 Tuesday.
        assert case.due == datetime(2024, 3, 5, 15, 0, tzinfo=TZ)
        assert case.extra.parked_total == 5 * H

    def test_parking_over_a_weekend_counts_no_weekend_time(self) -> None:
        """Friday 17:30 to Monday 08:30 is no working time: due does not move."""
        log = CaseLog(FixedDeadlines(WORKING, LIMITS))
        fri = datetime(2024, 3, 8, 16, 0, tzinfo=TZ)
        log.report(CID, REPORTER, fri, grid=AreaCode("g"), category=CategoryCode("x"))
        log.act(CID, Action.VERIFY, WORKER, fri)
        log.act(CID, Action.REGISTER, DESK, fri)
        log.act(CID, Action.DISPATCH, DESK, fri, payload={"to": "h-1", "level": "grid"})
        log.act(CID, Action.SIGN_FOR, HANDLER, fri)
        due = log.case(CID).due
        log.act(CID, Action.PARK, DESK, datetime(2024, 3, 8, 17, 30, tzinfo=TZ), "wait")
        case, _, _ = log.act(CID, Action.RESUME, DESK, datetime(2024, 3, 11, 8, 30, tzinfo=TZ))
        assert case.due == due

    def test_rework_gives_a_fresh_handling_limit(self) -> None:
        """After a failed check the handler has the handling limit again from now."""
        log = _handled(FixedDeadlines(WORKING, LIMITS))
        case, e, _ = log.act(CID, Action.REWORK, CHECKER, T0 + 4 * H, "redo")
        # Monday 13:00 (lunch) + 4 working hours = 14:00 + 4 h = 18:00 -> 17:30 + 0.5 h Tue.
        assert case.due == datetime(2024, 3, 5, 9, 0, tzinfo=TZ)
        assert "due" in e.payload

    def test_no_policy_no_due(self) -> None:
        """Without limits there is no deadline and no light."""
        log = _signed()
        assert log.case(CID).due is None
        assert case_light(log.case(CID), T0, None) is None

    def test_explicit_due_in_dispatch_is_kept(self) -> None:
        """An application may set its own deadline at dispatch."""
        log = _log()
        log.act(CID, Action.VERIFY, WORKER, T0)
        log.act(CID, Action.REGISTER, DESK, T0)
        due = "2024-03-06T12:00:00+08:00"
        case, _, _ = log.act(
            CID, Action.DISPATCH, DESK, T0, payload={"to": "h", "level": "grid", "due": due}
        )
        assert case.due == datetime.fromisoformat(due)
        _refused(log, Rule.TABLE, Action.DISPATCH, DESK, T0, payload={"to": "h", "level": "grid"})

    def test_bad_explicit_due_is_refused(self) -> None:
        """A deadline must be an aware ISO 8601 instant."""
        log = _log()
        log.act(CID, Action.VERIFY, WORKER, T0)
        log.act(CID, Action.REGISTER, DESK, T0)
        bad = {"to": "h", "level": "grid", "due": "tomorrow"}
        _refused(log, Rule.PAYLOAD, Action.DISPATCH, DESK, T0, payload=bad)


class TestWarningLight:
    def _case(self) -> tuple[CaseLog, FixedDeadlines]:
        policy = FixedDeadlines(RoundTheClock(), LIMITS)
        log = _signed(policy)  # dispatched T0 + 1 h, due T0 + 6 h (budget 5 h)
        return log, policy

    def test_green_yellow_red_along_the_handling_stage(self) -> None:
        """Under 80% green, from 80% yellow, past 100% red."""
        log, policy = self._case()
        case = log.case(CID)
        assert case_light(case, T0 + 4 * H, policy) is WarningLight.GREEN  # 3/5 used
        assert case_light(case, T0 + 5 * H, policy) is WarningLight.YELLOW  # 4/5
        assert case_light(case, T0 + 6 * H, policy) is WarningLight.YELLOW  # exactly 100%
        assert case_light(case, T0 + 7 * H, policy) is WarningLight.RED

    def test_thresholds_are_configurable(self) -> None:
        """A stricter desk turns yellow at half the limit."""
        log, policy = self._case()
        case = log.case(CID)
        assert case_light(case, T0 + 4 * H, policy, yellow_at=0.5) is WarningLight.YELLOW

    def test_light_is_frozen_while_parked(self) -> None:
        """Parking stops the clock: the light stays where it was."""
        log, policy = self._case()
        log.act(CID, Action.PARK, DESK, T0 + 2 * H, "wait")
        case = log.case(CID)
        assert case_light(case, T0 + 100 * H, policy) is WarningLight.GREEN

    def test_other_stages_use_their_own_limit(self) -> None:
        """A reported case has one hour to be verified."""
        policy = FixedDeadlines(RoundTheClock(), LIMITS)
        log = _log(policy)
        case = log.case(CID)
        sd = stage_deadline(case, policy)
        assert sd == (Stage.VERIFY, T0 + H, H)
        assert case_light(case, T0 + H + timedelta(seconds=1), policy) is WarningLight.RED


class TestJson:
    def test_every_event_of_a_log_round_trips(self) -> None:
        """to_json then from_json gives an equal event with the same zone."""
        log = _signed(FixedDeadlines(WORKING, LIMITS))
        log.act(CID, Action.ASSIST, HANDLER, T0 + 2 * H, payload={"co_handlers": ["a", "b"]})
        for e in log.all_events():
            back = event_from_json(event_to_json(e))
            assert back == e
            assert back.at.tzinfo == e.at.tzinfo
            assert back.to_json() == e.to_json()

    def test_replay_of_parsed_events_equals_live(self) -> None:
        """A log stored as JSON and read back folds to the same case."""
        log = _handled(FixedDeadlines(WORKING, LIMITS))
        back = [event_from_json(event_to_json(e)) for e in log.events(CID)]
        assert Case.replay(back) == log.case(CID)

    def test_bad_json_names_the_field(self) -> None:
        """A wrong field is named in the error."""
        e = _log().events(CID)[0]
        text = event_to_json(e).replace('"report"', '"teleport"')
        with pytest.raises(FileFormatError, match="action"):
            event_from_json(text)
        with pytest.raises(FileFormatError):
            event_from_json("[1, 2]")
        with pytest.raises(FileFormatError, match="seq"):
            event_from_json(event_to_json(e).replace('"seq":1', '"seq":"1"'))

    def test_a_zone_that_is_a_path_or_not_text_is_a_typed_error(self) -> None:
        """ "zone" = "../../etc/passwd", 7 or "Mars/Base" is a `FileFormatError` naming it."""
        d = event_to_dict(_log().events(CID)[0])
        for zone in ("../../etc/passwd", 7, "Mars/Base", "", ["UTC"]):
            with pytest.raises(FileFormatError, match="zone"):
                event_from_dict({**d, "zone": zone})

    def test_any_bad_field_is_named_with_value_and_expectation(self) -> None:
        """seq 0, an empty case id, a NaN in the payload, a list: each a typed error."""
        d = event_to_dict(_log().events(CID)[0])
        cases = {"seq": 0, "case_id": "", "payload": {"x": float("nan")}, "to_state": "gone"}
        for key, value in cases.items():
            with pytest.raises(FileFormatError, match=key) as info:
                event_from_dict({**d, key: value})
            assert "expected" in str(info.value)
        with pytest.raises(FileFormatError):
            event_from_dict([d])  # type: ignore[arg-type]
        with pytest.raises(FileFormatError):
            event_from_json(None)  # type: ignore[arg-type]
        with pytest.raises(FileFormatError):
            event_from_json("[" * 100_000)


class TestAppendedEvents:
    """`CaseLog.append` takes only the event the table and its guards make (issue 14)."""

    def _report_event(self) -> CaseEvent:
        return _log().events(CID)[0]

    def test_a_report_that_claims_to_close_the_case_is_refused(self) -> None:
        """A report event whose to_state is closed: refused, the log holds no such case."""
        log = CaseLog()
        bad = self._report_event()._replace(to_state=State.CLOSED)
        with pytest.raises(EventLogError, match="to_state"):
            log.append(bad)
        assert CID not in log
        assert log.append(self._report_event()).state is State.REPORTED

    @pytest.mark.parametrize(
        ("key", "value"),
        [("grid", None), ("grid", 7), ("category", ""), ("channel", 3), ("severity", "2")],
    )
    def test_a_report_with_a_missing_or_mistyped_payload_is_a_typed_error(
        self, key: str, value: object
    ) -> None:
        """The report's payload fields are named with the value and what was expected."""
        e = self._report_event()
        p = dict(e.payload)
        if value is None:
            del p[key]
        else:
            p[key] = value
        with pytest.raises(EventLogError, match=key):
            CaseLog().append(e._replace(payload=MappingProxyType(p)))

    def test_an_event_missing_a_field_the_action_writes_is_refused(self) -> None:
        """A transfer without the "level" `apply` writes is not an event of the table."""
        source = _signed()
        source.act(CID, Action.TRANSFER, HANDLER, T0 + 3 * H, "not mine", payload={"to": "h-2"})
        events = source.events(CID)
        log = CaseLog()
        for e in events[:-1]:
            log.append(e)
        p = {k: v for k, v in events[-1].payload.items() if k != "level"}
        with pytest.raises(EventLogError, match="level"):
            log.append(events[-1]._replace(payload=MappingProxyType(p)))
        assert log.append(events[-1]) == source.case(CID)

    def test_a_gap_has_its_own_error_and_a_stale_write_keeps_its_own(self) -> None:
        """seq 3 after 1: `SequenceGapError` (still a `StaleSequenceError`); seq 1 again: stale."""
        source = _signed()
        events = source.events(CID)
        log = CaseLog()
        log.append(events[0])
        with pytest.raises(SequenceGapError, match="gap") as gap:
            log.append(events[2])
        assert isinstance(gap.value, StaleSequenceError)
        with pytest.raises(StaleSequenceError, match="another writer") as stale:
            log.append(events[0])
        assert not isinstance(stale.value, SequenceGapError)

    def test_a_whole_log_appends_to_the_same_cases(self) -> None:
        """Every event of a real log, appended elsewhere, gives the same cases."""
        source = _handled(FixedDeadlines(WORKING, LIMITS))
        source.act(CID, Action.REWORK, CHECKER, T0 + 4 * H, "redo")
        log = CaseLog()
        for e in source.all_events():
            log.append(event_from_json(event_to_json(e)))
        assert log.case(CID) == source.case(CID)


class TestRecords:
    def test_case_built_by_keyword_equals_the_positional_one(self) -> None:
        """Keyword construction works, and `extra` defaults to a case with no side path."""
        c = _handled().case(CID)
        by_kw = Case(
            id=c.id,
            state=c.state,
            seq=c.seq,
            updated_at=c.updated_at,
            stage_since=c.stage_since,
            stage_seq=c.stage_seq,
            assignment=c.assignment,
            info=c.info,
        )
        assert by_kw == Case(*c) and by_kw.extra == CaseExtra()
        assert Case._fields[-1] == "extra" and len(Case._fields) == 9

    def test_records_built_on_the_hot_path_equal_constructed_ones(self) -> None:
        """`apply` builds the same values (type, fields, hash) as calling the classes."""
        log = _handled(FixedDeadlines(WORKING, LIMITS))
        for e in log.all_events():
            made = CaseEvent(**e._asdict())
            assert type(e) is CaseEvent and made == e and hash(made) == hash(e)
        c = log.case(CID)
        made_case = Case(**c._asdict())
        assert type(c) is Case and made_case == c and hash(made_case) == hash(c)

    def test_records_are_immutable(self) -> None:
        """Neither a case nor an event can be changed in place; `_replace` makes a new one."""
        log = _signed()
        c, e = log.case(CID), log.events(CID)[-1]
        with pytest.raises(AttributeError):
            c.state = State.CLOSED  # type: ignore[misc]
        with pytest.raises(AttributeError):
            e.seq = 9  # type: ignore[misc]
        assert c._replace(seq=9).seq == 9 and c.seq == log.case(CID).seq

    def test_equal_events_hash_equal_and_the_payload_is_not_hashed(self) -> None:
        """Events hash by every field but the (unhashable) payload, which is still compared."""
        e = _signed().events(CID)[3]  # the dispatch, with a payload
        copy = e._replace(payload=MappingProxyType(dict(e.payload)))
        assert copy == e and hash(copy) == hash(e) and len({e, copy}) == 1
        other = e._replace(payload=MappingProxyType({"to": "h-2", "level": "grid"}))
        assert other != e and hash(other) == hash(e)
        assert e._replace(reason="x") != e

    def test_cases_hash_by_their_fields(self) -> None:
        """Equal cases hash equal and can key a dict."""
        a, b = _handled().case(CID), _handled().case(CID)
        assert a == b and hash(a) == hash(b) and {a: 1}[b] == 1

    def test_repr_names_the_fields(self) -> None:
        """The repr reads as the keyword construction."""
        c = _log().case(CID)
        assert repr(c).startswith("Case(id='C-1', state=<State.REPORTED: 'reported'>, seq=1, ")
        e = _log().events(CID)[0]
        assert repr(e).startswith("CaseEvent(case_id='C-1', seq=1, at=datetime.datetime(")


@pytest.fixture(scope="module")
def policy() -> CategoryDeadlines:
    """The built-in taxonomy's limits on China's standard calendars."""
    return CategoryDeadlines(default_taxonomy(), CalendarSet.standard())


class TestCategoryDeadlines:
    """Deadlines from the built-in taxonomy and China's working calendar."""

    def _dispatched(self, policy: CategoryDeadlines, category: str) -> CaseLog:
        log = CaseLog(policy)
        log.report(CID, WORKER, T0, grid=AreaCode("g1"), category=CategoryCode(category))
        log.act(CID, Action.VERIFY, WORKER, T0 + H)
        log.act(CID, Action.REGISTER, DESK, T0 + H)
        log.act(CID, Action.DISPATCH, DESK, T0 + H, payload={"to": "h-1", "level": "grid"})
        return log

    def test_working_hours_category_counts_office_hours_only(
        self, policy: CategoryDeadlines
    ) -> None:
        """Manhole cover: sign-for 1 h + handling 5 h from Monday 10:00 ends Tuesday 09:00."""
        log = self._dispatched(policy, "C0101")
        case = log.case(CID)
        assert case.severity == default_taxonomy().get("C0101").severity
        assert case.due == datetime(2024, 3, 5, 9, 0, tzinfo=TZ)
        assert case.due_budget == 6 * H

    def test_round_the_clock_category_counts_every_hour(self, policy: CategoryDeadlines) -> None:
        """An emergency category runs on the 24x7 calendar."""
        cat = default_taxonomy().get("E0401")
        assert cat.calendar == "24x7"
        log = self._dispatched(policy, "E0401")
        budget = cat.limits[Stage.SIGN_FOR] + cat.limits[Stage.HANDLE]
        assert log.case(CID).due == T0 + H + budget

    def test_unknown_category_is_refused_and_nothing_is_stored(
        self, policy: CategoryDeadlines
    ) -> None:
        """A report in a category the taxonomy does not hold opens no case."""
        log = CaseLog(policy)
        with pytest.raises(TaxonomyError, match="no-such"):
            log.report(CID, WORKER, T0, grid=AreaCode("g1"), category=CategoryCode("no-such"))
        assert CID not in log and len(log.all_events()) == 0


@functools.cache
def _working_in(zone: tzinfo) -> WorkingHoursCalendar:
    """One working-hours calendar per zone (its year tables are built once)."""
    return WorkingHoursCalendar(tz=zone, holidays=NoHolidays())


class TestDeadlineFastPath:
    """Deadline texts made on epoch seconds equal the datetime path's, character for character."""

    ZONES = (
        ZoneInfo("Asia/Shanghai"),
        ZoneInfo("Europe/Berlin"),
        ZoneInfo("America/New_York"),
        UTC,
        timezone(timedelta(hours=-3, minutes=-30)),
    )

    @settings(max_examples=300, deadline=None)
    @given(
        st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2090, 1, 1)),
        st.sampled_from(ZONES),
        st.integers(0, 3 * 86_400 * 1_000_000),
        st.booleans(),
        st.booleans(),
    )
    def test_due_text_equals_add_then_isoformat(
        self, wall: datetime, zone: tzinfo, work_us: int, working: bool, fold: bool
    ) -> None:
        """Any zone (DST gaps and folds too), calendar and budget: the same text and value."""
        start = wall.replace(tzinfo=zone, fold=int(fold))
        cal: Calendar = _working_in(zone) if working else RoundTheClock()
        work = timedelta(microseconds=work_us)
        memo = DeadlineMemo()
        text = due_after(cal, start, work, memo)
        assert text == cal.add(start, work).isoformat()
        assert due_after(cal, start, work, memo) == text  # remembered: the same text
        assert due_after(cal, start, work) == text  # no memo: the same text

    def test_any_calendar_is_asked_through_its_integer_pair(self) -> None:
        """A calendar of one's own answers through `add_us`, which the protocol declares."""

        class Shifted(RoundTheClock):
            def add(self, start: datetime, work: timedelta) -> datetime:
                return start + work + H

            def add_us(self, start_us: int, work_us: int) -> int:
                return start_us + work_us + 3_600_000_000

        t = datetime(2024, 3, 4, 9, tzinfo=TZ)
        assert due_after(Shifted(), t, H) == "2024-03-04T11:00:00+08:00"

    def test_other_zones_and_zero_work_take_the_datetime_path(self) -> None:
        """A zone the fast path does not know is asked through `add`; no work is `start`."""
        t = datetime(2024, 3, 4, 9, tzinfo=TZ)
        odd = datetime(2024, 3, 4, 9, tzinfo=_Plus8())
        assert due_after(RoundTheClock(), odd, H) == "2024-03-04T10:00:00+08:00"
        assert due_after(WORKING, t, timedelta(0)) == t.isoformat()

    def test_dispatched_case_equals_its_replay_from_json(self, policy: CategoryDeadlines) -> None:
        """The fold reads a remembered deadline: the same case as parsing the log text gives."""
        log = CaseLog(policy)
        for i, cat in enumerate(("C0101", "E0401", "C0101")):
            cid = CaseId(f"F-{i}")
            t = T0 + i * 7 * H  # the third one at night: due shared with nobody, text reused
            log.report(cid, WORKER, t, grid=AreaCode("g1"), category=CategoryCode(cat))
            log.act(cid, Action.VERIFY, WORKER, t)
            log.act(cid, Action.REGISTER, DESK, t)
            log.act(cid, Action.DISPATCH, DESK, t, payload={"to": "h-1", "level": "grid"})
            events = [event_from_json(event_to_json(e)) for e in log.events(cid)]
            replayed = Case.replay(events)
            assert replayed == log.case(cid)
            assert repr(replayed) == repr(log.case(cid))


def _light_by_datetimes(
    case: Case, now: datetime, policy: FixedDeadlines | None, yellow_at: float, red_at: float
) -> WarningLight | None:
    """`case_light` as defined on datetimes: the stage deadline, `between`, `warning_light`."""
    sd = stage_deadline(case, policy)
    if sd is None:
        return None
    _, deadline, limit = sd
    cal = RoundTheClock() if policy is None else policy.calendar_for(case.category)
    at = case.parked_since if case.state is State.PARKED else now
    assert at is not None
    if at.astimezone(UTC) < deadline.astimezone(UTC):  # absolute instants
        used = max(limit - cal.between(at, deadline), timedelta(0))
    else:
        used = limit + cal.between(deadline, at)
    if limit <= timedelta(0):
        return WarningLight.RED if used > timedelta(0) else WarningLight.YELLOW
    return warning_light(used, limit, yellow_at, red_at)


class TestCaseLightFastPath:
    """The light made on epoch microseconds equals the datetime definition's, boundaries too."""

    STATES = (
        State.REPORTED,
        State.VERIFIED,
        State.DISPATCHED,
        State.SIGNED_FOR,
        State.IN_PROGRESS,
        State.PARKED,
        State.HANDLED,
        State.CLOSED,
    )

    @settings(max_examples=400, deadline=None)
    @given(
        st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2090, 1, 1)),
        st.sampled_from(TestDeadlineFastPath.ZONES),
        st.sampled_from((*TestDeadlineFastPath.ZONES, None)),
        st.sampled_from(STATES),
        st.integers(0, 2 * 86_400) | st.sampled_from((0, 5, 3600, 5 * 3600, 7 * 3600)),
        st.sampled_from(("yellow", "yellow-1", "limit", "limit+1", "any")),
        st.integers(0, 4 * 86_400 * 1_000_000),
        st.booleans(),
        st.sampled_from(("working", "24x7", "working-elsewhere")),
        st.sampled_from(("aware", "text", "none")),
        st.sampled_from(((0.8, 1.0), (0.5, 0.9), (0.7, 1.25))),
        st.booleans(),
    )
    def test_light_equals_the_datetime_definition(
        self,
        wall: datetime,
        zone: tzinfo,
        now_zone: tzinfo | None,
        state: State,
        limit_s: int,
        where: str,
        any_us: int,
        fold: bool,
        calendar: str,
        due_kind: str,
        thresholds: tuple[float, float],
        no_policy: bool,
    ) -> None:
        """Any zone (DST gaps and folds), calendar, stage and instant: the same light."""
        since = wall.replace(tzinfo=zone, fold=int(fold))
        cal: Calendar = {
            "working": lambda: _working_in(zone),
            "24x7": RoundTheClock,
            "working-elsewhere": lambda: _working_in(ZoneInfo("America/New_York")),
        }[calendar]()
        limit = timedelta(seconds=limit_s)
        policy = None if no_policy else FixedDeadlines(cal, {s: limit for s in Stage})
        deadline_cal = RoundTheClock() if policy is None else cal
        due = deadline_cal.add(since, limit)
        # `at`: on the yellow boundary, just before it, on the deadline, just past it, or any
        lim_us = limit // timedelta(microseconds=1)
        k = {
            "yellow": lim_us * 4 // 5,
            "yellow-1": max(lim_us * 4 // 5 - 1, 0),
            "limit": lim_us,
            "limit+1": lim_us + 1,
            "any": any_us,
        }[where]
        at = deadline_cal.add(since, timedelta(microseconds=k))
        if now_zone is not None:
            at = at.astimezone(now_zone)
        assignment = Assignment()
        if due_kind != "none":
            # a deadline as dispatch writes it (text, read back) or as given
            shown = datetime.fromisoformat(due.isoformat()) if due_kind == "text" else due
            assignment = Assignment("h", "grid", "h", "h", shown, limit if limit_s % 2 else None)
        info = CaseInfo(CategoryCode("x"), AreaCode("g"), PersonId("r"), "patrol", since, 2)
        extra = CaseExtra(parked_since=at) if state is State.PARKED else CaseExtra()
        case = Case(CID, state, 5, since, since, 5, assignment, info, extra)
        now = at if state is not State.PARKED else at + timedelta(days=3)
        y, r = thresholds
        expected = _light_by_datetimes(case, now, policy, y, r)
        assert case_light(case, now, policy, y, r) is expected

    def test_other_zones_and_naive_instants_take_the_datetime_path(self) -> None:
        """A zone the fast path does not know gives the same light; naive `now` still fails."""

        policy = FixedDeadlines(RoundTheClock(), LIMITS)
        log = _log(policy)  # reported at T0: one hour to verify
        case = log.case(CID)
        odd = (T0 + H + timedelta(seconds=1)).astimezone(_Plus8())
        assert case_light(case, odd, policy) is WarningLight.RED
        with pytest.raises(TypeError):
            case_light(case, datetime(2024, 3, 4, 12), policy)

    def test_in_a_dst_fold_instants_compare_as_instants(self) -> None:
        """Same zone: 40 minutes past the deadline is red, whatever the wall clocks say."""
        berlin = ZoneInfo("Europe/Berlin")
        since = datetime(2024, 10, 27, 1, 30, tzinfo=berlin)  # 23:30 UTC, deadline 00:30 UTC
        policy = FixedDeadlines(RoundTheClock(), LIMITS)
        info = CaseInfo(CategoryCode("x"), AreaCode("g"), PersonId("r"), "patrol", since, 2)
        case = Case(CID, State.REPORTED, 1, since, since, 1, Assignment(), info)
        at = datetime(2024, 10, 27, 2, 10, tzinfo=berlin, fold=1)  # 01:10 UTC: 40 min late
        expected = _light_by_datetimes(case, at, policy, 0.8, 1.0)
        assert expected is WarningLight.RED  # the wall times say 02:10 < 02:30: not used
        assert case_light(case, at, policy) is expected
        assert case_light(case, at.astimezone(UTC), policy) is WarningLight.RED

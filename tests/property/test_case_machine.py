"""Random actions by random actors against a reference model of the case life cycle.

After every step: each case's state is in the table, replay equals the live case, the
iron rules hold, and the accountable person never changes after the first sign-for.
Events round-trip through JSON.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from hypothesis import event as tally
from hypothesis import given, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gridcore.cases import (
    HELD_STATES,
    OWNER_LEVELS,
    TRANSITIONS,
    Action,
    Actor,
    Case,
    CaseEvent,
    CaseLog,
    DeskRole,
    FixedDeadlines,
    Rule,
    State,
    event_from_dict,
    event_from_json,
    event_to_dict,
    event_to_json,
)
from gridcore.cases.machine import broken_rule
from gridcore.categories import Stage
from gridcore.clock import RoundTheClock
from gridcore.errors import GridcoreError, TransitionRefused
from gridcore.ids import AreaCode, CaseId, CategoryCode, PersonId

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 3, 4, 9, tzinfo=TZ)
H = timedelta(hours=1)
POLICY = FixedDeadlines(RoundTheClock(), {s: 2 * H for s in Stage})

# The reference model: the life cycle written out plainly, independently of the table.
_HOLD = ("dispatched", "signed_for", "in_progress")
_WORK = ("signed_for", "in_progress")
_ALIVE = (
    "reported",
    "verified",
    "registered",
    "dispatched",
    "signed_for",
    "in_progress",
    "parked",
    "handled",
)
_EARLY = ("reported", "verified", "registered", "dispatched")
MODEL: dict[tuple[str, str], str] = {
    ("reported", "verify"): "verified",
    ("reported", "cancel"): "cancelled",
    ("verified", "register"): "registered",
    ("registered", "dispatch"): "dispatched",
    ("dispatched", "sign_for"): "signed_for",
    ("signed_for", "start"): "in_progress",
    ("in_progress", "handle"): "handled",
    ("handled", "close"): "closed",
    ("handled", "rework"): "in_progress",
    ("closed", "evaluate"): "evaluated",
    ("closed", "reopen"): "dispatched",
    ("parked", "resume"): "in_progress",
    ("registered", "escalate"): "dispatched",
}
for _s in _HOLD:
    MODEL[(_s, "request_return")] = _s
    MODEL[(_s, "reject_return")] = _s
    MODEL[(_s, "approve_return")] = "dispatched"
    MODEL[(_s, "transfer")] = "dispatched"
    MODEL[(_s, "escalate")] = "dispatched"
for _s in _WORK:
    for _a in (
        "assist",
        "request_extension",
        "approve_extension",
        "reject_extension",
        "declare_beyond_authority",
    ):
        MODEL[(_s, _a)] = _s
    MODEL[(_s, "park")] = "parked"
for _s in _ALIVE:
    MODEL[(_s, "supervise")] = _s
    MODEL[(_s, "warn")] = _s
for _s in _EARLY:
    MODEL[(_s, "merge")] = "merged"
    MODEL[(_s, "void")] = "voided"

# Actions through which a signed-for case may leave its handler (签收必须办理).
LEAVING = {"transfer", "approve_return", "escalate"}


def _actor(pid: str, role: DeskRole, unit: str = "") -> Actor:
    return Actor(PersonId(pid), role, unit)


POOL = [
    _actor("grid-1", DeskRole.GRID_WORKER),
    _actor("desk-1", DeskRole.DISPATCHER),
    _actor("desk-2", DeskRole.DISPATCHER),
    _actor("h1", DeskRole.HANDLER),
    _actor("h2", DeskRole.HANDLER),
    _actor("h3", DeskRole.HANDLER, unit="dept-a"),
    _actor("chk-1", DeskRole.CHECKER),
    _actor("h1", DeskRole.CHECKER),  # a handler trying to check
    _actor("sup-1", DeskRole.SUPERVISOR),
    _actor("eva-1", DeskRole.EVALUATOR),
    _actor("system", DeskRole.SYSTEM),
    _actor("res-1", DeskRole.REPORTER),
]
OWNERS = ["h1", "h2", "h3", "dept-a", "street:1", "department:x"]
PAYLOADS = st.fixed_dictionaries(
    {},
    optional={
        "to": st.sampled_from(OWNERS),
        "level": st.sampled_from([*OWNER_LEVELS, "moon"]),
        "supervision": st.integers(0, 4),
        "light": st.sampled_from(["yellow", "red", "blue"]),
        "into": st.sampled_from(["c0", "c1", "c2"]),
        "co_handlers": st.lists(st.sampled_from(["h1", "h2", "chk-1", "a-9"]), max_size=2),
        "extra_s": st.sampled_from([0, 600, 3600.5, -5]),
        "severity": st.integers(0, 5),
    },
)


TERMINATING = {"void", "merge", "cancel", "evaluate"}

# The main loop and its usual side exits, with who takes them ("holder": the handler or
# the owner it was dispatched to) and a payload that fits.
MAIN_NEXT: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "reported": [("verify", "desk-1", {})],
    "verified": [("register", "desk-1", {})],
    "registered": [("dispatch", "desk-1", {"to": "h1", "level": "grid"})],
    "dispatched": [
        ("sign_for", "holder", {}),
        ("request_return", "holder", {}),
        ("approve_return", "desk-2", {"to": "dept-a", "level": "street"}),
    ],
    "signed_for": [("start", "holder", {}), ("transfer", "holder", {"to": "h2"})],
    "in_progress": [
        ("handle", "holder", {}),
        ("park", "sup-1", {}),
        ("request_extension", "holder", {"extra_s": 3600}),
        ("approve_extension", "desk-1", {}),
        ("assist", "holder", {"co_handlers": ["chk-1"]}),
        ("escalate", "sup-1", {"to": "street:1", "level": "street"}),
    ],
    "parked": [("resume", "sup-1", {})],
    "handled": [("close", "chk-1", {}), ("rework", "chk-1", {}), ("close", "h1/checker", {})],
    "closed": [("evaluate", "eva-1", {}), ("reopen", "desk-1", {})],
}


def _good_payload(action: str, case: Case) -> st.SearchStrategy[dict[str, Any]]:
    """A payload that the action's payload guards accept (other guards may still refuse)."""
    owners = st.sampled_from([o for o in OWNERS if o != case.owner])
    rank = {"grid": 0, "community": 1, "street": 2, "district": 3, "department": 3, "city": 4}
    here = -1 if case.level is None else rank[case.level]
    if action in ("dispatch", "transfer", "approve_return"):
        return st.fixed_dictionaries({"to": owners, "level": st.sampled_from(OWNER_LEVELS)})
    if action == "escalate":
        higher = [lv for lv in OWNER_LEVELS if rank[lv] > here]
        if not higher:
            return st.just({})
        return st.fixed_dictionaries({"to": owners, "level": st.sampled_from(higher)})
    if action == "supervise":
        return st.fixed_dictionaries({"supervision": st.integers(1, 3)})
    if action == "warn":
        return st.fixed_dictionaries({"light": st.sampled_from(["yellow", "red"])})
    if action == "merge":
        return st.fixed_dictionaries({"into": st.sampled_from(["c0", "c1", "c2"])})
    if action == "assist":
        return st.fixed_dictionaries(
            {"co_handlers": st.lists(st.sampled_from(["chk-1", "a-9", "h2"]), min_size=1)}
        )
    if action == "request_extension":
        return st.fixed_dictionaries({"extra_s": st.sampled_from([600, 3600.5])})
    return st.just({})


@attrs.define
class ModelCase:
    """What the reference model expects of one case."""

    state: str = "reported"
    handler: str | None = None
    first_handler: str | None = None
    first_sign_at: datetime | None = None
    transfers: int = 0
    returns: int = 0
    reworks: int = 0
    reopens: int = 0
    signers: list[str] = attrs.Factory(list)  # everyone who signed for it, in order
    helpers: set[str] = attrs.Factory(set)  # every co-handler (协办) ever added


class CaseMachine(RuleBasedStateMachine):
    """A desk driven by random actions; a model of what must hold."""

    def __init__(self) -> None:
        super().__init__()
        self.log = CaseLog(POLICY)
        self.model: dict[CaseId, ModelCase] = {}
        self.now = T0

    @initialize()
    def open_first(self) -> None:
        self._report(CaseId("c0"))

    def _report(self, cid: CaseId) -> None:
        self.log.report(
            cid,
            POOL[0],
            self.now,
            grid=AreaCode("g1"),
            category=CategoryCode("x"),
        )
        self.model[cid] = ModelCase()
        note(f"report {cid}")

    @rule(n=st.integers(1, 2))
    def report_another(self, n: int) -> None:
        cid = CaseId(f"c{n}")
        if cid not in self.model:
            self._report(cid)

    @rule(data=st.data())
    def act(self, data: st.DataObject) -> None:
        cid = data.draw(st.sampled_from(sorted(self.model)), label="case")
        before = self.log.case(cid)
        m = self.model[cid]
        # Mostly actions the model allows (final ones rarer), sometimes anything at all.
        allowed = [a for (st_, a) in MODEL if st_ == m.state]
        weighted = sorted(a for a in allowed for _ in range(1 if a in TERMINATING else 4))
        everything = [a.value for a in Action][1:]
        action = data.draw(
            st.one_of(*[st.sampled_from(weighted)] * 3, st.sampled_from(everything))
            if weighted
            else st.sampled_from(everything),
            label="action",
        )
        # Mostly someone whose role may act (and the holder for the holder's actions).
        tr = TRANSITIONS.get((before.state, Action(action)))
        fit = [a for a in POOL if tr is not None and a.role in tr.roles]
        if before.handler and tr is not None and DeskRole.HANDLER in tr.roles:
            fit = [_actor(before.handler, DeskRole.HANDLER)] * 4 + fit
        if before.owner in ("h1", "h2", "h3") and action == "sign_for":
            fit = [_actor(before.owner, DeskRole.HANDLER)] * 4 + fit
        actor = data.draw(
            st.sampled_from(fit) | st.sampled_from(POOL) if fit else st.sampled_from(POOL),
            label="actor",
        )
        reason = data.draw(st.sampled_from(["because", "because", "", "  "]), label="reason")
        payload: dict[str, Any] = data.draw(
            st.one_of(_good_payload(action, before), _good_payload(action, before), PAYLOADS),
            label="payload",
        )
        self.now += data.draw(st.sampled_from([timedelta(0), 10 * timedelta(minutes=1), 3 * H]))
        self._do(cid, action, actor, reason, payload)

    @rule(data=st.data())
    def main_loop_step(self, data: st.DataObject) -> None:
        """The next step of the main loop (or a side exit), by someone entitled to it."""
        cid = data.draw(st.sampled_from(sorted(self.model)), label="case")
        case = self.log.case(cid)
        steps = MAIN_NEXT.get(case.state.value)
        if not steps:
            return
        step = data.draw(st.sampled_from(steps), label="step")
        action, who, payload = step
        if who == "holder":
            if case.handler is None:
                who = case.owner if case.owner in ("h1", "h2") else "h3"
            else:
                who = case.handler
            actor = _actor(who, DeskRole.HANDLER, "dept-a" if who == "h3" else "")
        elif "/" in who:
            pid, role = who.split("/")
            actor = _actor(pid, DeskRole(role))
        else:
            actor = next(a for a in POOL if a.id == who)
        self._do(cid, action, actor, "because", dict(payload))

    @rule(data=st.data())
    def hand_over(self, data: st.DataObject) -> None:
        """The handler transfers the case to another handler, who signs for it."""
        held = sorted(c for c, m in self.model.items() if m.state in _WORK and m.handler)
        if not held:
            return
        cid = data.draw(st.sampled_from(held), label="case")
        handler = self.model[cid].handler
        assert handler is not None
        other = "h2" if handler == "h1" else "h1"
        self._do(cid, "transfer", _actor(handler, DeskRole.HANDLER), "because", {"to": other})
        if self.model[cid].state == "dispatched":
            self._do(cid, "sign_for", _actor(other, DeskRole.HANDLER), "", {})

    @rule(data=st.data())
    def someone_who_handled_tries_to_check(self, data: st.DataObject) -> None:
        """核查: anyone who ever signed for a handled case, or assisted, is refused as checker."""
        ready = sorted(c for c, m in self.model.items() if m.state == "handled" and m.signers)
        if not ready:
            return
        cid = data.draw(st.sampled_from(ready), label="case")
        m = self.model[cid]
        who = data.draw(st.sampled_from(sorted({*m.signers, *m.helpers})), label="who")
        action = data.draw(st.sampled_from(["close", "rework"]), label="action")
        before = self.log.case(cid)
        try:
            self.log.act(cid, action, _actor(who, DeskRole.CHECKER), self.now, "because")
        except TransitionRefused as exc:
            assert exc.rule == Rule.CHECKER_NOT_HANDLER, exc
        else:
            raise AssertionError(f"{who} handled {cid} (signers {m.signers}) and checked it")
        assert self.log.case(cid) == before
        tally(f"refused checker: former handler {who != before.handler}")

    def _do(
        self, cid: CaseId, action: str, actor: Actor, reason: str, payload: dict[str, Any]
    ) -> None:
        before = self.log.case(cid)
        m = self.model[cid]
        n_events = len(self.log.events(cid))
        # The plain definition of the gate: the first rule broken, None when all pass.
        broken = broken_rule(before, action, actor, self.now, reason, payload)
        try:
            case, event, _ = self.log.act(cid, action, actor, self.now, reason, payload)
        except TransitionRefused as exc:
            note(f"{cid} {m.state}: {action} by {actor.id}/{actor.role} refused: {exc.rule}")
            unknown_into = action == "merge" and payload.get("into") not in self.log
            if not (unknown_into and exc.rule == Rule.PAYLOAD):  # the log's own check
                assert broken is not None, "the gate refused what no rule forbids"
                assert exc.rule == broken[0], "the gate names another rule than its definition"
            assert self.log.case(cid) == before
            assert len(self.log.events(cid)) == n_events
            if (m.state, action) not in MODEL:
                assert exc.rule in (Rule.TABLE, Rule.SIGNED_MUST_HANDLE)
            return
        note(f"{cid} {m.state} -> {case.state.value}: {action} by {actor.id}/{actor.role}")
        assert broken is None, f"the gate admitted what breaks {broken}"
        tally(f"accepted {action}")
        assert (m.state, action) in MODEL, "the model refuses what the table accepted"
        assert case.state.value == MODEL[(m.state, action)]
        self._check_iron_rules(before, case, event, actor, m)
        self._advance_model(m, case, event)

    def _check_iron_rules(
        self, before: Case, case: Case, event: CaseEvent, actor: Actor, m: ModelCase
    ) -> None:
        action = event.action.value
        if action in ("transfer", "request_return"):
            assert event.reason.strip(), "转办必须阐明理由"
        if action in ("close", "rework"):
            # 核查: never anyone who handled the case at any point, nor any co-handler.
            assert actor.id not in m.signers, f"{actor.id} handled the case and checked it"
            assert actor.id not in m.helpers, f"{actor.id} assisted and checked it"
        if before.state in HELD_STATES and case.handler != before.handler:
            assert action in LEAVING, f"签收必须办理: {action} took the case from its handler"
        if before.first_handler is not None:
            assert case.first_handler == before.first_handler, "首办必须负责"
        assert actor.role in TRANSITIONS[(before.state, event.action)].roles

    def _advance_model(self, m: ModelCase, case: Case, event: CaseEvent) -> None:
        action = event.action.value
        m.state = case.state.value
        if action == "assist":
            m.helpers.update(str(x) for x in event.payload["co_handlers"])  # type: ignore[union-attr]
        if action == "sign_for":
            m.handler = event.actor
            if event.actor not in m.signers:
                m.signers.append(event.actor)
            if m.first_handler is None:
                m.first_handler = event.actor
                m.first_sign_at = event.at
        elif action in ("transfer", "approve_return", "escalate", "reopen"):
            m.handler = None
        m.transfers += action == "transfer"
        m.returns += action == "approve_return"
        m.reworks += action == "rework"
        m.reopens += action == "reopen"

    @invariant()
    def states_are_in_the_table(self) -> None:
        sources = {s for s, _ in TRANSITIONS}
        for case in self.log.cases():
            assert case.state in State
            assert case.state in sources or case.is_final

    @invariant()
    def live_case_matches_model_and_replay(self) -> None:
        for case in self.log.cases():
            m = self.model[case.id]
            assert case.state.value == m.state
            assert case.handler == m.handler
            assert case.first_handler == m.first_handler
            assert (case.transfer_count, case.return_count) == (m.transfers, m.returns)
            assert (case.rework_count, case.reopen_count) == (m.reworks, m.reopens)
            assert list(case.handled_by) == m.signers
            assert Case.replay(self.log.events(case.id)) == case

    @invariant()
    def accountable_is_fixed_after_first_sign_for(self) -> None:
        for cid, m in self.model.items():
            if m.first_sign_at is not None:
                assert self.log.accountable_at(cid, m.first_sign_at) == m.first_handler
                assert self.log.accountable_at(cid, self.now) == m.first_handler

    @invariant()
    def last_events_round_trip_through_json(self) -> None:
        for cid in self.model:
            e = self.log.events(cid)[-1]
            assert event_from_json(event_to_json(e)) == e


TestCaseMachine = CaseMachine.TestCase
TestCaseMachine.settings = settings(max_examples=200, stateful_step_count=50, deadline=None)


# -- JSON round trip of arbitrary events ---------------------------------------------

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
ZONES = st.sampled_from(
    [ZoneInfo("Asia/Shanghai"), ZoneInfo("UTC"), ZoneInfo("America/New_York"), None]
)


@st.composite
def events(draw: st.DrawFn) -> CaseEvent:
    """Any well-typed event, including odd zones, text and nested payloads."""
    # Real instants (drawn in UTC, shown in a zone): no imaginary local times in DST gaps.
    utc = draw(
        st.datetimes(
            min_value=datetime(1990, 1, 1),
            max_value=datetime(2100, 1, 1),
            timezones=st.just(UTC),
        )
    )
    zone = draw(ZONES)
    at = utc.astimezone(zone if zone is not None else draw(st.timezones()))
    first = draw(st.booleans())
    return CaseEvent(
        CaseId(draw(st.text(min_size=1, max_size=10))),
        1 if first else draw(st.integers(2, 10**9)),
        at,
        PersonId(draw(st.text(max_size=10))),
        draw(st.sampled_from([*DeskRole, "custom-role"])),
        draw(st.sampled_from(Action)),
        None if first else draw(st.sampled_from(State)),
        draw(st.sampled_from(State)),
        draw(st.text(max_size=20)),
        draw(st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=4)),
    )


@settings(max_examples=200, deadline=None)
@given(events())
def test_events_round_trip_through_json(e: CaseEvent) -> None:
    """to_json then from_json gives back an equal event, in the same zone and offset."""
    back = event_from_json(event_to_json(e))
    assert back == e
    assert back.at.utcoffset() == e.at.utcoffset()
    assert event_to_json(back) == event_to_json(e)


# -- reading events: only typed errors, whatever the input ---------------------------

_VALID = event_to_dict(
    CaseEvent(
        CaseId("c1"),
        2,
        T0,
        PersonId("desk-1"),
        DeskRole.DISPATCHER,
        Action.VERIFY,
        State.REPORTED,
        State.VERIFIED,
        "",
        MappingProxyType({"unit": "desk"}),
    )
)
ODD = st.sampled_from(
    ["../../etc/passwd", "Mars/Olympus", "", "UTC", "9999-99-99", "\x00", "reported", -1, 0]
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(sorted(_VALID)), JSON_VALUES | ODD, max_size=4),
    st.sets(st.sampled_from(sorted(_VALID)), max_size=2),
)
def test_reading_any_event_raises_only_typed_errors(
    changes: dict[str, Any], dropped: set[str]
) -> None:
    """An event dict with any fields changed or dropped: an event or a `GridcoreError`."""
    d = {k: v for k, v in {**_VALID, **changes}.items() if k not in dropped}
    for read in (lambda: event_from_dict(d), lambda: event_from_json(json.dumps(d))):
        try:
            e = read()
        except GridcoreError as exc:
            assert str(exc)
        else:
            assert event_from_json(event_to_json(e)) == e


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40) | JSON_VALUES.map(json.dumps))
def test_reading_any_text_raises_only_typed_errors(text: str) -> None:
    """Any text at all: an event or a `GridcoreError` that says what was expected."""
    try:
        e = event_from_json(text)
    except GridcoreError as exc:
        assert "expected" in str(exc)
    else:
        assert event_from_json(event_to_json(e)) == e

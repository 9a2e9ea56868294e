"""A store-backed `CaseLog` and an in-memory one, driven side by side by random actions:
they never differ (same outcomes, same refusals, same cases and events), also after the
stored log is reopened with `CaseLog.load`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from conftest import POLICY
from hypothesis import note, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from store_traffic import T0

from gridcore.cases import Action, Actor, CaseLog, DeskRole
from gridcore.errors import GridcoreError
from gridcore.ids import AreaCode, CaseId, CategoryCode, PersonId
from gridcore.store import open_store

PEOPLE = ("a", "b", "h1", "h2")
PAYLOADS: tuple[dict[str, Any] | None, ...] = (
    None,
    {"to": "h1", "level": "grid"},
    {"to": "h2", "level": "community"},
    {"supervision": 2},
    {"light": "yellow"},
    {"extra_s": 3600},
)


class StoredVersusMemory(RuleBasedStateMachine):
    cases = Bundle("cases")

    def __init__(self) -> None:
        super().__init__()
        self.store = open_store("sqlite://:memory:", policy=POLICY)
        self.stored = CaseLog(POLICY, store=self.store)
        self.memory = CaseLog(POLICY)
        self.now = T0
        self.n = 0

    def teardown(self) -> None:
        self.store.close()

    def _both(self, call: Any) -> None:
        results = []
        for log in (self.stored, self.memory):
            try:
                results.append(("ok", call(log)))
            except GridcoreError as exc:
                results.append((type(exc).__name__, str(exc)))
        note(repr(results[1]))
        assert results[0] == results[1]

    @rule(target=cases, category=st.sampled_from(["C0101", "C0301"]))
    def report(self, category: str) -> CaseId:
        self.n += 1
        cid = CaseId(f"c{self.n}")
        actor = Actor(PersonId("a"), DeskRole.GRID_WORKER)
        self._both(
            lambda log: log.report(
                cid, actor, self.now, grid=AreaCode("g1"), category=CategoryCode(category)
            )
        )
        return cid

    @rule(
        cid=cases,
        action=st.sampled_from(list(Action)),
        who=st.sampled_from(PEOPLE),
        role=st.sampled_from(list(DeskRole)),
        reason=st.sampled_from(["", "because"]),
        payload=st.sampled_from(PAYLOADS),
        minutes=st.integers(0, 600),
    )
    def act(
        self,
        cid: CaseId,
        action: Action,
        who: str,
        role: DeskRole,
        reason: str,
        payload: dict[str, Any] | None,
        minutes: int,
    ) -> None:
        self.now += timedelta(minutes=minutes)
        actor = Actor(PersonId(who), role)
        self._both(lambda log: log.act(cid, action, actor, self.now, reason, payload))

    @rule()
    def reopen(self) -> None:
        """A new log on the same journal: it loads cases as it is asked for them."""
        self.stored = CaseLog.load(self.store, POLICY)

    @invariant()
    def same_cases_and_events(self) -> None:
        assert len(self.stored) == len(self.memory)
        for cid in self.memory:
            assert self.stored.case(cid) == self.memory.case(cid)
            assert self.stored.events(cid) == self.memory.events(cid)
        assert list(self.stored.all_events()) == list(self.memory.all_events())


StoredVersusMemory.TestCase.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None
)
test_stored_log_never_differs_from_memory = StoredVersusMemory.TestCase

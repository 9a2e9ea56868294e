"""`CaseLog`: cases and their event lists, changed only through the gate or checked events.

The log reads and writes its storage through a small seam a durable store plugs into:
`_cases` caches each case as of its last event (the hot path reads it directly), a case
it does not hold is asked of `_load`, and `_commit` records one accepted event and the
case it made. Everything else is the rules: `act` goes through
`apply` (whose head is the one gate), `append` through the same gate for an event
written elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Final

from gridcore._time import earlier
from gridcore.cases.deadlines import DeadlinePolicy
from gridcore.cases.machine import apply, follow, refusal, report
from gridcore.cases.records import Actor, Case, CaseEvent, Outcome
from gridcore.cases.store import CaseStore
from gridcore.cases.table import ENTRIES, TRANSITIONS
from gridcore.cases.vocabulary import (
    Action,
    DuplicateCaseError,
    Payload,
    Rule,
)
from gridcore.errors import ConfigError, StaleSequenceError, UnknownItemError
from gridcore.ids import AreaCode, CaseId, CategoryCode

__all__ = ["CaseLog", "StoredCaseLog"]

_ROUTING_ACTIONS: Final = frozenset(
    {Action.DISPATCH, Action.TRANSFER, Action.APPROVE_RETURN, Action.ESCALATE, Action.REOPEN}
)
_DESK_ACTIONS: Final = frozenset({Action.VERIFY, Action.REGISTER})


class CaseLog:
    """Cases and their event lists, changed only through guarded actions or checked events.

    Optimistic concurrency: `act(..., expected_seq=n)` and `append(event)` fail with
    `StaleSequenceError` when another writer appended first.
    """

    __slots__ = ("_all", "_cases", "_events", "_views", "policy")

    def __new__(
        cls, policy: DeadlinePolicy | None = None, *, store: CaseStore | None = None
    ) -> Any:
        # `CaseLog(policy, store=s)` is a `StoredCaseLog`: the in-memory class keeps its
        # hot path free of any store branch.
        if store is not None and cls is CaseLog:
            return object.__new__(StoredCaseLog)
        return object.__new__(cls)

    def __init__(
        self, policy: DeadlinePolicy | None = None, *, store: CaseStore | None = None
    ) -> None:
        self.policy = policy
        self._cases: dict[CaseId, Case] = {}
        self._events: dict[CaseId, list[CaseEvent]] = {}
        self._all: list[CaseEvent] = []
        self._views: dict[CaseId, tuple[CaseEvent, ...]] = {}

    @classmethod
    def load(cls, store: CaseStore, policy: DeadlinePolicy | None = None) -> CaseLog:
        """A log on an existing journal: its cases are loaded from `store` when asked."""
        return StoredCaseLog(policy, store=store)

    def report(
        self,
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
    ) -> Outcome:
        """Open a new case (see `report`); `DuplicateCaseError` if the id is taken."""
        if case_id in self._cases or self._load(case_id) is not None:
            raise DuplicateCaseError(f"case {case_id!r} already exists: expected a new case id")
        out = report(
            case_id,
            actor,
            now,
            grid=grid,
            category=category,
            channel=channel,
            severity=severity,
            reason=reason,
            payload=payload,
            policy=self.policy,
        )
        self._commit(out[0], out[1])
        return out

    def act(
        self,
        case_id: CaseId,
        action: Action | str,
        actor: Actor,
        now: datetime,
        reason: str = "",
        payload: Payload | None = None,
        *,
        expected_seq: int | None = None,
    ) -> Outcome:
        """Apply an action to a held case and record its event.

        `expected_seq` is the seq the caller last saw; a different current one is stale.
        """
        case = self._cases.get(case_id) or self._load(case_id)
        if case is None:
            raise UnknownItemError("case", case_id, "case log")
        if expected_seq is not None and expected_seq != case.seq:
            raise StaleSequenceError(case_id, case.seq + 1, expected_seq + 1)
        if payload and action == Action.MERGE and (case.state, Action.MERGE) in ENTRIES:
            into = payload.get("into")
            if isinstance(into, str) and CaseId(into) not in self:
                raise refusal(
                    case_id,
                    case.state,
                    action,
                    actor,
                    Rule.PAYLOAD,
                    f"payload 'into' = {into!r} is not a case in this log",
                )
        out = apply(case, action, actor, now, reason, payload, policy=self.policy)
        self._commit(out[0], out[1])
        return out

    def append(self, event: CaseEvent) -> Case:
        """Record an event written elsewhere, after the same checks `apply` makes (`follow`).

        Raises `StaleSequenceError` unless `event.seq` is the next one of its case.
        """
        cid = event.case_id
        new = follow(self._cases.get(cid) or self._load(cid), event)
        self._commit(new, event)
        return new

    # -- the storage seam: `_cases` caches every case as of its last event; a case it
    # -- does not hold is asked of `_load`; every accepted event goes through `_commit`.

    def _load(self, case_id: CaseId) -> Case | None:
        """A case the cache does not hold, from storage (None: no such case).

        The in-memory log holds every case in `_cases`, so it has nothing to load.
        """
        return None

    def _commit(self, case: Case, event: CaseEvent) -> None:
        """Record one accepted `event` and the `case` it made (its first or next version)."""
        cid = event.case_id
        self._cases[cid] = case
        events = self._events.get(cid)
        if events is None:
            self._events[cid] = [event]
        else:
            events.append(event)
        self._all.append(event)

    # -- reading -------------------------------------------------------------------------

    def case(self, case_id: CaseId) -> Case:
        """The case as of its last event."""
        try:
            return self._cases[case_id]
        except KeyError:
            raise UnknownItemError("case", case_id, "case log") from None

    def events(self, case_id: CaseId) -> tuple[CaseEvent, ...]:
        """The case's events in order."""
        try:
            events = self._events[case_id]
        except KeyError:
            raise UnknownItemError("case", case_id, "case log") from None
        # Lists only grow, so a cached tuple of the same length is still the whole list:
        # repeated reads cost no copy, and appending costs nothing extra.
        cached = self._views.get(case_id)
        if cached is None or len(cached) != len(events):
            cached = tuple(events)
            self._views[case_id] = cached
        return cached

    def all_events(self) -> Sequence[CaseEvent]:
        """Every event in the order appended (a read-only view)."""
        return _ReadOnly(self._all)

    def cases(self) -> Iterator[Case]:
        """Every case, in the order reported."""
        return iter(self._cases.values())

    def __len__(self) -> int:
        return len(self._cases)

    def __contains__(self, case_id: object) -> bool:
        return case_id in self._cases

    def __iter__(self) -> Iterator[CaseId]:
        return iter(self._cases)

    def accountable_at(self, case_id: CaseId, t: datetime) -> str | None:
        """Who is accountable for the case at instant `t`: one answer.

        The first handler from the first sign-for on (首办必须负责); before it, the owner it
        was last dispatched, transferred, returned or escalated to; before any dispatch,
        the desk person who last verified or registered it; None before that (just
        reported: nobody has taken it yet) or before the case existed.
        """
        who: str | None = None
        for e in self.events(case_id):
            if earlier(t, e.at):
                break
            if e.action == Action.SIGN_FOR:
                return e.actor
            if e.action in _ROUTING_ACTIONS:
                to = e.payload.get("to")
                who = str(to) if to is not None else who
            elif e.action in _DESK_ACTIONS:
                who = e.actor
        return who


class StoredCaseLog(CaseLog):
    """A `CaseLog` on a durable journal (`CaseLog(policy, store=store)`).

    Every `report`, `act` and `append` is committed to the store before it returns; cases
    are loaded from the store when first asked (a desk does not load its district at
    start) and kept as of their last event. When another writer appended first, the
    store refuses with `StaleSequenceError` and the log forgets its copy of the case:
    retrying the action works on the stored case. Reads (`case`, `events`, iteration)
    ask the store, so they see every writer's events.
    """

    __slots__ = ("_command", "store")

    def __init__(
        self, policy: DeadlinePolicy | None = None, *, store: CaseStore | None = None
    ) -> None:
        if store is None:
            raise ConfigError("StoredCaseLog needs a store: CaseLog(policy, store=store)")
        super().__init__(policy)
        self.store = store
        self._command: str | None = None

    def act(
        self,
        case_id: CaseId,
        action: Action | str,
        actor: Actor,
        now: datetime,
        reason: str = "",
        payload: Payload | None = None,
        *,
        expected_seq: int | None = None,
        command_id: str | None = None,
    ) -> Outcome:
        """`CaseLog.act`, committed; a `command_id` already done returns the outcome of
        the first call (a client retrying after a timeout never doubles an action)."""
        if command_id is None:
            return super().act(
                case_id, action, actor, now, reason, payload, expected_seq=expected_seq
            )
        done = self.store.command_events(command_id)
        if done:
            return self._outcome_of(done[-1])
        self._command = command_id
        try:
            return super().act(
                case_id, action, actor, now, reason, payload, expected_seq=expected_seq
            )
        finally:
            self._command = None

    def _outcome_of(self, event: CaseEvent) -> Outcome:
        """The outcome `act` returned when it wrote `event`: the case as of it, the event,
        its notifications."""
        events = self.store.events(event.case_id)[: event.seq]
        before = Case.replay(events[:-1]) if len(events) > 1 else None
        after = Case.replay(events)
        if before is None:
            return after, event, ()
        tr = TRANSITIONS[(before.state, event.action)]
        return after, event, (() if tr.notify is None else tr.notify(after, event))

    def _load(self, case_id: CaseId) -> Case | None:
        try:
            case = self.store.case(case_id)
        except UnknownItemError:
            return None
        self._cases[case_id] = case
        return case

    def _commit(self, case: Case, event: CaseEvent) -> None:
        cid = event.case_id
        try:
            self.store.append((event,), command_id=self._command)
        except StaleSequenceError:
            self._cases.pop(cid, None)  # another writer moved on: reload on the retry
            raise
        self._cases[cid] = case

    def case(self, case_id: CaseId) -> Case:
        """The stored case as of its last event (any writer's)."""
        case = self.store.case(case_id)
        self._cases[case_id] = case
        return case

    def events(self, case_id: CaseId) -> tuple[CaseEvent, ...]:
        """The case's stored events in order."""
        events = self.store.events(case_id)
        if not events:
            raise UnknownItemError("case", case_id, "case store")
        return events

    def all_events(self) -> Sequence[CaseEvent]:
        """Every stored event in journal (commit) order, read from the store."""
        return tuple(e for _, e in self.store.all_events())

    def cases(self) -> Iterator[Case]:
        """Every stored case, by id."""
        return (self.store.case(cid) for cid in self.store.case_ids())

    def __len__(self) -> int:
        return len(self.store)

    def __contains__(self, case_id: object) -> bool:
        return case_id in self.store

    def __iter__(self) -> Iterator[CaseId]:
        return self.store.case_ids()


class _ReadOnly(Sequence[CaseEvent]):
    """A list seen through a window that cannot change it."""

    __slots__ = ("_data",)

    def __init__(self, data: list[CaseEvent]) -> None:
        self._data = data

    def __len__(self) -> int:
        return len(self._data)

    def __getitem__(self, i: Any) -> Any:
        return self._data[i]

    def __iter__(self) -> Iterator[CaseEvent]:
        return iter(self._data)

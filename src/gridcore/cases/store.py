"""`CaseStore`: what a durable journal must offer `CaseLog(policy, store=...)`.

A protocol only (no I/O here): `gridcore.store` implements it on SQLite and PostgreSQL;
the core never imports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from gridcore.cases.records import Case, CaseEvent
from gridcore.ids import CaseId

__all__ = ["CaseStore"]


class CaseStore(Protocol):
    """A journal of case events with the current case of each, kept durably.

    `append` is atomic (all or nothing) and checks each event as `CaseLog.append` does
    (`follow`), raising `StaleSequenceError` when another writer appended first; a
    `command_id` already done makes it a no-op returning the first call's positions.
    """

    def append(
        self, events: Iterable[CaseEvent], *, command_id: str | None = None
    ) -> tuple[int, ...]:
        """Write the events atomically; their positions in the journal."""

    def case(self, case_id: CaseId) -> Case:
        """The stored case as of its last event (`UnknownItemError` if never reported)."""

    def events(self, case_id: CaseId) -> tuple[CaseEvent, ...]:
        """The case's events in order (empty if never reported)."""

    def command_events(self, command_id: str) -> tuple[CaseEvent, ...] | None:
        """The events a command id wrote (None if it was never done)."""

    def all_events(self, after: int = 0) -> Iterator[tuple[int, CaseEvent]]:
        """(position, event) after position `after`, in commit order."""

    def case_ids(self) -> Iterator[CaseId]:
        """Every case id."""

    def __contains__(self, case_id: object) -> bool:
        """Whether the case was ever reported."""

    def __len__(self) -> int:
        """How many cases the journal holds."""

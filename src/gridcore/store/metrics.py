"""`compute_metrics` straight from a journal: whole cases read a chunk at a time into the
columnar `EventTable`, folded to `CaseFacts` per chunk and concatenated; the journal's
events are never all in memory as objects at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gridcore.metrics import CaseFacts, EventTable, MetricTable, compute_metrics

from .journal import SqlCaseStore
from .lights import from_us

__all__ = ["store_facts", "store_metrics"]


def store_facts(
    store: SqlCaseStore, *, as_of: datetime | None = None, cases_per_chunk: int = 20_000
) -> CaseFacts:
    """One row per case of the journal, as `EventTable.facts` gives for its events.

    `as_of` defaults to the journal's last event instant (as `facts()` on the whole log).
    """
    if as_of is None:
        last = store.last_instant_us()
        if last is None:
            return CaseFacts.concat([])
        as_of = from_us(last)
    parts = []
    for stored, _ in store.case_chunks(cases_per_chunk):
        if stored:
            table = EventTable.from_events([s.event for s in stored])
            parts.append(table.facts(as_of))
    return CaseFacts.concat(parts)


def store_metrics(
    store: SqlCaseStore,
    by: str | Sequence[str] = (),
    *,
    as_of: datetime | None = None,
    **options: Any,
) -> MetricTable:
    """`compute_metrics` of the journal's cases (`by` and `options` as there)."""
    return compute_metrics(store_facts(store, as_of=as_of), by, **options)

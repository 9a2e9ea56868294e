"""`CaseFacts`: one row per case, columnar, as folded from an `EventTable`.

"Due to close" (应结案): a case that is closed at the evaluation instant, or whose
current handling deadline (the last "due" payload) is at or before it, not counting
cases cancelled, merged or voided, nor parked ones (their clock is stopped).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from gridcore.cases import State
from gridcore.metrics._columns import (
    LEVELS,
    NO_TIME,
    BoolArray,
    IntArray,
    MetricsError,
    _Codes,
    _isin_names,
)

# Final states that end a case without resolving it: never "due to close".
NOT_DUE_STATES = (State.CANCELLED, State.MERGED, State.VOIDED)
# A parked case has its clock stopped: not due while parked.
PAUSED_STATES = (State.PARKED,)


@attrs.frozen(eq=False)
class CaseFacts:
    """One row per case, columnar, as of the instant `as_of_us` (see `EventTable.facts`).

    Code columns index the matching name tuple (-1: none); time columns are int64
    microseconds UTC with `NO_TIME` for "never".
    """

    as_of_us: int
    case_ids: tuple[str, ...]
    grid: IntArray
    grid_names: tuple[str, ...]
    area: IntArray | None
    area_names: tuple[str, ...]
    category: IntArray
    category_names: tuple[str, ...]
    reported_us: IntArray
    first_sign_us: IntArray
    closed_us: IntArray
    due_us: IntArray
    rework: IntArray
    passes: IntArray
    dispatched: BoolArray
    resends: IntArray
    resolved_level: IntArray
    level_names: tuple[str, ...]
    final_state: IntArray
    state_names: tuple[str, ...]
    handler: IntArray
    owner: IntArray
    first_owner: IntArray
    person_names: tuple[str, ...]
    owner_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.case_ids)

    @classmethod
    def concat(cls, parts: Iterable[CaseFacts]) -> CaseFacts:
        """The facts of all `parts` in one table (rows in order), codes mapped to merged names.

        For folding a long log chunk by chunk: take the facts of the cases that ended,
        drop their events, and concatenate the facts at the end. `as_of_us` is the latest
        of the parts' (it only matters for cases still open). A case id in two parts, or
        a mix of parts with and without areas, is refused (`MetricsError`).

        >>> CaseFacts.concat([]).case_ids
        ()
        """
        ps = list(parts)
        if not ps:
            return _EMPTY_FACTS
        if len(ps) == 1:
            return ps[0]
        case_ids = tuple(i for p in ps for i in p.case_ids)
        if len(set(case_ids)) != len(case_ids):
            seen: set[str] = set()
            for cid in case_ids:
                if cid in seen:
                    raise MetricsError(
                        f"CaseFacts.concat: case {cid!r} is in two parts: expected each once"
                    )
                seen.add(cid)
        with_area = {p.area is not None for p in ps}
        if len(with_area) != 1:
            raise MetricsError(
                "CaseFacts.concat: some parts have areas and some do not: expected all or none"
            )

        def cat(name: str) -> npt.NDArray[Any]:
            return np.concatenate([getattr(p, name) for p in ps])

        def recode(cols: Sequence[str], names_field: str) -> dict[str, Any]:
            merged = _Codes()
            luts = []
            for p in ps:
                names: tuple[str, ...] = getattr(p, names_field)
                luts.append(np.array([merged[x] for x in names] + [-1], np.int64))
            out: dict[str, Any] = {names_field: tuple(merged.names())}
            for col in cols:
                out[col] = np.concatenate(
                    [lut[getattr(p, col)] for p, lut in zip(ps, luts, strict=True)]
                )
            return out

        area: dict[str, Any] = (
            recode(("area",), "area_names") if ps[0].area is not None else {"area_names": ()}
        )
        return cls(
            as_of_us=max(p.as_of_us for p in ps),
            case_ids=case_ids,
            **recode(("grid",), "grid_names"),
            area=area.get("area"),
            area_names=area["area_names"],
            **recode(("category",), "category_names"),
            reported_us=cat("reported_us"),
            first_sign_us=cat("first_sign_us"),
            closed_us=cat("closed_us"),
            due_us=cat("due_us"),
            rework=cat("rework"),
            passes=cat("passes"),
            dispatched=cat("dispatched"),
            resends=cat("resends"),
            **recode(("resolved_level",), "level_names"),
            **recode(("final_state",), "state_names"),
            **recode(("handler",), "person_names"),
            **recode(("owner", "first_owner"), "owner_names"),
        )

    @property
    def closed(self) -> BoolArray:
        """Closed at `as_of` (the last close was not followed by a reopen)."""
        out: BoolArray = self.closed_us != NO_TIME
        return out

    @property
    def excluded(self) -> BoolArray:
        """Ended without resolution (cancelled, merged, voided) or parked: never due."""
        names = NOT_DUE_STATES + PAUSED_STATES
        out: BoolArray = _isin_names(self.final_state, self.state_names, names) & ~self.closed
        return out

    @property
    def due(self) -> BoolArray:
        """Due to close (应结案): closed, or deadline at or before `as_of`, and not excluded."""
        has_due = self.due_us != NO_TIME
        out: BoolArray = self.closed | (~self.excluded & has_due & (self.due_us <= self.as_of_us))
        return out

    @property
    def on_time(self) -> BoolArray:
        """Closed at or before its deadline (a closed case that never had one counts)."""
        met = (self.due_us == NO_TIME) | (self.closed_us <= self.due_us)
        out: BoolArray = self.closed & met
        return out

    @property
    def accurate(self) -> BoolArray:
        """Dispatched and never re-sent to another owner (no transfer/return/escalation away)."""
        out: BoolArray = self.dispatched & (self.resends == 0)
        return out


def _no_ints() -> IntArray:
    return np.zeros(0, np.int64)


_EMPTY_FACTS = CaseFacts(
    as_of_us=0,
    case_ids=(),
    grid=_no_ints(),
    grid_names=(),
    area=None,
    area_names=(),
    category=_no_ints(),
    category_names=(),
    reported_us=_no_ints(),
    first_sign_us=_no_ints(),
    closed_us=_no_ints(),
    due_us=_no_ints(),
    rework=_no_ints(),
    passes=_no_ints(),
    dispatched=np.zeros(0, np.bool_),
    resends=_no_ints(),
    resolved_level=_no_ints(),
    level_names=LEVELS,
    final_state=_no_ints(),
    state_names=(),
    handler=_no_ints(),
    owner=_no_ints(),
    first_owner=_no_ints(),
    person_names=(),
    owner_names=(),
)

"""The transition table, as data: (state, action) -> next state, roles and guards.

`_SPEC` below is the whole life cycle in one place; `build_table` turns it into
`TRANSITIONS` and checks it as it builds (no entry given twice, every state reachable
from `START_STATE`, every state that is not final has an exit, final states have none),
so a table that cannot work fails at import rather than at a desk. `ENTRIES` holds the
same table unpacked for the gate (`machine.py`): one lookup gives everything `apply`
needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final, NamedTuple, TypeAlias

import attrs

from gridcore.cases.folds import FOLDS, Fold, fold_new, fold_same
from gridcore.cases.guards import (
    G_BY_HANDLER,
    G_BY_HOLDER,
    G_BY_HOLDER_OR_DESK,
    G_BY_OWNER,
    G_CHECKER,
    G_CO,
    G_DUE,
    G_EXTRA,
    G_INTO,
    G_LEVEL_UP,
    G_LIGHT,
    G_NO_PENDING_EXT,
    G_NO_PENDING_RETURN,
    G_PENDING_EXT,
    G_PENDING_RETURN,
    G_REASON,
    G_REASON_IRON,
    G_SEVERITY,
    G_SUPERVISION,
    G_SUPERVISION_OPT,
    G_TO,
    G_TO_LEVEL,
    G_TO_OTHER,
    Guard,
    GuardCheck,
)
from gridcore.cases.notify import NOTIFY, Notify
from gridcore.cases.prepare import PREPARE, Prepare
from gridcore.cases.vocabulary import (
    FINAL_STATES,
    START_STATE,
    STATE_STAGE,
    Action,
    DeskRole,
    State,
)
from gridcore.errors import ConfigError

__all__ = [
    "ENTRIES",
    "TRANSITIONS",
    "Entry",
    "Spec",
    "Transition",
    "build_table",
    "mermaid_diagram",
    "table_spec",
]


@attrs.frozen
class Transition:
    """One entry of the table: from `source` by `action` to `target`, by `roles`, if `guards`."""

    source: State
    action: Action
    target: State
    roles: frozenset[DeskRole]
    guards: tuple[Guard, ...]
    fold: Fold = attrs.field(repr=False)
    prepare: Prepare | None = attrs.field(default=None, repr=False)
    notify: Notify | None = attrs.field(default=None, repr=False)


_R = DeskRole
_S = State
_GW_H = (_R.HANDLER, _R.GRID_WORKER)
_DESK = (_R.DISPATCHER, _R.SUPERVISOR)
_WORK = (_S.SIGNED_FOR, _S.IN_PROGRESS)
_HOLD = (_S.DISPATCHED, _S.SIGNED_FOR, _S.IN_PROGRESS)
_EARLY = (_S.REPORTED, _S.VERIFIED, _S.REGISTERED, _S.DISPATCHED)
_ALIVE = (
    _S.REPORTED,
    _S.VERIFIED,
    _S.REGISTERED,
    _S.DISPATCHED,
    _S.SIGNED_FOR,
    _S.IN_PROGRESS,
    _S.PARKED,
    _S.HANDLED,
)

# (action, sources, target (None: stays), roles, guards): the whole life cycle in one place.
Spec: TypeAlias = tuple[
    Action, tuple[State, ...], State | None, tuple[DeskRole, ...], tuple[Guard, ...]
]
"""One line of the table's spec: action, sources, target (None: stays), roles, guards."""

_SPEC: Final[tuple[Spec, ...]] = (
    (Action.VERIFY, (_S.REPORTED,), _S.VERIFIED, (_R.GRID_WORKER, _R.DISPATCHER), ()),
    (Action.CANCEL, (_S.REPORTED,), _S.CANCELLED, (_R.GRID_WORKER, _R.DISPATCHER), (G_REASON,)),
    (Action.REGISTER, (_S.VERIFIED,), _S.REGISTERED, (_R.DISPATCHER,), (G_SEVERITY,)),
    (Action.DISPATCH, (_S.REGISTERED,), _S.DISPATCHED, (_R.DISPATCHER,), (G_TO_LEVEL, G_DUE)),
    (Action.SIGN_FOR, (_S.DISPATCHED,), _S.SIGNED_FOR, _GW_H, (G_BY_OWNER,)),
    (Action.START, (_S.SIGNED_FOR,), _S.IN_PROGRESS, _GW_H, (G_BY_HANDLER,)),
    (
        Action.HANDLE,
        (_S.IN_PROGRESS,),
        _S.HANDLED,
        _GW_H,
        (G_BY_HANDLER, G_NO_PENDING_RETURN),
    ),
    (Action.CLOSE, (_S.HANDLED,), _S.CLOSED, (_R.CHECKER, _R.SUPERVISOR), (G_CHECKER,)),
    (
        Action.REWORK,
        (_S.HANDLED,),
        _S.IN_PROGRESS,
        (_R.CHECKER, _R.SUPERVISOR),
        (G_CHECKER, G_REASON, G_DUE),
    ),
    (Action.EVALUATE, (_S.CLOSED,), _S.EVALUATED, (_R.EVALUATOR, _R.SUPERVISOR, _R.SYSTEM), ()),
    (Action.REOPEN, (_S.CLOSED,), _S.DISPATCHED, _DESK, (G_REASON, G_DUE)),
    (
        Action.REQUEST_RETURN,
        _HOLD,
        None,
        _GW_H,
        (G_BY_HOLDER, G_REASON_IRON, G_NO_PENDING_RETURN),
    ),
    (
        Action.APPROVE_RETURN,
        _HOLD,
        _S.DISPATCHED,
        (_R.DISPATCHER,),
        (G_PENDING_RETURN, G_TO, G_TO_OTHER),
    ),
    (Action.REJECT_RETURN, _HOLD, None, (_R.DISPATCHER,), (G_PENDING_RETURN,)),
    (
        Action.TRANSFER,
        _HOLD,
        _S.DISPATCHED,
        (*_GW_H, _R.DISPATCHER),
        (G_BY_HOLDER_OR_DESK, G_REASON_IRON, G_TO, G_TO_OTHER, G_NO_PENDING_RETURN),
    ),
    (Action.ASSIST, _WORK, None, (*_GW_H, _R.DISPATCHER), (G_BY_HOLDER_OR_DESK, G_CO)),
    (
        Action.REQUEST_EXTENSION,
        _WORK,
        None,
        _GW_H,
        (G_BY_HANDLER, G_REASON, G_EXTRA, G_NO_PENDING_EXT),
    ),
    (Action.APPROVE_EXTENSION, _WORK, None, _DESK, (G_PENDING_EXT,)),
    (Action.REJECT_EXTENSION, _WORK, None, _DESK, (G_PENDING_EXT,)),
    (Action.PARK, _WORK, _S.PARKED, _DESK, (G_REASON, G_NO_PENDING_RETURN)),
    (Action.RESUME, (_S.PARKED,), _S.IN_PROGRESS, (*_DESK, _R.SYSTEM), ()),
    (Action.DECLARE_BEYOND_AUTHORITY, _WORK, None, _GW_H, (G_BY_HANDLER, G_REASON)),
    (
        Action.ESCALATE,
        (_S.REGISTERED, *_HOLD),
        _S.DISPATCHED,
        (*_DESK, _R.SYSTEM),
        (G_REASON, G_TO_LEVEL, G_LEVEL_UP, G_SUPERVISION_OPT, G_DUE),
    ),
    (Action.SUPERVISE, _ALIVE, None, (_R.SUPERVISOR, _R.SYSTEM), (G_SUPERVISION,)),
    (Action.WARN, _ALIVE, None, (_R.SUPERVISOR, _R.SYSTEM), (G_LIGHT,)),
    (Action.MERGE, _EARLY, _S.MERGED, (_R.DISPATCHER,), (G_INTO,)),
    (Action.VOID, _EARLY, _S.VOIDED, _DESK, (G_REASON,)),
)


def table_spec() -> tuple[Spec, ...]:
    """The spec `TRANSITIONS` is built from (to build a variant with `build_table`)."""
    return _SPEC


def build_table(spec: Iterable[Spec]) -> dict[tuple[State, Action], Transition]:
    """The table from its spec, checked: `ConfigError` names what cannot work."""
    table: dict[tuple[State, Action], Transition] = {}
    for action, sources, target, roles, guards in spec:
        for src in sources:
            key = (src, action)
            if key in table:
                raise ConfigError(f"transition table: ({src.value}, {action.value}) given twice")
            to = src if target is None else target
            fold = FOLDS.get(action)
            if fold is None:
                fold = fold_same if STATE_STAGE[src] is STATE_STAGE[to] else fold_new
            table[key] = Transition(
                src,
                action,
                to,
                frozenset(roles),
                guards,
                fold,
                PREPARE.get(action),
                NOTIFY.get(action),
            )
    _check_shape(table)
    return table


def _check_shape(table: Mapping[tuple[State, Action], Transition]) -> None:
    """Every state reachable from the start; exits from every state but the final ones."""
    exits: dict[State, set[State]] = {s: set() for s in State}
    for (src, _), tr in table.items():
        if tr.target is not src:
            exits[src].add(tr.target)
    seen = {START_STATE}
    todo = [START_STATE]
    while todo:
        for nxt in exits[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    unreachable = sorted(s.value for s in State if s not in seen)
    if unreachable:
        raise ConfigError(f"transition table: states {unreachable} cannot be reached")
    stuck = sorted(s.value for s in State if s not in FINAL_STATES and not exits[s])
    if stuck:
        raise ConfigError(f"transition table: states {stuck} are not final but have no exit")
    leaky = sorted({src.value for (src, _) in table if src in FINAL_STATES})
    if leaky:
        raise ConfigError(f"transition table: final states {leaky} have transitions")


TRANSITIONS: Final[Mapping[tuple[State, Action], Transition]] = MappingProxyType(build_table(_SPEC))
"""The transition table: (state, action) -> `Transition`. `report` creates a case in
`START_STATE` and is not in the table."""


class Entry(NamedTuple):
    """One transition unpacked for the gate: the guards' check functions precomputed."""

    transition: Transition
    roles: frozenset[DeskRole]
    checks: tuple[GuardCheck, ...]
    target: State
    fold: Fold
    prepare: Prepare | None
    notify: Notify | None


# A plain dict (a read-only view costs a little on every lookup): never changed.
ENTRIES: Final[dict[tuple[State, Action], Entry]] = {
    key: Entry(
        tr,
        tr.roles,
        tuple(g.check for g in tr.guards),
        tr.target,
        tr.fold,
        tr.prepare,
        tr.notify,
    )
    for key, tr in TRANSITIONS.items()
}
"""`TRANSITIONS` unpacked for the gate: (state, action) -> `Entry` (read it, never change it)."""


def mermaid_diagram() -> str:
    """The table as a Mermaid `stateDiagram-v2` (`[*]` marks the start and the final states)."""
    lines = ["stateDiagram-v2", f"    [*] --> {START_STATE.value}"]
    for (src, action), tr in TRANSITIONS.items():
        lines.append(f"    {src.value} --> {tr.target.value} : {action.value}")
    for s in State:
        if s in FINAL_STATES:
            lines.append(f"    {s.value} --> [*]")
    return "\n".join(lines) + "\n"

"""Guards: the named checks an action must pass, each refusing with its `Rule`.

A guard's check is a plain function `(case, actor, reason, payload) -> str`: "" when it
passes, else what is wrong (the detail of `TransitionRefused`). The table (`table.py`)
lists which guards each transition runs; the gate (`machine.py`) runs them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import TypeAlias

import attrs

from gridcore.cases.records import Actor, Case
from gridcore.cases.vocabulary import LEVEL_RANK, OWNER_LEVELS, DeskRole, Payload, Rule, level_rank

__all__ = ["Guard", "GuardCheck"]

GuardCheck: TypeAlias = Callable[[Case, Actor, str, Payload], str]
"""A guard's test: (case, actor, reason, payload) -> "" when it passes, else what is wrong."""


@attrs.frozen
class Guard:
    """A named check on an action: `check` returns "" when it passes, else what is wrong."""

    rule: Rule
    check: GuardCheck
    doc: str


def _reason(c: Case, a: Actor, reason: str, p: Payload) -> str:
    return "" if reason.strip() else "a non-empty reason is required"


def _by_handler(c: Case, a: Actor, reason: str, p: Payload) -> str:
    if a.id == c.assignment.handler:
        return ""
    return f"only the handler {c.handler!r} may do this"


def _by_owner(c: Case, a: Actor, reason: str, p: Payload) -> str:
    owner = c.assignment.owner
    if owner == a.id or (a.unit and owner == a.unit):
        return ""
    return f"dispatched to {c.owner!r}, not to {a.id!r} (unit {a.unit!r})"


def _holder(c: Case, a: Actor) -> str:
    # Before sign-for the owner (a person or a unit) holds the case, after it the handler.
    if c.handler is not None:
        return "" if a.id == c.handler else f"only the handler {c.handler!r} may do this"
    if c.owner == a.id or (a.unit and c.owner == a.unit):
        return ""
    return f"only the owner {c.owner!r} may do this"


def _by_holder(c: Case, a: Actor, reason: str, p: Payload) -> str:
    return _holder(c, a)


def _by_holder_or_desk(c: Case, a: Actor, reason: str, p: Payload) -> str:
    return "" if a.role is DeskRole.DISPATCHER else _holder(c, a)


def _checker(c: Case, a: Actor, reason: str, p: Payload) -> str:
    # 核查: nobody checks work they had a hand in, now or at any earlier point.
    if a.id == c.assignment.handler:
        return f"{a.id!r} is the handler: the check is done by someone else"
    if a.id in c.assignment.handled_by:
        return (
            f"{a.id!r} handled the case before (handlers so far {list(c.handled_by)}): "
            "the check is done by someone who never handled it"
        )
    if a.id in c.extra.co_handlers:
        return f"{a.id!r} is a co-handler: the check is done by someone else"
    return ""


def _to(c: Case, a: Actor, reason: str, p: Payload) -> str:
    to = p.get("to")
    if not isinstance(to, str) or not to:
        return f"payload 'to' = {to!r}: expected the non-empty id of the new owner"
    return _level_ok(p, required=False)


def _to_and_level(c: Case, a: Actor, reason: str, p: Payload) -> str:
    to = p.get("to")
    if not isinstance(to, str) or not to:
        return f"payload 'to' = {to!r}: expected the non-empty id of the new owner"
    return _level_ok(p, required=True)


def _level_ok(p: Payload, required: bool) -> str:
    level = p.get("level")
    if level is None and not required:
        return ""
    if not isinstance(level, str) or level not in LEVEL_RANK:
        return f"payload 'level' = {level!r}: expected one of {list(OWNER_LEVELS)}"
    return ""


def _to_other(c: Case, a: Actor, reason: str, p: Payload) -> str:
    if p.get("to") == c.owner:
        return f"payload 'to' = {c.owner!r} is the current owner: expected another one"
    return ""


def _level_up(c: Case, a: Actor, reason: str, p: Payload) -> str:
    level = p.get("level")
    if isinstance(level, str) and LEVEL_RANK[level] > level_rank(c.level):
        return ""
    return f"payload 'level' = {level!r} is not above the current level {c.level!r}"


def _supervision(c: Case, a: Actor, reason: str, p: Payload) -> str:
    s = p.get("supervision")
    if type(s) is int and 1 <= s <= 3:
        return ""
    return f"payload 'supervision' = {s!r}: expected a 督办 level 1, 2 or 3"


def _supervision_optional(c: Case, a: Actor, reason: str, p: Payload) -> str:
    return "" if p.get("supervision") is None else _supervision(c, a, reason, p)


def _light(c: Case, a: Actor, reason: str, p: Payload) -> str:
    light = p.get("light")
    if light in ("yellow", "red"):
        return ""
    return f"payload 'light' = {light!r}: expected 'yellow' or 'red'"


def _into(c: Case, a: Actor, reason: str, p: Payload) -> str:
    into = p.get("into")
    if not isinstance(into, str) or not into or into == c.id:
        return f"payload 'into' = {into!r}: expected the id of another case"
    return ""


def _co_handlers(c: Case, a: Actor, reason: str, p: Payload) -> str:
    co = p.get("co_handlers")
    if not isinstance(co, list) or not co or not all(isinstance(x, str) and x for x in co):
        return f"payload 'co_handlers' = {co!r}: expected a non-empty list of person ids"
    if c.handler in co:
        return f"payload 'co_handlers' names the handler {c.handler!r}"
    return ""


def _extra_s(c: Case, a: Actor, reason: str, p: Payload) -> str:
    x = p.get("extra_s")
    if isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) and x > 0:
        return ""
    return f"payload 'extra_s' = {x!r}: expected a positive number of working seconds"


def _severity_optional(c: Case, a: Actor, reason: str, p: Payload) -> str:
    s = p.get("severity")
    if s is None or (type(s) is int and 0 <= s <= 4):
        return ""
    return f"payload 'severity' = {s!r}: expected an int 0..4"


def _due_optional(c: Case, a: Actor, reason: str, p: Payload) -> str:
    raw = p.get("due")
    if raw is None:
        return ""
    try:
        due = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        due = None
    if due is None or due.tzinfo is None:
        return f"payload 'due' = {raw!r}: expected an ISO 8601 instant with an offset"
    return ""


def _pending_return(c: Case, a: Actor, reason: str, p: Payload) -> str:
    return "" if c.extra.pending_return is not None else "no return request is pending"


def _no_pending_return(c: Case, a: Actor, reason: str, p: Payload) -> str:
    if c.extra.pending_return is None:
        return ""
    return "a return request is pending: the dispatcher decides it first"


def _pending_extension(c: Case, a: Actor, reason: str, p: Payload) -> str:
    return "" if c.extra.pending_extension is not None else "no extension request is pending"


def _no_pending_extension(c: Case, a: Actor, reason: str, p: Payload) -> str:
    if c.extra.pending_extension is None:
        return ""
    return "an extension request is already pending"


G_REASON_IRON = Guard(Rule.REASON, _reason, "a transfer or a return states why")
G_REASON = Guard(Rule.REASON_REQUIRED, _reason, "the action states why")
G_BY_HANDLER = Guard(Rule.BY_HANDLER, _by_handler, "only the handler acts (签收必须办理)")
G_BY_OWNER = Guard(Rule.BY_OWNER, _by_owner, "only the owner dispatched to signs for it")
G_BY_HOLDER = Guard(Rule.BY_HANDLER, _by_holder, "only who holds the case (handler or owner)")
G_BY_HOLDER_OR_DESK = Guard(Rule.BY_HANDLER, _by_holder_or_desk, "the holder or the dispatcher")
G_CHECKER = Guard(
    Rule.CHECKER_NOT_HANDLER, _checker, "the check is by someone who never handled the case"
)
G_TO = Guard(Rule.PAYLOAD, _to, "a new owner 'to' (and optional 'level')")
G_TO_LEVEL = Guard(Rule.PAYLOAD, _to_and_level, "a new owner 'to' and its 'level'")
G_TO_OTHER = Guard(Rule.PAYLOAD, _to_other, "the new owner differs from the current one")
G_LEVEL_UP = Guard(Rule.ESCALATE_UP, _level_up, "escalation goes to a higher level")
G_SUPERVISION = Guard(Rule.PAYLOAD, _supervision, "a 督办 level 1..3")
G_SUPERVISION_OPT = Guard(Rule.PAYLOAD, _supervision_optional, "an optional 督办 level 1..3")
G_LIGHT = Guard(Rule.PAYLOAD, _light, "the warning light reached")
G_INTO = Guard(Rule.PAYLOAD, _into, "the case merged into")
G_CO = Guard(Rule.PAYLOAD, _co_handlers, "co-handlers other than the handler")
G_EXTRA = Guard(Rule.PAYLOAD, _extra_s, "the extension asked, in working seconds")
G_SEVERITY = Guard(Rule.PAYLOAD, _severity_optional, "an optional severity 0..4")
G_DUE = Guard(Rule.PAYLOAD, _due_optional, "an optional explicit deadline 'due'")
G_PENDING_RETURN = Guard(Rule.PENDING, _pending_return, "a return request is pending")
G_NO_PENDING_RETURN = Guard(Rule.PENDING, _no_pending_return, "no return request pending")
G_PENDING_EXT = Guard(Rule.PENDING, _pending_extension, "an extension request is pending")
G_NO_PENDING_EXT = Guard(Rule.PENDING, _no_pending_extension, "no extension request pending")

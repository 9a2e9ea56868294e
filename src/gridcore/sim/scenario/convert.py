"""Converters: (dotted key, raw value, source) -> typed value, or ScenarioError naming the key.

Every scenario key carries one converter (`key_field`); a bad value raises `ScenarioError`
with the dotted key, the value and what was expected. `clock_minutes` is the one parser
of the scenario's clock times ("HH:MM"), used by the simulation too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import attrs

from gridcore.categories import Stage
from gridcore.errors import GridcoreError, ScenarioError
from gridcore.escalation import TOP_LEVEL, EscalationRule, Response, Trigger

__all__ = [
    "Conv",
    "Dump",
    "clock_minutes",
    "clock_period",
    "dump_escalation_rules",
    "dump_owner_rules",
    "key_field",
    "one_of",
    "optional",
    "to_bool",
    "to_date",
    "to_escalation_rules",
    "to_float",
    "to_floats",
    "to_int",
    "to_owner_rules",
    "to_periods",
    "to_policy",
    "to_str",
    "to_strs",
    "to_times",
    "to_timezone",
]

Conv = Callable[[str, object, str], Any]
Dump = Callable[[Any], Any]


def to_int(lo: int, hi: int | None = None) -> Conv:
    def conv(key: str, v: object, src: str) -> int:
        rng = f">= {lo}" if hi is None else f"in [{lo}, {hi}]"
        if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
            raise ScenarioError(key, v, f"an integer {rng}", src)
        return v

    return conv


def to_float(lo: float, hi: float | None = None, *, open_lo: bool = False) -> Conv:
    def conv(key: str, v: object, src: str) -> float:
        op = ">" if open_lo else ">="
        rng = f"{op} {lo}" if hi is None else f"in {'(' if open_lo else '['}{lo:g}, {hi:g}]"
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ScenarioError(key, v, f"a number {rng}", src)
        x = float(v)
        bad = x <= lo if open_lo else x < lo
        if not math.isfinite(x) or bad or (hi is not None and x > hi):
            raise ScenarioError(key, v, f"a number {rng}", src)
        return x

    return conv


def to_bool(key: str, v: object, src: str) -> bool:
    if not isinstance(v, bool):
        raise ScenarioError(key, v, "true or false", src)
    return v


def to_str(key: str, v: object, src: str) -> str:
    if not isinstance(v, str):
        raise ScenarioError(key, v, "a string", src)
    return v


def one_of(*options: str) -> Conv:
    def conv(key: str, v: object, src: str) -> str:
        if v not in options:
            raise ScenarioError(key, v, f"one of {list(options)}", src)
        return str(v)

    return conv


def to_timezone(key: str, v: object, src: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    what = "an IANA time zone name such as 'Asia/Shanghai'"
    if not isinstance(v, str) or not v:
        raise ScenarioError(key, v, what, src)
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ScenarioError(key, v, what, src) from None
    return v


def to_policy(key: str, v: object, src: str) -> str:
    from gridcore.staffing import POLICIES

    names = sorted(POLICIES)
    if not isinstance(v, str) or (v and v not in POLICIES):
        raise ScenarioError(key, v, f"'' (the city preset's) or one of {names}", src)
    return v


def to_date(key: str, v: object, src: str) -> date:
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        try:
            return date.fromisoformat(v)
        except ValueError:
            pass
    raise ScenarioError(key, v, "a date as YYYY-MM-DD", src)


def to_floats(n: int | None, lo: float = 0.0) -> Conv:
    def conv(key: str, v: object, src: str) -> tuple[float, ...]:
        what = f"a list of {n if n else 'one or more'} numbers >= {lo}"
        if not isinstance(v, list | tuple) or (n is not None and len(v) != n) or not v:
            raise ScenarioError(key, v, what, src)
        out = []
        for x in v:
            if isinstance(x, bool) or not isinstance(x, int | float) or not lo <= x < math.inf:
                raise ScenarioError(key, v, what, src)
            out.append(float(x))
        if not math.fsum(out) > 0:
            raise ScenarioError(key, v, what + " with a positive sum", src)
        return tuple(out)

    return conv


def clock_minutes(text: str) -> int:
    """Minutes since midnight of a clock time "HH:MM" ("8:30" too; "24:00" is 1440).

    The one parser of the scenario's clock times (working periods, patrol starts, on-call
    periods); ValueError for anything else.

    >>> clock_minutes("08:30"), clock_minutes("24:00")
    (510, 1440)
    """
    hh, mm = text.split(":")
    h, m = int(hh), int(mm)
    if not (0 <= h <= 24 and 0 <= m < 60 and h * 60 + m <= 1440):
        raise ValueError(text)
    return h * 60 + m


def clock_period(text: str) -> tuple[int, int]:
    """Minutes since midnight of the start and end of a period "HH:MM-HH:MM".

    ValueError when either end is not a clock time (`clock_minutes`); the order of the
    two is checked where periods are loaded.

    >>> clock_period("08:30-12:00")
    (510, 720)
    """
    start, end = text.split("-")
    return clock_minutes(start), clock_minutes(end)


def to_times(key: str, v: object, src: str) -> tuple[str, ...]:
    what = 'a list of clock times like "08:30"'
    if not isinstance(v, list | tuple) or not all(isinstance(x, str) for x in v):
        raise ScenarioError(key, v, what, src)
    try:
        mins = [clock_minutes(x) for x in v]
    except ValueError:
        raise ScenarioError(key, v, what, src) from None
    if mins != sorted(mins):
        raise ScenarioError(key, v, what + " in increasing order", src)
    return tuple(v)


def to_periods(key: str, v: object, src: str) -> tuple[str, ...]:
    what = 'a non-empty list of increasing, non-overlapping periods like "08:30-12:00"'
    if not isinstance(v, list | tuple) or not v or not all(isinstance(x, str) for x in v):
        raise ScenarioError(key, v, what, src)
    last = -1
    try:
        for p in v:
            a, b = clock_period(p)
            if a <= last or b <= a:
                raise ValueError(p)
            last = b
    except ValueError:
        raise ScenarioError(key, v, what, src) from None
    return tuple(v)


def to_working_periods(key: str, v: object, src: str) -> tuple[str, ...]:
    """`to_periods`, each ending by 23:59: the working calendar's days end before
    midnight (on-call periods may run to 24:00)."""
    periods = to_periods(key, v, src)
    if any(clock_period(p)[1] >= 1440 for p in periods):
        raise ScenarioError(
            key, v, 'working periods that end by "23:59" (only on-call periods reach 24:00)', src
        )
    return periods


def to_strs(key: str, v: object, src: str) -> tuple[str, ...]:
    if not isinstance(v, list | tuple) or not all(isinstance(x, str) and x for x in v):
        raise ScenarioError(key, v, "a list of non-empty strings", src)
    return tuple(v)


def to_owner_rules(key: str, v: object, src: str) -> tuple[tuple[str, str, str], ...]:
    what = 'a list of tables {area = "CODE", category = "CODE", owner = "NAME"}'
    if not isinstance(v, list | tuple):
        raise ScenarioError(key, v, what, src)
    out = []
    for i, item in enumerate(v):
        if isinstance(item, list | tuple) and len(item) == 3:
            item = dict(zip(("area", "category", "owner"), item, strict=True))
        if not isinstance(item, Mapping) or set(item) != {"area", "category", "owner"}:
            raise ScenarioError(f"{key}[{i}]", item, what, src)
        vals = tuple(item[k] for k in ("area", "category", "owner"))
        if not all(isinstance(x, str) and x for x in vals):
            raise ScenarioError(f"{key}[{i}]", item, what + " with non-empty strings", src)
        out.append((str(vals[0]), str(vals[1]), str(vals[2])))
    return tuple(out)


def dump_owner_rules(v: tuple[tuple[str, str, str], ...]) -> list[dict[str, str]]:
    return [{"area": a, "category": c, "owner": o} for a, c, o in v]


_RULE_KEYS = (
    "name", "trigger", "response", "threshold", "supervision", "stages", "top", "after",
)  # fmt: skip


def to_escalation_rules(key: str, v: object, src: str) -> str | tuple[EscalationRule, ...]:
    """ "default" (`gridcore.escalation.default_rules()`) or a list of rule tables."""
    what = (
        '"default" or a list of tables {name, trigger, response, threshold = 0, '
        'supervision = 1, stages = [], top = "department", after = ""} (the fields of '
        "gridcore.escalation.EscalationRule)"
    )
    if v == "default":
        return "default"
    if isinstance(v, tuple) and all(isinstance(r, EscalationRule) for r in v):
        return v
    if not isinstance(v, list | tuple):
        raise ScenarioError(key, v, what, src)
    out: list[EscalationRule] = []
    for i, item in enumerate(v):
        at = f"{key}[{i}]"
        if isinstance(item, EscalationRule):
            out.append(item)
            continue
        if not isinstance(item, Mapping):
            raise ScenarioError(at, item, what, src)
        extra = sorted(set(item) - set(_RULE_KEYS))
        if extra:
            raise ScenarioError(
                f"{at}.{extra[0]}", item[extra[0]], f"one of {list(_RULE_KEYS)}", src
            )
        for req in ("name", "trigger", "response"):
            if req not in item:
                raise ScenarioError(f"{at}.{req}", None, "a value (required)", src)
        name = to_str(f"{at}.name", item["name"], src)
        trig = one_of(*(t.value for t in Trigger))(f"{at}.trigger", item["trigger"], src)
        resp = one_of(*(r.value for r in Response))(f"{at}.response", item["response"], src)
        threshold = to_int(0)(f"{at}.threshold", item.get("threshold", 0), src)
        sup = to_int(1, 3)(f"{at}.supervision", item.get("supervision", 1), src)
        stages_raw = item.get("stages", [])
        stage_names = [s.value for s in Stage]
        if not isinstance(stages_raw, list | tuple) or any(
            x not in stage_names for x in stages_raw
        ):
            raise ScenarioError(
                f"{at}.stages", stages_raw, f"a list of stages among {stage_names}", src
            )
        top = to_str(f"{at}.top", item.get("top", TOP_LEVEL), src)
        after = item.get("after", "")
        if not isinstance(after, str):
            raise ScenarioError(f"{at}.after", after, "the name of another rule, or empty", src)
        try:
            rule = EscalationRule(
                name, trig, resp, threshold, sup, frozenset(stages_raw), top=top, after=after
            )
        except GridcoreError as exc:
            raise ScenarioError(at, dict(item), f"a valid rule ({exc})", src) from None
        if any(r.name == rule.name for r in out):
            raise ScenarioError(f"{at}.name", name, "a name not used by another rule", src)
        out.append(rule)
    return tuple(out)


def dump_escalation_rules(v: str | tuple[EscalationRule, ...]) -> str | list[dict[str, Any]]:
    if isinstance(v, str):
        return v
    return [
        {
            "name": r.name,
            "trigger": r.trigger.value,
            "response": r.response.value,
            "threshold": r.threshold,
            "supervision": r.supervision,
            "stages": sorted(s.value for s in r.stages),
            "top": r.top,
            "after": r.after,
        }
        for r in v
    ]


def optional(conv: Conv) -> Conv:
    def wrapped(key: str, v: object, src: str) -> Any:
        return None if v is None else conv(key, v, src)

    return wrapped


def key_field(default: Any, doc: str, conv: Conv, dump: Dump | None = None) -> Any:
    """An attrs field carrying its documentation, loader and dumper."""
    meta = {"doc": doc, "conv": conv, "dump": dump}
    if isinstance(default, list | dict):
        raise TypeError("use immutable defaults")  # pragma: no cover
    return attrs.field(default=default, metadata=meta)

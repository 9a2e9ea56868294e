"""Case categories: the 部件/事件 taxonomy (大类 > 小类), stages and time limits.

A taxonomy is data: categories with a code, a parent, a family, a severity,
the level expected to resolve them and, on leaves (小类), a working-time limit
for every case stage and the name of the calendar that measures it.

A leaf is a category that carries limits; a parent (大类) carries none. The
built-in `default_taxonomy()` follows the digital city-management families
(components C.., events E..) and adds the governance matters of the field
reports (G..).

>>> tax = default_taxonomy()
>>> tax.get(CategoryCode("E0101")).limits[Stage.HANDLE]
datetime.timedelta(seconds=25200)
>>> [c.code for c in tax.ancestors(CategoryCode("E0101"))]
['E01']
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import attrs

from gridcore.errors import TaxonomyError
from gridcore.ids import CategoryCode

__all__ = [
    "FAMILIES",
    "TAXONOMY_FORMAT",
    "WORKING_DAY",
    "Category",
    "CategoryFieldError",
    "ResolveLevel",
    "Stage",
    "Taxonomy",
    "UnknownCategoryError",
    "default_taxonomy",
    "format_duration",
    "parse_duration",
]

FAMILIES = ("component", "event", "governance")
"""Category families: 部件 components, 事件 events, and the governance matters of the seed."""

TAXONOMY_FORMAT = "gridcore.taxonomy"
"""The `format` tag written by `Taxonomy.to_dict`."""

WORKING_DAY = timedelta(hours=7)
"""One working day of the default calendar (08:30-12:00 and 14:00-17:30), in working time."""


class Stage(StrEnum):
    """The stages of a case that each carry a time limit."""

    VERIFY = "verify"
    DISPATCH = "dispatch"
    SIGN_FOR = "sign_for"
    HANDLE = "handle"
    CHECK = "check"


class ResolveLevel(StrEnum):
    """The level expected to resolve a category (小事不出社区，大事不出街道)."""

    GRID = "grid"
    COMMUNITY = "community"
    STREET = "street"
    DEPARTMENT = "department"


class CategoryFieldError(TaxonomyError):
    """A category field that is not valid: names the category, the field and what was expected."""

    def __init__(self, where: str, field: str, expected: str, got: object = None) -> None:
        self.where = where
        self.field = field
        self.expected = expected
        self.got = got
        seen = f", got {got!r}" if got is not None else ""
        super().__init__(f"{where}: field {field!r}: expected {expected}{seen}")


class UnknownCategoryError(TaxonomyError, LookupError):
    """A category code that the taxonomy does not hold."""

    def __init__(self, code: object, source: str = "") -> None:
        self.code = code
        self.source = source
        where = f" in taxonomy {source!r}" if source else " in the taxonomy"
        super().__init__(f"unknown category {code!r}{where}: expected a code the taxonomy holds")


_ISO = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,6})?)S)?$")


def parse_duration(value: object) -> timedelta:
    """A duration from an ISO 8601 time part ("PT7H", "PT1H30M") or a number of seconds.

    Days are refused on purpose: a working day depends on the calendar.

    >>> parse_duration("PT1H30M")
    datetime.timedelta(seconds=5400)
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise TaxonomyError(f"{value!r} is a boolean")
    try:
        if isinstance(value, int | float):
            if not math.isfinite(value):
                raise TaxonomyError(f"{value!r} is not finite")
            return timedelta(seconds=value)
        if isinstance(value, str):
            m = _ISO.match(value.strip())
            if m is None or m.group(0) == "PT":
                raise TaxonomyError(
                    f"{value!r} is not an ISO 8601 duration like 'PT7H' or 'PT1H30M'"
                )
            h, mi, se = m.groups()
            return timedelta(hours=int(h or 0), minutes=int(mi or 0), seconds=float(se or 0))
    except OverflowError:
        raise TaxonomyError(f"{value!r} is longer than a duration can be") from None
    raise TaxonomyError(f"{value!r} is neither a duration string nor a number of seconds")


def format_duration(d: timedelta) -> str:
    """The ISO 8601 time-part form of `d` ("PT105H"), read back by `parse_duration`.

    >>> format_duration(timedelta(hours=1, minutes=30))
    'PT1H30M'
    """
    us = d // timedelta(microseconds=1)
    sign = "-" if us < 0 else ""
    us = abs(us)
    h, rest = divmod(us, 3_600_000_000)
    m, rest = divmod(rest, 60_000_000)
    s, frac = divmod(rest, 1_000_000)
    out = "PT"
    if h:
        out += f"{h}H"
    if m:
        out += f"{m}M"
    if s or frac or out == "PT":
        out += f"{s}.{frac:06d}S" if frac else f"{s}S"
    return sign + out


def _where(code: object) -> str:
    return f"category {code!r}"


def _to_level(value: ResolveLevel | str) -> ResolveLevel:
    # A bad value is kept as is and refused in `_check_category`, where the code is known.
    try:
        return ResolveLevel(value)
    except ValueError:
        return value  # type: ignore[return-value]


def _to_limits(
    value: Mapping[Stage, timedelta] | Mapping[str, timedelta],
) -> Mapping[Stage, timedelta]:
    if not isinstance(value, Mapping):
        # Refused in `_check_category`, where the code is known.
        return value  # type: ignore[unreachable]
    out: dict[Stage, timedelta] = {}
    for key, d in value.items():
        try:
            out[Stage(key)] = d
        except ValueError:
            out[key] = d  # type: ignore[index]
    # Stage order, so equal limits compare and serialise identically.
    order = {s: i for i, s in enumerate(Stage)}
    return MappingProxyType(dict(sorted(out.items(), key=lambda kv: order.get(kv[0], 99))))


def _to_level_limits(
    value: Mapping[ResolveLevel, timedelta] | Mapping[str, timedelta],
) -> Mapping[ResolveLevel, timedelta]:
    if not isinstance(value, Mapping):
        # Refused in `_check_category`, where the code is known.
        return value  # type: ignore[unreachable]
    out = {_to_level(k): d for k, d in value.items()}
    # Level order, so equal limits compare and serialise identically.
    order = {lv: i for i, lv in enumerate(ResolveLevel)}
    return MappingProxyType(dict(sorted(out.items(), key=lambda kv: order.get(kv[0], 99))))


def _check_level_limits(inst: Category, where: str) -> None:
    if not isinstance(inst.level_limits, Mapping):
        raise CategoryFieldError(
            where, "level_limits", "a mapping of level to duration", inst.level_limits
        )
    for level, d in inst.level_limits.items():
        if not isinstance(level, ResolveLevel):
            raise CategoryFieldError(
                where, "level_limits", f"levels among {[v.value for v in ResolveLevel]}", level
            )
        if not isinstance(d, timedelta) or d <= timedelta(0):
            raise CategoryFieldError(where, f"level_limits.{level.value}", "a positive duration", d)


def _check_category(inst: Category) -> None:
    where = _where(inst.code)
    if not isinstance(inst.code, str) or not inst.code.strip():
        raise CategoryFieldError(where, "code", "a non-empty string", inst.code)
    if not isinstance(inst.name, str) or not inst.name.strip():
        raise CategoryFieldError(where, "name", "a non-empty string", inst.name)
    if not isinstance(inst.name_zh, str):
        raise CategoryFieldError(where, "name_zh", "a string", inst.name_zh)
    if inst.family not in FAMILIES:
        raise CategoryFieldError(where, "family", f"one of {list(FAMILIES)}", inst.family)
    if inst.parent is not None and (not isinstance(inst.parent, str) or not inst.parent):
        raise CategoryFieldError(where, "parent", "a category code or None", inst.parent)
    if inst.parent == inst.code:
        raise CategoryFieldError(where, "parent", "a code other than its own", inst.parent)
    sev = inst.severity
    if isinstance(sev, bool) or not isinstance(sev, int) or not 1 <= sev <= 4:
        raise CategoryFieldError(where, "severity", "an integer 1 (low) .. 4 (critical)", sev)
    if not isinstance(inst.calendar, str) or not inst.calendar.strip():
        raise CategoryFieldError(where, "calendar", "a non-empty calendar name", inst.calendar)
    if not isinstance(inst.resolve_level, ResolveLevel):
        raise CategoryFieldError(
            where, "resolve_level", f"one of {[v.value for v in ResolveLevel]}", inst.resolve_level
        )
    if not isinstance(inst.limits, Mapping):
        raise CategoryFieldError(where, "limits", "a mapping of stage to duration", inst.limits)
    for stage, d in inst.limits.items():
        if not isinstance(stage, Stage):
            raise CategoryFieldError(
                where, "limits", f"stages among {[s.value for s in Stage]}", stage
            )
        if not isinstance(d, timedelta) or d <= timedelta(0):
            raise CategoryFieldError(where, f"limits.{stage.value}", "a positive duration", d)
    _check_level_limits(inst, where)


@attrs.frozen
class Category:
    """One category (大类 or 小类) of a taxonomy.

    `level_limits`: per level, the working time an owner at that level has to resolve
    the case from the moment it climbed there (三级督办: each new owner gets its own time
    limit). A level left out gets the category's sign-for + handling limits again.
    """

    code: CategoryCode
    name: str
    name_zh: str
    family: str
    parent: CategoryCode | None = None
    severity: int = 2
    resolve_level: ResolveLevel = attrs.field(default=ResolveLevel.COMMUNITY, converter=_to_level)
    limits: Mapping[Stage, timedelta] = attrs.field(factory=dict, converter=_to_limits, hash=False)
    calendar: str = "working"
    level_limits: Mapping[ResolveLevel, timedelta] = attrs.field(
        factory=dict, converter=_to_level_limits, hash=False
    )

    def __attrs_post_init__(self) -> None:
        _check_category(self)

    @property
    def is_leaf(self) -> bool:
        """Whether this is a 小类: a category carrying stage limits (a validated leaf)."""
        return bool(self.limits)

    def limit(self, stage: Stage) -> timedelta:
        """The working-time limit of `stage`."""
        try:
            return self.limits[stage]
        except KeyError:
            raise CategoryFieldError(
                _where(self.code), f"limits.{Stage(stage).value}", "a limit (is this a leaf?)"
            ) from None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of the fields (durations as ISO 8601 strings)."""
        d: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "name_zh": self.name_zh,
            "family": self.family,
            "parent": self.parent,
            "severity": self.severity,
            "resolve_level": self.resolve_level.value,
            "calendar": self.calendar,
        }
        if self.limits:
            d["limits"] = {s.value: format_duration(v) for s, v in self.limits.items()}
        if self.level_limits:
            d["level_limits"] = {
                lv.value: format_duration(v) for lv, v in self.level_limits.items()
            }
        return d


_FIELDS = ("code", "name", "name_zh", "family", "parent", "severity", "resolve_level", "calendar")


def _durations(raw: Mapping[str, Any], field: str, key: str, where: str) -> dict[str, timedelta]:
    """The table `field` of `key` = ISO 8601 duration, parsed."""
    table = raw.get(field, {})
    if not isinstance(table, Mapping):
        raise CategoryFieldError(where, field, f"a table of {key} = duration", table)
    out: dict[str, timedelta] = {}
    for name, value in table.items():
        try:
            out[name] = parse_duration(value)
        except ValueError as exc:
            raise CategoryFieldError(
                where, f"{field}.{name}", "an ISO 8601 duration like 'PT7H' or seconds", value
            ) from exc
    return out


def _category_from_dict(raw: object, where: str) -> Category:
    if not isinstance(raw, Mapping):
        raise CategoryFieldError(where, "", "a table/object of category fields", type(raw).__name__)
    code = raw.get("code")
    if isinstance(code, str) and code:
        where = f"{where} {code!r}"
    unknown = sorted(set(raw) - {*_FIELDS, "limits", "level_limits"})
    if unknown:
        raise CategoryFieldError(
            where, unknown[0], f"only fields {[*_FIELDS, 'limits', 'level_limits']}"
        )
    for key in ("code", "name", "family"):
        if key not in raw:
            raise CategoryFieldError(where, key, "a value (required)")
    limits = _durations(raw, "limits", "stage", where)
    level_limits = _durations(raw, "level_limits", "level", where)
    sev = raw.get("severity", 2)
    try:
        return Category(
            code=CategoryCode(raw["code"]),
            name=raw["name"],
            name_zh=raw.get("name_zh", ""),
            family=raw["family"],
            parent=raw.get("parent"),
            severity=sev,
            resolve_level=raw.get("resolve_level", ResolveLevel.COMMUNITY),
            limits=limits,
            calendar=raw.get("calendar", "working"),
            level_limits=level_limits,
        )
    except CategoryFieldError as exc:
        # Re-anchor the error on the entry's position in the source.
        raise CategoryFieldError(where, exc.field, exc.expected, exc.got) from exc


class Taxonomy:
    """An immutable, validated set of categories, with tree queries.

    Validation: unique codes; every parent exists and has the same family; no
    cycles; a category with children carries no limits; a leaf carries a limit
    for every `Stage`. Errors name the code and the field.
    """

    __slots__ = ("_by_code", "_children", "_source")

    def __init__(self, categories: Iterable[Category], source: str = "") -> None:
        by_code: dict[CategoryCode, Category] = {}
        prefix = f"{source}: " if source else ""
        for c in categories:
            if not isinstance(c, Category):
                raise TaxonomyError(f"{prefix}{c!r}: expected a Category")
            if c.code in by_code:
                raise CategoryFieldError(f"{prefix}{_where(c.code)}", "code", "a unique code")
            by_code[c.code] = c
        children: dict[CategoryCode, list[CategoryCode]] = {code: [] for code in by_code}
        for c in by_code.values():
            if c.parent is None:
                continue
            parent = by_code.get(c.parent)
            if parent is None:
                raise CategoryFieldError(
                    f"{prefix}{_where(c.code)}",
                    "parent",
                    "the code of a category in the taxonomy",
                    c.parent,
                )
            if parent.family != c.family:
                raise CategoryFieldError(
                    f"{prefix}{_where(c.code)}",
                    "family",
                    f"the family of its parent {parent.code!r} ({parent.family!r})",
                    c.family,
                )
            children[c.parent].append(c.code)
        for c in by_code.values():
            seen = {c.code}
            p = c.parent
            while p is not None:
                if p in seen:
                    raise CategoryFieldError(
                        f"{prefix}{_where(c.code)}",
                        "parent",
                        "a chain of parents without a cycle",
                        p,
                    )
                seen.add(p)
                p = by_code[p].parent
            for field in ("limits", "level_limits"):
                if children[c.code] and getattr(c, field):
                    raise CategoryFieldError(
                        f"{prefix}{_where(c.code)}",
                        field,
                        f"none on a category with children {children[c.code][:3]}",
                    )
            if not children[c.code]:
                missing = [s.value for s in Stage if s not in c.limits]
                if missing:
                    raise CategoryFieldError(
                        f"{prefix}{_where(c.code)}",
                        f"limits.{missing[0]}",
                        f"a limit for every stage on a leaf (missing {missing})",
                    )
        self._by_code: Mapping[CategoryCode, Category] = MappingProxyType(by_code)
        self._children: Mapping[CategoryCode, tuple[CategoryCode, ...]] = MappingProxyType(
            {k: tuple(v) for k, v in children.items()}
        )
        self._source = source

    def get(self, code: CategoryCode | str) -> Category:
        """The category with `code`; an `UnknownCategoryError` (a `LookupError`) if absent."""
        try:
            return self._by_code[CategoryCode(code)]
        except KeyError:
            raise UnknownCategoryError(code, self._source) from None

    def ancestors(self, code: CategoryCode | str) -> tuple[Category, ...]:
        """The parent, grandparent, ... of `code`, nearest first."""
        out: list[Category] = []
        p = self.get(code).parent
        while p is not None:
            cat = self._by_code[p]
            out.append(cat)
            p = cat.parent
        return tuple(out)

    def children(self, code: CategoryCode | str) -> tuple[Category, ...]:
        """The direct children of `code`, in taxonomy order."""
        self.get(code)
        return tuple(self._by_code[c] for c in self._children[CategoryCode(code)])

    def roots(self) -> tuple[Category, ...]:
        """The categories without a parent (大类 at the top), in taxonomy order."""
        return tuple(c for c in self._by_code.values() if c.parent is None)

    def leaves(self) -> tuple[Category, ...]:
        """The leaves (小类), in taxonomy order."""
        return tuple(c for c in self._by_code.values() if not self._children[c.code])

    def family(self, family: str) -> tuple[Category, ...]:
        """The categories of one family ("component", "event", "governance")."""
        return tuple(c for c in self._by_code.values() if c.family == family)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[Category]:
        return iter(self._by_code.values())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Taxonomy):
            return NotImplemented
        return list(self) == list(other)

    def __hash__(self) -> int:
        return hash(tuple(c.code for c in self))

    def __repr__(self) -> str:
        return f"Taxonomy({len(self)} categories, {len(self.leaves())} leaves)"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict, read back by `from_dict`."""
        return {
            "format": TAXONOMY_FORMAT,
            "version": 1,
            "categories": [c.to_dict() for c in self],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "") -> Taxonomy:
        """A taxonomy from `to_dict` output; errors name `source`, the entry and the field."""
        prefix = f"{source}: " if source else ""
        if not isinstance(data, Mapping):
            raise CategoryFieldError(f"{prefix}document", "", "a table/object at the top")
        fmt = data.get("format", TAXONOMY_FORMAT)
        if fmt != TAXONOMY_FORMAT:
            raise CategoryFieldError(f"{prefix}document", "format", repr(TAXONOMY_FORMAT), fmt)
        version = data.get("version", 1)
        if version != 1:
            raise CategoryFieldError(f"{prefix}document", "version", "1", version)
        raw = data.get("categories")
        if not isinstance(raw, list):
            raise CategoryFieldError(f"{prefix}document", "categories", "a list of categories")
        cats = [_category_from_dict(r, f"{prefix}category #{i}") for i, r in enumerate(raw)]
        return cls(cats, source=source)


# -- the built-in default ------------------------------------------------------

_V = Stage.VERIFY
_D = Stage.DISPATCH
_S = Stage.SIGN_FOR
_H = Stage.HANDLE
_C = Stage.CHECK

_H1 = timedelta(hours=1)
_M30 = timedelta(minutes=30)
_M10 = timedelta(minutes=10)


def _std(handle: timedelta) -> dict[Stage, timedelta]:
    """Office-hours stage limits around a handling limit (verify 1 h, dispatch 30 min, ...)."""
    return {_V: _H1, _D: _M30, _S: _H1, _H: handle, _C: 2 * _H1}


def _urgent(handle: timedelta) -> dict[Stage, timedelta]:
    """Round-the-clock stage limits for emergencies (minutes matter)."""
    return {_V: _M10, _D: _M10, _S: timedelta(minutes=15), _H: handle, _C: _H1}


_G = ResolveLevel.GRID
_CO = ResolveLevel.COMMUNITY
_ST = ResolveLevel.STREET
_DE = ResolveLevel.DEPARTMENT

_WD = WORKING_DAY

# (大类 code, name, name_zh, [(小类 suffix, name, name_zh, severity, level, limits, calendar)])
_Leaf = tuple[str, str, str, int, ResolveLevel, dict[Stage, timedelta], str]
_Spec = tuple[str, str, str, list[_Leaf]]

_COMPONENTS: list[_Spec] = [
    (
        "C01",
        "public facilities",
        "公用设施",
        [
            ("01", "manhole cover", "井盖", 3, _DE, _std(5 * _H1), "working"),
            ("02", "water supply facility", "供水设施", 3, _DE, _std(2 * _WD), "working"),
            ("03", "street lamp", "路灯", 2, _DE, _std(3 * _WD), "working"),
            ("04", "public toilet", "公厕", 2, _ST, _std(2 * _WD), "working"),
        ],
    ),
    (
        "C02",
        "roads and traffic",
        "道路交通",
        [
            ("01", "road surface damage", "道路破损", 2, _DE, _std(5 * _WD), "working"),
            ("02", "traffic sign", "交通标志牌", 2, _DE, _std(3 * _WD), "working"),
            ("03", "bus shelter", "公交站亭", 1, _DE, _std(5 * _WD), "working"),
        ],
    ),
    (
        "C03",
        "city appearance",
        "市容环境",
        [
            ("01", "litter bin", "果皮箱", 1, _CO, _std(_WD), "working"),
            ("02", "garbage station", "垃圾间(楼)", 2, _ST, _std(2 * _WD), "working"),
        ],
    ),
    (
        "C04",
        "greenery",
        "园林绿化",
        [
            ("01", "street tree", "行道树", 1, _ST, _std(5 * _WD), "working"),
            ("02", "green space", "绿地", 1, _ST, _std(5 * _WD), "working"),
        ],
    ),
    (
        "C05",
        "buildings and land",
        "房屋土地",
        [
            ("01", "dangerous building", "危房", 4, _DE, _std(3 * _WD), "working"),
            ("02", "idle land", "闲置地", 1, _ST, _std(15 * _WD), "working"),
        ],
    ),
    (
        "C06",
        "other components",
        "其他设施",
        [
            ("01", "surveillance camera", "监控电子眼", 2, _DE, _std(5 * _WD), "working"),
            ("02", "utility pole", "电力杆", 2, _DE, _std(3 * _WD), "working"),
        ],
    ),
]

_EVENTS: list[_Spec] = [
    (
        "E01",
        "city appearance",
        "市容环境",
        [
            ("01", "exposed rubbish", "暴露垃圾", 1, _G, _std(_WD), "working"),
            ("02", "dirty road", "道路不洁", 1, _G, _std(5 * _H1), "working"),
            ("03", "piled materials", "乱堆物堆料", 2, _CO, _std(2 * _WD), "working"),
        ],
    ),
    (
        "E02",
        "advertising",
        "宣传广告",
        [
            ("01", "illegal small ads", "非法小广告", 1, _G, _std(_WD), "working"),
            ("02", "unlicensed outdoor ad", "违规户外广告", 2, _ST, _std(5 * _WD), "working"),
        ],
    ),
    (
        "E03",
        "construction",
        "施工管理",
        [
            ("01", "illegal building", "违法建设", 3, _ST, _std(15 * _WD), "working"),
            ("02", "construction dust", "施工扬尘", 2, _DE, _std(2 * _WD), "working"),
            ("03", "night construction noise", "夜间施工扰民", 2, _DE, _urgent(2 * _H1), "24x7"),
        ],
    ),
    (
        "E04",
        "emergencies",
        "突发事件",
        [
            ("01", "road collapse", "路面塌陷", 4, _DE, _urgent(2 * _H1), "24x7"),
            ("02", "water, power or gas outage", "停水停电停气", 3, _DE, _urgent(24 * _H1), "24x7"),
            ("03", "waterlogging", "积水", 3, _DE, _urgent(24 * _H1), "24x7"),
        ],
    ),
    (
        "E05",
        "street order",
        "街面秩序",
        [
            ("01", "street vending", "无照经营游商", 1, _G, _std(_WD), "working"),
            ("02", "occupying road to trade", "店外经营", 1, _CO, _std(_WD), "working"),
            ("03", "illegal parking", "违章停放", 1, _CO, _std(5 * _H1), "working"),
        ],
    ),
]

_GOVERNANCE: list[_Spec] = [
    (
        "G01",
        "epidemic control",
        "疫情防控",
        [
            ("01", "suspected case report", "疑似病例报告", 4, _DE, _urgent(2 * _H1), "24x7"),
            ("02", "arrival registration", "返乡人员登记", 2, _G, _std(_WD), "working"),
        ],
    ),
    (
        "G02",
        "floating population and rentals",
        "流动人口与出租房屋",
        [
            ("01", "unregistered tenant", "流动人口未登记", 1, _G, _std(5 * _WD), "working"),
            ("02", "unsafe rental housing", "出租房屋隐患", 2, _CO, _std(5 * _WD), "working"),
        ],
    ),
    (
        "G03",
        "public security",
        "社会治安",
        [
            ("01", "security hazard", "治安隐患", 3, _ST, _std(2 * _WD), "working"),
            ("02", "suspicious person", "可疑人员", 3, _DE, _urgent(2 * _H1), "24x7"),
        ],
    ),
    (
        "G04",
        "fire safety",
        "消防安全",
        [
            ("01", "fire", "火情", 4, _DE, _urgent(2 * _H1), "24x7"),
            ("02", "blocked fire escape", "消防通道堵塞", 3, _CO, _std(_WD), "working"),
            ("03", "shop fire hazard", "门店消防隐患", 2, _CO, _std(5 * _WD), "working"),
        ],
    ),
    (
        "G05",
        "land",
        "国土资源",
        [
            ("01", "illegal land use", "违法占地", 3, _DE, _std(15 * _WD), "working"),
        ],
    ),
    (
        "G06",
        "health and family planning",
        "卫生计生",
        [
            ("01", "family planning service", "计生服务", 1, _G, _std(5 * _WD), "working"),
            ("02", "health service request", "卫生健康服务", 1, _CO, _std(5 * _WD), "working"),
        ],
    ),
    (
        "G07",
        "disputes",
        "矛盾纠纷",
        [
            ("01", "neighbour dispute", "邻里纠纷", 2, _G, _std(7 * _WD), "working"),
            ("02", "domestic dispute", "家庭纠纷", 2, _CO, _std(7 * _WD), "working"),
            ("03", "complex dispute", "复杂矛盾纠纷", 3, _ST, _std(15 * _WD), "working"),
        ],
    ),
    (
        "G08",
        "water leaks",
        "漏水",
        [
            ("01", "water leak in home", "居民家中漏水", 2, _CO, _urgent(24 * _H1), "24x7"),
            ("02", "burst water main", "供水管道爆裂", 4, _DE, _urgent(2 * _H1), "24x7"),
        ],
    ),
    (
        "G09",
        "fraud",
        "诈骗",
        [
            ("01", "fraud warning", "诈骗预警", 3, _DE, _urgent(2 * _H1), "24x7"),
            ("02", "fraud prevention outreach", "反诈宣传", 1, _G, _std(7 * _WD), "working"),
        ],
    ),
    (
        "G10",
        "facility requests",
        "设施诉求",
        [
            ("01", "facility repair request", "设施报修", 1, _CO, _std(7 * _WD), "working"),
            ("02", "new facility request", "新增设施诉求", 1, _ST, _std(15 * _WD), "working"),
        ],
    ),
]


@functools.cache
def default_taxonomy() -> Taxonomy:
    """The built-in taxonomy: 部件 (C..), 事件 (E..) and governance (G..), 大类 > 小类.

    Limits are working time on the named calendar; 1 working day is `WORKING_DAY` (7 h).
    Built once: a `Taxonomy` is immutable, so every call returns the same value.
    """
    cats: list[Category] = []
    for family, specs in (
        ("component", _COMPONENTS),
        ("event", _EVENTS),
        ("governance", _GOVERNANCE),
    ):
        for code, name, name_zh, leaves in specs:
            parent = CategoryCode(code)
            # A 大类's severity and level are those of its most serious 小类.
            top = max(leaves, key=lambda leaf: leaf[3])
            cats.append(Category(parent, name, name_zh, family, None, top[3], top[4]))
            for suffix, lname, lname_zh, sev, level, limits, cal in leaves:
                cats.append(
                    Category(
                        CategoryCode(code + suffix),
                        lname,
                        lname_zh,
                        family,
                        parent,
                        sev,
                        level,
                        limits,
                        cal,
                    )
                )
    return Taxonomy(cats, source="default")

"""Level schemes and area codes: `Level`, `LevelScheme`, `ParsedCode` and the built-in schemes.

A scheme names the levels of a hierarchy from the top down to the leaf and says how
an area's code is written at each level (fixed-width digits or a path of segments);
`gridcore.hierarchy` re-exports every name here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import attrs

from gridcore.errors import CodeError, HierarchyError, UnknownItemError
from gridcore.ids import AreaCode

__all__ = ["FIRE", "RURAL", "SCHEMES", "URBAN", "Level", "LevelScheme", "ParsedCode"]

_DIGITS = re.compile(r"[0-9]+")
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


@attrs.frozen
class Level:
    """One level of a scheme: its name (used in files), its Chinese name and code width."""

    name: str
    name_zh: str = ""
    width: int | None = None
    """Digits this level adds to the code (digit schemes); None for path schemes."""


@attrs.frozen
class ParsedCode:
    """A code split into its segments, one per level from the top down to `level`."""

    code: AreaCode
    level: str
    depth: int
    segments: tuple[str, ...]


@attrs.frozen
class LevelScheme:
    """An ordered list of levels, top to leaf, and how codes are written at each level.

    `kind="digits"`: a code is the concatenation of fixed-width digit segments,
    so the parent's code is a prefix of the child's (the urban administrative
    code). `kind="path"`: a code is segments joined by `separator`.
    """

    name: str
    levels: tuple[Level, ...]
    kind: Literal["digits", "path"] = "path"
    separator: str = "/"
    check: Callable[[ParsedCode], None] | None = attrs.field(default=None, eq=False, repr=False)
    """Rules beyond the layout (segment ranges: `gridcore.gridcodes`); raises CodeError."""

    def __attrs_post_init__(self) -> None:
        if not self.levels:
            raise HierarchyError(f"level scheme {self.name!r}: needs at least one level")
        names = [lv.name for lv in self.levels]
        if len(set(names)) != len(names):
            raise HierarchyError(f"level scheme {self.name!r}: level names repeat: {names}")
        if self.kind == "digits":
            for lv in self.levels:
                if lv.width is None or lv.width < 1:
                    raise HierarchyError(
                        f"level scheme {self.name!r}: level {lv.name!r} needs a digit width >= 1"
                    )

    @property
    def leaf_level(self) -> str:
        """The name of the leaf level (grid, household group, small grid...)."""
        return self.levels[-1].name

    @property
    def level_names(self) -> tuple[str, ...]:
        """Level names from the top down."""
        return tuple(lv.name for lv in self.levels)

    def depth(self, level: str) -> int:
        """Position of `level` in the scheme, 0 at the top."""
        for i, lv in enumerate(self.levels):
            if lv.name == level:
                return i
        raise UnknownItemError("level", level, f"scheme {self.name!r} {self.level_names}")

    def parse(self, code: str) -> ParsedCode:
        """Split a code into segments and name its level; CodeError if the layout is wrong.

        >>> URBAN.parse("42050200100101").level
        'grid'
        """
        if not isinstance(code, str) or not code:
            raise CodeError(f"scheme {self.name!r}: code {code!r} is not a non-empty string")
        if self.kind == "digits":
            if not _DIGITS.fullmatch(code):
                raise CodeError(f"scheme {self.name!r}: code {code!r} must be digits only")
            segs: list[str] = []
            pos = 0
            for lv in self.levels:
                assert lv.width is not None
                if pos == len(code):
                    break
                segs.append(code[pos : pos + lv.width])
                pos += lv.width
            widths = [lv.width for lv in self.levels]
            if pos != len(code) or len(segs[-1]) != widths[len(segs) - 1]:
                allowed = sorted({sum(w for w in widths[: i + 1] if w) for i in range(len(widths))})
                raise CodeError(
                    f"scheme {self.name!r}: code {code!r} has {len(code)} digits, "
                    f"expected one of {allowed}"
                )
        else:
            segs = code.split(self.separator)
            if len(segs) > len(self.levels):
                raise CodeError(
                    f"scheme {self.name!r}: code {code!r} has {len(segs)} segments, "
                    f"at most {len(self.levels)} expected"
                )
            for s in segs:
                if not _SEGMENT.fullmatch(s):
                    raise CodeError(
                        f"scheme {self.name!r}: code {code!r} has segment {s!r}, "
                        "expected letters, digits, '_' or '-'"
                    )
        depth = len(segs) - 1
        parsed = ParsedCode(AreaCode(code), self.levels[depth].name, depth, tuple(segs))
        if self.check is not None:
            self.check(parsed)
        return parsed

    def format(self, segments: Sequence[str]) -> AreaCode:
        """Join segments into a code, checking each one's layout."""
        if not 1 <= len(segments) <= len(self.levels):
            raise CodeError(
                f"scheme {self.name!r}: {len(segments)} segments, expected 1 to {len(self.levels)}"
            )
        if self.kind == "digits":
            for seg, lv in zip(segments, self.levels, strict=False):
                if not _DIGITS.fullmatch(seg) or len(seg) != lv.width:
                    raise CodeError(
                        f"scheme {self.name!r}: segment {seg!r} for level {lv.name!r} "
                        f"must be {lv.width} digits"
                    )
            code = "".join(segments)
        else:
            code = self.separator.join(segments)
        self.parse(code)
        return AreaCode(code)

    def parent_code(self, code: str) -> AreaCode | None:
        """The code of the parent implied by the code's layout (None at the top level)."""
        parsed = self.parse(code)
        if parsed.depth == 0:
            return None
        return self.format(parsed.segments[:-1])

    def admin_code(self, code: str) -> str:
        """The code padded with zeros to the full administrative width (digit schemes).

        For the urban scheme: 12 digits for city to community, 14 for a grid.

        >>> URBAN.admin_code("420502")
        '420502000000'
        """
        if self.kind != "digits":
            return code
        parsed = self.parse(code)
        leaf = len(self.levels) - 1
        full = sum(lv.width or 0 for lv in self.levels[:leaf])
        return code if parsed.depth == leaf else code.ljust(full, "0")


URBAN = LevelScheme(
    "urban",
    (
        Level("city", "市", 4),
        Level("district", "区", 2),
        Level("street", "街道", 3),
        Level("community", "社区", 3),
        Level("grid", "网格", 2),
    ),
    kind="digits",
)
"""City > district > street > community > grid; the 12-digit administrative code plus a 2-digit grid
sequence (6 county + 3 street + 3 community + 2 grid; the city is the first 4 digits)."""

RURAL = LevelScheme(
    "rural",
    (
        Level("county", "县"),
        Level("township", "乡镇"),
        Level("village", "行政村"),
        Level("hamlet", "自然屯"),
        Level("household_group", "户联防组"),
    ),
)
"""County > township > village > hamlet > household group (户联防组, 7 or 10 households)."""

FIRE = LevelScheme(
    "fire",
    (
        Level("big_grid", "大网格"),
        Level("medium_grid", "中网格"),
        Level("small_grid", "小网格"),
    ),
)
"""Fire safety's three grids: big (street/township) > medium (community/village) > small."""

SCHEMES: Mapping[str, LevelScheme] = {s.name: s for s in (URBAN, RURAL, FIRE)}
"""The built-in level schemes by name."""

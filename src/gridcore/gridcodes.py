"""Grid code standards as level schemes: 14-digit grid codes, a 15-digit variant, CJ/T 349's 20.

- **14 digits** (`GRID14`): county (6, the administrative division code) +
  street (3) + community (3) + grid (2). The street segment says what the
  street-level unit is: 001-099 a street office (街道), 100-199 a town (镇),
  200-399 a township (乡). The community segment: 001-199 a residents'
  committee (居委会), 200-399 a villagers' committee (村委会). The grid segment
  numbers the grids of the community, 01-99; ``00`` is a community that is not
  subdivided (the community is its own grid).
- **15 digits** (`GRID15`): the same with a 3-digit grid number (001-999, ``000``
  undivided), as some cities number more than 99 grids a community.
- **20 digits** (`ObjectCode`, CJ/T 349-2010): a 6-digit object type followed by
  the 14-digit grid code of the grid that holds the object.

`check_grid_code` applies the rules to any code of 14 or 15 digits (the urban
scheme's grid codes included); each refusal is a CodeError naming the code, the
segment and the rule.
"""

from __future__ import annotations

import attrs

from gridcore.errors import CodeError
from gridcore.hierarchy import Level, LevelScheme, ParsedCode
from gridcore.ids import AreaCode

__all__ = [
    "GRID14",
    "GRID15",
    "GRID_SCHEMES",
    "ObjectCode",
    "check_grid_code",
    "community_kind",
    "street_kind",
]

_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82}
)
"""The first two digits of a PRC administrative division code (GB/T 2260)."""


def _refuse(code: str, segment: str, value: str, rule: str) -> CodeError:
    return CodeError(f"grid code {code!r}: {segment} segment {value!r} breaks the rule: {rule}")


def street_kind(segment: str, code: str = "") -> str:
    """街道 (001-099), 镇 (100-199) or 乡 (200-399) for a 3-digit street segment; else CodeError."""
    n = int(segment) if len(segment) == 3 and segment.isdigit() else -1
    if 1 <= n <= 99:
        return "街道"
    if 100 <= n <= 199:
        return "镇"
    if 200 <= n <= 399:
        return "乡"
    raise _refuse(
        code or segment, "street", segment, "001-099 街道, 100-199 镇, 200-399 乡 (3 digits)"
    )


def community_kind(segment: str, code: str = "") -> str:
    """居委会 (001-199) or 村委会 (200-399) for a 3-digit community segment; else CodeError."""
    n = int(segment) if len(segment) == 3 and segment.isdigit() else -1
    if 1 <= n <= 199:
        return "居委会"
    if 200 <= n <= 399:
        return "村委会"
    raise _refuse(
        code or segment, "community", segment, "001-199 居委会, 200-399 村委会 (3 digits)"
    )


def _check_county(segment: str, code: str) -> None:
    if len(segment) != 6 or not segment.isdigit():
        raise _refuse(code, "county", segment, "6 digits")
    if int(segment[:2]) not in _PROVINCES:
        raise _refuse(code, "county", segment, "a province code (GB/T 2260) in its first 2 digits")
    if segment.endswith("00"):
        raise _refuse(code, "county", segment, "a county-level code, not ending in 00")


def _check_segments(parsed: ParsedCode) -> None:
    """The rules of the 14- and 15-digit standards, on the segments a code has."""
    code, segs = parsed.code, parsed.segments
    _check_county(segs[0], code)
    if len(segs) > 1:
        street_kind(segs[1], code)
    if len(segs) > 2:
        community_kind(segs[2], code)
    # the grid segment: any digits of its width; 0... means the community is undivided


def _scheme(name: str, grid_width: int) -> LevelScheme:
    return LevelScheme(
        name,
        (
            Level("county", "区县", 6),
            Level("street", "街道/乡镇", 3),
            Level("community", "社区/村", 3),
            Level("grid", "网格", grid_width),
        ),
        kind="digits",
        check=_check_segments,
    )


GRID14 = _scheme("grid14", 2)
"""County (6) > street (3) > community (3) > grid (2): the 14-digit grid code, rules checked."""
GRID15 = _scheme("grid15", 3)
"""As GRID14 with a 3-digit grid number (15 digits)."""
GRID_SCHEMES = {s.name: s for s in (GRID14, GRID15)}
"""The grid code standards by name (files name their scheme)."""


def check_grid_code(code: str) -> ParsedCode:
    """Parse a full 14- or 15-digit grid code and check every rule; CodeError naming the rule."""
    if not isinstance(code, str) or not code.isdigit() or len(code) not in (14, 15):
        raise CodeError(
            f"grid code {code!r}: expected 14 digits (6 county + 3 street + 3 community + "
            "2 grid) or 15 (a 3-digit grid number)"
        )
    return (GRID14 if len(code) == 14 else GRID15).parse(code)


@attrs.frozen
class ObjectCode:
    """A CJ/T 349-2010 object code: 6-digit object type + the 14-digit code of its grid."""

    object_type: str
    grid: AreaCode

    def __attrs_post_init__(self) -> None:
        t = self.object_type
        if len(t) != 6 or not t.isdigit() or t == "000000":
            raise CodeError(
                f"object code: type {t!r} breaks the rule: 6 digits, not all zeros (CJ/T 349-2010)"
            )
        if len(self.grid) != 14:
            raise CodeError(
                f"object code: grid {self.grid!r} breaks the rule: a 14-digit grid code"
            )
        check_grid_code(self.grid)

    @classmethod
    def parse(cls, code: str) -> ObjectCode:
        """Split a 20-digit code into its type and grid, checking both."""
        if not isinstance(code, str) or len(code) != 20 or not code.isdigit():
            raise CodeError(
                f"object code {code!r}: expected 20 digits (6 object type + 14 grid code)"
            )
        return cls(code[:6], AreaCode(code[6:]))

    def __str__(self) -> str:
        return f"{self.object_type}{self.grid}"

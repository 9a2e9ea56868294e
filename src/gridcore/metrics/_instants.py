"""Instants as int64 microseconds UTC, in bulk: the hot input path of `EventTable`.

Two fast paths, each held equal to the plain definition by tests
(tests/property/test_metrics_properties.py, tests/unit/test_metrics.py):

- `_parse_instants` decodes ISO 8601 texts shaped like `datetime.isoformat()` output
  with array arithmetic (one matrix product per text length); any other text goes
  through `datetime.fromisoformat`, which also names a malformed value.
- `_instants_us` converts aware datetimes exactly: wall-clock fields read in bulk and
  the zone's UTC offset looked up once per distinct local hour (remembered across
  calls for the standard library's zones), per instant only in hours with a
  transition or a fold.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import numpy.typing as npt

from gridcore._time import DAY_US, ONE_US, US_PER_S, epoch_us
from gridcore.metrics._columns import (
    BoolArray,
    FloatArray,
    IntArray,
    MetricsError,
    _Codes,
    _codes_of,
)

_TZ = operator.attrgetter("tzinfo")


def _instant_us(value: object, what: str) -> int:
    """An aware datetime or ISO 8601 string as int64 microseconds UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise MetricsError(f"{what}: {value!r} is not an ISO 8601 instant") from None
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise MetricsError(f"{what}: {value!r} is not a timezone-aware instant")
    return epoch_us(value)


def _parse_instants(values: list[Any], where: Callable[[int], str]) -> IntArray:
    """ISO 8601 instants (or aware datetimes) as int64 µs UTC; bulk-parsed when regular.

    Strings shaped like `datetime.isoformat()` output ("YYYY-MM-DDTHH:MM:SS[.ffffff]" then
    "+HH:MM", "-HH:MM" or "Z") are decoded with array arithmetic; anything else goes
    through `datetime.fromisoformat`, which also reports a malformed value.
    """
    n = len(values)
    out = np.zeros(n, np.int64)
    if not n:
        return out
    if set(map(type, values)) != {str}:
        for i, value in enumerate(values):
            out[i] = _instant_us(value, where(i))
        return out
    # Deadlines repeat (cases dispatched together share one): parse each distinct text
    # once, then spread. The first bad text is found at its first row, so an error names
    # the same row as a row-by-row parse would.
    index = {text: k for k, text in enumerate(dict.fromkeys(values))}
    texts = list(index)
    parsed = _parse_texts(texts, lambda k: where(values.index(texts[k])))
    spread: IntArray = parsed[np.fromiter(map(index.__getitem__, values), np.int64, n)]
    return spread


def _parse_texts(texts: list[str], where: Callable[[int], str]) -> IntArray:
    """`_parse_instants` for strings."""
    n = len(texts)
    out = np.zeros(n, np.int64)
    done = np.zeros(n, np.bool_)
    lengths = np.fromiter(map(len, texts), np.int64, n)
    for length, layout in _ISO_LAYOUTS.items():
        rows = np.flatnonzero(lengths == length)
        if rows.size:
            arr = np.array([texts[i] for i in rows.tolist()], dtype=f"<U{length}")
            us, ok = _parse_iso_block(arr.view(np.uint32).reshape(-1, length), layout)
            out[rows[ok]] = us[ok]
            done[rows[ok]] = True
    for i in np.flatnonzero(~done).tolist():
        out[i] = _instant_us(texts[i], where(i))
    return out


@attrs.frozen(eq=False)
class _IsoLayout:
    """Where the parts of an `isoformat()` text of one length are.

    `weights` turns the digit columns into the fields year, month, day, hour, minute,
    second, microsecond, offset hours, offset minutes with one matrix product.
    """

    tail: int  # index of "Z", "+" or "-"
    zulu: bool
    digits: IntArray
    sep_at: IntArray
    sep_char: npt.NDArray[np.uint32]
    weights: FloatArray


def _iso_layout(length: int) -> _IsoLayout:
    frac = length in (27, 32)
    tail = 26 if frac else 19
    zulu = length in (20, 27)
    fields = [(0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19)]
    fields.append((20, 26) if frac else (0, 0))
    fields += [(0, 0), (0, 0)] if zulu else [(tail + 1, tail + 3), (tail + 4, tail + 6)]
    digits = sorted({k for a, b in fields for k in range(a, b)})
    weights = np.zeros((len(digits), len(fields)), np.float64)
    for f, (a, b) in enumerate(fields):
        for k in range(a, b):
            weights[digits.index(k), f] = 10 ** (b - 1 - k)
    seps = {4: "-", 7: "-", 10: "T", 13: ":", 16: ":"}
    if frac:
        seps[19] = "."
    if not zulu:
        seps[tail + 3] = ":"
    return _IsoLayout(
        tail=tail,
        zulu=zulu,
        digits=np.array(digits, np.int64),
        sep_at=np.array(list(seps), np.int64),
        sep_char=np.array([ord(ch) for ch in seps.values()], np.uint32),
        weights=weights,
    )


_ISO_LAYOUTS = {length: _iso_layout(length) for length in (20, 25, 27, 32)}


def _parse_iso_block(c: npt.NDArray[np.uint32], layout: _IsoLayout) -> tuple[IntArray, BoolArray]:
    """Decode rows of code points laid out as `isoformat()` output of one length."""
    d = c[:, layout.digits].astype(np.int64) - 48  # '0' -> 0
    ok = np.all((d >= 0) & (d <= 9), axis=1)
    ok &= np.all(c[:, layout.sep_at] == layout.sep_char, axis=1)
    # A float64 product is exact here (every sum is an integer far below 2**53) and, unlike
    # an int64 one, runs in BLAS: several times faster.
    fields = (d.astype(np.float64) @ layout.weights).astype(np.int64)
    year, month, day, hour, minute, second, micro, off_h, off_m = fields.T
    ok &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31)
    ok &= (hour <= 23) & (minute <= 59) & (second <= 59)
    mark = c[:, layout.tail]
    if layout.zulu:
        ok &= mark == ord("Z")
        offset = 0
    else:
        ok &= (mark == ord("+")) | (mark == ord("-"))
        offset = np.where(mark == ord("-"), -1, 1) * (off_h * 60 + off_m) * 60
    # days from the civil date (proleptic Gregorian), vectorised
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    mp = (month + 9) % 12
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    ok &= day <= _month_length(year, month)
    seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
    us: IntArray = seconds * US_PER_S + micro
    return us, ok


def _month_length(year: IntArray, month: IntArray) -> IntArray:
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    lengths = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], np.int64)
    out: IntArray = lengths[np.clip(month, 1, 12) - 1] + ((month == 2) & leap)
    return out


def _instants_us(ats: list[datetime]) -> IntArray:
    """Aware datetimes as int64 microseconds UTC, exactly.

    `datetime.timestamp` asks the zone for every instant (slow for `zoneinfo`); when all
    share one zone, the wall-clock fields are read in bulk and the UTC offset is looked up
    once per distinct local hour (per instant only in hours where the offset changes).
    """
    n = len(ats)
    if not all(isinstance(a, datetime) for a in ats[:1]):
        raise MetricsError(f"event field 'at' = {ats[0]!r}: expected a datetime.datetime")
    zones = set(map(_TZ, ats))
    if None in zones:
        raise MetricsError("event field 'at': expected timezone-aware instants, got a naive one")
    if len(zones) == 1:
        return _one_zone_us(ats, next(iter(zones)))
    # Not through float `timestamp()`: past 2^32 s (2106) a float no longer resolves a
    # microsecond, so rounding it was off by one there. Exact integers per zone instead.
    if len(zones) > _MAX_ZONE_GROUPS:
        try:
            return np.fromiter(map(epoch_us, ats), np.int64, n)
        except TypeError:
            raise MetricsError("event field 'at': expected datetime.datetime values") from None
    zone_codes = _Codes()
    zone_of = _codes_of(zone_codes, map(_TZ, ats), n)
    out = np.empty(n, np.int64)
    for k, tz in enumerate(zone_codes.names()):
        rows = np.flatnonzero(zone_of == k)
        out[rows] = _one_zone_us([ats[i] for i in rows.tolist()], tz)
    return out


_MAX_ZONE_GROUPS = 64


def _one_zone_us(ats: list[datetime], tz: tzinfo) -> IntArray:
    """`_instants_us` for instants that all carry the zone `tz`."""
    n = len(ats)
    try:
        day = np.fromiter(map(datetime.toordinal, ats), np.int64, n) - _ORDINAL_1970
    except TypeError:
        raise MetricsError("event field 'at': expected datetime.datetime values") from None
    sec = np.fromiter(map(_HOUR, ats), np.int64, n) * 3600
    sec += np.fromiter(map(_MINUTE, ats), np.int64, n) * 60
    sec += np.fromiter(map(_SECOND, ats), np.int64, n)
    local = (day * 86_400 + sec) * US_PER_S + np.fromiter(map(_MICRO, ats), np.int64, n)
    hour = local // (3600 * US_PER_S)
    lo = int(hour.min())
    span = int(hour.max()) - lo + 1
    if span <= 4 * n + 1024:
        # Hours are dense in a real log: a bincount finds the distinct ones without a sort.
        hours = np.flatnonzero(np.bincount(hour - lo, minlength=span)) + lo
        slot = np.full(span, -1, np.int64)
        slot[hours - lo] = np.arange(hours.size)
        inv = slot[hour - lo]
    else:
        hours, inv = np.unique(hour, return_inverse=True)
        inv = inv.reshape(-1)
    per_hour = _hour_offsets(tz, hours.tolist())
    regular = np.fromiter((v is not None for v in per_hour), np.bool_, len(per_hour))
    offsets = np.fromiter((v or 0 for v in per_hour), np.int64, len(per_hour))
    out: IntArray = local - offsets[inv]
    # An hour with a transition or an ambiguous fold: ask the zone for each instant there.
    for i in np.flatnonzero(~regular[inv]).tolist():
        out[i] = epoch_us(ats[i])
    return out


# Zones whose offsets never change for a given wall-clock hour (the standard library's):
# their per-hour offsets are remembered across calls, since every chunk of a streamed log
# asks for mostly the same hours again.
_CACHED_ZONES = (ZoneInfo, timezone)
_zone_hours: dict[tzinfo, dict[int, int | None]] = {}
_MAX_ZONES = 64
_MAX_HOURS = 1_000_000  # about 114 years of hours per zone
_UNSET = object()


def _hour_offsets(tz: tzinfo, hours: list[int]) -> list[int | None]:
    """The UTC offset (µs) of each local wall-clock hour (hours since 1970-01-01 00:00
    local), or None for an hour with a transition or an ambiguous fold in it."""
    cache: dict[int, int | None] | None = None
    if type(tz) in _CACHED_ZONES:
        cache = _zone_hours.get(tz)
        if cache is None or len(cache) > _MAX_HOURS:
            if len(_zone_hours) >= _MAX_ZONES:
                _zone_hours.clear()
            cache = _zone_hours[tz] = {}
    out: list[int | None] = []
    for h in hours:
        v = _UNSET if cache is None else cache.get(h, _UNSET)
        if v is _UNSET:
            v = _hour_offset(tz, h)
            if cache is not None:
                cache[h] = v
        out.append(v)  # type: ignore[arg-type]
    return out


def _hour_offset(tz: tzinfo, h: int) -> int | None:
    """`_hour_offsets` for one hour, asking the zone at both ends of it, both folds."""
    start = datetime(1970, 1, 1, tzinfo=tz) + timedelta(hours=h)
    end = start + timedelta(microseconds=3600 * US_PER_S - 1)
    offs = {
        (t.utcoffset() or timedelta(0)) // ONE_US
        for t in (start, start.replace(fold=1), end, end.replace(fold=1))
    }
    return offs.pop() if len(offs) == 1 else None


_HOUR = operator.attrgetter("hour")
_MINUTE = operator.attrgetter("minute")
_SECOND = operator.attrgetter("second")
_MICRO = operator.attrgetter("microsecond")
_ORDINAL_1970 = date(1970, 1, 1).toordinal()


def _local_days(us: IntArray, tz: tzinfo) -> IntArray:
    """Local calendar day numbers (days since 1970-01-01) of UTC microsecond instants."""
    hours, inv = np.unique(us // (3600 * US_PER_S), return_inverse=True)
    # UTC offsets change on whole hours in practice, so one lookup per distinct hour is exact.
    offsets = np.array(
        [
            (tz.utcoffset(datetime.fromtimestamp(h * 3600, UTC)) or timedelta(0)) // ONE_US
            for h in hours.tolist()
        ],
        np.int64,
    )
    return (us + offsets[inv.reshape(-1)]) // DAY_US

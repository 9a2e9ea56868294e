"""Warning lights (green, yellow, red): how much of a time limit is used.

`YELLOW_AT` (0.8) and `RED_AT` (1.0) are the shares every caller uses by default; the
simulation and the escalation rules take them from here rather than writing 0.8.
"""

from __future__ import annotations

import functools
import math
from datetime import timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Final

from gridcore._time import ONE_US
from gridcore.errors import ConfigError

__all__ = ["RED_AT", "YELLOW_AT", "WarningLight", "warning_light", "warning_light_us"]

YELLOW_AT: Final = 0.8
"""The share of a limit from which the light is yellow (80%)."""

RED_AT: Final = 1.0
"""The share of a limit past which the light is red (past 100%)."""


class WarningLight(StrEnum):
    """A case's timeliness light: green, yellow (near the limit), red (past it)."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


_ZERO = timedelta(0)


@functools.lru_cache(maxsize=64)
def _thresholds(yellow_at: float, red_at: float) -> tuple[tuple[int, int], tuple[int, int]]:
    """The thresholds as exact fractions of their written decimals, checked once per pair."""
    if not (math.isfinite(yellow_at) and math.isfinite(red_at) and 0 < yellow_at < red_at):
        raise ConfigError(
            f"warning thresholds yellow_at={yellow_at!r}, red_at={red_at!r}: "
            "expected finite numbers with 0 < yellow_at < red_at"
        )
    y, r = Fraction(repr(yellow_at)), Fraction(repr(red_at))
    return (y.numerator, y.denominator), (r.numerator, r.denominator)


def warning_light(
    used: timedelta,
    limit: timedelta,
    yellow_at: float = YELLOW_AT,
    red_at: float = RED_AT,
) -> WarningLight:
    """The light for `used` of `limit`: green below `yellow_at`, yellow from it, red past `red_at`.

    Exactly at `red_at` is still yellow ("red past 100%").

    >>> warning_light(timedelta(hours=4), timedelta(hours=5)).value
    'yellow'
    """
    _thresholds(yellow_at, red_at)  # checked first, as ever
    if limit <= _ZERO:
        raise ConfigError(f"warning field 'limit' = {limit}: expected a positive duration")
    if used < _ZERO:
        raise ConfigError(f"warning field 'used' = {used}: expected a non-negative duration")
    return warning_light_us(used // ONE_US, limit // ONE_US, yellow_at, red_at)


def warning_light_us(
    used_us: int,
    limit_us: int,
    yellow_at: float = YELLOW_AT,
    red_at: float = RED_AT,
) -> WarningLight:
    """`warning_light` on whole microseconds (ints): the same light, no timedelta made.

    >>> warning_light_us(4 * 3_600_000_000, 5 * 3_600_000_000).value
    'yellow'
    """
    (yn, yd), (rn, rd) = _thresholds(yellow_at, red_at)
    if limit_us <= 0:
        raise ConfigError(f"warning field 'limit_us' = {limit_us}: expected a positive duration")
    if used_us < 0:
        raise ConfigError(f"warning field 'used_us' = {used_us}: expected a non-negative duration")
    # Exact integer comparison against the thresholds as written (0.8 means 4/5, not the
    # binary float just above it), so 4 h of 5 h is yellow.
    if used_us * rd > limit_us * rn:
        return WarningLight.RED
    if used_us * yd >= limit_us * yn:
        return WarningLight.YELLOW
    return WarningLight.GREEN

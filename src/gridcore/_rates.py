"""Rates: a count over a count, with an explicit value when there is nothing to count.

The one home of the division that every report makes (metrics, duties); the simulation's
scalar copy in `gridcore.sim.model` is left to its own restructuring.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["ratio", "ratios"]


def ratio(num: float, den: float, empty: float = math.nan) -> float:
    """`num / den`, or `empty` (NaN unless given) when `den` is zero.

    >>> ratio(3, 4), ratio(0, 0, empty=1.0)
    (0.75, 1.0)
    """
    return num / den if den else empty


def ratios(num: npt.NDArray[Any], den: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """Element-wise `num / den`, NaN where `den` is not positive (never a warning)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        out: npt.NDArray[np.float64] = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    return out

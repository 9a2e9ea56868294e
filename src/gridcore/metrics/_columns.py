"""Column plumbing shared by the metrics modules: array types, codes, per-case picks.

Values in a column are stored as int64 codes into a tuple of names (-1: none), built
in order of first sight; time columns are int64 microseconds UTC with `NO_TIME` for
"never". Nothing here knows what a case is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from gridcore.errors import GridcoreError, UnknownItemError

IntArray: TypeAlias = npt.NDArray[np.int64]
FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
ObjArray: TypeAlias = npt.NDArray[np.object_]
AncestorMap: TypeAlias = Mapping[str, str] | Callable[[str], str]

NO_TIME = int(np.iinfo(np.int64).min)
"""The int64 microsecond value that stands for "no such instant" in time columns."""

LEVELS: tuple[str, ...] = ("grid", "community", "street", "district", "city", "department")
"""Owner levels written in the "level" payload, lowest first (the order of the share columns)."""


class MetricsError(GridcoreError, ValueError):
    """An event log or a metrics request that cannot be evaluated as asked."""


class _Codes(dict[Any, int]):
    """Factorises values to consecutive ints in order of first sight."""

    def __missing__(self, key: Any) -> int:
        code = len(self)
        self[key] = code
        return code

    def names(self) -> tuple[Any, ...]:
        return tuple(self)


def _codes_of(codes: _Codes, values: Iterable[Any], n: int) -> IntArray:
    # map(dict.__getitem__) runs in C; only unseen values reach __missing__.
    return np.fromiter(map(codes.__getitem__, values), np.int64, n)


def _factorize(values: list[Any], known: Sequence[str] = ()) -> tuple[IntArray, tuple[str, ...]]:
    """Codes of values (as str) in order of first sight after `known`; None gives -1."""
    raw_codes = _Codes()
    raw = _codes_of(raw_codes, values, len(values))
    out = _Codes()
    for name in known:
        out[name]  # fixes the order of the known names
    lut = np.array([-1 if v is None else out[str(v)] for v in raw_codes.names()] + [-1], np.int64)
    return lut[raw], tuple(out.names())


def _map_codes(
    codes: IntArray,
    names: tuple[str, ...],
    mapping: AncestorMap,
    kind: str,
    where: str,
) -> tuple[IntArray, tuple[str, ...]]:
    """Map coded names through `mapping` (a dict or function), applied to distinct names only."""
    fn: Callable[[str], str]
    if callable(mapping):
        fn = mapping
    else:
        table = mapping

        def fn(name: str) -> str:
            try:
                return table[name]
            except KeyError:
                raise UnknownItemError(kind, name, where) from None

    out_codes = _Codes()
    lut = np.array([out_codes[str(fn(name))] for name in names] + [-1], np.int64)
    # codes of -1 (no value) index the trailing -1 of the lookup table.
    return lut[codes], tuple(out_codes.names())


def _first_per_case(case: IntArray, mask: BoolArray, n_cases: int) -> IntArray:
    """Index of the first event per case where `mask` holds (events sorted by case), or -1."""
    out = np.full(n_cases, -1, np.int64)
    idx = np.flatnonzero(mask)
    if idx.size:
        c = case[idx]
        keep = np.empty(idx.size, np.bool_)
        keep[0] = True
        np.not_equal(c[1:], c[:-1], out=keep[1:])
        out[c[keep]] = idx[keep]
    return out


def _last_per_case(case: IntArray, mask: BoolArray, n_cases: int) -> IntArray:
    """Index of the last event per case where `mask` holds (events sorted by case), or -1."""
    out = np.full(n_cases, -1, np.int64)
    idx = np.flatnonzero(mask)
    if idx.size:
        c = case[idx]
        keep = np.empty(idx.size, np.bool_)
        keep[-1] = True
        np.not_equal(c[:-1], c[1:], out=keep[:-1])
        out[c[keep]] = idx[keep]
    return out


def _take(values: IntArray, idx: IntArray, missing: int) -> IntArray:
    """`values[idx]` with `missing` where `idx` is -1."""
    out = np.full(idx.shape, missing, np.int64)
    ok = idx >= 0
    out[ok] = values[idx[ok]]
    return out


def _isin_names(codes: IntArray, vocab: Sequence[Any], names: Iterable[str]) -> BoolArray:
    """Where `codes` (indices into `vocab`, -1 for none) name one of `names`."""
    wanted_names = set(names)
    wanted = [i for i, v in enumerate(vocab) if v in wanted_names]
    out: BoolArray
    if codes.size and (int(codes.min()) < -1 or int(codes.max()) >= len(vocab)):
        out = np.isin(codes, np.asarray(wanted, np.int64))
        return out
    # A lookup table indexed by code (its extra last slot, False, is what -1 reads) is
    # several times faster than np.isin on a few codes.
    lut = np.zeros(len(vocab) + 1, np.bool_)
    lut[wanted] = True
    out = lut[codes]
    return out


def _code(vocab: Sequence[Any], name: str) -> int:
    """The code of `name` in `vocab`, or -2 (matches nothing) when absent."""
    for i, v in enumerate(vocab):
        if v == name:
            return i
    return -2

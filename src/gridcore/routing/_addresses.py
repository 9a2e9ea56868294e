"""Address or building id -> grid, single and batched, from a table the caller gives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gridcore.errors import RoutingError, UnknownItemError
from gridcore.ids import AreaCode

__all__ = ["AddressTable"]


class AddressTable:
    """An immutable table from address (or building) ids to grid positions.

    Ids are strings or integers (one kind per table). Built from a mapping
    ``{id: grid code}`` or from two equal-length sequences, and checked against
    the grid codes of one hierarchy version.
    """

    __slots__ = ("_codes", "_dict", "_grid_of_key", "_keys")

    def __init__(
        self,
        grid_codes: Sequence[AreaCode],
        table: Mapping[Any, str] | tuple[Sequence[Any], Sequence[str]],
    ) -> None:
        if isinstance(table, Mapping):
            ids, codes = list(table.keys()), list(table.values())
        else:
            ids, codes = list(table[0]), list(table[1])
            if len(ids) != len(codes):
                raise RoutingError(
                    f"address table: {len(ids)} ids and {len(codes)} grid codes, "
                    "expected equal lengths"
                )
        pos_of: dict[str, int] = {str(c): i for i, c in enumerate(grid_codes)}
        grid_pos = np.empty(len(codes), dtype=np.int32)
        for i, (a, c) in enumerate(zip(ids, codes, strict=True)):
            p = pos_of.get(c)
            if p is None:
                raise UnknownItemError("grid", c, f"address table row {i} (id {a!r})")
            grid_pos[i] = p
        dct: dict[Any, int] = {}
        for i, a in enumerate(ids):
            if a in dct:
                raise RoutingError(f"address table: id {a!r} appears twice (rows {dct[a]}, {i})")
            dct[a] = i
        keys = np.asarray(ids) if ids else np.zeros(0, dtype=np.int64)
        order = np.argsort(keys, kind="stable")
        self._keys = keys[order]
        self._grid_of_key = grid_pos[order]
        self._dict = {a: int(grid_pos[i]) for a, i in dct.items()}
        self._codes = tuple(grid_codes)

    def __len__(self) -> int:
        return len(self._dict)

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def position(self, key: Any) -> int:
        """The grid position of an address id; UnknownItemError naming the id if absent."""
        try:
            return self._dict[key]
        except (KeyError, TypeError):
            raise UnknownItemError("address", key, "address table") from None

    def grid(self, key: Any) -> AreaCode:
        """The grid code of an address id; UnknownItemError naming the id if absent."""
        return self._codes[self.position(key)]

    def positions(self, keys: Any) -> tuple[NDArray[np.int32], NDArray[np.bool_]]:
        """Grid positions of many ids (-1 where unknown) and the mask of unknown ids."""
        q = np.asarray(keys)
        if q.ndim != 1:
            raise RoutingError(f"address ids: expected a 1-d array, got shape {q.shape}")
        n = len(self._keys)
        if n == 0 or len(q) == 0:
            return np.full(len(q), -1, dtype=np.int32), np.ones(len(q), dtype=np.bool_)
        if q.dtype.kind != self._keys.dtype.kind and not (
            q.dtype.kind in "iu" and self._keys.dtype.kind in "iu"
        ):
            unknown = np.ones(len(q), dtype=np.bool_)
            return np.full(len(q), -1, dtype=np.int32), unknown
        at = np.searchsorted(self._keys, q)
        at_c = np.minimum(at, n - 1)
        known = self._keys[at_c] == q
        out = np.where(known, self._grid_of_key[at_c], -1).astype(np.int32)
        return out, ~known

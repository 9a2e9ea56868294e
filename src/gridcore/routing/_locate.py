"""Point -> grid: a uniform bucket grid with an exact half-open crossing test.

The boundary rule (used by the index and by `brute_force_locate` alike):
a grid holds a point when a ray from the point towards +x crosses the grid's
boundary an odd number of times, where an edge is oriented from its lower to
its upper end point, counts only for ``a.y <= y < b.y`` (half-open in y) and
only when the point lies strictly left of it:
``(x - a.x) * (b.y - a.y) < (y - a.y) * (b.x - a.x)``. Horizontal edges never
count. Equivalently, a point on a boundary belongs to the grid that holds the
point moved an infinitesimal step right and a much smaller step up: a point on
a shared edge goes to the grid on its right (or above, for a horizontal edge),
a shared vertex to the grid holding the wedge just right of and above it. In a
tiling this gives every point of the territory to exactly one grid, including
T-junctions on axis-aligned borders. Points that the rule leaves outside (the
territory's right and top border among them) are handed to a `miss` function
when one is given: `gridcore.routing._snap` gives border points to their grid
and snaps points near the territory. If polygons overlap (not a tiling), the
grid with the lowest position wins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from gridcore.errors import CoordinateError, RoutingError

__all__ = ["BucketGrid", "brute_force_locate", "polygon_edges"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
I32Array = NDArray[np.int32]
BoolArray = NDArray[np.bool_]

_CHUNK_PAIRS = 100_000
_CHUNK_POINTS = 262_144


def polygon_edges(polygons: Sequence[Any] | NDArray[np.object_]) -> tuple[IntArray, FloatArray]:
    """Every ring edge of the polygons: (owner position, [ax, ay, bx, by]) with ay <= by.

    Zero-length edges are dropped; edges are oriented from the lower end point
    to the upper one so that two grids sharing an edge compute the same numbers.
    """
    polys = np.asarray(polygons, dtype=object)
    missing = [i for i, p in enumerate(polys) if p is None]
    if missing:
        raise RoutingError(f"grid at position {missing[0]} has no polygon: a polygon is required")
    parts, part_owner = shapely.get_parts(polys, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    same = coord_ring[1:] == coord_ring[:-1]
    a = coords[:-1][same]
    b = coords[1:][same]
    owner = part_owner[ring_part[coord_ring[:-1][same]]].astype(np.int64)
    keep = (a[:, 0] != b[:, 0]) | (a[:, 1] != b[:, 1])
    a, b, owner = a[keep], b[keep], owner[keep]
    swap = a[:, 1] > b[:, 1]
    lo = np.where(swap[:, None], b, a)
    hi = np.where(swap[:, None], a, b)
    return owner, np.ascontiguousarray(np.column_stack([lo, hi]), dtype=np.float64)


def _as_coordinates(values: Any, name: str) -> FloatArray:
    """A float64 array of `values`; CoordinateError for booleans, strings or other objects."""
    a = np.asarray(values)
    if a.dtype.kind not in "fiu":
        first = a.ravel()[0] if a.size else None
        raise CoordinateError(
            f"coordinates {name}: {a.dtype} values (first {first!r}), expected numbers "
            "(booleans and strings are not coordinates)"
        )
    return a.astype(np.float64, copy=False)


def _check_xy(xs: Any, ys: Any) -> tuple[FloatArray, FloatArray]:
    x = _as_coordinates(xs, "xs")
    y = _as_coordinates(ys, "ys")
    if x.ndim != 1 or y.ndim != 1:
        raise CoordinateError(
            f"coordinates: expected two 1-d arrays, got shapes {x.shape} and {y.shape}"
        )
    if len(x) != len(y):
        raise CoordinateError(
            f"coordinates: xs has {len(x)} values and ys has {len(y)}: expected equal lengths"
        )
    return x, y


def _bad_rows(x: FloatArray, y: FloatArray) -> BoolArray:
    return ~(np.isfinite(x) & np.isfinite(y))


def raise_first_bad(x: FloatArray, y: FloatArray, bad: BoolArray) -> None:
    """Raise CoordinateError naming the first row whose coordinates are not finite."""
    i = int(np.flatnonzero(bad)[0])
    raise CoordinateError(
        f"coordinates row {i}: ({x[i]!r}, {y[i]!r}) is not a finite point "
        f"({int(bad.sum())} bad rows; use locate_many_masked for a per-row error mask)"
    )


def _sorted_unique(a: IntArray) -> IntArray:
    """Sorted distinct values (a sort and a mask: faster here than numpy's hash unique)."""
    s = np.sort(a)
    if len(s) == 0:
        return s
    keep = np.empty(len(s), dtype=np.bool_)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def _ragged(starts: IntArray, counts: IntArray) -> tuple[IntArray, IntArray]:
    """For groups (start, count): the group of every element and the element indexes."""
    total = int(counts.sum())
    group = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    offs = np.cumsum(counts) - counts
    idx = np.arange(total, dtype=np.int64) - np.repeat(offs - starts, counts)
    return group, idx


def _crosses(
    px: FloatArray,
    py: FloatArray,
    ax: FloatArray,
    ay: FloatArray,
    by: FloatArray,
    dx: FloatArray,
    dy: FloatArray,
) -> BoolArray:
    """The half-open crossing test of the module docstring, elementwise."""
    result: BoolArray = (ay <= py) & (py < by) & ((px - ax) * dy < (py - ay) * dx)
    return result


class BucketGrid:
    """The flat arrays of the point -> grid index, and the two ways to query them.

    Cells of a uniform bucket grid hold a grid position (the bucket lies inside
    that grid), -1 (outside every grid) or ``-2 - m`` for mixed bucket `m`. A
    mixed bucket lists its candidate grids (CSR ``pair_ptr``/``pair_grid``), a
    bit mask of the candidates whose boundary the ray from any point of the
    bucket always crosses an odd number of times (``base_bits``), and the few
    edges whose crossing can vary inside the bucket, each with the number of
    the candidate it belongs to (CSR ``ent_ptr``/``ent_edge``/``ent_bit``). A
    point's candidate mask is ``base_bits`` toggled by every edge it crosses;
    the lowest set bit names its grid. Buckets with more than 62 candidates
    (``base_bits == -1``) are answered by the scalar path, which uses Python
    integers of any width.
    """

    __slots__ = (
        "_single",
        "base_bits",
        "cell",
        "edata",
        "ent_bit",
        "ent_edge",
        "ent_ptr",
        "h",
        "n_grids",
        "nx",
        "ny",
        "origin",
        "pad",
        "pair_base",
        "pair_grid",
        "pair_ptr",
    )

    def __init__(
        self, polygons: Sequence[Any] | NDArray[np.object_], buckets_per_grid: float = 64.0
    ) -> None:
        n = len(polygons)
        if n == 0:
            raise RoutingError("a routing index needs at least one grid")
        if not buckets_per_grid > 0:
            raise RoutingError(f"buckets_per_grid = {buckets_per_grid}: expected > 0")
        owner, edges = polygon_edges(polygons)
        self.n_grids = n
        x_lo = float(min(edges[:, 0].min(), edges[:, 2].min()))
        x_hi = float(max(edges[:, 0].max(), edges[:, 2].max()))
        y_lo = float(edges[:, 1].min())
        y_hi = float(edges[:, 3].max())
        span_x, span_y = max(x_hi - x_lo, 1e-9), max(y_hi - y_lo, 1e-9)
        h = min(math.sqrt(span_x * span_y / (buckets_per_grid * n)), span_x, span_y)
        # one empty bucket of margin on each side absorbs rounding at the territory's edge
        nx = math.ceil(span_x / h) + 2
        ny = math.ceil(span_y / h) + 2
        if nx * ny > 2**31 - 1:
            raise RoutingError(f"{nx} x {ny} buckets: too many, lower buckets_per_grid")
        ox, oy = x_lo - h, y_lo - h
        self.h, self.nx, self.ny, self.origin = h, nx, ny, (ox, oy)
        scale = max(abs(x_lo), abs(x_hi), abs(y_lo), abs(y_hi), h)
        # widen every bucket a little: a point whose computed bucket is off by rounding
        # still finds every edge that can matter to it
        pad = 1e-6 * h + 64 * float(np.finfo(np.float64).eps) * scale
        self.pad = pad
        """No edge passes within `pad` of a bucket whose cell is -1 (outside, not mixed)."""
        inv = 1.0 / h

        cell = self._fill_centres(owner, edges)
        mixed_buckets, pair_bucket, pair_grid = self._rasterise(owner, edges, pad, inv, n)
        cell[mixed_buckets] = -2 - np.arange(len(mixed_buckets), dtype=np.int32)
        self.cell = cell
        pair_ptr = np.searchsorted(pair_bucket, mixed_buckets, side="left")
        self.pair_ptr = np.append(pair_ptr, len(pair_bucket)).astype(np.int64)
        self.pair_grid = pair_grid.astype(np.int32)
        # free the wide temporaries before the most memory-hungry step (bucket ids fit
        # in int32: nx * ny was checked above)
        bucket32 = pair_bucket.astype(np.int32)
        del pair_ptr, pair_grid, mixed_buckets, pair_bucket
        nonflat = edges[:, 1] < edges[:, 3]
        e = edges[nonflat]
        # ax, ay, by, dx, dy: what the crossing test reads, one row per edge
        self.edata = np.ascontiguousarray(
            np.column_stack([e[:, 0], e[:, 1], e[:, 3], e[:, 2] - e[:, 0], e[:, 3] - e[:, 1]])
        )
        self._local_edges(e, owner[nonflat], bucket32, pad, inv)
        self._single: Any = None

    # -- build --------------------------------------------------------------------
    def _fill_centres(self, owner: IntArray, edges: FloatArray) -> I32Array:
        """The grid holding each bucket's centre (scanline fill by rows), -1 if none."""
        h, nx, ny = self.h, self.nx, self.ny
        ox, oy = self.origin
        cell = np.full(nx * ny, -1, dtype=np.int32)
        sel = edges[:, 1] < edges[:, 3]
        e, g = edges[sel], owner[sel]
        ax, ay, bx, by = e[:, 0], e[:, 1], e[:, 2], e[:, 3]
        centres = oy + (np.arange(ny) + 0.5) * h
        r0 = np.clip(np.floor((ay - oy) / h - 0.5).astype(np.int64) - 1, 0, ny - 1)
        r1 = np.clip(np.floor((by - oy) / h - 0.5).astype(np.int64) + 1, 0, ny - 1)
        grp, rows = _ragged(r0, r1 - r0 + 1)
        yc = centres[rows]
        hit = (ay[grp] <= yc) & (yc < by[grp])
        grp, rows, yc = grp[hit], rows[hit], yc[hit]
        xs = ax[grp] + (yc - ay[grp]) * (bx[grp] - ax[grp]) / (by[grp] - ay[grp])
        key = g[grp] * ny + rows
        order = np.lexsort((xs, key))
        key, xs = key[order], xs[order]
        # every closed ring crosses a row an even number of times: pair them up
        starts, ends = xs[0::2], xs[1::2]
        span_rows = (key[0::2] % ny).astype(np.int64)
        span_grid = (key[0::2] // ny).astype(np.int32)
        c0 = np.clip(np.ceil((starts - ox) / h - 0.5).astype(np.int64), 0, nx)
        c1 = np.clip(np.ceil((ends - ox) / h - 0.5).astype(np.int64), 0, nx)
        cnt = np.maximum(c1 - c0, 0)
        for s in range(0, len(cnt), 100_000):  # chunks keep the peak memory low
            sl = slice(s, s + 100_000)
            which, cols = _ragged(c0[sl], cnt[sl])
            cols += span_rows[sl][which] * nx
            cell[cols] = span_grid[sl][which]
        return cell

    def _rasterise(
        self, owner: IntArray, edges: FloatArray, pad: float, inv: float, n: int
    ) -> tuple[IntArray, IntArray, IntArray]:
        """Buckets touched by an edge (mixed), and their (bucket, candidate grid) pairs."""
        h, nx, ny = self.h, self.nx, self.ny
        ox, oy = self.origin
        ax, ay, bx, by = edges[:, 0], edges[:, 1], edges[:, 2], edges[:, 3]
        c0 = np.clip(np.floor((np.minimum(ax, bx) - pad - ox) * inv), 0, nx - 1).astype(np.int64)
        c1 = np.clip(np.floor((np.maximum(ax, bx) + pad - ox) * inv), 0, nx - 1).astype(np.int64)
        r0 = np.clip(np.floor((ay - pad - oy) * inv), 0, ny - 1).astype(np.int64)
        r1 = np.clip(np.floor((by + pad - oy) * inv), 0, ny - 1).astype(np.int64)
        ncol = c1 - c0 + 1
        keys: list[IntArray] = []
        step = 20_000
        for s in range(0, len(edges), step):
            sl = slice(s, s + step)
            cnt = ncol[sl] * (r1[sl] - r0[sl] + 1)
            grp, k = _ragged(np.zeros(len(cnt), dtype=np.int64), cnt)
            e = grp + s
            col = c0[e] + k % ncol[e]
            row = r0[e] + k // ncol[e]
            x0 = ox + col * h - pad
            x1 = ox + (col + 1) * h + pad
            y0 = oy + row * h - pad
            y1 = oy + (row + 1) * h + pad
            # keep a bucket unless all four corners lie strictly on one side of the line
            ex, ey = ax[e], ay[e]
            dx, dy = bx[e] - ex, by[e] - ey
            s00 = (x0 - ex) * dy - (y0 - ey) * dx
            s01 = (x0 - ex) * dy - (y1 - ey) * dx
            s10 = (x1 - ex) * dy - (y0 - ey) * dx
            s11 = (x1 - ex) * dy - (y1 - ey) * dx
            lo = np.minimum(np.minimum(s00, s01), np.minimum(s10, s11))
            hi = np.maximum(np.maximum(s00, s01), np.maximum(s10, s11))
            touch = (lo <= 0) & (hi >= 0)
            keys.append(_sorted_unique((row[touch] * nx + col[touch]) * n + owner[e[touch]]))
        pair_key = _sorted_unique(np.concatenate(keys))
        pair_bucket = pair_key // n
        pair_grid = pair_key % n
        return _sorted_unique(pair_bucket), pair_bucket, pair_grid

    def _local_edges(
        self, e: FloatArray, e_grid: IntArray, pair_bucket: I32Array, pad: float, inv: float
    ) -> None:
        """Per candidate: the parity of edges always crossed, and the edges to test."""
        h, nx, ny = self.h, self.nx, self.ny
        ox, oy = self.origin
        ax, ay, bx, by = e[:, 0], e[:, 1], e[:, 2], e[:, 3]
        r0 = np.clip(np.floor((ay - pad - oy) * inv), 0, ny - 1).astype(np.int64)
        r1 = np.clip(np.floor((by + pad - oy) * inv), 0, ny - 1).astype(np.int64)
        eid64, rows = _ragged(r0, r1 - r0 + 1)
        key = e_grid[eid64]
        key *= ny
        key += rows
        del rows
        order = np.argsort(key, kind="stable")
        key = key[order]
        eid = eid64[order].astype(np.int32)
        del eid64, order
        x_min = np.minimum(ax, bx)
        x_max = np.maximum(ax, bx)
        n_pairs = len(pair_bucket)
        n_mixed = len(self.pair_ptr) - 1
        counts = np.diff(self.pair_ptr)
        pair_slot = np.arange(n_pairs, dtype=np.int32)
        pair_slot -= np.repeat(self.pair_ptr[:-1].astype(np.int32), counts)
        base = np.zeros(n_pairs, dtype=np.int8)
        per_bucket = np.zeros(n_mixed, dtype=np.int64)
        edge_parts: list[I32Array] = []
        bit_parts: list[NDArray[np.int16]] = []
        pair_mixed = np.repeat(np.arange(n_mixed, dtype=np.int32), counts)
        for s in range(0, n_pairs, _CHUNK_PAIRS):
            sl = slice(s, min(s + _CHUNK_PAIRS, n_pairs))
            pb = pair_bucket[sl].astype(np.int64)
            prow, pcol = pb // nx, pb % nx
            pkey = self.pair_grid[sl].astype(np.int64) * ny + prow
            lo = np.searchsorted(key, pkey, side="left")
            hi = np.searchsorted(key, pkey, side="right")
            grp, k = _ragged(lo, hi - lo)
            ed = eid[k]
            x0 = ox + pcol[grp] * h - pad
            x1 = ox + (pcol[grp] + 1) * h + pad
            y0 = oy + prow[grp] * h - pad
            y1 = oy + (prow[grp] + 1) * h + pad
            reach = x_max[ed] >= x0  # an edge wholly left of the bucket is never crossed
            always = reach & (ay[ed] < y0) & (by[ed] > y1) & (x_min[ed] > x1)
            local = reach & ~always
            size = sl.stop - sl.start
            base[sl] = (np.bincount(grp[always], minlength=size) & 1).astype(np.int8)
            gl = grp[local] + s
            per_bucket += np.bincount(pair_mixed[gl], minlength=n_mixed)
            edge_parts.append(ed[local].astype(np.int32))
            bit_parts.append(pair_slot[gl].astype(np.int16))
        del key, eid, pair_mixed
        self.pair_base = base
        self.ent_ptr = np.concatenate(([0], np.cumsum(per_bucket))).astype(np.int64)
        self.ent_edge = np.concatenate(edge_parts) if edge_parts else np.zeros(0, np.int32)
        del edge_parts
        self.ent_bit = np.concatenate(bit_parts) if bit_parts else np.zeros(0, np.int16)
        del bit_parts
        wide = counts > 62
        np.minimum(pair_slot, 62, out=pair_slot)
        contrib = np.left_shift(base.astype(np.int64), pair_slot)
        del pair_slot
        bits = np.add.reduceat(contrib, self.pair_ptr[:-1]) if n_pairs else contrib
        bits[wide] = -1
        self.base_bits = bits.astype(np.int64, copy=False)

    # -- queries ------------------------------------------------------------------
    @property
    def nbytes(self) -> int:
        """Bytes held by the index arrays."""
        arrays = (
            self.cell,
            self.pair_ptr,
            self.pair_grid,
            self.pair_base,
            self.base_bits,
            self.ent_ptr,
            self.ent_edge,
            self.ent_bit,
            self.edata,
        )
        return int(sum(a.nbytes for a in arrays))

    def stats(self) -> dict[str, float]:
        """Sizes of the index: buckets, mixed buckets, candidates, edges to test, bytes."""
        return {
            "buckets": float(self.nx * self.ny),
            "mixed_buckets": float(len(self.pair_ptr) - 1),
            "candidates": float(len(self.pair_grid)),
            "edges_to_test": float(len(self.ent_edge)),
            "bucket_size": self.h,
            "bytes": float(self.nbytes),
        }

    def single(self, miss: Any = None) -> Any:
        """A fast function (x, y) -> position (-1 outside; NaN/inf raise) reading plain views.

        With `miss`, a point that no grid holds gets ``miss(x, y)`` instead of -1
        (finite points only): the slow path costs the points inside nothing.
        """
        if miss is not None:
            return self._make_single(None, miss)
        if self._single is None:
            self._single = self._make_single(None, None)
        return self._single

    def single_mapped(self, answers: Sequence[Any], miss: Any = None) -> Any:
        """Like `single`, but returns ``answers[position]`` (``answers[-1]`` outside).

        Saves the caller a function call and a branch: pass the grid codes followed
        by None to get a code or None directly. With `miss`, a point that no grid
        holds gets ``miss(x, y)`` (which returns the answer itself).
        """
        if len(answers) != self.n_grids + 1:
            raise RoutingError(
                f"single_mapped: {len(answers)} answers, expected {self.n_grids + 1} "
                "(one per grid, then the answer for outside)"
            )
        return self._make_single(list(answers), miss)

    def outside_cell(self, x: float, y: float) -> bool:
        """True when (x, y) lies beyond the buckets or in a bucket wholly outside every grid.

        Such a point is farther than `pad` from every edge (and outside every grid).
        """
        fx = (x - self.origin[0]) * (1.0 / self.h)
        fy = (y - self.origin[1]) * (1.0 / self.h)
        if 0.0 <= fx < self.nx and 0.0 <= fy < self.ny:
            return bool(self.cell[int(fy) * self.nx + int(fx)] == -1)
        return True

    def outside_cells(self, x: FloatArray, y: FloatArray) -> BoolArray:
        """`outside_cell` for arrays of finite points (the same arithmetic)."""
        fx = (x - self.origin[0]) * (1.0 / self.h)
        fy = (y - self.origin[1]) * (1.0 / self.h)
        ok = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)
        b = np.where(ok, fy, 0).astype(np.int64) * self.nx + np.where(ok, fx, 0).astype(np.int64)
        out: BoolArray = ~ok | (self.cell[b] == -1)
        return out

    def _make_single(self, answers: list[Any] | None, miss: Any) -> Any:
        ox, oy = self.origin
        inv = 1.0 / self.h
        nx = self.nx
        nxf, nyf = float(self.nx), float(self.ny)
        cell = self.cell.data
        pair_ptr = self.pair_ptr.data
        pair_grid = self.pair_grid.data
        pair_base = self.pair_base.data
        base_bits = self.base_bits.data
        ent_ptr = self.ent_ptr.data
        ent_edge = self.ent_edge.data
        ent_bit = self.ent_bit.data
        cols = [np.ascontiguousarray(self.edata[:, i]).data for i in range(5)]
        eax, eay, eby, edx, edy = cols
        isfinite = math.isfinite
        # the identity list when positions are wanted: one list read costs less than a branch
        res: list[Any] = [*range(self.n_grids), -1] if answers is None else answers
        if miss is None:
            out_answer = res[-1]

            def outside(x: float, y: float) -> Any:
                return out_answer

            miss = outside

        def locate_position(x: float, y: float) -> Any:
            fx = (x - ox) * inv
            fy = (y - oy) * inv
            if 0.0 <= fx < nxf and 0.0 <= fy < nyf:
                v: Any = cell[int(fy) * nx + int(fx)]
                if v >= 0:
                    return res[v]
                if v == -1:
                    return miss(x, y)
                m = -v - 2
                bits: int = base_bits[m]
                p0: int = pair_ptr[m]
                if bits < 0:  # more than 62 candidates: build the mask as a Python int
                    bits = 0
                    for p in range(p0, pair_ptr[m + 1]):
                        bits |= pair_base[p] << (p - p0)
                for k in range(ent_ptr[m], ent_ptr[m + 1]):
                    e = ent_edge[k]
                    ay = eay[e]
                    if ay <= y < eby[e] and (x - eax[e]) * edy[e] < (y - ay) * edx[e]:
                        bits ^= 1 << ent_bit[k]
                if bits:
                    g: Any = pair_grid[p0 + (bits & -bits).bit_length() - 1]
                    return res[g]
                return miss(x, y)
            if not (isfinite(x) and isfinite(y)):
                raise CoordinateError(f"point ({x!r}, {y!r}): expected finite coordinates")
            return miss(x, y)

        return locate_position

    def locate_many(self, x: FloatArray, y: FloatArray) -> tuple[I32Array, BoolArray]:
        """Positions (-1 outside or bad) and the mask of rows with non-finite coordinates."""
        n = len(x)
        out = np.empty(n, dtype=np.int32)
        bad = np.zeros(n, dtype=np.bool_)
        for s in range(0, n, _CHUNK_POINTS):
            sl = slice(s, min(s + _CHUNK_POINTS, n))
            out[sl], bad[sl] = self._locate_chunk(x[sl], y[sl])
        return out, bad

    def _locate_chunk(self, x: FloatArray, y: FloatArray) -> tuple[I32Array, BoolArray]:
        ox, oy = self.origin
        inv = 1.0 / self.h
        fx = x - ox
        fx *= inv
        fy = y - oy
        fy *= inv
        ok = (fx >= 0) & (fx < self.nx) & (fy >= 0) & (fy < self.ny)
        bad = ~(np.isfinite(x) & np.isfinite(y))
        all_ok = bool(ok.all())
        if not all_ok:
            fx[~ok] = 0
            fy[~ok] = 0
        b = fy.astype(np.int64)
        b *= self.nx
        b += fx.astype(np.int64)
        v = self.cell[b]
        if not all_ok:
            v[~ok] = -1
        mixed = np.flatnonzero(v <= -2)
        if len(mixed) == 0:
            return v, bad
        m = -(v[mixed].astype(np.int64)) - 2
        bits0 = self.base_bits[m]
        wide = bits0 < 0
        if wide.any():
            single = self.single()
            for i in mixed[wide].tolist():
                v[i] = single(float(x[i]), float(y[i]))
            mixed, m, bits0 = mixed[~wide], m[~wide], bits0[~wide]
        e0 = self.ent_ptr[m]
        cnt = self.ent_ptr[m + 1] - e0
        total = int(cnt.sum())
        off = np.cumsum(cnt) - cnt
        k = np.arange(total, dtype=np.int64) - np.repeat(off - e0, cnt)
        ed = self.edata[self.ent_edge[k]]
        px = np.repeat(x[mixed], cnt)
        py = np.repeat(y[mixed], cnt)
        hit = _crosses(px, py, ed[:, 0], ed[:, 1], ed[:, 2], ed[:, 3], ed[:, 4])
        val = np.left_shift(hit.astype(np.int64), self.ent_bit[k])
        acc = np.empty(total + 1, dtype=np.int64)
        acc[0] = 0
        np.bitwise_xor.accumulate(val, out=acc[1:])
        bits = bits0 ^ acc[off + cnt] ^ acc[off]
        lowest = bits & -bits
        found = bits != 0
        slot = np.bitwise_count(lowest - 1).astype(np.int64)
        slot[~found] = 0
        g = self.pair_grid[self.pair_ptr[m] + slot]
        v[mixed] = np.where(found, g, -1)
        return v, bad


def brute_force_locate(
    polygons: Sequence[Any] | NDArray[np.object_], xs: Any, ys: Any
) -> tuple[IntArray, IntArray]:
    """The reference answer: every grid tested on every point (bounding box first).

    Returns (position or -1, number of grids holding the point) per point,
    under the boundary rule of this module; the lowest position wins overlaps.
    """
    x, y = _check_xy(xs, ys)
    owner, edges = polygon_edges(polygons)
    n = len(polygons)
    pos = np.full(len(x), -1, dtype=np.int64)
    count = np.zeros(len(x), dtype=np.int64)
    order = np.argsort(owner, kind="stable")
    owner, edges = owner[order], edges[order]
    bounds = np.searchsorted(owner, np.arange(n + 1))
    for g in range(n - 1, -1, -1):
        e = edges[bounds[g] : bounds[g + 1]]
        e = e[e[:, 1] < e[:, 3]]
        if len(e) == 0:
            continue
        x0, x1 = e[:, [0, 2]].min(), e[:, [0, 2]].max()
        y0, y1 = e[:, 1].min(), e[:, 3].max()
        cand = np.flatnonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
        if len(cand) == 0:
            continue
        px, py = x[cand, None], y[cand, None]
        ax, ay, bx, by = e[:, 0], e[:, 1], e[:, 2], e[:, 3]
        hits = _crosses(px, py, ax, ay, by, bx - ax, by - ay).sum(axis=1)
        inside = cand[(hits & 1).astype(bool)]
        pos[inside] = g  # descending loop: the lowest position is written last
        count[inside] += 1
    return pos, count

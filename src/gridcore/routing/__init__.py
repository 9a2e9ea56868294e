"""The routing index (hot path): point -> grid, (grid, category) -> owner, and the person to act."""

from __future__ import annotations

from gridcore.routing._locate import BucketGrid, brute_force_locate, polygon_edges

__all__ = ["BucketGrid", "brute_force_locate", "polygon_edges"]

"""The routing index (hot path): point -> grid, (grid, category) -> owner, and the person to act.

`RoutingIndex.build(hierarchy, ...)` answers for one hierarchy version. The
boundary rule for points on shared edges and vertices is documented in
`gridcore.routing._locate` and docs/routing.md.
"""

from __future__ import annotations

from gridcore.routing._addresses import AddressTable
from gridcore.routing._index import Locations, PointOutsideError, Route, RoutingIndex
from gridcore.routing._locate import BucketGrid, brute_force_locate, polygon_edges
from gridcore.routing._owners import (
    Conflict,
    CoverageReport,
    Gap,
    OwnershipRule,
    OwnershipRules,
    OwnerTable,
    RuleTargetError,
    coverage_report,
)
from gridcore.routing._people import (
    ResponsibilityLike,
    ResponsibleLike,
    ResponsibleSource,
    least_loaded,
)
from gridcore.routing._snap import Location, reference_locate

__all__ = [
    "AddressTable",
    "BucketGrid",
    "Conflict",
    "CoverageReport",
    "Gap",
    "Location",
    "Locations",
    "OwnerTable",
    "OwnershipRule",
    "OwnershipRules",
    "PointOutsideError",
    "ResponsibilityLike",
    "ResponsibleLike",
    "ResponsibleSource",
    "Route",
    "RoutingIndex",
    "RuleTargetError",
    "brute_force_locate",
    "coverage_report",
    "least_loaded",
    "polygon_edges",
    "reference_locate",
]

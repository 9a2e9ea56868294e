"""gridcore: community grid governance (社区网格化治理) as a library.

The hierarchy of areas, staff and duties, cases and their rules, the routing
index and metrics, plus a SimPy model (`gridcore.sim`) for what-if analysis.
The most used names are re-exported here; every module has its own `__all__`.
"""

from gridcore.adjust import Lineage, merge_grids, split_grid, split_grid_in_two
from gridcore.categories import Category, ResolveLevel, Stage, Taxonomy, default_taxonomy
from gridcore.clock import (
    CalendarSet,
    RoundTheClock,
    WarningLight,
    WorkingHoursCalendar,
    warning_light,
)
from gridcore.duties import DutyPlan, compliance, duty_plan
from gridcore.errors import GridcoreError
from gridcore.hierarchy import FIRE, RURAL, URBAN, Area, Hierarchy, Level, LevelScheme
from gridcore.ids import AreaCode, CaseId, CategoryCode, DepartmentId, PersonId
from gridcore.metrics import EventTable, ScoreWeights, composite_scores, compute_metrics
from gridcore.routing import OwnershipRule, OwnershipRules, RoutingIndex, coverage_report
from gridcore.staffing import (
    POLICIES,
    Assignment,
    Person,
    ResponsibilityIndex,
    Role,
    Roster,
    StaffingPolicy,
    check_policy,
    responsible,
    staff_city,
)
from gridcore.synth import City, CitySpec, build_city, synthetic_city
from gridcore.validation import ValidationReport, validate

__all__ = [
    "FIRE",
    "POLICIES",
    "RURAL",
    "URBAN",
    "Area",
    "AreaCode",
    "Assignment",
    "CalendarSet",
    "CaseId",
    "Category",
    "CategoryCode",
    "City",
    "CitySpec",
    "DepartmentId",
    "DutyPlan",
    "EventTable",
    "GridcoreError",
    "Hierarchy",
    "Level",
    "LevelScheme",
    "Lineage",
    "OwnershipRule",
    "OwnershipRules",
    "Person",
    "PersonId",
    "ResolveLevel",
    "ResponsibilityIndex",
    "Role",
    "Roster",
    "RoundTheClock",
    "RoutingIndex",
    "ScoreWeights",
    "StaffingPolicy",
    "Stage",
    "Taxonomy",
    "ValidationReport",
    "WarningLight",
    "WorkingHoursCalendar",
    "build_city",
    "check_policy",
    "compliance",
    "composite_scores",
    "compute_metrics",
    "coverage_report",
    "default_taxonomy",
    "duty_plan",
    "merge_grids",
    "responsible",
    "split_grid",
    "split_grid_in_two",
    "staff_city",
    "synthetic_city",
    "validate",
    "warning_light",
]

__version__ = "0.1.0"

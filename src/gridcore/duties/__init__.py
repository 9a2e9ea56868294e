"""Duties as data (巡查、走访、巡检) and their compliance from an activity log.

A grid's `DutyPlan` follows from its staffing policy (`duty_plan`): patrols in
daily windows (三个一小时: three one-hour patrols a day, morning, noon, evening),
household visits (every household within N days; listed kinds of household more
often: 三登门、五必访) and component inspections (every component every N days).
`compliance` turns a log of `Activity` values into coverage and missed items per
grid and per person. It is pure and works on arrays, for logs of ~100k activities.
The plans live in `duties.plan`, the counting in `duties.compliance`.

Counting rules, fixed once:

- A patrol counts for the window in which it starts (local time of the duty's
  zone) if it lasts at least the duty's length; one per grid, day and window.
  Windows are due when they lie wholly inside the period.
- Visits and inspections are due per complete N-day window counted from the
  period start; activities in a trailing partial window are neither due nor
  counted. A household visited more often than asked in a window counts once
  per visit asked; components inspected beyond the grid's count do not count.

>>> from datetime import datetime, timezone
>>> from gridcore.synth import build_city
>>> h = build_city("shuanghu", seed=1)
>>> plan = duty_plan("two_per_grid", h.area(h.grids[0]))
>>> plan.patrol.windows[0].name
'morning'
"""

from gridcore.duties.compliance import (
    Activity,
    ActivityKind,
    ComplianceReport,
    GridCompliance,
    PersonCompliance,
    compliance,
)
from gridcore.duties.plan import (
    FIVE_MUST_VISIT,
    PLAN_TEMPLATES,
    THREE_ONE_HOUR,
    DutyError,
    DutyPlan,
    DutyTemplate,
    InspectionDuty,
    PatrolDuty,
    PatrolWindow,
    VisitDuty,
    VisitRule,
    duty_plan,
)

__all__ = [
    "FIVE_MUST_VISIT",
    "PLAN_TEMPLATES",
    "THREE_ONE_HOUR",
    "Activity",
    "ActivityKind",
    "ComplianceReport",
    "DutyError",
    "DutyPlan",
    "DutyTemplate",
    "GridCompliance",
    "InspectionDuty",
    "PatrolDuty",
    "PatrolWindow",
    "PersonCompliance",
    "VisitDuty",
    "VisitRule",
    "compliance",
    "duty_plan",
]

"""Duty plans as data (巡查、走访、巡检): what a grid's staff must do, from its staffing policy.

A grid's `DutyPlan` follows from its staffing policy (`duty_plan`): patrols in daily
windows (三个一小时: three one-hour patrols a day, morning, noon, evening), household
visits (every household within N days; listed kinds of household more often: 三登门、
五必访) and component inspections (every component every N days).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import attrs

from gridcore.errors import StaffingError
from gridcore.hierarchy import Area
from gridcore.ids import AreaCode
from gridcore.staffing import Role, StaffingPolicy, get_policy


class DutyError(StaffingError):
    """A duty, plan or activity that is not valid."""


def _positive_days(inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise DutyError(f"{type(inst).__name__} {attribute.name} = {value}: expected >= 1")


@attrs.frozen
class PatrolWindow:
    """A daily window, in local wall time, in which one patrol is due: [start, end)."""

    name: str
    start: time
    end: time

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise DutyError(
                f"patrol window {self.name!r}: end {self.end} is not after start {self.start}"
            )


@attrs.frozen
class PatrolDuty:
    """Patrols due each day, one per window, each at least `length` long."""

    windows: tuple[PatrolWindow, ...]
    length: timedelta = timedelta(hours=1)
    tz: str = "Asia/Shanghai"

    def __attrs_post_init__(self) -> None:
        if not self.windows:
            raise DutyError("patrol duty: no windows, expected at least one")
        if self.length <= timedelta(0):
            raise DutyError(f"patrol duty: length {self.length} is not positive")
        names = [w.name for w in self.windows]
        if len(set(names)) != len(names):
            raise DutyError(f"patrol duty: window names repeat: {names}")
        ordered = sorted(self.windows, key=lambda w: w.start)
        for a, b in itertools.pairwise(ordered):
            if b.start < a.end:
                raise DutyError(f"patrol duty: windows {a.name!r} and {b.name!r} overlap")
        try:
            ZoneInfo(self.tz)
        except Exception:
            raise DutyError(f"patrol duty: time zone {self.tz!r} is not known") from None


THREE_ONE_HOUR = PatrolDuty(
    (
        PatrolWindow("morning", time(6, 0), time(11, 0)),
        PatrolWindow("noon", time(11, 0), time(15, 0)),
        PatrolWindow("evening", time(17, 0), time(22, 0)),
    )
)
"""三个一小时: three one-hour patrols a day, morning, noon and evening (Chongqing)."""


@attrs.frozen
class VisitRule:
    """Households of a listed kind, each visited `visits` times every `every_days` days.

    `share` is the share of a grid's households of this kind, used when a plan
    is made without a list of them.
    """

    kind: str
    every_days: int = attrs.field(validator=_positive_days)
    visits: int = attrs.field(default=1, validator=_positive_days)
    share: float = 0.02


@attrs.frozen
class VisitDuty:
    """Every household visited `visits` times every `every_days` days, plus listed kinds."""

    every_days: int = attrs.field(validator=_positive_days)
    visits: int = attrs.field(default=1, validator=_positive_days)
    special: tuple[VisitRule, ...] = ()


FIVE_MUST_VISIT: tuple[VisitRule, ...] = (
    VisitRule("hardship", 30),
    VisitRule("empty_nest_elderly", 30),
    VisitRule("disabled", 30),
    VisitRule("left_behind_children", 30),
    VisitRule("dispute", 30),
)
"""五必访: five kinds of household that must be visited, here monthly (Jiangsu)."""


@attrs.frozen
class InspectionDuty:
    """Every component of the listed kinds (all kinds if empty) inspected every `every_days`."""

    every_days: int = attrs.field(validator=_positive_days)
    kinds: tuple[str, ...] = ()


@attrs.frozen
class DutyTemplate:
    """The duties a policy gives each grid, and the role that does them."""

    role: Role
    patrol: PatrolDuty | None = None
    visit: VisitDuty | None = None
    inspection: InspectionDuty | None = None


_STREET_KINDS = ("manholes", "poles", "street_lamps", "cameras", "septic_tanks")

PLAN_TEMPLATES: Mapping[str, DutyTemplate] = MappingProxyType(
    {
        "full_duty": DutyTemplate(
            Role.FULL_DUTY, THREE_ONE_HOUR, VisitDuty(60), InspectionDuty(7, _STREET_KINDS)
        ),
        "three_per_grid": DutyTemplate(
            Role.ASSISTANT,
            THREE_ONE_HOUR,
            # 三登门、五必访: every household three times a year, five kinds monthly
            VisitDuty(365, visits=3, special=FIVE_MUST_VISIT),
            InspectionDuty(7, _STREET_KINDS),
        ),
        "two_per_grid": DutyTemplate(
            Role.FULL_DUTY, THREE_ONE_HOUR, VisitDuty(60), InspectionDuty(7, _STREET_KINDS)
        ),
        "yubei": DutyTemplate(
            Role.FULL_DUTY,
            THREE_ONE_HOUR,
            VisitDuty(60, special=FIVE_MUST_VISIT),
            InspectionDuty(7, _STREET_KINDS),
        ),
    }
)
"""Duties per grid by policy name: patrols 三个一小时, all households within two months."""


def _special(
    value: Mapping[str, Iterable[int]] | Iterable[tuple[str, Iterable[int]]],
) -> tuple[tuple[str, tuple[int, ...]], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), tuple(sorted({int(h) for h in v}))) for k, v in items))


@attrs.frozen
class DutyPlan:
    """The duties of one grid: its households and inspectable components, and who does them.

    Households are numbered 0 .. households-1; `special_households` lists, per
    kind of a special visit rule, the numbers of the households of that kind.
    """

    grid: AreaCode
    role: Role
    households: int
    components: int
    patrol: PatrolDuty | None = None
    visit: VisitDuty | None = None
    inspection: InspectionDuty | None = None
    special_households: tuple[tuple[str, tuple[int, ...]], ...] = attrs.field(
        default=(), converter=_special
    )

    def __attrs_post_init__(self) -> None:
        if self.households < 0 or self.components < 0:
            raise DutyError(f"duty plan {self.grid!r}: households and components must be >= 0")
        kinds = {r.kind for r in self.visit.special} if self.visit else set()
        for kind, hs in self.special_households:
            if kind not in kinds:
                raise DutyError(
                    f"duty plan {self.grid!r}: special households of kind {kind!r}, "
                    f"expected one of {sorted(kinds)}"
                )
            if hs and (hs[0] < 0 or hs[-1] >= self.households):
                raise DutyError(
                    f"duty plan {self.grid!r}: special household numbers of {kind!r} must lie "
                    f"in 0..{self.households - 1}"
                )

    def special(self, kind: str) -> tuple[int, ...]:
        """Household numbers of a special kind (empty if none)."""
        for k, hs in self.special_households:
            if k == kind:
                return hs
        return ()


def duty_plan(
    policy: StaffingPolicy | str,
    grid: Area,
    special_households: Mapping[str, Iterable[int]] | None = None,
    *,
    template: DutyTemplate | None = None,
) -> DutyPlan:
    """The duty plan of a grid under a policy (its template from `PLAN_TEMPLATES`).

    Without `special_households`, each special kind gets a deterministic run of
    household numbers of its rule's share (kinds one after another, so a
    household is of one kind).
    """
    pol = get_policy(policy)
    if template is None:
        template = PLAN_TEMPLATES.get(pol.name)
        if template is None:
            raise DutyError(
                f"duty plan: policy {pol.name!r} has no duty template; expected one of "
                f"{sorted(PLAN_TEMPLATES)} or a template given"
            )
    kinds = set(template.inspection.kinds) if template.inspection else set()
    comps = sum(v for k, v in grid.components if not kinds or k in kinds)
    if special_households is None:
        special: dict[str, list[int]] = {}
        nxt = 0
        rules = template.visit.special if template.visit else ()
        for rule in rules:
            n = min(grid.households - nxt, max(1, round(rule.share * grid.households)))
            special[rule.kind] = list(range(nxt, nxt + n))
            nxt += n
        special_households = special
    return DutyPlan(
        grid.code,
        template.role,
        grid.households,
        comps,
        template.patrol,
        template.visit,
        template.inspection,
        special_households,
    )

# ruff: noqa: RUF009  (the section defaults are frozen values, shared safely)
"""`Scenario`: a whole simulation input as one immutable value; its dump and key reference."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs

from gridcore.sim.scenario.sections import (
    DEFAULT_CATEGORY_WEIGHTS,
    CategoryConfig,
    CityConfig,
    DutyConfig,
    EscalationConfig,
    IncidentConfig,
    QueueOnly,
    RoutingConfig,
    RunConfig,
    StaffingConfig,
    Surge,
    TimesConfig,
)

__all__ = ["SECTIONS", "Scenario", "dump_section", "reference"]

SECTIONS: dict[str, type] = {
    "run": RunConfig,
    "city": CityConfig,
    "staffing": StaffingConfig,
    "duties": DutyConfig,
    "incidents": IncidentConfig,
    "times": TimesConfig,
    "routing": RoutingConfig,
    "escalation": EscalationConfig,
}
"""The single tables of a scenario, by name (categories, surges and queue_only aside)."""


@attrs.frozen
class Scenario:
    """A complete simulation input; every part has defaults (see `reference()`)."""

    name: str = "scenario"
    run: RunConfig = RunConfig()
    city: CityConfig = CityConfig()
    staffing: StaffingConfig = StaffingConfig()
    duties: DutyConfig = DutyConfig()
    incidents: IncidentConfig = IncidentConfig()
    times: TimesConfig = TimesConfig()
    routing: RoutingConfig = RoutingConfig()
    escalation: EscalationConfig = EscalationConfig()
    categories: tuple[CategoryConfig, ...] = ()
    surges: tuple[Surge, ...] = ()
    queue_only: QueueOnly | None = None

    def category(self, code: str) -> CategoryConfig:
        """The settings of a category (defaults when the scenario does not name it)."""
        for c in self.categories:
            if c.code == code:
                return c
        return CategoryConfig(code=code)

    def category_weight(self, code: str) -> float:
        """A category's relative incident rate: the scenario's, the default table's, or 1."""
        w = self.category(code).weight
        return DEFAULT_CATEGORY_WEIGHTS.get(code, 1.0) if w is None else w

    def to_dict(self) -> dict[str, Any]:
        """A JSON/TOML-ready mapping that `scenario_from_dict` loads back to an equal value."""
        out: dict[str, Any] = {"name": self.name}
        for sec in SECTIONS:
            out[sec] = dump_section(getattr(self, sec))
        out["categories"] = {c.code: dump_section(c, skip=("code",)) for c in self.categories}
        out["surges"] = [dump_section(s) for s in self.surges]
        if self.queue_only is not None:
            out["queue_only"] = dump_section(self.queue_only)
        return out


def dump_section(obj: Any, skip: Sequence[str] = ()) -> dict[str, Any]:
    """A section (or category, surge) as the table that loads back into it, None keys left out."""
    out: dict[str, Any] = {}
    for f in attrs.fields(type(obj)):
        if f.name in skip:
            continue
        v = getattr(obj, f.name)
        if v is None:
            continue
        dump = f.metadata.get("dump")
        out[f.name] = dump(v) if dump is not None else v
    return out


def reference() -> list[tuple[str, str, str]]:
    """Every scenario key with its default and meaning: (dotted key, default, doc)."""
    rows: list[tuple[str, str, str]] = [("name", '"scenario"', "a label for the results")]
    classes: list[tuple[str, type]] = [
        *SECTIONS.items(),
        ("categories.CODE", CategoryConfig),
        ("surges[]", Surge),
        ("queue_only", QueueOnly),
    ]
    for prefix, cls in classes:
        for f in attrs.fields(cls):
            if cls is CategoryConfig and f.name == "code":
                continue
            d = f.default
            dump = f.metadata.get("dump")
            shown = dump(d) if (dump is not None and d is not None) else d
            rows.append(
                (f"{prefix}.{f.name}", json.dumps(shown, ensure_ascii=False), f.metadata["doc"])
            )
    return rows

"""Loading a scenario: from a parsed mapping, a TOML or JSON file, or dotted overrides."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import attrs

from gridcore.errors import FileFormatError, ScenarioError
from gridcore.sim.scenario.convert import to_str
from gridcore.sim.scenario.sections import CategoryConfig, QueueOnly, Surge
from gridcore.sim.scenario.validation import check_cross
from gridcore.sim.scenario.value import SECTIONS, Scenario

__all__ = ["apply_overrides", "load_scenario", "load_section", "scenario_from_dict"]

S = TypeVar("S")


def load_section(cls: type[S], raw: object, prefix: str, src: str) -> S:
    """A section of class `cls` from its table, each key through its converter."""
    if not isinstance(raw, Mapping):
        raise ScenarioError(prefix, raw, "a table", src)
    fields = {f.name: f for f in attrs.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        f = fields.get(key)
        if f is None:
            raise ScenarioError(f"{prefix}.{key}", value, f"one of the keys {sorted(fields)}", src)
        kwargs[key] = f.metadata["conv"](f"{prefix}.{key}", value, src)
    return cls(**kwargs)


def scenario_from_dict(data: Mapping[str, Any], source: str = "") -> Scenario:
    """Load a scenario from a parsed TOML/JSON mapping; ScenarioError names a bad key."""
    if not isinstance(data, Mapping):
        raise ScenarioError("", data, "a table of scenario sections", source)
    allowed = {"name", "categories", "surges", "queue_only", *SECTIONS}
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key not in allowed:
            raise ScenarioError(key, value, f"one of the tables {sorted(allowed)}", source)
        if key == "name":
            kwargs["name"] = to_str("name", value, source)
        elif key in SECTIONS:
            kwargs[key] = load_section(SECTIONS[key], value, key, source)
        elif key == "queue_only":
            qo = load_section(QueueOnly, value, key, source)
            if not qo.trace and qo.utilisation >= 1.0:
                raise ScenarioError(
                    "queue_only.arrivals_per_hour",
                    qo.arrivals_per_hour,
                    f"a rate below workers * 60 / mean_handling_minutes = "
                    f"{qo.workers * 60.0 / qo.mean_handling_minutes:g} (utilisation "
                    f"{qo.utilisation:.3f} >= 1 never reaches a steady state)",
                    source,
                )
            kwargs[key] = qo
        elif key == "categories":
            if not isinstance(value, Mapping):
                raise ScenarioError(key, value, "a table of [categories.CODE] tables", source)
            cats = []
            for code, table in sorted(value.items()):
                if isinstance(table, Mapping) and "code" in table:
                    raise ScenarioError(
                        f"categories.{code}.code",
                        table["code"],
                        "no key: the table's name is the code",
                        source,
                    )
                c = load_section(CategoryConfig, table, f"categories.{code}", source)
                cats.append(attrs.evolve(c, code=str(code)))
            kwargs[key] = tuple(cats)
        else:  # surges
            if not isinstance(value, list | tuple):
                raise ScenarioError(key, value, "an array of [[surges]] tables", source)
            surges = []
            for i, table in enumerate(value):
                s = load_section(Surge, table, f"surges[{i}]", source)
                if not s.categories:
                    raise ScenarioError(
                        f"surges[{i}].categories", [], "at least one category code", source
                    )
                surges.append(s)
            kwargs[key] = tuple(surges)
    scenario = Scenario(**kwargs)
    check_cross(scenario, source)
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario from a .toml or .json file (the name defaults to the file's stem)."""
    from gridcore.io.text import read_text

    p = Path(path)
    text = read_text(p, "a scenario file")
    try:
        data = json.loads(text) if p.suffix.lower() == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise FileFormatError(str(p), "", "", "valid TOML or JSON", str(exc)) from None
    except RecursionError:
        raise FileFormatError(str(p), "", "", "TOML or JSON nested less deeply") from None
    if isinstance(data, dict) and "name" not in data:
        data = {"name": p.stem, **data}
    return _with_paths_from(scenario_from_dict(data, str(p)), p.parent)


def _with_paths_from(s: Scenario, folder: Path) -> Scenario:
    """Trace paths relative to the scenario file's folder made absolute."""

    def resolved(path: str) -> str:
        return str(folder / path) if path and not Path(path).is_absolute() else path

    if s.queue_only is not None and s.queue_only.trace:
        qo = attrs.evolve(s.queue_only, trace=resolved(s.queue_only.trace))
        s = attrs.evolve(s, queue_only=qo)
    if s.incidents.trace:
        inc = attrs.evolve(s.incidents, trace=resolved(s.incidents.trace))
        s = attrs.evolve(s, incidents=inc)
    return s


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        nxt = node.get(part)
        if nxt is None:
            nxt = {}
            node[part] = nxt
        if not isinstance(nxt, dict):
            raise ScenarioError(key, value, f"a key inside a table ({part!r} is a value)")
        node = nxt
    node[parts[-1]] = value


def apply_overrides(scenario: Scenario, overrides: Mapping[str, Any]) -> Scenario:
    """A copy of `scenario` with dotted keys set (`{"staffing.workers_per_grid": 3}`).

    A key that names a whole table or array (`"surges"`, `"queue_only"`) replaces it.
    The result is validated like a loaded file.

    >>> s = apply_overrides(Scenario(), {"run.days": 7, "routing.mode": "flattened"})
    >>> (s.run.days, s.routing.mode)
    (7.0, 'flattened')
    """
    data = scenario.to_dict()
    for key, value in overrides.items():
        _set_dotted(data, key, value)
    return scenario_from_dict(data, "overrides")

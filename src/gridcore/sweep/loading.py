"""Reading a sweep from TOML: the ``[sweep]`` table and its base scenario."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gridcore.errors import FileFormatError, ScenarioError
from gridcore.sim.scenario import (
    Scenario,
    apply_overrides,
    preset_scenario,
    scenario_from_dict,
)
from gridcore.sweep.points import Point, Sweep

__all__ = ["load_sweep"]


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep from TOML: a ``[sweep]`` table plus the base scenario.

    The base is ``sweep.scenario`` (a scenario file, relative to the sweep file), or
    ``sweep.preset`` (a preset name), or the file's other tables (an inline scenario);
    ``[sweep.set]`` overrides it for every point. The points are ``[sweep.grid]``
    (dotted key -> array of values, crossed) or ``[[sweep.points]]`` (one table of dotted
    keys per point, with an optional ``label``). A bad key raises `ScenarioError` naming
    the key, the value and what was expected.
    """
    from gridcore.io.text import read_text

    p = Path(path)
    src = str(p)
    text = read_text(p, "a sweep file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FileFormatError(src, "", "", "valid TOML", str(exc)) from None
    except RecursionError:
        raise FileFormatError(src, "", "", "TOML nested less deeply") from None
    table = data.pop("sweep", None)
    if not isinstance(table, dict):
        raise ScenarioError("sweep", table, "a [sweep] table", src)
    allowed = {"name", "scenario", "preset", "replications", "set", "grid", "points"}
    for k, v in table.items():
        if k not in allowed:
            raise ScenarioError(f"sweep.{k}", v, f"one of the keys {sorted(allowed)}", src)
    name = table.get("name", p.stem)
    if not isinstance(name, str) or not name:
        raise ScenarioError("sweep.name", name, "a non-empty string", src)

    base = _load_base(table, data, p)
    extra = table.get("set", {})
    if not isinstance(extra, dict):
        raise ScenarioError("sweep.set", extra, "a table of dotted keys", src)
    if extra:
        try:
            base = apply_overrides(base, _flat_keys(extra))
        except ScenarioError as exc:
            raise ScenarioError(f"sweep.set: {exc.key}", exc.value, exc.expected, src) from None

    reps = table.get("replications", base.run.replications)
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        raise ScenarioError("sweep.replications", reps, "an integer >= 1", src)

    if "grid" in table and "points" in table:
        raise ScenarioError(
            "sweep.points",
            table["points"],
            "either [sweep.grid] or [[sweep.points]], not both",
            src,
        )
    try:
        if "points" in table:
            pts = table["points"]
            if not isinstance(pts, list) or not pts:
                raise ScenarioError("sweep.points", pts, "a non-empty array of tables")
            sweep = Sweep.from_list(
                base, [_flat_keys(x) if isinstance(x, dict) else x for x in pts], reps, name
            )
        else:
            axes = table.get("grid", {})
            if not isinstance(axes, dict):
                raise ScenarioError("sweep.grid", axes, "a table of dotted key = [values]")
            flat = _flat_keys(axes)
            if not flat:
                sweep = Sweep(base, (Point(0, ()),), reps, name)
            else:
                for k, v in flat.items():
                    if not isinstance(v, list) or not v:
                        raise ScenarioError(f"sweep.grid.{k}", v, "a non-empty array of values")
                sweep = Sweep.grid(base, flat, reps, name)
        sweep.runs()  # validate every point's scenario now, not halfway through a sweep
    except ScenarioError as exc:
        where = f"{src}: {exc.source}" if exc.source else src
        raise ScenarioError(exc.key, exc.value, exc.expected, where) from None
    return sweep


def _flat_keys(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys from TOML: ``"a.b" = 1`` and ``a.b = 1`` (a nested table) both give a.b."""
    out: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(_flat_keys(v, key + "."))
        else:
            out[key] = v
    return out


def _load_base(table: Mapping[str, Any], rest: dict[str, Any], path: Path) -> Scenario:
    src = str(path)
    sources = [k for k in ("scenario", "preset") if k in table]
    if len(sources) > 1 or (sources and rest):
        got = sources + ([f"[{k}]" for k in rest] if rest else [])
        raise ScenarioError(
            "sweep.scenario",
            got,
            "one base: sweep.scenario (a file), sweep.preset (a name) or inline tables",
            src,
        )
    if "scenario" in table:
        ref = table["scenario"]
        if not isinstance(ref, str) or not ref:
            raise ScenarioError("sweep.scenario", ref, "a scenario file path", src)
        from gridcore.sim.scenario import load_scenario

        return load_scenario(path.parent / ref)
    if "preset" in table:
        name = _str_key(table["preset"], "sweep.preset", src)
        try:
            return preset_scenario(name)
        except ScenarioError as exc:
            raise ScenarioError("sweep.preset", name, exc.expected, src) from None
    return scenario_from_dict({"name": path.stem, **rest}, src)


def _str_key(v: Any, key: str, src: str) -> str:
    if not isinstance(v, str):
        raise ScenarioError(key, v, "a string", src)
    return v

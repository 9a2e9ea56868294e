"""Writing a calibration: the fitted scenario as TOML, fitted.json, and the data behind
the fits (for `gridcore report`), each atomically, never over an existing file unless asked.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gridcore.calibrate.calibration import FORMAT, Calibration
from gridcore.errors import ConfigError, FileFormatError
from gridcore.io.atomic import json_safe, write_text_atomic

__all__ = ["DATA_FORMAT", "output_paths", "scenario_toml", "write_calibration"]

DATA_FORMAT = "gridcore.calibration-data/1"
"""The `format` value of the data file (`<stem>_data.json`)."""


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ConfigError(f"no TOML form for the number {v!r}")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # JSON escapes are TOML basic-string escapes
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + " }"
    raise ConfigError(f"no TOML form for {v!r}")


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() and k.isascii() else json.dumps(k)


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, Mapping) for x in v)


def _table(prefix: str, d: Mapping[str, Any], out: list[str]) -> None:
    # a distribution ({dist = ...}) stays inline; other mappings become [sub.tables]
    scalars = [
        (k, v)
        for k, v in d.items()
        if not (isinstance(v, Mapping) and "dist" not in v) and not _is_table_array(v)
    ]
    out += ["", f"[{prefix}]"] if prefix else []
    out += [f"{_key(k)} = {_value(v)}" for k, v in scalars]
    for k, v in d.items():
        if isinstance(v, Mapping) and "dist" not in v:
            _table(f"{prefix}.{_key(k)}" if prefix else _key(k), v, out)
    for k, v in d.items():
        if _is_table_array(v):
            for item in v:
                out += ["", f"[[{prefix}.{_key(k)}]]" if prefix else f"[[{_key(k)}]]"]
                out += [f"{_key(a)} = {_value(b)}" for a, b in item.items()]


def scenario_toml(data: Mapping[str, Any], header: str = "") -> str:
    """A scenario mapping (`Scenario.to_dict()`) as TOML text that loads back equal."""
    out = [f"# {line}" for line in header.splitlines()]
    _table("", data, out)
    return "\n".join(out).lstrip("\n") + "\n"


def output_paths(out: str | Path, *, force: bool = False) -> list[Path]:
    """The three files a calibration writes for `out` (`X.toml`, `X.json`, `X_data.json`),
    checked before any work: writable, and new unless `force`."""
    from gridcore.io.folder import check_writable_file

    toml_path = Path(out)
    if toml_path.suffix.lower() != ".toml":
        raise FileFormatError(str(toml_path), "", "", "an output path ending in .toml")
    paths = [
        toml_path,
        toml_path.with_suffix(".json"),
        toml_path.with_name(toml_path.stem + "_data.json"),
    ]
    toml_path.parent.mkdir(parents=True, exist_ok=True)
    for p in paths:
        check_writable_file(p, overwrite=force)
    return paths


def write_calibration(cal: Calibration, out: str | Path, *, force: bool = False) -> list[Path]:
    """Write `out` (the fitted scenario, TOML), `<stem>.json` (fitted.json) and
    `<stem>_data.json` next to it; refuses to replace existing files unless `force`."""
    paths = output_paths(out, force=force)
    toml_path, json_path, data_path = paths
    header = (
        f"Scenario fitted by `gridcore calibrate` from {(cal.dirt and 'a dirty log') or 'a log'}; "
        f"estimates, intervals and tests in {json_path.name}."
    )
    write_text_atomic(toml_path, scenario_toml(cal.scenario.to_dict(), header))
    doc = cal.to_json()
    write_text_atomic(json_path, json.dumps(json_safe(doc), indent=2, ensure_ascii=False) + "\n")
    data: dict[str, Any] = {
        "format": DATA_FORMAT,
        "fitted": json_path.name,
        "samples": {k: list(v) for k, v in sorted(cal.samples.items())},
    }
    a = cal.arrivals
    if a is not None:
        data["arrivals"] = {
            "first_day": a.first_day.isoformat(),
            "daily_counts": list(a.daily_counts),
            "daily_expected": list(a.daily_expected),
            "hour_counts": list(a.hour_counts),
        }
    write_text_atomic(data_path, json.dumps(json_safe(data), ensure_ascii=False) + "\n")
    assert doc["format"] == FORMAT
    return paths

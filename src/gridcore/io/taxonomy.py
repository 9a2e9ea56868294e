"""Read and write category taxonomies as JSON or TOML files.

The document is `Taxonomy.to_dict()`: a `format` tag, a `version` and a list of
categories; durations are ISO 8601 time parts ("PT7H"). In TOML the list is an
array of tables:

    format = "gridcore.taxonomy"
    version = 1

    [[categories]]
    code = "E0101"
    name = "exposed rubbish"
    name_zh = "暴露垃圾"
    family = "event"
    parent = "E01"
    severity = 1
    resolve_level = "grid"
    calendar = "working"
    limits = { verify = "PT1H", dispatch = "PT30M", handle = "PT7H", ... }
    level_limits = { community = "PT16H", street = "PT24H" }   # optional

`level_limits` (optional): per level, the working time an owner at that level has to
resolve the case after it climbed there (the escalation ladder, 三级督办); a level left
out gets the category's sign-for + handling limits again.

The format is chosen by the suffix (`.json`, `.toml`). Writing is atomic: a
temporary file in the same directory, then `os.replace`.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

from gridcore.categories import CategoryFieldError, Taxonomy
from gridcore.errors import FileFormatError, TaxonomyError
from gridcore.io.atomic import write_text_atomic

__all__ = ["read_taxonomy", "write_taxonomy"]

_FORMATS = (".json", ".toml")


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise FileFormatError(str(path), "", "", f"a file name ending in {' or '.join(_FORMATS)}")
    return suffix


def read_taxonomy(path: str | os.PathLike[str]) -> Taxonomy:
    """The taxonomy in a `.json` or `.toml` file; errors name the file, category and field."""
    from gridcore.io.text import read_text

    p = Path(path)
    suffix = _suffix(p)
    text = read_text(p, "a taxonomy file")
    data: Any
    try:
        data = json.loads(text) if suffix == ".json" else tomllib.loads(text)
    except RecursionError:
        raise FileFormatError(str(p), "", "", "JSON or TOML nested less deeply") from None
    except json.JSONDecodeError as exc:
        raise FileFormatError(
            str(p), f"line {exc.lineno} column {exc.colno}", "", f"valid JSON ({exc.msg})"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise FileFormatError(str(p), "", "", f"valid TOML ({exc})") from exc
    try:
        return Taxonomy.from_dict(data)
    except CategoryFieldError as exc:
        raise FileFormatError(str(p), exc.where, exc.field, exc.expected, exc.got) from exc
    except TaxonomyError as exc:
        raise FileFormatError(str(p), "", "", str(exc)) from exc


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        # JSON string escapes are valid TOML basic-string escapes.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict):
        inner = ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }"
    raise TypeError(f"no TOML form for {value!r}")


def _to_toml(doc: dict[str, Any]) -> str:
    lines = [f"format = {_toml_value(doc['format'])}", f"version = {doc['version']}"]
    for cat in doc["categories"]:
        lines += ["", "[[categories]]"]
        # TOML has no null: a missing `parent` means a top category.
        lines += [f"{k} = {_toml_value(v)}" for k, v in cat.items() if v is not None]
    return "\n".join(lines) + "\n"


def write_taxonomy(taxonomy: Taxonomy, path: str | os.PathLike[str]) -> None:
    """Write `taxonomy` to a `.json` or `.toml` file, atomically (temp file + `os.replace`)."""
    p = Path(path)
    suffix = _suffix(p)
    doc = taxonomy.to_dict()
    if suffix == ".json":
        text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    else:
        text = _to_toml(doc)
    try:
        write_text_atomic(p, text, newline="\n")
    except OSError as exc:
        # write_text_atomic leaves no temporary behind; the target is untouched.
        raise FileFormatError(str(p), "", "", f"a writable file ({exc})") from exc

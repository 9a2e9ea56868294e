"""The stored keys of a sweep's runs: canonical JSON of the scenario, hashed.

A run's key is a stable hash of its scenario's canonical JSON and its replication index,
so an interrupted sweep finds its finished runs again (``runs/<key>.json``).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

import attrs

from gridcore.sim.scenario import Scenario

__all__ = ["FORMAT_VERSION", "canonical_json", "run_key"]

FORMAT_VERSION = 1
"""The format of a sweep folder's records (in every key and in ``sweep.json``)."""

# Left out of a run's key: they do not change what one replication computes.
_KEY_EXCLUDED = (("name",), ("run", "replications"))


def _jsonable(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)  # JSON has no NaN/inf; keep them distinct anyway
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if attrs.has(type(v)):
        return _jsonable(attrs.asdict(v, recurse=False))
    return str(v)


def canonical_json(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces, tuples as lists) of a JSON-like value.

    >>> canonical_json({"b": (1, 2.5), "a": "x"})
    '{"a":"x","b":[1,2.5]}'
    """
    return json.dumps(_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def run_key(scenario: Scenario, replication: int) -> str:
    """The stored key of one run: SHA-256 of the scenario's canonical JSON and the index.

    The scenario's name and replication count are left out: neither changes what one
    replication computes, so renaming a sweep or adding replications reuses results.
    """
    data = scenario.to_dict()
    for path in _KEY_EXCLUDED:
        node: Any = data
        for part in path[:-1]:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node.pop(path[-1], None)
    text = canonical_json({"format": FORMAT_VERSION, "scenario": data, "replication": replication})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

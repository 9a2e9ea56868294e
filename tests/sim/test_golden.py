"""Golden runs: the simulation and a replayed case log give the bytes recorded in
`tests/golden/golden.json` (regenerate with `python tests/golden/make_golden.py --write`
only for a change meant to change behaviour)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def _maker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_golden", GOLDEN / "make_golden.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_golden_outputs_are_unchanged() -> None:
    """Every golden file's checksum equals the stored one, and no file came or went."""
    stored = json.loads((GOLDEN / "golden.json").read_text())
    now = _maker().all_checksums()
    changed = sorted(k for k in stored.keys() | now.keys() if stored.get(k) != now.get(k))
    assert not changed, f"golden outputs changed: {changed}"

"""Architecture: only gridcore.sim imports SimPy (the core never depends on the engine)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "gridcore"


def _imports_simpy(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            if any(a.name == "simpy" or a.name.startswith("simpy.") for a in node.names):
                return True
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "simpy":
            return True
    return False


def test_no_module_outside_sim_imports_simpy() -> None:
    """Scan every module of gridcore with ast: simpy appears only under gridcore/sim."""
    offenders = [
        str(p.relative_to(SRC))
        for p in sorted(SRC.rglob("*.py"))
        if "sim" not in p.relative_to(SRC).parts[:1] and _imports_simpy(p)
    ]
    assert offenders == []


def test_the_scan_finds_simpy_in_the_sim_package() -> None:
    """The scan itself works: gridcore.sim.model._engine does import simpy."""
    assert _imports_simpy(SRC / "sim" / "model" / "_engine.py")

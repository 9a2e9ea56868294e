"""Architecture: the layers of gridcore, checked on the source with `ast` (docs/design.md).

Every `import` in every module is read, those inside functions (lazy imports) included:

- a core module (the domain: hierarchy, staffing, cases, metrics ...) never imports an
  edge (I/O, the simulation, sweeps, reports, the CLI, the store, the server ...);
- nothing outside `gridcore.sim` imports SimPy;
- the modules form no import cycle (a graph of modules: `from gridcore.x import y`
  is an edge to `gridcore.x.y` when that is a module, else to `gridcore.x`);
- no module loads another through an import string (`importlib.import_module` or
  `__import__` with a gridcore name): imports are statements a reader and this test see.

The checker is tested on fake module trees built in `tmp_path`, so a checker that
stopped finding violations would fail here too.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from pathlib import Path

import attrs
import pytest

SRC = Path(__file__).resolve().parents[2] / "src"

CORE = frozenset(
    {
        "hierarchy",
        "adjust",
        "validation",
        "synth",
        "escalation",
        "categories",
        "clock",
        "cases",
        "staffing",
        "duties",
        "metrics",
        "routing",
        "errors",
        "ids",
        "_time",
        "_rates",
        "crs",
        "tiling",
        "gridcodes",
        "levels",
    }
)
"""Top-level parts of gridcore that make up the core: no I/O, no clock, no engine."""

EDGES = frozenset({"io", "sim", "sweep", "report", "cli", "store", "server", "calibrate"})
"""Top-level parts that talk to the world (files, processes, the engine, HTTP, users)."""

FACADE = frozenset({"__init__", "__main__"})
"""The package's own face: re-exports and `python -m gridcore`."""

KNOWN_CYCLES: frozenset[frozenset[str]] = frozenset()
"""Cycles tolerated for now, each named with the work that removes it (none today)."""


@attrs.frozen
class Import:
    """One import statement (or import-string call) found in a module."""

    importer: str
    target: str
    line: int
    lazy: bool
    """Inside a function or method body (runs when called, not when imported)."""
    by_string: bool = False
    """Through `importlib.import_module` / `__import__` rather than a statement."""


def module_names(src: Path, package: str) -> dict[str, Path]:
    """Every module of `package` under `src`, by dotted name (a package by its own name)."""
    out: dict[str, Path] = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _absolute(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name of a relative import `from {'.' * level}{name} import ...`."""
    if level == 0:
        return name or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, name] if name else base)


def _import_string(node: ast.Call) -> str | None:
    """The text of an import-string call's first argument, or None if it is not one."""
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if called not in ("import_module", "__import__") or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values:
        head = arg.values[0]
        if isinstance(head, ast.Constant) and isinstance(head.value, str):
            return head.value
    return ""


def _walk(tree: ast.AST) -> Iterator[tuple[ast.AST, bool]]:
    """Every node with whether it sits inside a function body."""
    stack: list[tuple[ast.AST, bool]] = [(tree, False)]
    while stack:
        node, lazy = stack.pop()
        yield node, lazy
        inner = lazy or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        stack.extend((child, inner) for child in ast.iter_child_nodes(node))


def imports_of(module: str, path: Path, known: Mapping[str, Path]) -> list[Import]:
    """The imports of one module, resolved to module names where the target is in `known`."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    out: list[Import] = []
    for node, lazy in _walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                out.append(Import(module, alias.name, node.lineno, lazy))
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, is_package, node.level, node.module)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.append(Import(module, sub if sub in known else base, node.lineno, lazy))
        elif isinstance(node, ast.Call) and (text := _import_string(node)) is not None:
            out.append(Import(module, text, node.lineno, lazy, by_string=True))
    return sorted(out, key=lambda i: (i.line, i.target))


def scan(src: Path, package: str = "gridcore") -> dict[str, list[Import]]:
    """The imports of every module of `package` under `src`."""
    known = module_names(src, package)
    return {name: imports_of(name, path, known) for name, path in known.items()}


def part_of(module: str, package: str = "gridcore") -> str:
    """The top-level part a module belongs to: `gridcore.metrics.events` -> `metrics`."""
    parts = module.split(".")
    if parts[0] != package:
        return ""
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def unclassified(found: Mapping[str, list[Import]], package: str = "gridcore") -> list[str]:
    """Modules in no layer: a new top-level module must be placed in CORE or EDGES."""
    return sorted(m for m in found if part_of(m, package) not in CORE | EDGES | FACADE)


def layer_violations(found: Mapping[str, list[Import]], package: str = "gridcore") -> list[str]:
    """Core modules importing an edge, lazily or not."""
    out = []
    for module, imps in found.items():
        if part_of(module, package) not in CORE:
            continue
        for imp in imps:
            if part_of(imp.target, package) in EDGES:
                how = "lazily " if imp.lazy else ""
                out.append(f"{module}:{imp.line} (core) {how}imports {imp.target} (edge)")
    return sorted(out)


def simpy_violations(found: Mapping[str, list[Import]], package: str = "gridcore") -> list[str]:
    """Modules outside `<package>.sim` that import SimPy."""
    return sorted(
        f"{module}:{imp.line} imports {imp.target}"
        for module, imps in found.items()
        if part_of(module, package) != "sim"
        for imp in imps
        if imp.target == "simpy" or imp.target.startswith("simpy.")
    )


def import_strings(found: Mapping[str, list[Import]], package: str = "gridcore") -> list[str]:
    """Import-string calls naming a module of the package (or built from an expression)."""
    return sorted(
        f"{module}:{imp.line} loads {imp.target or '<an expression>'!r} through an import string"
        for module, imps in found.items()
        for imp in imps
        if imp.by_string and (imp.target in ("", package) or imp.target.startswith(package + "."))
    )


def cycles(found: Mapping[str, list[Import]]) -> list[list[str]]:
    """Import cycles among the scanned modules (lazy imports included), each as a path.

    Tarjan's strongly connected components; each component of more than one module (or
    a module importing itself) is reported as one cycle through it, sorted.
    """
    graph = {m: sorted({i.target for i in imps if i.target in found}) for m, imps in found.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    comps: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph[v]:
                comps.append(_cycle_path(sorted(comp), graph))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for v in sorted(graph):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(comps)


def _cycle_path(comp: list[str], graph: Mapping[str, list[str]]) -> list[str]:
    """One cycle through the first module of a strongly connected component, closed."""
    members = set(comp)
    start = comp[0]
    # Breadth-first from start back to start, inside the component.
    prev: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in graph[v]:
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    return [start, *reversed(path[:-1]), start] if v != start else [start, start]
                if w in members and w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return comp  # pragma: no cover - a component always has a cycle through each member


# -- the rules, on gridcore itself ---------------------------------------------------------


@pytest.fixture(scope="module")
def found() -> dict[str, list[Import]]:
    return scan(SRC)


def test_every_module_sits_in_a_layer(found: dict[str, list[Import]]) -> None:
    """A new top-level module is placed in the core or the edges (here and in design.md)."""
    assert unclassified(found) == []


def test_the_core_imports_no_edge(found: dict[str, list[Import]]) -> None:
    """Core modules import no edge (io, sim, sweep, report, cli, store, server ...)."""
    assert layer_violations(found) == []


def test_no_module_outside_sim_imports_simpy(found: dict[str, list[Import]]) -> None:
    """SimPy is the engine of gridcore.sim only."""
    assert simpy_violations(found) == []


def test_the_sim_package_is_where_simpy_is_found(found: dict[str, list[Import]]) -> None:
    """The scan does see SimPy where it is: gridcore.sim's engine imports it."""
    sim_simpy = [m for m, imps in found.items() for i in imps if i.target == "simpy"]
    assert sim_simpy and all(part_of(m) == "sim" for m in sim_simpy)


def test_modules_form_no_import_cycle(found: dict[str, list[Import]]) -> None:
    """No module reaches itself through imports, lazy ones included."""
    assert [c for c in cycles(found) if frozenset(c) not in KNOWN_CYCLES] == []


def test_no_module_loads_another_through_an_import_string(
    found: dict[str, list[Import]],
) -> None:
    """Imports are statements: no importlib.import_module("gridcore...")."""
    assert import_strings(found) == []


def test_importing_the_core_loads_no_simpy_and_no_edge() -> None:
    """At run time too: importing gridcore and its core packages loads no SimPy and no edge."""
    gc = SRC / "gridcore"
    core = [m for m in CORE if (gc / m).is_dir() or (gc / f"{m}.py").exists()]
    names = ["gridcore", *sorted(f"gridcore.{m}" for m in core)]
    code = textwrap.dedent(
        f"""
        import importlib, sys
        for name in {names!r}:
            importlib.import_module(name)
        edges = {sorted(EDGES)!r}
        loaded = sorted(m for m in sys.modules
                        if m == "simpy" or m.startswith("simpy.")
                        or (m.split(".")[0] == "gridcore" and len(m.split(".")) > 1
                            and m.split(".")[1] in edges))
        print(",".join(loaded))
        """
    )
    env = {"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == ""


# -- the checker itself, on fake module trees ------------------------------------------------


def _tree(tmp_path: Path, files: Mapping[str, str]) -> Path:
    """A fake `gridcore` package under tmp_path: {relative path: source}."""
    for rel, text in files.items():
        path = tmp_path / "gridcore" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


_CLEAN = {
    "__init__.py": "from gridcore.cases import Case\n",
    "errors.py": "class GridcoreError(Exception): ...\n",
    "cases/__init__.py": "from gridcore.cases.records import Case\n",
    "cases/records.py": "from gridcore.errors import GridcoreError\nclass Case: ...\n",
    "sim/__init__.py": "import simpy\nfrom gridcore.cases import Case\n",
    "io/__init__.py": "from . import geojson\n",
    "io/geojson.py": "from ..cases.records import Case\n",
}


class TestTheChecker:
    def test_a_clean_tree_has_no_finding(self, tmp_path: Path) -> None:
        """Core below edges, SimPy in sim, no cycle, no import string: nothing found."""
        found = scan(_tree(tmp_path, _CLEAN))
        assert unclassified(found) == []
        assert layer_violations(found) == []
        assert simpy_violations(found) == []
        assert cycles(found) == []
        assert import_strings(found) == []

    def test_a_core_module_importing_an_edge_is_found(self, tmp_path: Path) -> None:
        """A deliberately bad import (cases -> io) is reported with its module and line."""
        bad = {**_CLEAN, "cases/log.py": "import json\nfrom gridcore.io import geojson\n"}
        assert layer_violations(scan(_tree(tmp_path, bad))) == [
            "gridcore.cases.log:2 (core) imports gridcore.io.geojson (edge)"
        ]

    def test_a_lazy_import_of_an_edge_is_found_too(self, tmp_path: Path) -> None:
        """An import inside a function counts: it runs on the first call."""
        bad = {
            **_CLEAN,
            "metrics.py": """
                def export(rows):
                    from gridcore.sim.results import write
                    return write(rows)
            """,
        }
        assert layer_violations(scan(_tree(tmp_path, bad))) == [
            "gridcore.metrics:3 (core) lazily imports gridcore.sim.results (edge)"
        ]

    def test_a_relative_import_of_an_edge_is_found(self, tmp_path: Path) -> None:
        """`from ...io import x` is resolved like the absolute import it is."""
        bad = {**_CLEAN, "cases/serial.py": "from ..io.geojson import Case\n"}
        assert layer_violations(scan(_tree(tmp_path, bad))) == [
            "gridcore.cases.serial:1 (core) imports gridcore.io.geojson (edge)"
        ]

    def test_simpy_outside_sim_is_found(self, tmp_path: Path) -> None:
        """SimPy imported by a core module or another edge is reported."""
        bad = {**_CLEAN, "clock.py": "def f():\n    import simpy.events\n"}
        assert simpy_violations(scan(_tree(tmp_path, bad))) == [
            "gridcore.clock:2 imports simpy.events"
        ]

    def test_a_cycle_through_a_lazy_import_is_found(self, tmp_path: Path) -> None:
        """records -> log at import time, log -> records inside a function: a cycle."""
        bad = {
            **_CLEAN,
            "cases/records.py": "from gridcore.cases.log import CaseLog\nclass Case: ...\n",
            "cases/log.py": "def f():\n    from gridcore.cases.records import Case\n",
        }
        assert cycles(scan(_tree(tmp_path, bad))) == [
            ["gridcore.cases.log", "gridcore.cases.records", "gridcore.cases.log"]
        ]

    def test_a_module_importing_itself_is_a_cycle(self, tmp_path: Path) -> None:
        """The smallest cycle."""
        bad = {**_CLEAN, "ids.py": "import gridcore.ids\n"}
        assert cycles(scan(_tree(tmp_path, bad))) == [["gridcore.ids", "gridcore.ids"]]

    def test_import_strings_naming_the_package_are_found(self, tmp_path: Path) -> None:
        """importlib.import_module, bare import_module, __import__ and f-strings all count."""
        bad = {
            **_CLEAN,
            "sim/run.py": """
                import importlib
                from importlib import import_module
                def a(): return importlib.import_module("gridcore.sim.model")
                def b(): return import_module(f"gridcore.{'sim'}")
                def c(name): return __import__(name)
                def d(): return importlib.import_module("numpy")
            """,
        }
        assert import_strings(scan(_tree(tmp_path, bad))) == [
            "gridcore.sim.run:4 loads 'gridcore.sim.model' through an import string",
            "gridcore.sim.run:5 loads 'gridcore.' through an import string",
            "gridcore.sim.run:6 loads '<an expression>' through an import string",
        ]

    def test_a_module_in_no_layer_is_found(self, tmp_path: Path) -> None:
        """A new top-level module must be placed in a layer."""
        bad = {**_CLEAN, "weather.py": "x = 1\n"}
        assert unclassified(scan(_tree(tmp_path, bad))) == ["gridcore.weather"]

    def test_from_package_import_submodule_points_at_the_submodule(self, tmp_path: Path) -> None:
        """`from gridcore.io import geojson` is an edge to gridcore.io.geojson, not to io."""
        found = scan(_tree(tmp_path, {**_CLEAN, "report.py": "from gridcore.io import geojson\n"}))
        assert [i.target for i in found["gridcore.report"]] == ["gridcore.io.geojson"]

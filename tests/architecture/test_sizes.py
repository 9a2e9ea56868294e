"""Sizes: no module in src/ over 800 lines, no function over 100 (issue 12).

A module over ~800 lines or a function over ~100 usually holds two ideas (STYLE.md): cut
along them. The one exception is data: a module or function that is mostly a literal
table (category weights, a default taxonomy, zone offsets ...) may pass the limit when
it is named in `DATA_TABLES` with what it holds. Code is not allowlisted, but for the
few entries of `KNOWN_OVERSIZE`, each named with the work that cuts it.

Lines are counted as the source has them (docstrings and comments included): a
module's lines, and a function's from its `def` line to its last line (a nested
function counts inside its parent as well as on its own). The checker is tested on
fake sources in `tmp_path`, so a checker that stopped measuring would fail here too.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Mapping
from pathlib import Path

import attrs

SRC = Path(__file__).resolve().parents[2] / "src"

MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 100

DATA_TABLES: Mapping[str, str] = {}
"""Modules (``gridcore/x.py``) or functions (``gridcore/x.py:name``) allowed past the
limit, each with the data table it holds. Empty today: every table fits."""

KNOWN_OVERSIZE: Mapping[str, str] = {}
"""Code over the limit tolerated for now, each named with the work that removes it (as
`KNOWN_CYCLES` in test_layers.py). An entry that fits again must be removed."""


@attrs.frozen
class Size:
    """One module or function and its length in lines."""

    name: str
    """``gridcore/x.py`` for a module, ``gridcore/x.py:Class.method`` for a function."""
    lines: int


def measure(src: Path) -> tuple[list[Size], list[Size]]:
    """Every module and every function under `src`, longest first."""
    modules: list[Size] = []
    functions: list[Size] = []
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src).as_posix()
        text = path.read_text(encoding="utf-8")
        modules.append(Size(rel, len(text.splitlines())))
        functions.extend(_functions(ast.parse(text, filename=str(path)), rel))
    return _longest_first(modules), _longest_first(functions)


def _functions(tree: ast.AST, rel: str) -> list[Size]:
    out: list[Size] = []
    stack: list[tuple[ast.AST, str]] = [(tree, "")]
    while stack:
        node, prefix = stack.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                qual = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    end = child.end_lineno or child.lineno
                    out.append(Size(f"{rel}:{qual}", end - child.lineno + 1))
                stack.append((child, qual + "."))
            else:
                stack.append((child, prefix))
    return out


def _longest_first(sizes: list[Size]) -> list[Size]:
    return sorted(sizes, key=lambda s: (-s.lines, s.name))


def too_long(sizes: list[Size], limit: int, allowed: Mapping[str, str]) -> list[str]:
    """The sizes over `limit` that `allowed` does not name, as messages."""
    return [
        f"{s.name}: {s.lines} lines > {limit}"
        for s in sizes
        if s.lines > limit and s.name not in allowed
    ]


def stale(modules: list[Size], functions: list[Size], allowed: Mapping[str, str]) -> list[str]:
    """Allowlist entries that name nothing, or something back within its limit."""
    sizes = {s.name: (s.lines, MAX_MODULE_LINES) for s in modules}
    sizes |= {s.name: (s.lines, MAX_FUNCTION_LINES) for s in functions}
    out = []
    for name in sorted(allowed):
        if name not in sizes:
            out.append(f"{name}: allowlisted but not found")
        elif sizes[name][0] <= sizes[name][1]:
            out.append(f"{name}: allowlisted but {sizes[name][0]} lines fit the limit: remove it")
    return out


# -- the rules, on gridcore itself ---------------------------------------------------------


def test_no_module_passes_800_lines() -> None:
    """Every module of src/ is at most 800 lines (DATA_TABLES and KNOWN_OVERSIZE aside)."""
    modules, _ = measure(SRC)
    assert too_long(modules, MAX_MODULE_LINES, {**DATA_TABLES, **KNOWN_OVERSIZE}) == []


def test_no_function_passes_100_lines() -> None:
    """Every function and method of src/ is at most 100 lines (the allowlists aside)."""
    _, functions = measure(SRC)
    assert too_long(functions, MAX_FUNCTION_LINES, {**DATA_TABLES, **KNOWN_OVERSIZE}) == []


def test_the_allowlists_name_only_what_is_still_over_the_limit() -> None:
    """Each DATA_TABLES and KNOWN_OVERSIZE entry exists and still needs the exception."""
    modules, functions = measure(SRC)
    assert stale(modules, functions, {**DATA_TABLES, **KNOWN_OVERSIZE}) == []


def test_the_scan_sees_the_package() -> None:
    """The scan reads gridcore's modules and their functions (a wrong SRC would pass)."""
    modules, functions = measure(SRC)
    names = {s.name for s in modules}
    assert "gridcore/__init__.py" in names and len(modules) > 50
    assert any(f.name.startswith("gridcore/sweep/running.py:run_sweep") for f in functions)


# -- the checker, on fake sources ------------------------------------------------------------


def _fake(tmp_path: Path, body: str) -> Path:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "m.py").write_text(textwrap.dedent(body), encoding="utf-8")
    return tmp_path


def test_a_long_function_is_found_with_its_qualified_name(tmp_path: Path) -> None:
    """A method of 4 lines passes a limit of 3, named Class.method; a 2-line one does not."""
    src = _fake(
        tmp_path,
        """\
        class C:
            def long(self):
                a = 1
                b = 2
                return a + b

            def short(self):
                return 1
        """,
    )
    _, functions = measure(src)
    assert too_long(functions, 3, {}) == ["pkg/m.py:C.long: 4 lines > 3"]


def test_nested_functions_count_on_their_own_and_in_their_parent(
    tmp_path: Path,
) -> None:
    """An inner function is measured too; its lines count in its parent's."""
    src = _fake(
        tmp_path,
        """\
        def outer():
            def inner():
                x = 1
                return x
            return inner
        """,
    )
    _, functions = measure(src)
    assert [(f.name, f.lines) for f in functions] == [
        ("pkg/m.py:outer", 5),
        ("pkg/m.py:outer.inner", 3),
    ]


def test_a_long_module_is_found_and_the_allowlist_excuses_it(tmp_path: Path) -> None:
    """A module over the limit is reported unless named; a named one that fits is stale."""
    src = _fake(tmp_path, "TABLE = {\n" + "    'k': 1,\n" * 10 + "}\n")
    modules, functions = measure(src)
    assert too_long(modules, 5, {}) == ["pkg/m.py: 12 lines > 5"]
    assert too_long(modules, 5, {"pkg/m.py": "a table"}) == []
    assert stale(modules, functions, {"pkg/m.py": "a table"}) == [
        "pkg/m.py: allowlisted but 12 lines fit the limit: remove it"
    ]
    assert stale(modules, functions, {"pkg/gone.py": "a table"}) == [
        "pkg/gone.py: allowlisted but not found"
    ]

"""Errors survive process boundaries: every GridcoreError pickles with its message and fields.

The classes are found by walking the class tree after importing every gridcore module,
so a new subclass is covered without editing this file.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pickle
import pkgutil
import subprocess
import sys
import textwrap
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import gridcore
from gridcore.errors import GridcoreError

SRC = Path(gridcore.__file__).resolve().parents[1]


def _import_all() -> None:
    for mod in pkgutil.walk_packages(gridcore.__path__, "gridcore."):
        if mod.name.endswith("__main__"):  # runs the command line when imported
            continue
        try:
            importlib.import_module(mod.name)
        except ImportError:  # an optional extra that is not installed: its errors are not reachable
            continue


def _subclasses(cls: type[GridcoreError]) -> list[type[GridcoreError]]:
    out: list[type[GridcoreError]] = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return sorted(set(out), key=lambda c: (c.__module__, c.__qualname__))


_import_all()
ALL_ERRORS = [GridcoreError, *_subclasses(GridcoreError)]

# sample values tried in order for each parameter of a constructor
_SAMPLES: tuple[Any, ...] = ("sample-\u7f51\u683c", 7, ("a", "b"), 2.5)


def make(cls: type[GridcoreError]) -> GridcoreError:
    """An instance of `cls` with a sample value for every constructor parameter."""
    params = [
        p
        for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    if cls.__init__ is Exception.__init__ or not params:
        return cls("a message naming the thing \u2014 and what was expected")
    for sample in _SAMPLES:
        try:
            return cls(
                *(
                    f"{sample}-{i}" if isinstance(sample, str) else sample
                    for i, _ in enumerate(params)
                )
            )
        except Exception:  # try the next kind of sample
            continue
    raise AssertionError(f"{cls.__qualname__}: no sample arguments build it; add one here")


def _same(a: BaseException, b: BaseException) -> None:
    assert type(a) is type(b)
    assert str(a) == str(b)
    assert a.args == b.args
    assert vars(a) == vars(b)


def test_the_walk_finds_the_errors_of_every_module() -> None:
    """The tree walk reaches errors defined outside errors.py (so it is not vacuous)."""
    names = {c.__qualname__ for c in ALL_ERRORS}
    assert {"TransitionRefused", "FileFormatError", "ScenarioError", "CategoryFieldError"} <= names
    assert any(not c.__module__.endswith("errors") for c in ALL_ERRORS)


@pytest.mark.parametrize("cls", ALL_ERRORS, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_gridcore_error_round_trips_through_pickle(cls: type[GridcoreError]) -> None:
    """Type, message, args and every field come back equal, at every pickle protocol."""
    exc = make(cls)
    exc.add_note("a note added on the way")
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(exc, protocol=protocol))
        _same(exc, back)


def _raise(exc: BaseException) -> None:
    raise exc


def test_a_worker_process_error_reaches_the_parent_as_itself() -> None:
    """Raised in a pool worker, each error arrives typed with its fields (no broken pool)."""
    errors = [make(cls) for cls in ALL_ERRORS]
    with ProcessPoolExecutor(1) as pool:
        futures = [pool.submit(_raise, e) for e in errors]
        for exc, fut in zip(errors, futures, strict=True):
            got = fut.exception(timeout=60)
            assert got is not None
            _same(exc, got)


def test_cli_shows_a_worker_error_as_one_line_and_exit_2(tmp_path: Path) -> None:
    """`simulate` whose replication fails in a worker: one line naming it, exit 2."""
    scenario = tmp_path / "q.toml"
    scenario.write_text("[run]\ndays = 1\nreplications = 2\n[queue_only]\nworkers = 2\n")
    script = textwrap.dedent(
        f"""
        import sys
        import gridcore.sim.run as run
        from gridcore.errors import ScenarioError

        def boom(scenario, i):
            raise ScenarioError("run.days", 12, "a worker-side refusal", "replication " + str(i))

        run.run_replication = boom  # a fork()ed worker sees it
        from gridcore.cli import main
        sys.exit(main(["simulate", "--scenario", {str(scenario)!r}, "--workers", "2", "--quiet"]))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "gridcore: error:" in lines[0] and "'run.days'" in lines[0]
    assert "worker-side refusal" in lines[0]

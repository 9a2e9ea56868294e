"""The examples in the docstrings of the restructured packages run and print what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

_PACKAGES = ("metrics", "staffing", "duties", "synth", "sweep", "sim.scenario")
_MODULES = ("gridcore._rates", "gridcore.io.tables", "gridcore.sim.executors")


def _modules() -> list[str]:
    names = list(_MODULES)
    for pkg in _PACKAGES:
        package = importlib.import_module(f"gridcore.{pkg}")
        names.append(package.__name__)
        names += [m.name for m in pkgutil.iter_modules(package.__path__, f"{package.__name__}.")]
    return sorted(names)


def test_the_list_reaches_every_module_of_the_packages() -> None:
    """The packages' submodules are found (a typo here would test nothing)."""
    assert {"gridcore.metrics.events", "gridcore.staffing.roster", "gridcore.duties.plan"} <= set(
        _modules()
    )


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_hold(name: str) -> None:
    """Every `>>>` example in the module gives the output written under it."""
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0

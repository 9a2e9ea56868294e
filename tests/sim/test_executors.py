"""Executors from an ``--executor`` spec (gridcore.sim.executors), shared by the commands."""

from __future__ import annotations

import pytest

import gridcore.sweep
from gridcore.errors import ConfigError
from gridcore.sim import executors
from gridcore.sim.executors import SerialExecutor, parse_executor_spec


class TestParseExecutorSpec:
    @pytest.mark.parametrize(
        ("text", "kind", "address"),
        [
            ("local", "local", ""),
            ("serial", "serial", ""),
            ("dask://10.0.0.5:8786", "dask", "tcp://10.0.0.5:8786"),
            ("tcp://sched:8786", "dask", "tcp://sched:8786"),
        ],
    )
    def test_accepted_specs(self, text: str, kind: str, address: str) -> None:
        """local, serial and a Dask scheduler address parse without starting anything."""
        parsed = parse_executor_spec(text)
        assert (parsed.text, parsed.kind, parsed.address) == (text, kind, address)

    @pytest.mark.parametrize("text", ["", "Local", "ray://x", "dask:", "pool"])
    def test_other_specs_are_refused_by_name(self, text: str) -> None:
        """Anything else is a ConfigError naming the spec and the accepted forms."""
        with pytest.raises(ConfigError, match=r"executor .*expected 'local', 'serial'"):
            parse_executor_spec(text)


def test_serial_spec_gives_the_serial_executor() -> None:
    """`serial` (as text or parsed) runs calls in this process."""
    ex = executors.executor_from_spec(parse_executor_spec("serial"))
    assert isinstance(ex, SerialExecutor)
    assert ex.submit(sum, [1, 2]).result() == 3


def test_the_sweep_package_re_exports_the_executors() -> None:
    """The old import paths (gridcore.sweep) name the same objects."""
    assert gridcore.sweep.SerialExecutor is executors.SerialExecutor
    assert gridcore.sweep.executor_from_spec is executors.executor_from_spec

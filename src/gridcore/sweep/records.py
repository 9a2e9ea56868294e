"""What a sweep reports: its progress, the runs that failed, and its result."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import attrs

__all__ = ["RunFailure", "SweepProgress", "SweepResult"]


@attrs.frozen
class SweepProgress:
    """Where a sweep is: runs done (stored, this session or before), failed, time."""

    total: int
    done: int
    failed: int
    reused: int
    elapsed_s: float
    remaining_s: float

    def to_text(self) -> str:
        """One line: ``12/32 done, 1 failed, 40.1 s elapsed, ~66 s left``."""
        left = "?" if math.isnan(self.remaining_s) else f"~{self.remaining_s:.0f} s"
        reused = f" ({self.reused} reused)" if self.reused else ""
        return (
            f"{self.done}/{self.total} done{reused}, {self.failed} failed, "
            f"{self.elapsed_s:.1f} s elapsed, {left} left"
        )


@attrs.frozen
class RunFailure:
    """A run that raised: its key, point, replication, overrides and traceback text."""

    key: str
    point: int
    replication: int
    overrides: tuple[tuple[str, Any], ...]
    error: str

    def headline(self) -> str:
        """The last line of the traceback (the exception and its message)."""
        lines = [x for x in self.error.strip().splitlines() if x.strip()]
        return lines[-1] if lines else "error"


@attrs.frozen
class SweepResult:
    """What `run_sweep` did: counts, failures, wall time and the aggregate rows."""

    out_dir: Path
    total: int
    executed: int
    reused: int
    failures: tuple[RunFailure, ...]
    elapsed_s: float
    run_seconds: float
    aggregate: tuple[dict[str, Any], ...] = attrs.field(repr=False)

    @property
    def ok(self) -> bool:
        """Whether every run succeeded."""
        return not self.failures

"""The reader fuzz prints how many inputs it tried per reader."""

from __future__ import annotations

from typing import Any

from _fuzz_support import PROFILE, REFUSED, TRIED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line per reader: inputs tried and how many were refused with a typed error."""
    if not TRIED:
        return
    terminalreporter.section(f"reader fuzz (profile {PROFILE})")
    for name in sorted(TRIED):
        terminalreporter.write_line(
            f"{name}: {TRIED[name]} inputs tried, {REFUSED[name]} refused with a GridcoreError"
        )

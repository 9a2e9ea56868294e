"""Where an edge writes: refuse to overwrite a user's file unless told to."""

from __future__ import annotations

import os
from pathlib import Path

from gridcore.errors import GridcoreError

__all__ = ["OutputExistsError", "new_output"]


class OutputExistsError(GridcoreError, FileExistsError):
    """An output file that exists already, and overwriting it was not asked for."""


def new_output(path: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """`path` as a Path; `OutputExistsError` if it exists and `overwrite` is false."""
    p = Path(path)
    if p.exists() and not overwrite:
        raise OutputExistsError(
            f"{p}: exists already: expected a new file (pass overwrite=True, or --force)"
        )
    if p.is_dir():
        raise OutputExistsError(f"{p}: is a folder: expected a file path")
    return p

"""Atomic file writes: a temporary file in the target's folder, then `os.replace`.

A reader never sees a half-written file, and a failed write leaves the old
file (or no file) and no temporary behind.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["json_safe", "write_text_atomic"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(
    path: str | os.PathLike[str], text: str, *, newline: str | None = None, fsync: bool = True
) -> Path:
    """Write `text` (UTF-8) to `path` atomically and return the path.

    `newline` is passed to `open` ("" keeps the text's own line ends, as CSV
    needs). The file gets the usual mode (0666 less the umask), not mkstemp's 0600.
    """
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as fh:
            fh.write(text)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def json_safe(obj: Any) -> Any:
    """A copy fit for strict JSON: NaN and infinities become null, mapping keys strings."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj

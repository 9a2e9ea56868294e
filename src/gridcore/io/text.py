"""Reading text files at the edge: every way a read can fail is a `FileFormatError`.

`read_text(path, what)` refuses what is not a regular file (a folder, a FIFO, a
device such as /dev/zero that would never end), a file larger than `MAX_BYTES`,
and bytes that are not UTF-8 (naming the byte offset); the message names the file
and what was expected.
"""

from __future__ import annotations

import os
from pathlib import Path

from gridcore.errors import FileFormatError

__all__ = ["MAX_BYTES", "read_text"]

MAX_BYTES = 1 << 30
"""The largest text file gridcore reads (1 GiB)."""


def read_text(path: str | os.PathLike[str], what: str) -> str:
    """The UTF-8 text of the file at `path` (a leading BOM dropped); `what` names it in errors."""
    p = Path(path)
    try:
        if not p.is_file():
            raise FileFormatError(
                str(p), "", "", what, "no such file" if not p.exists() else "not a regular file"
            )
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise FileFormatError(str(p), "", "", f"{what} of at most {MAX_BYTES} bytes", size)
        raw = p.read_bytes()
    except OSError as exc:
        raise FileFormatError(str(p), "", "", f"{what} that can be read", exc.strerror) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileFormatError(
            str(p), f"byte {exc.start}", "", f"{what} in UTF-8", raw[exc.start : exc.start + 4]
        ) from None
    return text.removeprefix("\ufeff")

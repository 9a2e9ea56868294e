"""Results folders: checked before the work, written whole or not at all, with a manifest.

A results folder (`simulate`, `compare`, `sweep`) holds a `manifest.json`: its kind, the
gridcore version, a hash of what produced it (the scenario, the pair, the sweep) and
every file with its SHA-256. It is deterministic (no timestamps), so the same run gives
the same bytes. Report outputs (`report.html`, `*.png`) and dot files are not listed.

- `check_destination` runs when a command starts: the folder must be creatable and
  writable, not a file, and either absent, empty, or a result of the same kind and
  hash (unless `overwrite`); nothing is written by the check.
- `write_whole` fills a temporary sibling folder, seals it with its manifest and renames
  it into place, so a reader never sees a half-written folder or another run's files.
- `verify` checks a folder against its manifest and names what is wrong.
- `folder_lock` holds an exclusive lock on a folder (a sweep resumes only under it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gridcore.errors import FileFormatError
from gridcore.io.atomic import json_safe, write_text_atomic

__all__ = [
    "LOCK_NAME",
    "MANIFEST",
    "MANIFEST_FORMAT",
    "check_destination",
    "check_writable_file",
    "content_hash",
    "folder_lock",
    "read_manifest",
    "seal",
    "verify",
    "write_whole",
]

MANIFEST = "manifest.json"
"""The manifest's file name inside a results folder."""

MANIFEST_FORMAT = "gridcore.results-folder/1"
"""The `format` value of a manifest."""

LOCK_NAME = ".gridcore.lock"
"""The lock file a sweep holds inside its folder (a dot file: not in the manifest)."""


def content_hash(value: Any) -> str:
    """SHA-256 of the canonical JSON of a JSON-like value (sorted keys, no spaces)."""
    text = json.dumps(
        json_safe(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _ignored(rel: Path) -> bool:
    """Files a manifest does not list: dot files, the manifest, a report's page and figures."""
    return (
        any(part.startswith(".") for part in rel.parts)
        or rel.as_posix() == MANIFEST
        or rel.name == "report.html"
        or rel.suffix == ".png"
    )


def _files(folder: Path) -> list[Path]:
    return sorted(
        p.relative_to(folder)
        for p in folder.rglob("*")
        if p.is_file() and not _ignored(p.relative_to(folder))
    )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _version() -> str:
    from gridcore import __version__

    return __version__


def seal(folder: str | os.PathLike[str], kind: str, key: str) -> dict[str, Any]:
    """Write `folder`'s manifest: kind, version, key and every file's SHA-256; return it."""
    d = Path(folder)
    manifest = {
        "format": MANIFEST_FORMAT,
        "kind": kind,
        "gridcore_version": _version(),
        "scenario_hash": key,
        "files": {p.as_posix(): _sha256(d / p) for p in _files(d)},
    }
    write_text_atomic(d / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def read_manifest(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The folder's manifest, or None when it has none (or it is not a manifest)."""
    path = Path(folder) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        return None
    return data


def verify(folder: str | os.PathLike[str], kinds: tuple[str, ...] = ()) -> dict[str, Any]:
    """The folder's manifest, after checking every file against it; FileFormatError naming
    the folder and what is wrong (no manifest, another kind, a file missing, changed or
    not listed) otherwise."""
    d = Path(folder)
    where = str(d)
    if not d.is_dir():
        raise FileFormatError(where, "", "", "a results folder")
    path = d / MANIFEST
    if not path.exists():
        raise FileFormatError(
            where,
            "",
            MANIFEST,
            "a results folder with its manifest (written by gridcore)",
            "missing",
        )
    data = read_manifest(d)
    if data is None or not isinstance(data.get("files"), dict):
        raise FileFormatError(where, MANIFEST, "format", f"a manifest {MANIFEST_FORMAT!r}")
    if kinds and data.get("kind") not in kinds:
        raise FileFormatError(where, MANIFEST, "kind", f"one of {list(kinds)}", data.get("kind"))
    listed: dict[str, Any] = data["files"]
    present = {p.as_posix() for p in _files(d)}
    missing = sorted(set(listed) - present)
    if missing:
        raise FileFormatError(where, MANIFEST, "files", "every listed file present", missing)
    changed = sorted(n for n in listed if _sha256(d / n) != listed[n])
    if changed:
        raise FileFormatError(
            where, MANIFEST, "files", "files unchanged since the run wrote them", changed
        )
    extra = sorted(present - set(listed))
    if extra:
        raise FileFormatError(
            where, MANIFEST, "files", "no file that the run did not write (another run's?)", extra
        )
    return data


def _probe_writable(path: Path, what: str) -> None:
    """Check that a file can be created where `path` is (nearest existing folder)."""
    base = path
    while not base.exists():
        if base.parent == base:
            break
        base = base.parent
    if not base.is_dir():
        raise FileFormatError(str(path), "", "", f"{what} under a folder", f"{base} is a file")
    try:
        probe = tempfile.mkdtemp(prefix=".gridcore-probe-", dir=base)
    except OSError as exc:
        raise FileFormatError(
            str(path), "", "", f"{what} in a writable place", f"{base}: {exc.strerror}"
        ) from None
    os.rmdir(probe)


def check_writable_file(path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """Check before any work that a file can be written at `path` (not a folder, its folder
    writable; an existing file only with `overwrite`); returns the path."""
    p = Path(path)
    if p.is_dir():
        raise FileFormatError(str(p), "", "", "a file name", "a folder")
    if p.exists() and not overwrite:
        raise FileFormatError(str(p), "", "", "a new file (or --overwrite)", "an existing file")
    _probe_writable(p.parent if str(p.parent) else Path("."), "a file")
    return p


def check_destination(
    folder: str | os.PathLike[str], kind: str, key: str, *, overwrite: bool = False
) -> Path:
    """Check before any work that a `kind` results folder with hash `key` may be written
    at `folder`; returns the path. Nothing is written."""
    d = Path(folder)
    if d.exists() and not d.is_dir():
        raise FileFormatError(str(d), "", "", "a results folder", "an existing file")
    _probe_writable(d.parent if str(d.parent) else Path("."), "a results folder")
    if d.is_dir():
        try:
            nonempty = any(not p.name.startswith(".") for p in d.iterdir())
        except OSError as exc:
            raise FileFormatError(str(d), "", "", "a readable folder", exc.strerror) from None
        if nonempty and not overwrite:
            m = read_manifest(d)
            if m is None:
                raise FileFormatError(
                    str(d),
                    "",
                    "",
                    "an empty folder or a gridcore results folder (use --overwrite to replace "
                    "its contents)",
                    "a folder holding other files",
                )
            if m.get("kind") != kind or m.get("scenario_hash") != key:
                raise FileFormatError(
                    str(d),
                    "",
                    "",
                    f"a {kind} result of the same input, or an empty folder (use --overwrite "
                    "to replace it)",
                    f"a {m.get('kind')} result of another input",
                )
    return d


def write_whole(
    folder: str | os.PathLike[str], kind: str, key: str, fill: Callable[[Path], None]
) -> Path:
    """Write a results folder whole: `fill` writes into a temporary sibling, which is sealed
    with its manifest and renamed into place (an old folder there is replaced). On any
    failure the temporary is removed and the old folder stays."""
    d = Path(folder)
    parent = d.parent if str(d.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{d.name}.", suffix=".tmp", dir=parent))
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        fill(tmp)
        seal(tmp, kind, key)
        if d.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{d.name}.", suffix=".old", dir=parent))
            os.rmdir(old)
            os.replace(d, old)
            try:
                os.replace(tmp, d)
            except BaseException:
                os.replace(old, d)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, d)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return d


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold an exclusive lock on `folder` (created if needed) while the `with` runs.

    Another holder makes this raise FileFormatError at once (it does not wait). The lock
    is the kernel's (`flock`): it ends with its process, also on `kill -9`. Where `fcntl`
    is missing (Windows) no lock is taken.
    """
    d = Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX
        yield d
        return
    fd = os.open(d / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "another process"
            raise FileFormatError(
                str(d),
                "",
                "",
                "a folder no other sweep is writing (wait for it to end, or use another --out)",
                f"locked by process {holder}",
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        try:
            yield d
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)

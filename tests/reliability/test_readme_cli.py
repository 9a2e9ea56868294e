"""The README's command lines work as a newcomer types them."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import gridcore
from gridcore.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SRC = Path(gridcore.__file__).resolve().parents[1]


def _sh_lines() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)[1:]  # the first is make run/check
    lines = [ln.split("  #")[0].strip() for b in blocks for ln in b.splitlines()]
    return [ln for ln in lines if ln]


GRIDCORE = [ln for ln in _sh_lines() if ln.startswith("gridcore ")]


def test_the_readme_says_how_to_get_gridcore_on_the_path() -> None:
    """The venv is activated (in a sh block) before the first gridcore line."""
    lines = _sh_lines()
    first = next(i for i, ln in enumerate(lines) if ln.startswith("gridcore "))
    assert ". .venv/bin/activate" in lines[:first]


def test_pip_lines_install_this_checkout() -> None:
    """`pip install 'gridcore[...]'` would fetch from the index: it says -e '.[...]'."""
    assert not re.search(r"pip install '?gridcore\[", README)
    assert "pip install -e '.[report]'" in README


@pytest.mark.parametrize("line", GRIDCORE)
def test_every_gridcore_line_parses(line: str) -> None:
    """Each line is a valid command line of today's parser."""
    build_parser().parse_args(shlex.split(line)[1:])


@pytest.mark.parametrize("line", GRIDCORE)
def test_every_written_path_is_under_runs(line: str) -> None:
    """Outputs go under runs/ (ignored by git), never into the repository's root."""
    args = build_parser().parse_args(shlex.split(line)[1:])
    for name in ("out", "staff_dir"):
        value = getattr(args, name, None)
        if value is not None:
            assert Path(value).parts[0] == "runs", line
    assert "runs/" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_files_and_checks_block_runs_as_written(tmp_path: Path) -> None:
    """city, validate and cases diagram run from a fresh folder, writing only under runs/."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    block = [ln for ln in GRIDCORE if ln.split()[1] in ("city", "validate", "cases")]
    assert len(block) == 3
    for line in block:
        proc = subprocess.run(
            [sys.executable, "-m", "gridcore", *shlex.split(line)[1:]],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert proc.returncode == 0, (line, proc.stderr)
    assert [p.name for p in tmp_path.iterdir()] == ["runs"]

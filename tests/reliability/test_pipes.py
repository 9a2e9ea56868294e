"""A closed pipe ends the command quietly: no BrokenPipeError traceback, exit 141."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gridcore
from gridcore.cli import EXIT_BROKEN_PIPE

SRC = Path(gridcore.__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(SRC)}


def _into_closed_pipe(args: list[str]) -> tuple[int, str]:
    """Run the CLI with stdout a pipe whose reader is already gone; (exit code, stderr)."""
    r, w = os.pipe()
    os.close(r)  # nobody will read: the first write gets EPIPE
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "gridcore", *args],
            stdout=w,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
            timeout=300,
        )
    finally:
        os.close(w)
    return proc.returncode, proc.stderr


def test_cases_diagram_into_a_closed_pipe_ends_quietly() -> None:
    """`gridcore cases diagram | head -0`: no traceback, the SIGPIPE exit code."""
    code, err = _into_closed_pipe(["cases", "diagram"])
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert err == ""
    assert code == EXIT_BROKEN_PIPE


def test_simulate_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    """`simulate ... | true` after the run: the results are written, no traceback."""
    scenario = tmp_path / "q.toml"
    scenario.write_text("[run]\ndays = 1\nreplications = 1\n[queue_only]\nworkers = 2\n")
    out = tmp_path / "out"
    code, err = _into_closed_pipe(
        ["simulate", "--scenario", str(scenario), "--quiet", "--out", str(out)]
    )
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert code == EXIT_BROKEN_PIPE
    assert (out / "summary.json").exists()


def test_head_reads_the_first_lines_and_the_command_ends_quietly() -> None:
    """With a real reader that stops after one line (head -n 1)."""
    proc = subprocess.run(
        f"{sys.executable} -m gridcore cases diagram | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
    )
    assert proc.returncode == 0
    assert len(proc.stdout.splitlines()) == 1
    assert "Traceback" not in proc.stderr

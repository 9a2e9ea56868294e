"""Pool workers end when their parent is killed (kill -9 leaves no worker behind)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import gridcore
from gridcore.sim.pool import WATCHDOG_SECONDS

SRC = Path(gridcore.__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(SRC)}
BOUND_S = 10 * WATCHDOG_SECONDS + 5  # generous on a loaded machine; typically well under 1 s

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")

# a queue-only run long enough to be killed while its workers compute
ENDLESS = (
    "[run]\ndays = 3000\nreplications = 4\n[queue_only]\nworkers = 100\narrivals_per_hour = 90\n"
)


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st is not None and st[1] == pid and st[0] != "Z":
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[0] != "Z"  # a zombie has exited (nobody reaped it yet)


def _kill_and_watch(proc: subprocess.Popen[bytes], want: int) -> None:
    """Wait for `want` workers, SIGKILL the parent, and check the workers end in time."""
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        workers = _children(proc.pid)
        if len(workers) >= want:
            break
        time.sleep(0.2)
    assert len(workers) >= want, f"only {workers} workers started"
    time.sleep(1.0)  # let them take tasks (blocked on work, not on start-up)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    end = time.monotonic() + BOUND_S
    while time.monotonic() < end and any(_alive(w) for w in workers):
        time.sleep(0.1)
    left = [w for w in workers if _alive(w)]
    for w in left:  # do not leave them behind for the next test either
        os.kill(w, signal.SIGKILL)
    assert not left, f"workers {left} outlived their killed parent by {BOUND_S} s"


def test_kill_9_of_simulate_leaves_no_worker(tmp_path: Path) -> None:
    """`gridcore simulate --workers 2` killed with SIGKILL: its two workers end too."""
    scenario = tmp_path / "long.toml"
    scenario.write_text(ENDLESS)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gridcore", "simulate", "--scenario", str(scenario),
         "--workers", "2", "--quiet"],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    _kill_and_watch(proc, 2)


def test_kill_9_of_sweep_leaves_no_worker(tmp_path: Path) -> None:
    """`gridcore sweep --workers 2` killed with SIGKILL: its workers end too."""
    (tmp_path / "long.toml").write_text(ENDLESS)
    sweep = tmp_path / "s.toml"
    sweep.write_text(
        '[sweep]\nscenario = "long.toml"\nreplications = 2\n'
        '[sweep.grid]\n"queue_only.workers" = [100, 101]\n'
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gridcore", "sweep", str(sweep), "--out", str(tmp_path / "o"),
         "--workers", "2"],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    _kill_and_watch(proc, 2)


def test_the_portable_watchdog_alone_ends_orphaned_workers() -> None:
    """Without the Linux death signal, the watchdog thread still ends the workers."""
    script = textwrap.dedent(
        """
        import time
        from gridcore.sim.pool import process_pool

        pool = process_pool(2, death_signal=False)
        futures = [pool.submit(time.sleep, 600) for _ in range(2)]
        time.sleep(600)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _kill_and_watch(proc, 2)


def test_zero_or_negative_workers_are_refused_not_changed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--workers 0`, `-3` or a huge count is an error naming the bound, before any work."""
    from gridcore.cli import main
    from gridcore.sim.pool import MAX_WORKERS

    (tmp_path / "q.toml").write_text("[queue_only]\nworkers = 2\n")
    sweep = tmp_path / "s.toml"
    sweep.write_text('[sweep]\nscenario = "q.toml"\n[sweep.grid]\n"run.days" = [1]\n')
    for n in ("0", "-3", "100000"):
        for argv in (
            ["simulate", "--scenario", str(tmp_path / "q.toml"), "--workers", n],
            ["compare", "--workers", n],
            ["sweep", str(sweep), "--out", str(tmp_path / "o"), "--workers", n],
        ):
            assert main(argv) == 2
            err = capsys.readouterr().err
            assert f"--workers = {n}" in err and f"[1, {MAX_WORKERS}]" in err, err
    assert not (tmp_path / "o").exists()


# A worker killed while it writes a 200 MB result leaves half a message in the result pipe;
# the pool's manager thread must still end (the interpreter joins it at exit).
_HALF_WRITTEN = textwrap.dedent(
    """
    import random, sys, time
    from gridcore.sim.pool import WorkerPool

    def big(n):
        return b"x" * n

    rnd = random.Random(int(sys.argv[1]))
    for _ in range(6):
        pool = WorkerPool(1)
        pool.submit(big, 200_000_000)
        time.sleep(rnd.uniform(0.05, 0.6))
        pool.terminate()
    print("done")
    """
)


@pytest.mark.parametrize("seed", [1, 3])
def test_terminate_mid_result_lets_the_process_exit(seed: int) -> None:
    """`WorkerPool.terminate` (what Ctrl-C calls) kills workers at random moments of
    writing a large result; the process still exits (before the fix it hung in 2 of 3
    seeds: its manager thread waited for the rest of a half-written result)."""
    out = subprocess.run(
        [sys.executable, "-c", _HALF_WRITTEN, str(seed)],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and out.stdout.strip() == "done", out.stderr

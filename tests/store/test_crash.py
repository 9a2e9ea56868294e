"""Crash safety: a writer appending real case actions is SIGKILLed at random moments.

After each kill: `verify` passes, every append the writer saw acknowledged is there
exactly once with the events it wrote, and the journal ends on a batch boundary (no
partial batch visible). CI kills it 30 times per durable backend (SQLite file,
PostgreSQL); the soak runs 300:

    GRIDCORE_CRASH_KILLS=300 PYTHONPATH=src python -m pytest tests/store/test_crash.py
"""

from __future__ import annotations

import os
import signal
import time
import traceback
from functools import cache
from pathlib import Path

import numpy as np
from conftest import POLICY
from crash_writer import boundaries, steps, write
from store_traffic import desk_events

from gridcore.cases import CaseEvent
from gridcore.store import open_store
from gridcore.store.verify import verify

KILLS = int(os.environ.get("GRIDCORE_CRASH_KILLS", "30"))
SEED = 5


@cache
def expected_events() -> tuple[CaseEvent, ...]:
    return tuple(desk_events(steps(SEED), POLICY))


def _spawn(url: str, ack: Path, err: Path) -> int:
    """Fork a writer process (it shares nothing open with the parent: the parent's
    journal is closed before); its traceback, if it fails, goes to `err`."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            write(url, SEED, str(ack))
        except BaseException:
            err.write_text(traceback.format_exc())
            code = 1
        os._exit(code)
    return pid


def _wait_for_start(ack: Path, pid: int, err: Path, before: int) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if ack.exists() and ack.read_text().count("start") > before:
            return
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            raise AssertionError(f"the writer exited ({status}): {err.read_text()}")
        time.sleep(0.002)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError("the writer did not start within 180 s")


def _batches(ack: Path) -> int:
    """How many appends the writers have acknowledged so far."""
    return sum(1 for line in ack.read_text().splitlines() if not line.startswith("start"))


def _wait_for_batches(ack: Path, pid: int, target: int) -> None:
    """Wait until `target` appends are acknowledged or the writer has exited."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _batches(ack) < target:
        if os.waitpid(pid, os.WNOHANG)[0]:
            raise AssertionError("the writer finished its work before it was killed")
        time.sleep(0.001)


def test_sigkilled_writers_never_leave_a_partial_or_doubled_append(
    durable_url: str, tmp_path: Path
) -> None:
    """KILLS random SIGKILLs of a writer; after each the journal is a whole-batch prefix
    of the expected events, verify passes, every acknowledged batch is there once."""
    expected = expected_events()
    bounds = set(boundaries(SEED, len(expected)))
    rng = np.random.default_rng(2024)
    ack = tmp_path / "ack.txt"
    err = tmp_path / "writer-error.txt"
    acked: dict[str, tuple[int, int]] = {}
    kills = 0
    for round_ in range(KILLS):
        pid = _spawn(durable_url, ack, err)
        _wait_for_start(ack, pid, err, round_)
        # Kill after a random number of acknowledged batches plus a random few ms, so the
        # moment lands before, inside or between appends whatever the disk's speed (a
        # sleep in seconds let a fast machine's writer finish its work before the kill).
        _wait_for_batches(ack, pid, _batches(ack) + int(rng.integers(0, 4)))
        time.sleep(float(rng.uniform(0.0, 0.005)))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
            kills += 1
        else:
            assert os.WEXITSTATUS(status) == 0, err.read_text()
        for line in ack.read_text().splitlines():
            parts = line.split()
            if len(parts) == 3:
                lo, hi, cmd = int(parts[0]), int(parts[1]), parts[2]
                assert acked.setdefault(cmd, (lo, hi)) == (lo, hi), f"{cmd} acknowledged twice"
        with open_store(durable_url, policy=POLICY) as store:
            report = verify(store)
            assert report.ok, report.problems
            n = store.last_position()
            assert n in bounds, f"round {round_}: the journal ends at {n}, inside a batch"
            got = [s.event for s in store.all_events()]
            assert got == list(expected[:n])  # each event once, in order
            for cmd, (lo, hi) in acked.items():
                assert hi <= n, f"acknowledged {cmd} ({lo}..{hi}) lost: journal ends at {n}"
                done = store.command(cmd)
                assert done is not None and (done[0].position, done[-1].position) == (lo, hi)
    assert kills >= KILLS * 0.9  # the writer was killed, not left to finish
    assert len(acked) > KILLS  # it made progress between kills

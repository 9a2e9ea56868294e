"""Crash safety: a writer appending real case actions is SIGKILLed at random moments.

After each kill: `verify` passes, every append the writer saw acknowledged is there
exactly once with the events it wrote, and the journal ends on a batch boundary (no
partial batch visible). CI kills it 30 times per durable backend; the soak runs 300:

    GRIDCORE_CRASH_KILLS=300 PYTHONPATH=src python -m pytest tests/store/test_crash.py
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

import numpy as np
from conftest import POLICY
from crash_writer import N_CASES, boundaries
from store_traffic import desk_events, desk_steps

from gridcore.cases import CaseEvent
from gridcore.store import open_store
from gridcore.store.verify import verify

KILLS = int(os.environ.get("GRIDCORE_CRASH_KILLS", "30"))
SEED = 5
WRITER = Path(__file__).with_name("crash_writer.py")
SRC = Path(__file__).resolve().parents[2] / "src"


@cache
def expected_events() -> tuple[CaseEvent, ...]:
    return tuple(desk_events(desk_steps(N_CASES, SEED), POLICY))


def _wait_for_start(ack: Path, proc: subprocess.Popen[bytes], before: int) -> None:
    """Until the writer has opened the journal (its "start" line), or it died."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if ack.exists() and ack.read_text().count("start") > before:
            return
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise AssertionError(f"the writer exited {proc.returncode}: {err}")
        time.sleep(0.005)
    proc.send_signal(signal.SIGABRT)  # faulthandler prints where it waits
    proc.wait(timeout=30)
    err = proc.stderr.read().decode() if proc.stderr else ""
    raise AssertionError(f"the writer did not start within 180 s: {err}")


def test_sigkilled_writers_never_leave_a_partial_or_doubled_append(
    durable_url: str, tmp_path: Path
) -> None:
    """KILLS random SIGKILLs of a writer; after each the journal is a whole-batch prefix
    of the expected events, verify passes, every acknowledged batch is there once."""
    expected = expected_events()
    bounds = set(boundaries(SEED, len(expected)))
    rng = np.random.default_rng(2024)
    ack = tmp_path / "ack.txt"
    env = {**os.environ, "PYTHONPATH": str(SRC), "PYTHONFAULTHANDLER": "1"}
    acked: dict[str, tuple[int, int]] = {}
    kills = 0
    for round_ in range(KILLS):
        proc = subprocess.Popen(
            [sys.executable, str(WRITER), durable_url, str(SEED), str(ack)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _wait_for_start(ack, proc, round_)
        time.sleep(float(rng.uniform(0.0, 0.4)))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
        assert proc.returncode in (-signal.SIGKILL, 0), proc.stderr.read() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
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

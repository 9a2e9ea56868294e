"""The queue-only mode driven by a trace file: exact answers computed by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridcore.errors import FileFormatError
from gridcore.sim.results import read_summary
from gridcore.sim.run import run_replication, run_scenario
from gridcore.sim.scenario import load_scenario
from gridcore.sim.trace import read_queue_trace


def _scenario(tmp_path: Path, rows: str, workers: int, days: float, warmup: float = 0.0) -> Path:
    (tmp_path / "trace.csv").write_text("arrival_minutes,service_minutes\n" + rows)
    toml = (
        f"[run]\ndays = {days!r}\nwarmup_days = {warmup!r}\nreplications = 1\n"
        f'[queue_only]\nworkers = {workers}\ntrace = "trace.csv"\n'
    )
    path = tmp_path / "s.toml"
    path.write_text(toml)
    return path


def test_one_server_trace_gives_the_hand_computed_waits(tmp_path: Path) -> None:
    """1 server, 1 day: (0, 30) (10, 30) (20, 5) (100, 60).

    C1 serves 0-30 (wait 0); C2 waits 10-30, serves 30-60 (wait 20); C3 waits 20-60,
    serves 60-65 (wait 40); C4 serves 100-160 (wait 0). Mean wait 60 / 4 = 15, P(wait)
    2 / 4; busy 30 + 30 + 5 + 60 = 125 of 1440 minutes; queue length area: 1 waiting on
    [10, 20], 2 on [20, 30], 1 on [30, 60]: 10 + 20 + 30 = 60 minute-customers.
    """
    s = load_scenario(_scenario(tmp_path, "0,30\n10,30\n20,5\n100,60\n", workers=1, days=1.0))
    m = run_replication(s, 0).as_dict()
    assert m["customers"] == 4
    assert m["queue_wait_minutes"] == pytest.approx(15.0)
    assert m["p_wait"] == pytest.approx(0.5)
    assert m["utilisation"] == pytest.approx(125 / 1440)
    assert m["queue_length_mean"] == pytest.approx(60 / 1440)


def test_service_past_the_horizon_counts_only_up_to_it(tmp_path: Path) -> None:
    """2 servers, horizon 144 min: (0, 100) (50, 200) (60, 10) (150, 10).

    C1 serves 0-100, C2 50-250, C3 waits 60-100 and serves 100-110 (wait 40); C4 arrives at
    150, after the horizon: not admitted. Busy inside [0, 144]: 100 + (144 - 50) + 10 = 204
    of 2 x 144 = 288 server-minutes. Mean wait 40 / 3, P(wait) 1 / 3.
    """
    path = _scenario(tmp_path, "0,100\n50,200\n60,10\n150,10\n", workers=2, days=0.1)
    result = run_scenario(load_scenario(path))
    result.write(tmp_path / "out")
    summary = read_summary(tmp_path / "out")
    assert summary["utilisation"] == pytest.approx(204 / 288)
    assert summary["customers_mean"] == 3
    assert summary["queue_wait_minutes_mean"] == pytest.approx(40 / 3)
    assert summary["p_wait"] == pytest.approx(1 / 3)
    assert "theory" not in summary  # a trace follows no queueing formula


def test_warm_up_customers_are_served_but_not_measured(tmp_path: Path) -> None:
    """1 server, warm-up 60 min, window [60, 120]: (0, 90) (30, 20) (70, 10).

    C1 serves 0-90, C2 90-110, C3 (arrives 70, the only measured one) waits to 110 and
    serves 110-120: wait 40. Busy inside [60, 120]: 30 + 20 + 10 = 60 of 60 minutes.
    """
    path = _scenario(tmp_path, "0,90\n30,20\n70,10\n", workers=1, days=60 / 1440, warmup=60 / 1440)
    m = run_replication(load_scenario(path), 0).as_dict()
    assert m["customers"] == 1
    assert m["queue_wait_minutes"] == pytest.approx(40.0)
    assert m["p_wait"] == 1.0
    assert m["utilisation"] == pytest.approx(1.0)


def test_a_trace_ignores_the_utilisation_limit_of_drawn_arrivals(tmp_path: Path) -> None:
    """arrivals_per_hour beyond the servers' capacity is not refused when a trace replaces it."""
    (tmp_path / "trace.csv").write_text("arrival_minutes,service_minutes\n0,1\n")
    (tmp_path / "s.toml").write_text(
        '[queue_only]\nworkers = 1\narrivals_per_hour = 100\ntrace = "trace.csv"\n'
    )
    s = load_scenario(tmp_path / "s.toml")
    assert s.queue_only is not None
    assert s.queue_only.trace == str(tmp_path / "trace.csv")


@pytest.mark.parametrize(
    ("text", "where", "field"),
    [
        ("arrival,service\n0,1\n", "line 1", ""),
        ("arrival_minutes,service_minutes\n0,1\nx,2\n", "line 3", "arrival_minutes"),
        ("arrival_minutes,service_minutes\n0,-1\n", "line 2", "service_minutes"),
        ("arrival_minutes,service_minutes\n0,nan\n", "line 2", "service_minutes"),
        ("arrival_minutes,service_minutes\n5,1\n4,1\n", "line 3", "arrival_minutes"),
        ("arrival_minutes,service_minutes\n5,1,2\n", "line 2", ""),
    ],
)
def test_a_bad_trace_names_file_line_and_column(
    tmp_path: Path, text: str, where: str, field: str
) -> None:
    """Each bad trace gets a FileFormatError naming the file, the line and the column."""
    p = tmp_path / "bad.csv"
    p.write_text(text)
    with pytest.raises(FileFormatError) as info:
        read_queue_trace(p)
    assert info.value.path == str(p)
    assert info.value.where == where
    assert info.value.field == field


def test_a_missing_trace_is_a_file_error(tmp_path: Path) -> None:
    """A trace that cannot be opened is a FileFormatError naming it."""
    with pytest.raises(FileFormatError, match=r"nope\.csv"):
        read_queue_trace(tmp_path / "nope.csv")

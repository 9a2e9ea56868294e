"""Check before the work: every input and output of every command, and the work bounds.

The simulation itself is replaced by a stub that fails the test if it is reached: a
refusal must come before any work, and nothing is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gridcore.cli import main
from gridcore.errors import ScenarioError
from gridcore.io.geojson import hierarchy_to_geojson
from gridcore.sim.scenario import MAX_DAYS, MAX_QUEUE_DAYS, load_scenario, scenario_from_dict
from gridcore.synth import build_city

QUEUE = "[run]\ndays = 1\nreplications = 2\n[queue_only]\nworkers = 2\n"
UNWRITABLE = "/proc/gridcore-not-here/out"  # /proc takes no new folders, even as root


@pytest.fixture
def no_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runners fail the test when called: the refusal must come first."""

    def ran(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the work started before the inputs and outputs were checked")

    monkeypatch.setattr("gridcore.sim.run.run_scenario", ran)
    monkeypatch.setattr("gridcore.sim.run.compare", ran)
    monkeypatch.setattr("gridcore.sweep.commands.run_sweep", ran)
    monkeypatch.setattr("gridcore.synth.synthetic_city", ran)


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str], *words: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("gridcore: error:") and len(err.strip().splitlines()) == 1, err
    for w in words:
        assert w in err, err
    return err


@pytest.mark.parametrize("where", ["file", "under_file", "unwritable"])
@pytest.mark.usefixtures("no_run")
def test_every_command_checks_its_output_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """--out an existing file, a path under a file, or unwritable: refused before any work."""
    scen = tmp_path / "q.toml"
    scen.write_text(QUEUE)
    sweep = tmp_path / "s.toml"
    sweep.write_text('[sweep]\nscenario = "q.toml"\n[sweep.grid]\n"run.days" = [1, 2]\n')
    results = tmp_path / "results"
    results.mkdir()
    (tmp_path / "taken").write_text("a user's file\n")
    out = {
        "file": str(tmp_path / "taken"),
        "under_file": str(tmp_path / "taken" / "sub"),
        "unwritable": UNWRITABLE,
    }[where]
    before = _files(tmp_path)
    for argv in (
        ["simulate", "--scenario", str(scen), "--out", out],
        ["compare", str(scen), str(scen), "--out", out],
        ["sweep", str(sweep), "--out", out],
        ["city", "--preset", "shuanghu", "--out", out + "/c.geojson"],
        ["city", "--preset", "shuanghu", "--out", str(tmp_path / "c.geojson"), "--staff-dir", out],
    ):
        _refused(argv, capsys)
    assert _files(tmp_path) == before
    assert (tmp_path / "taken").read_text() == "a user's file\n"


def test_city_refuses_to_overwrite_a_file_unless_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An existing GeoJSON or staff file is kept unless --overwrite."""
    out = tmp_path / "c.geojson"
    out.write_text("mine")
    _refused(["city", "--preset", "shuanghu", "--out", str(out)], capsys, "--overwrite")
    assert out.read_text() == "mine"
    assert main(["city", "--preset", "shuanghu", "--out", str(out), "--overwrite"]) == 0
    assert out.read_text() != "mine"


def test_report_checks_its_input_and_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """report: a missing folder, a non-results folder, an --out that is a file: refused."""
    _refused(["report", str(tmp_path / "none")], capsys, "none")
    _refused(["report", str(tmp_path)], capsys, "manifest")
    scen = tmp_path / "q.toml"
    scen.write_text(QUEUE)
    run = tmp_path / "run"
    assert main(["simulate", "--scenario", str(scen), "--out", str(run), "--quiet"]) in (0, 1)
    (tmp_path / "taken").write_text("x")
    _refused(["report", str(run), "--out", str(tmp_path / "taken")], capsys, "taken")
    _refused(["report", str(run), "--out", UNWRITABLE], capsys, "writable")
    assert not (run / "report.html").exists()


@pytest.mark.usefixtures("no_run")
def test_days_1e9_is_refused_in_a_file_on_the_command_line_and_in_a_sweep(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The bound is in the message wherever the number comes from."""
    big = tmp_path / "big.toml"
    big.write_text("[run]\ndays = 1e9\n")
    _refused(["simulate", "--scenario", str(big)], capsys, "run.days", f"{MAX_QUEUE_DAYS:g}")
    _refused(["simulate", "--preset", "shuanghu", "--days", "1e9"], capsys, "run.days")
    _refused(["simulate", "--preset", "shuanghu", "--days", "5000"], capsys, f"<= {MAX_DAYS:g}")
    sweep = tmp_path / "s.toml"
    sweep.write_text('[sweep]\npreset = "shuanghu"\n[sweep.grid]\n"run.days" = [1, 1e9]\n')
    _refused(["sweep", str(sweep), "--out", str(tmp_path / "o")], capsys, "run.days")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("key", "value", "bound"),
    [
        ("run.replications", 10**6, "10000"),
        ("city.grids", 10**7, "300000"),
        ("queue_only.arrivals_per_hour", 1e7, "10,000,000"),
        ("incidents.per_1000_households_per_day", 999.0, "100"),
        ("surges", [{"categories": ["E01"], "factor": 1e6}], "100000"),
        ("staffing.workers_per_grid", 1e6, "100"),
    ],
)
def test_every_work_size_number_is_bounded(key: str, value: Any, bound: str) -> None:
    """Each number that sets the size of a run has a bound, named in the message."""
    data: dict[str, Any] = {"run": {"days": 300}}
    if key.startswith("queue_only"):
        data["queue_only"] = {"workers": 10_000, "mean_handling_minutes": 0.001}
    section, _, name = key.partition(".")
    if name:
        data.setdefault(section, {})[name] = value
    else:
        data[section] = value
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict(data, "s.toml")
    assert bound in str(info.value) and "s.toml" in str(info.value)


def test_a_sweep_with_too_many_runs_is_refused_before_it_is_expanded(tmp_path: Path) -> None:
    """A grid of 10^12 points is refused at once, naming the bound (not built in memory)."""
    from gridcore.sweep import MAX_RUNS, load_sweep

    def axis(n: int) -> str:
        return "[" + ", ".join(str(i) for i in range(1, n + 1)) + "]"

    sweep = tmp_path / "s.toml"
    sweep.write_text(
        '[sweep]\npreset = "shuanghu"\n[sweep.grid]\n'
        f'"staffing.community_staff" = {axis(100)}\n"staffing.street_staff" = {axis(100)}\n'
        f'"duties.patrols_per_day" = {axis(20)}\n'
    )
    with pytest.raises(ScenarioError) as info:
        load_sweep(sweep)
    assert f"{MAX_RUNS:,}" in str(info.value)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[run]\ntimezone = "Mars/Olympus"\n', "run.timezone"),
        ('[run]\ntimezone = "../../etc/passwd"\n', "run.timezone"),
        ('[staffing]\npolicy = "nobody_works"\n', "staffing.policy"),
    ],
)
def test_the_loader_refuses_what_a_worker_would_fail_on(
    tmp_path: Path, text: str, key: str
) -> None:
    """A bad time zone or staffing policy is refused by the loader, naming the key."""
    f = tmp_path / "s.toml"
    f.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(f)
    assert info.value.key == key and str(f) in str(info.value)


def _bowtie_city(tmp_path: Path) -> Path:
    data = hierarchy_to_geojson(build_city("shuanghu", seed=1))
    grid = next(f for f in data["features"] if f["properties"]["level"] == "grid")
    ring = grid["geometry"]["coordinates"][0]
    xs = [p[0] for p in ring]
    ys = [p[1] for p in ring]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    grid["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[x0, y0], [x1, y1], [x1, y0], [x0, y1], [x0, y0]]],
    }
    path = tmp_path / "bowtie.geojson"
    path.write_text(json.dumps(data))
    return path


def test_simulate_refuses_an_invalid_city_unless_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bow-tie grid: refused with the findings listed; --allow-invalid-city runs it."""
    city = _bowtie_city(tmp_path)
    scen = tmp_path / "s.toml"
    scen.write_text(f'[run]\ndays = 1\n[city]\ngeojson = "{city}"\n')
    reached: list[str] = []

    def stub(scenario: Any, *args: Any, **kwargs: Any) -> Any:
        reached.append(scenario.city.geojson)
        raise ScenarioError("stub", 0, "the run was reached")

    monkeypatch.setattr("gridcore.sim.run.run_scenario", stub)
    err = _refused(["simulate", "--scenario", str(scen)], capsys, "city.geojson", "finding")
    assert "invalid" in err.lower() and not reached
    assert main(["simulate", "--scenario", str(scen), "--allow-invalid-city"]) == 2
    assert reached == [str(city)]

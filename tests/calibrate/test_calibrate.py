"""Calibrating a scenario from a simulated log, end to end: the command, its files, the
scenario it writes, a store as the source, a dirty log, and scipy missing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from gridcore.calibrate import NOT_IN_A_LOG, calibrate, read_event_log, scenario_toml
from gridcore.cli import main
from gridcore.errors import ConfigError
from gridcore.sim.scenario import (
    PRESETS,
    apply_overlay,
    apply_overrides,
    load_scenario,
    scenario_from_dict,
)


def test_calibrate_writes_a_scenario_that_loads_and_a_fitted_json(
    small_log, tmp_path: Path
) -> None:
    """`gridcore calibrate` writes fitted.toml (loads with the scenario loader, equal to the
    fit), fitted.json (estimate, interval, sample size, test per key) and the data file."""
    _s, events, city = small_log
    out = tmp_path / "fitted.toml"
    assert main(["calibrate", str(events), "--city", str(city), "--out", str(out)]) == 0
    fitted = load_scenario(out)
    doc = json.loads((tmp_path / "fitted.json").read_text())
    assert doc["format"] == "gridcore.calibration/1"
    for key in (
        "incidents.per_1000_households_per_day",
        "times.verify",
        "times.handle_grid",
        "times.check",
        "times.rework_probability",
        "routing.misroute_probability",
        "routing.return_delay",
        "incidents.resident_share",
    ):
        e = doc["fitted"][key]
        assert {"estimate", "ci_low", "ci_high", "sample_size", "test"} <= set(e), key
        assert e["ci_low"] <= e["estimate"] <= e["ci_high"], key
    assert fitted.incidents.per_1000_households_per_day == pytest.approx(
        doc["fitted"]["incidents.per_1000_households_per_day"]["estimate"]
    )
    for key in ("times.handle_grid", "times.verify", "routing.return_delay"):
        section, name = key.split(".")
        dist = getattr(getattr(fitted, section), name)
        assert dist.mean_minutes == pytest.approx(doc["fitted"][key]["estimate"]), key
    assert fitted.city.geojson == str(city.resolve())
    assert fitted.run.days == 7.0
    assert set(NOT_IN_A_LOG) <= set(doc["not_fitted"])
    assert (tmp_path / "fitted_data.json").exists()


def test_calibrate_does_not_overwrite_without_force(small_log, tmp_path: Path) -> None:
    """An existing output is refused (exit 2, file untouched); --force replaces it."""
    _, events, city = small_log
    out = tmp_path / "fitted.toml"
    out.write_text("mine")
    args = ["calibrate", str(events), "--city", str(city), "--out", str(out)]
    assert main(args) == 2
    assert out.read_text() == "mine"
    assert main([*args, "--force"]) == 0
    assert out.read_text() != "mine"


def test_a_fitted_scenario_compares_like_any_scenario(small_log, tmp_path: Path) -> None:
    """`gridcore compare fitted.toml fitted-whatif.toml` runs on a calibration's output."""
    _, events, city = small_log
    out = tmp_path / "fitted.toml"
    assert main(["calibrate", str(events), "--city", str(city), "--out", str(out)]) == 0
    whatif = tmp_path / "fitted-whatif.toml"
    two = apply_overrides(load_scenario(out), {"staffing.workers_per_grid": 2.0})
    whatif.write_text(scenario_toml(two.to_dict()))
    code = main(
        [
            "compare",
            str(out),
            str(whatif),
            "--days",
            "2",
            "--replications",
            "1",
            "--quiet",
            "--workers",
            "1",
            "--out",
            str(tmp_path / "cmp"),
        ]
    )
    assert code == 0
    assert (tmp_path / "cmp" / "comparison.csv").exists()


def test_calibrate_from_a_journal_url(small_log, tmp_path: Path) -> None:
    """A store URL is read like a file: the same fit from the same events."""
    from gridcore.cases import event_from_json
    from gridcore.store import open_store

    _, events, city = small_log
    evs = [event_from_json(x) for x in events.read_text().splitlines()]
    url = f"sqlite:///{tmp_path / 'j.db'}"
    with open_store(url) as store:
        store.append(sorted(evs, key=lambda e: (e.at, e.case_id, e.seq)))
    a = tmp_path / "a.toml"
    b = tmp_path / "b.toml"
    assert main(["calibrate", url, "--city", str(city), "--out", str(a)]) == 0
    assert main(["calibrate", str(events), "--city", str(city), "--out", str(b)]) == 0
    fa = json.loads((tmp_path / "a.json").read_text())["fitted"]
    fb = json.loads((tmp_path / "b.json").read_text())["fitted"]
    assert fa["times.handle_grid"]["estimate"] == pytest.approx(fb["times.handle_grid"]["estimate"])


def test_a_dirty_log_is_calibrated_with_its_failures_reported(small_log, tmp_path: Path) -> None:
    """Negative durations, missing fields, broken lines: the calibration runs, counts them,
    and lists the fits that fail their tests."""
    _, events, city = small_log
    lines = events.read_text().splitlines()
    dirty = []
    for i, line in enumerate(lines):
        d = json.loads(line)
        if i % 50 == 0 and d["action"] == "handle":
            d["at"] = "2025-03-01T00:00:00+08:00"  # handled before it started: negative
        if i % 97 == 0:
            d.pop("case_id")
        if i % 89 == 0:
            d["payload"] = None
        dirty.append(json.dumps(d))
        if i % 211 == 0:
            dirty.append("{truncated")
    p = tmp_path / "dirty.jsonl"
    p.write_text("\n".join(dirty) + "\n")
    cal = calibrate(read_event_log(p), households=25_000)
    assert cal.dirt["lines_not_json"] > 0
    assert cal.dirt["events_missing_case_or_action"] > 0
    assert any(k.startswith("negative_durations:times.handle") for k in cal.dirt)
    assert isinstance(cal.failing(), list)
    out = tmp_path / "dirty.toml"
    assert main(["calibrate", str(p), "--city", str(city), "--out", str(out)]) == 0
    load_scenario(out)


def test_without_scipy_the_error_names_the_extra(
    small_log, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No scipy: a ConfigError telling to install gridcore[calibrate]."""
    _, events, _ = small_log
    log = read_event_log(events)
    monkeypatch.setitem(sys.modules, "scipy.stats", None)
    with pytest.raises(ConfigError, match=r"gridcore\[calibrate\]"):
        calibrate(log, households=1000)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_scenario_toml_loads_back_equal(name: str) -> None:
    """Any scenario written as TOML loads back to an equal value (with categories, surges
    and a rule list)."""
    s = apply_overlay(PRESETS[name], "epidemic")
    s = apply_overrides(
        s,
        {
            "categories": {
                "E0101": {
                    "weight": 2.5,
                    "handle": {"dist": "lognormal", "mean_minutes": 30.0, "sigma": 0.5},
                }
            },
            "escalation.rules": [{"name": "r1", "trigger": "stage_overdue", "response": "warn"}],
            "times.check": {"dist": "empirical", "values": [1.0, 2.5]},
        },
    )
    import tomllib

    back = scenario_from_dict(tomllib.loads(scenario_toml(s.to_dict(), "a header")))
    assert back == s


def test_report_on_a_calibration_shows_each_fit(small_log, tmp_path: Path) -> None:
    """`gridcore report` on a calibration folder writes the page with the arrivals figure
    and a histogram + Q-Q figure per fitted duration."""
    _, events, city = small_log
    folder = tmp_path / "cal"
    assert (
        main(["calibrate", str(events), "--city", str(city), "--out", str(folder / "fitted.toml")])
        == 0
    )
    assert main(["report", str(folder)]) == 0
    page = (folder / "report.html").read_text()
    samples = json.loads((folder / "fitted_data.json").read_text())["samples"]
    pngs = sorted(p.name for p in folder.glob("calibration_*.png"))
    assert "calibration_arrivals.png" in pngs
    assert len(pngs) == 1 + len(samples)
    assert "times.handle_grid" in page

"""Scenarios: loading, defaults, errors naming key/value/expected, overlays, overrides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridcore.errors import FileFormatError, ScenarioError
from gridcore.sim.scenario import (
    OVERLAYS,
    PRESETS,
    Dist,
    Scenario,
    apply_overlay,
    apply_overrides,
    clock_minutes,
    load_scenario,
    preset_scenario,
    reference,
    scenario_from_dict,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_the_issue_mmc_file_loads_with_defaults_elsewhere() -> None:
    """examples/mmc.toml is the file of the issue; the rest takes defaults."""
    s = load_scenario(EXAMPLES / "mmc.toml")
    assert s.name == "mmc"
    assert (s.run.days, s.run.warmup_days, s.run.seed, s.run.replications) == (400, 20, 11, 4)
    assert s.queue_only is not None and s.queue_only.workers == 3
    assert s.queue_only.utilisation == pytest.approx(0.8)
    assert s.duties == Scenario().duties


def test_every_example_file_loads() -> None:
    """Each examples/*.toml is a valid scenario."""
    files = sorted(EXAMPLES.glob("*.toml"))
    assert files
    for f in files:
        load_scenario(f)


def test_round_trip_through_dict_and_json() -> None:
    """to_dict -> JSON -> scenario_from_dict gives an equal scenario."""
    s = apply_overlay(preset_scenario("yubei"), "epidemic")
    s = apply_overrides(s, {"categories.G0401.weight": 2.5, "times.handle_grid": 30})
    back = scenario_from_dict(json.loads(json.dumps(s.to_dict())))
    assert back == s


def test_unknown_key_is_named_with_the_allowed_keys() -> None:
    """A misspelt key gets an error naming it and the keys allowed."""
    with pytest.raises(ScenarioError, match=r"'run.dayz'.*one of the keys"):
        scenario_from_dict({"run": {"dayz": 3}})


def test_bad_value_names_key_value_and_expected() -> None:
    """A negative day count names run.days, -1 and 'a number > 0'."""
    with pytest.raises(ScenarioError) as info:
        scenario_from_dict({"run": {"days": -1}}, "x.toml")
    e = info.value
    assert (e.key, e.value, e.source) == ("run.days", -1, "x.toml")
    assert "a number in (0, " in str(e)


def test_bad_distribution_names_the_inner_key() -> None:
    """A distribution of an unknown kind names times.verify.dist."""
    with pytest.raises(ScenarioError, match=r"'times.verify.dist'"):
        scenario_from_dict({"times": {"verify": {"dist": "gamma", "mean_minutes": 3}}})


def test_distribution_forms() -> None:
    """A number is an exponential mean; tables give the other kinds."""
    s = scenario_from_dict(
        {
            "times": {
                "verify": 20,
                "check": {"dist": "fixed", "mean_minutes": 5},
                "handle_grid": {"dist": "empirical", "values": [10, 20, 60]},
                "handle_street": {"dist": "lognormal", "mean_minutes": 100, "sigma": 1.2},
            }
        }
    )
    assert s.times.verify == Dist("exponential", 20.0)
    assert s.times.check == Dist("fixed", 5.0)
    assert s.times.handle_grid.mean_minutes == pytest.approx(30.0)
    assert s.times.handle_street.sigma == 1.2


def test_unstable_queue_only_is_refused() -> None:
    """Utilisation >= 1 is named on arrivals_per_hour."""
    with pytest.raises(ScenarioError, match=r"queue_only\.arrivals_per_hour"):
        scenario_from_dict({"queue_only": {"workers": 1, "arrivals_per_hour": 2}})


def test_unknown_city_preset_is_refused() -> None:
    """city.preset must be a synth preset."""
    with pytest.raises(ScenarioError, match=r"city\.preset"):
        scenario_from_dict({"city": {"preset": "atlantis"}})


def test_bad_toml_is_a_file_format_error(tmp_path: Path) -> None:
    """Syntax errors name the file."""
    p = tmp_path / "bad.toml"
    p.write_text("[run\ndays = 3\n")
    with pytest.raises(FileFormatError, match=r"bad\.toml"):
        load_scenario(p)


def test_json_scenarios_load(tmp_path: Path) -> None:
    """A .json file is read as JSON."""
    p = tmp_path / "s.json"
    p.write_text(json.dumps({"run": {"days": 5}, "routing": {"mode": "flattened"}}))
    s = load_scenario(p)
    assert (s.name, s.run.days, s.routing.mode) == ("s", 5.0, "flattened")


def test_overrides_are_validated() -> None:
    """apply_overrides goes through the same checks as a file."""
    with pytest.raises(ScenarioError, match=r"routing\.mode"):
        apply_overrides(Scenario(), {"routing.mode": "sideways"})


def test_every_overlay_applies_to_every_preset() -> None:
    """Overlays give valid scenarios whose name says what was applied."""
    for p in PRESETS.values():
        for name in OVERLAYS:
            s = apply_overlay(p, name)
            assert s.name == f"{p.name}+{name}"
    yubei = preset_scenario("yubei")
    assert apply_overlay(yubei, "small_grids").city.grids == 2 * 3311
    assert apply_overlay(yubei, "three_per_grid").staffing.workers_per_grid == 3.0
    assert apply_overlay(yubei, "one_patrol").duties.patrols_per_day == 1
    assert apply_overlay(yubei, "epidemic").surges[0].factor == 3.0


def test_unknown_overlay_and_preset_list_the_choices() -> None:
    """Names that do not exist are refused with the list."""
    with pytest.raises(ScenarioError, match="flattened"):
        apply_overlay(Scenario(), "nope")
    with pytest.raises(ScenarioError, match="yubei"):
        preset_scenario("nope")


def test_reference_documents_every_key() -> None:
    """Every key has a default and a doc line."""
    rows = reference()
    keys = {k for k, _, _ in rows}
    assert {"run.days", "queue_only.workers", "routing.mode", "surges[].factor"} <= keys
    assert all(doc for _, _, doc in rows)


class TestClockMinutes:
    @given(st.integers(0, 23), st.integers(0, 59))
    def test_any_clock_time_is_its_minutes_since_midnight(self, h: int, m: int) -> None:
        """"HH:MM" and "H:MM" both give h * 60 + m."""
        assert clock_minutes(f"{h:02d}:{m:02d}") == clock_minutes(f"{h}:{m:02d}") == h * 60 + m

    @pytest.mark.parametrize("text", ["24:01", "12:60", "-1:00", "noon", "8", "8:30:00"])
    def test_what_is_not_a_clock_time_is_refused(self, text: str) -> None:
        """Out of range or not "HH:MM": ValueError (the scenario reports it with its key)."""
        with pytest.raises(ValueError):
            clock_minutes(text)

    def test_midnight_at_the_end_of_the_day_is_1440(self) -> None:
        """A period may end at 24:00."""
        assert clock_minutes("24:00") == 1440


def test_working_periods_end_by_23_59_on_call_may_reach_midnight() -> None:
    """The working calendar cannot hold a day's end at 24:00: refused when loaded, naming
    the key, while an on-call period to midnight is accepted (the day clock handles it)."""
    base = preset_scenario("shibanxi")
    with pytest.raises(ScenarioError, match=r"duties\.working_periods.*23:59"):
        apply_overrides(base, {"duties.working_periods": ["18:00-24:00"]})
    s = apply_overrides(base, {"duties.on_call_periods": ["18:00-24:00"]})
    assert s.duties.on_call_periods == ("18:00-24:00",)

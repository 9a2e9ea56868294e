"""The grid model sweeps with the real escalation rules and simulates misrouting."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridcore.cases import CaseEvent
from gridcore.errors import ScenarioError
from gridcore.sim.model import merge_partitions, partition_events, run_partition
from gridcore.sim.run import run_scenario
from gridcore.sim.scenario import Scenario, apply_overrides, preset_scenario

# Tight limits: with the default rules (the ladder), a case still unsigned when its
# sign-for limit runs out is supervised, then goes up a level (a relay hop takes as long
# as the whole limit).


@pytest.fixture(scope="module")
def base() -> Scenario:
    return apply_overrides(
        preset_scenario("shuanghu"),
        {"run.days": 6, "run.warmup_days": 1, "run.replications": 1, "run.seed": 3},
    )


@pytest.fixture(scope="module")
def tight(base: Scenario) -> Scenario:
    return apply_overrides(
        base,
        {
            "incidents.per_1000_households_per_day": 6.0,
            "routing.misroute_probability": 0.0,
        },
    )


def _events_by_case(s: Scenario) -> dict[str, list[CaseEvent]]:
    """The first street's case logs, by case id."""
    by_case: dict[str, list[CaseEvent]] = {}
    for e in partition_events(s, 0, 0)[1]:
        by_case.setdefault(e.case_id, []).append(e)
    return by_case


def test_tight_limits_escalate_with_the_rule_name_in_the_case_logs(tight: Scenario) -> None:
    """Cases past their sign-for limit are escalated by the rule: escalate events say so."""
    res, events = partition_events(tight, 0, 0)
    esc = [e for e in events if e.action == "escalate" and "rule" in e.payload]
    assert esc, "no rule-made escalation"
    rules = {e.payload["rule"] for e in esc}
    assert "sign_for_overdue_up" in rules
    for e in esc:
        assert e.actor == "system" and e.payload["level"] in ("community", "street", "department")
    assert any(e.action == "warn" for e in events)
    assert any(e.action == "supervise" for e in events)
    m = dict(merge_partitions(tight, 0, [res]).metrics)
    assert m["escalations_per_100_cases"] > 0
    assert m["warnings_per_100_cases"] > 0 and m["supervisions_per_100_cases"] > 0


def test_an_escalated_case_is_handled_by_its_new_owner(tight: Scenario) -> None:
    """After a rule escalation the case is signed for by its new owner's unit, not a grid."""
    by_case = _events_by_case(tight)
    moved = 0
    for evs in by_case.values():
        idx = [i for i, e in enumerate(evs) if e.action == "escalate" and "rule" in e.payload]
        if not idx:
            continue
        after = evs[idx[0] :]
        signs = [i for i, e in enumerate(after) if e.action == "sign_for"]
        if signs:
            moved += 1
            routed = [e for e in after[: signs[0]] if "to" in e.payload]
            # signed for by the owner the escalation (or the relay after it) sent it to
            assert after[signs[0]].payload.get("unit") == routed[-1].payload["to"]
            assert not str(routed[-1].payload["to"]).startswith("team:")
    assert moved > 0


def test_no_rules_no_escalations(tight: Scenario) -> None:
    """`escalation.rules = []` turns the sweeps off: no rule-made event at all."""
    off = apply_overrides(tight, {"escalation.rules": []})
    res, events = partition_events(off, 0, 0)
    assert not [e for e in events if "rule" in e.payload]
    assert not [e for e in events if e.action in ("warn", "supervise")]
    m = dict(merge_partitions(off, 0, [res]).metrics)
    assert m["escalations_per_100_cases"] == 0.0 == m["warnings_per_100_cases"]


def test_misroute_zero_gives_accurate_dispatch_in_flattened_mode(base: Scenario) -> None:
    """Flattened, no misrouting and no escalation rules: every dispatch is accurate."""
    s = apply_overrides(
        base,
        {"routing.mode": "flattened", "routing.misroute_probability": 0.0, "escalation.rules": []},
    )
    m = dict(merge_partitions(s, 0, [run_partition(s, 0, 0)]).metrics)
    assert m["accurate_dispatch_rate"] == 1.0
    assert m["returns_per_100_cases"] == 0.0


def test_misrouting_makes_returns_and_lowers_accuracy(base: Scenario) -> None:
    """With misrouting the wrong owner asks for a return, the desk approves and re-sends."""
    s = apply_overrides(
        base,
        {"routing.mode": "flattened", "routing.misroute_probability": 0.2, "escalation.rules": []},
    )
    res, events = partition_events(s, 0, 0)
    m = dict(merge_partitions(s, 0, [res]).metrics)
    assert 0.0 < m["accurate_dispatch_rate"] < 1.0
    assert m["returns_per_100_cases"] > 0
    asks = [e for e in events if e.action == "request_return"]
    oks = [e for e in events if e.action == "approve_return"]
    assert asks and oks and all(e.reason for e in asks)
    assert all(e.payload["to"] != a.payload.get("unit") for a, e in zip(asks, oks, strict=False))


def test_same_seed_same_files_with_escalation_and_misrouting(
    tight: Scenario, tmp_path: Path
) -> None:
    """Escalation sweeps and misroutes keep results byte for byte reproducible."""
    s = apply_overrides(tight, {"routing.misroute_probability": 0.1, "run.days": 3})
    a, b = tmp_path / "a", tmp_path / "b"
    run_scenario(s).write(a)
    run_scenario(s).write(b)
    names = sorted(p.name for p in a.iterdir())
    assert "escalations.csv" in names
    for n in names:
        assert (a / n).read_bytes() == (b / n).read_bytes(), n
    text = (a / "escalations.csv").read_text()
    assert "sign_for_overdue_up" in text and "yellow_warning" in text


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("sometimes", "escalation.rules"),
        ([{"name": "x", "trigger": "never", "response": "warn"}], "escalation.rules[0].trigger"),
        ([{"name": "x", "trigger": "yellow_reached"}], "escalation.rules[0].response"),
        (
            [{"name": "x", "trigger": "reopened", "response": "warn", "stages": ["handle"]}],
            "escalation.rules[0]",
        ),
    ],
)
def test_bad_rules_are_refused_naming_the_key(value: object, key: str) -> None:
    """A bad rule table gets a ScenarioError naming its key."""
    with pytest.raises(ScenarioError) as err:
        apply_overrides(Scenario(), {"escalation.rules": value})
    assert err.value.key == key


def test_a_case_being_worked_on_is_not_escalated_until_the_work_ends(tight: Scenario) -> None:
    """Handling past its deadline while someone works on it: the handler keeps the case
    (the escalation waits, and the work ends with a new stage); no escalate in between."""
    by_case = _events_by_case(tight)
    overdue_at_work = 0
    for evs in by_case.values():
        due = None
        working = False
        for e in evs:
            if "due" in e.payload:
                due = e.payload["due"]
            if e.action == "start":
                working = True
            elif e.action == "handle":
                working = False
                if due is not None and e.at.isoformat() > str(due):
                    overdue_at_work += 1
            elif e.action == "escalate":
                assert not working, f"case {e.case_id} escalated while being worked on"
    assert overdue_at_work > 0, "no case ran past its deadline while being worked on"

"""The command line: exit codes and what it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gridcore.cli import main
from gridcore.io import read_geojson


def test_city_writes_a_readable_geojson(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`gridcore city` writes the preset city; it reads back with the same grids."""
    out = tmp_path / "c.geojson"
    assert main(["city", "--preset", "shuanghu", "--seed", "3", "--out", str(out)]) == 0
    assert len(read_geojson(out).grids) == 12
    assert "12 grids" in capsys.readouterr().out


def test_unknown_preset_is_a_clean_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A gridcore error prints one line naming the preset and exits 2."""
    assert main(["summary", "--preset", "atlantis"]) == 2
    err = capsys.readouterr().err
    assert "atlantis" in err and "Traceback" not in err


def test_summary_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    """`gridcore summary` prints the city's counts as JSON."""
    assert main(["summary", "--preset", "shibanxi", "--seed", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["areas_per_level"]["grid"] == 15


def test_validate_missing_file_is_a_clean_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that cannot be read is named."""
    assert main(["validate", str(tmp_path / "none.geojson")]) == 2
    assert "none.geojson" in capsys.readouterr().err


def test_city_can_write_its_staff(tmp_path: Path) -> None:
    """`--staff-dir` writes people and assignments that read back."""
    from gridcore.io import read_roster_csv

    out = tmp_path / "c.geojson"
    staff = tmp_path / "staff"
    assert main(["city", "--preset", "shuanghu", "--out", str(out), "--staff-dir", str(staff)]) == 0
    roster = read_roster_csv(staff / "people.csv", staff / "assignments.csv")
    assert len(roster.people) == 24


def test_validate_exits_0_on_a_clean_city_and_1_with_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`gridcore validate` prints the report; findings (a grid of 5 households) give exit 1."""
    out = tmp_path / "c.geojson"
    assert main(["city", "--preset", "shuanghu", "--out", str(out)]) == 0
    assert main(["validate", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    grid = next(f for f in data["features"] if f["properties"]["level"] == "grid")
    grid["properties"]["households"] = 5
    out.write_text(json.dumps(data), encoding="utf-8")
    capsys.readouterr()
    assert main(["validate", str(out)]) == 1
    assert grid["properties"]["code"] in capsys.readouterr().out


def test_cases_diagram_prints_mermaid(capsys: pytest.CaptureFixture[str]) -> None:
    """`gridcore cases diagram` prints a stateDiagram-v2 with start and end markers."""
    assert main(["cases", "diagram"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("stateDiagram-v2")
    assert "[*] --> reported" in text and "--> [*]" in text
    assert "registered --> dispatched : dispatch" in text

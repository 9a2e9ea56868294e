"""Mapping files (TOML): Open311 services and statuses, 311 CSV columns and categories."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridcore.cases import State
from gridcore.errors import ConfigError
from gridcore.io.mapping import (
    MappingError,
    StatusEntry,
    read_csv_mapping,
    read_open311_mapping,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "open311" / "nyc311.toml"

CSV_OK = """
[source]
timezone = "America/New_York"
[columns]
id = "Key"
created = "Created"
"""


def _toml(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "m.toml"
    p.write_text(text, encoding="utf-8")
    return p


class TestOpen311Mapping:
    def test_example_maps_services_both_ways_and_states_to_statuses(self) -> None:
        """Service code -> category, category -> first service, state -> status + notes."""
        m = read_open311_mapping(EXAMPLE)
        assert m.category_for("pothole") == "C0201"
        assert m.category_for("not-listed") == "G1001"  # the default
        entry = m.service_for("C0201")
        assert entry is not None and entry.service_code == "pothole"
        assert m.service_for("G0401") is None
        assert m.status_for(State.MERGED) == StatusEntry("closed", "Duplicate request.")
        assert m.status_for(State.IN_PROGRESS).status == "open"

    def test_states_not_listed_get_open_or_closed_by_kind(self, tmp_path: Path) -> None:
        """Resolved and final states are closed, the rest open, without notes."""
        m = read_open311_mapping(_toml(tmp_path, ""))
        assert m.status_for(State.EVALUATED) == StatusEntry("closed")
        assert m.status_for(State.VOIDED) == StatusEntry("closed")
        assert m.status_for(State.REPORTED) == StatusEntry("open")
        assert m.category_for("x") is None

    @pytest.mark.parametrize(
        ("text", "key"),
        [
            ("[statuses]\nlimbo = 'open'", "statuses.limbo"),
            ("[statuses]\nclosed = {status = 'done'}", "statuses.closed.status"),
            ("[services.a]\nname = 'x'", "services.a.category"),
            ("[services.a]\ncategory = 'E0101'\ncolour = 'red'", "services.a.colour"),
            ("[open311]\njurisdiction = 'x'", "open311.jurisdiction"),
            ("[weird]\nx = 1", "weird"),
        ],
    )
    def test_invalid_entries_are_refused_naming_the_key(
        self, tmp_path: Path, text: str, key: str
    ) -> None:
        """Unknown states, statuses, fields and sections: a MappingError naming the key."""
        with pytest.raises(MappingError, match=key.replace(".", r"\.")):
            read_open311_mapping(_toml(tmp_path, text))

    def test_bad_toml_and_missing_file_are_typed_errors(self, tmp_path: Path) -> None:
        """Not TOML, or not there: MappingError (a ConfigError) naming the file."""
        with pytest.raises(ConfigError, match="valid TOML"):
            read_open311_mapping(_toml(tmp_path, "[services"))
        with pytest.raises(MappingError, match="readable"):
            read_open311_mapping(tmp_path / "none.toml")


class TestCsvMapping:
    def test_example_reads_with_zone_format_columns_and_categories(self) -> None:
        """The NYC example: zone, strptime format, columns and category table."""
        m = read_csv_mapping(EXAMPLE)
        assert m.timezone.key == "America/New_York"
        assert m.datetime_format == "%m/%d/%Y %I:%M:%S %p"
        assert m.columns["id"] == "Unique Key" and m.columns["lon"] == "Longitude"
        assert m.categories["Illegal Parking"] == "E0503"
        assert m.default_category == "G1001" and "default" not in m.categories
        assert m.closed_statuses == frozenset({"closed"}) and m.name == "nyc311"

    @pytest.mark.parametrize(
        ("text", "key"),
        [
            (CSV_OK.replace('id = "Key"\n', ""), "columns.id"),
            (CSV_OK.replace('created = "Created"\n', ""), "columns.created"),
            (CSV_OK + 'colour = "C"\n', "columns.colour"),
            (CSV_OK + 'lat = "Lat"\n', "columns.lat/lon"),
            (CSV_OK + 'owner = ""\n', "columns.owner"),
            (CSV_OK.replace("America/New_York", "Mars/Olympus"), "source.timezone"),
            (CSV_OK.replace('timezone = "America/New_York"', ""), "source.timezone"),
            (CSV_OK + '[categories]\n"Noise" = 3\n', "categories.Noise"),
            (
                CSV_OK.replace("[source]", "[source]\ndatetime_format = 'mm/dd'"),
                "source.datetime_format",
            ),
            (CSV_OK.replace("[source]", "[source]\nclosed_statuses = 'x'"), "closed_statuses"),
        ],
    )
    def test_invalid_entries_are_refused_naming_the_key(
        self, tmp_path: Path, text: str, key: str
    ) -> None:
        """Missing required columns, unknown fields, bad zone or format: MappingError."""
        with pytest.raises(MappingError, match=key.replace(".", r"\.")):
            read_csv_mapping(_toml(tmp_path, text))

"""File formats at the edge: reading and writing gridcore data (GeoJSON, CSV, JSON, TOML)."""

from gridcore.io.geojson import (
    hierarchy_from_geojson,
    hierarchy_to_geojson,
    read_geojson,
    write_geojson,
)
from gridcore.io.staff_csv import read_roster_csv, write_roster_csv
from gridcore.io.taxonomy import read_taxonomy, write_taxonomy

__all__ = [
    "hierarchy_from_geojson",
    "hierarchy_to_geojson",
    "read_geojson",
    "read_roster_csv",
    "read_taxonomy",
    "write_geojson",
    "write_roster_csv",
    "write_taxonomy",
]

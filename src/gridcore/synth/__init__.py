"""Synthetic cities and their staff, seeded: `cities` (grids that tile a territory) and
`staff` (`staff_city`, a roster that fills a policy's posts)."""

from gridcore.synth.cities import (
    DEFAULT_START,
    PRESETS,
    City,
    CitySpec,
    build_city,
    preset_spec,
    synthetic_city,
)
from gridcore.synth.staff import staff_city

__all__ = [
    "DEFAULT_START",
    "PRESETS",
    "City",
    "CitySpec",
    "build_city",
    "preset_spec",
    "staff_city",
    "synthetic_city",
]

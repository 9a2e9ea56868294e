"""gridcore: community grid governance (社区网格化治理) as a library.

The hierarchy of areas, staff and duties, cases and their rules, the routing
index and metrics, plus a SimPy model for what-if analysis.
"""

from gridcore.errors import GridcoreError
from gridcore.hierarchy import FIRE, RURAL, URBAN, Area, Hierarchy, Level, LevelScheme
from gridcore.ids import AreaCode, CaseId, CategoryCode, DepartmentId, PersonId
from gridcore.synth import CitySpec, build_city

__all__ = [
    "FIRE",
    "RURAL",
    "URBAN",
    "Area",
    "AreaCode",
    "CaseId",
    "CategoryCode",
    "CitySpec",
    "DepartmentId",
    "GridcoreError",
    "Hierarchy",
    "Level",
    "LevelScheme",
    "PersonId",
    "build_city",
]

__version__ = "0.1.0"

"""Typed identifiers, so that a grid code cannot be passed where a person id is due."""

from __future__ import annotations

from typing import NewType

__all__ = ["AreaCode", "CaseId", "CategoryCode", "DepartmentId", "PersonId"]

AreaCode = NewType("AreaCode", str)
"""The code of an area at any level (a grid's 14-digit code, a street's 9 digits...)."""

PersonId = NewType("PersonId", str)
"""The id of a person: staff, volunteer, officer or resident."""

CaseId = NewType("CaseId", str)
"""The id of a case (事件/案件)."""

CategoryCode = NewType("CategoryCode", str)
"""The code of a category (大类 or 小类) in a taxonomy."""

DepartmentId = NewType("DepartmentId", str)
"""The id of a functional department (职能部门) that can own a category."""

"""The person to act: the responsible person (vacancy fallback) or the least-loaded of a pool."""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from datetime import datetime
from typing import Protocol

from gridcore.errors import RoutingError
from gridcore.ids import AreaCode, PersonId

__all__ = ["ResponsibilityLike", "ResponsibleLike", "ResponsibleSource", "least_loaded"]


class ResponsibleLike(Protocol):
    """One slot of a responsibility answer (as `gridcore.staffing.Responsible`)."""

    @property
    def person(self) -> PersonId | None:
        """Who answers, or None when nobody does."""
        ...


class ResponsibilityLike(Protocol):
    """A responsibility answer (as `gridcore.staffing.Responsibility`)."""

    @property
    def direct(self) -> ResponsibleLike:
        """The direct responsible person's slot."""
        ...

    @property
    def fell_back_to(self) -> AreaCode | None:
        """The ancestor whose holder answers for a vacant post, or None."""
        ...


class ResponsibleSource(Protocol):
    """Anything that names the responsible person of a grid for a duty or role at an instant.

    `gridcore.staffing.ResponsibilityIndex` is one.
    """

    def responsible(self, grid: str, duty: str, at: datetime) -> ResponsibilityLike:
        """The responsibility answer for `grid` and `duty` at `at`."""
        ...

    def direct(self, grid: str, duty: str, at: datetime) -> tuple[PersonId | None, AreaCode | None]:
        """The direct person and the ancestor that answered for a vacancy (or None)."""
        ...


def least_loaded(
    pool: Iterable[PersonId],
    load: Mapping[PersonId, float],
    *,
    available: Container[PersonId] | None = None,
) -> PersonId:
    """The available person of `pool` with the lowest load (missing load counts 0).

    Ties go to the smallest person id, so the answer does not depend on the
    pool's order. RoutingError if nobody in the pool is available.
    """
    best: PersonId | None = None
    best_load = 0.0
    for p in pool:
        if available is not None and p not in available:
            continue
        w = float(load.get(p, 0.0))
        if best is None or w < best_load or (w == best_load and p < best):
            best, best_load = p, w
    if best is None:
        raise RoutingError("least_loaded: nobody in the pool is available")
    return best

"""One exception tree for gridcore: every error it raises is a `GridcoreError`.

Each message names the offending thing (file, line, field, code, state) and what
was expected. Catch `GridcoreError` to catch them all.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CalendarError",
    "CaseError",
    "CodeError",
    "ConfigError",
    "CoordinateError",
    "CoverageError",
    "FileFormatError",
    "GridcoreError",
    "HierarchyError",
    "LineageError",
    "RoutingError",
    "ScenarioError",
    "SchemaVersionError",
    "SequenceGapError",
    "SimulationError",
    "StaffingError",
    "StaleSequenceError",
    "StoreError",
    "TaxonomyError",
    "TransitionRefused",
    "UnknownItemError",
]


def _rebuild(cls: type[GridcoreError], args: tuple[object, ...], state: dict[str, Any]) -> Any:
    """Unpickle a gridcore error without calling its `__init__` (whose signature varies)."""
    exc = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class GridcoreError(Exception):
    """Root of every error gridcore raises.

    Every subclass pickles with its message and fields (`__reduce__` below), so an error
    raised in a worker process reaches the parent as itself, not as a broken pool.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        """Rebuild from the class, the message arguments and the fields (no `__init__`)."""
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


class ConfigError(GridcoreError, ValueError):
    """A value handed to gridcore is out of its allowed range or shape."""


class UnknownItemError(GridcoreError, LookupError):
    """A code, id or name that the collection asked does not hold."""

    def __init__(self, kind: str, key: object, where: str = "") -> None:
        self.kind = kind
        self.key = key
        self.where = where
        place = f" in {where}" if where else ""
        super().__init__(f"unknown {kind} {key!r}{place}")


class CodeError(GridcoreError, ValueError):
    """An area code that does not follow its level scheme's layout."""


class HierarchyError(GridcoreError, ValueError):
    """A hierarchy that cannot be built or edited as asked."""


class LineageError(HierarchyError):
    """Lineages that do not fit together (versions out of order, unknown codes)."""


class StaffingError(GridcoreError, ValueError):
    """A role, person, assignment or staffing policy that is not valid."""


class TaxonomyError(GridcoreError, ValueError):
    """A category taxonomy that is not valid, or a category it does not hold."""


class CalendarError(GridcoreError, ValueError):
    """A working-time calendar or instant that is not valid."""


class CaseError(GridcoreError):
    """A case operation that failed."""


class TransitionRefused(CaseError):
    """An action on a case that the transition table or an iron rule refuses."""

    def __init__(
        self,
        case_id: str,
        state: str,
        action: str,
        actor: str,
        rule: str,
        detail: str = "",
    ) -> None:
        self.case_id = case_id
        self.state = state
        self.action = action
        self.actor = actor
        self.rule = rule
        self.detail = detail
        more = f": {detail}" if detail else ""
        # str() first: enum members (StrEnum states, actions, rules) print as their values
        super().__init__(
            f"case {str(case_id)!r} in state {str(state)!r}: action {str(action)!r} by "
            f"{str(actor)!r} refused by rule {str(rule)!r}{more}"
        )


class StaleSequenceError(CaseError):
    """An event appended with a sequence number that is not the next one."""

    def __init__(self, case_id: str, expected: int, got: int) -> None:
        self.case_id = case_id
        self.expected = expected
        self.got = got
        super().__init__(
            f"case {case_id!r}: event sequence {got} is stale, expected {expected} "
            "(another writer appended first; reload and retry)"
        )


class SequenceGapError(StaleSequenceError):
    """An event whose sequence number skips ahead: events are missing before it.

    A subclass of `StaleSequenceError`, so callers that catch that one still do; its
    message says what is wrong (a gap, not another writer).
    """

    def __init__(self, case_id: str, expected: int, got: int) -> None:
        self.case_id = case_id
        self.expected = expected
        self.got = got
        CaseError.__init__(
            self,
            f"case {case_id!r}: event sequence {got} leaves a gap, expected {expected} "
            f"(events {expected}..{got - 1} are missing: load them first)",
        )


class RoutingError(GridcoreError):
    """A routing index that cannot be built or answer as asked."""


class CoordinateError(RoutingError, ValueError):
    """Coordinates that are not finite numbers, or arrays of unequal length."""


class CoverageError(RoutingError, ValueError):
    """Ownership rules that leave a matter with no owner or with two."""


class FileFormatError(GridcoreError, ValueError):
    """A file that cannot be read: names the file, the line or feature and the field."""

    def __init__(
        self,
        path: str,
        where: str,
        field: str,
        expected: str,
        got: object = None,
    ) -> None:
        self.path = path
        self.where = where
        self.field = field
        self.expected = expected
        self.got = got
        loc = f"{path}: {where}" if where else path
        fld = f" field {field!r}:" if field else ""
        seen = f", got {got!r}" if got is not None else ""
        super().__init__(f"{loc}:{fld} expected {expected}{seen}")


class ScenarioError(GridcoreError, ValueError):
    """A scenario whose key holds a value that is not what is expected."""

    def __init__(self, key: str, value: object, expected: str, source: str = "") -> None:
        self.key = key
        self.value = value
        self.expected = expected
        self.source = source
        src = f"{source}: " if source else ""
        super().__init__(f"{src}key {key!r} = {value!r}: expected {expected}")


class SimulationError(GridcoreError):
    """A simulation that failed its own consistency checks or could not run."""


class StoreError(GridcoreError):
    """The durable case journal refused or could not do what was asked (names which, why)."""


class SchemaVersionError(StoreError):
    """A journal whose schema this gridcore cannot use as is (older: migrate; newer: upgrade)."""

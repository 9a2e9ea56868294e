"""Notifications: the messages an accepted action causes, for the application to deliver.

The reporter is told at sign-for, at the start of handling and at completion; the
supervisor of a case is told of its warnings, escalations and supervision (督办).
Each is built by `notification_record`, the one builder of `Notification`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final, TypeAlias

from gridcore.cases.records import Case, CaseEvent, Notification, notification_record
from gridcore.cases.vocabulary import Action, DeskRole

__all__ = ["NOTIFY", "Notify"]

Notify: TypeAlias = Callable[[Case, CaseEvent], tuple[Notification, ...]]
"""The notifications an accepted event causes."""


def _to_reporter(kind: str) -> Notify:
    """Tell the reporter of the case (`kind`)."""
    role = DeskRole.REPORTER

    def make(c: Case, e: CaseEvent) -> tuple[Notification, ...]:
        return (notification_record((kind, c.id, c.info.reporter, role, e.at, e.seq, "")),)

    return make


def _to_supervisor(kind: str) -> Notify:
    """Tell the case's supervisor (the supervisor role when it has none), with the reason."""
    role = DeskRole.SUPERVISOR

    def make(c: Case, e: CaseEvent) -> tuple[Notification, ...]:
        to = c.extra.supervisor or ""
        return (notification_record((kind, c.id, to, role, e.at, e.seq, e.reason)),)

    return make


NOTIFY: Final[Mapping[Action, Notify]] = MappingProxyType(
    {
        Action.SIGN_FOR: _to_reporter("signed_for"),
        Action.START: _to_reporter("handling"),
        Action.CLOSE: _to_reporter("completed"),
        Action.WARN: _to_supervisor("warning"),
        Action.ESCALATE: _to_supervisor("escalation"),
        Action.SUPERVISE: _to_supervisor("supervision"),
    }
)
"""The notifications of each action that causes any."""

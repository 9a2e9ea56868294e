"""The case (事件/案件) closed loop: states, actions, the transition table, the case record.

The table is data (`TRANSITIONS`): (state, action) -> `Transition` with the next state,
the desk roles allowed to take the action and the guards (typed functions) that must
pass. One pure function, `apply`, checks an action against the table (its head is the
one transition gate) and returns the new case, the event that records it and the
notifications it causes; a refused action raises `gridcore.errors.TransitionRefused`
naming the case, state, action, actor and rule, and changes nothing. A case is a fold of
its events (`Case.replay`); `CaseLog` owns cases and their event lists and appends with
optimistic concurrency.

The iron rules (铁律) are guards that no caller can bypass:

- 签收必须办理: once signed for, a case leaves its handler only by transfer, an approved
  return or an escalation; it cannot be voided, merged, cancelled, re-dispatched or
  signed for by anyone else, and only its handler acts on it.
- 首办必须负责: the first handler is fixed at the first sign-for and stays accountable
  through every transfer; no event can name another one.
- 转办必须阐明理由: a transfer and a return request need a non-empty reason, kept in the
  event.
- The check before closing (核查) is done by someone who is neither the handler nor a
  co-handler.

Deadlines: the resolution deadline `due` is set at dispatch from the category's
sign-for + handling limits in working time (`DeadlinePolicy`), moved by an approved
extension and by the working time spent parked (挂账), and reset by a rework or a reopen.
Every event that sets or moves it writes "due" (ISO 8601) into its payload, so replaying
needs no calendar.

The package, one concept a module (each re-exported here):

- `vocabulary`: states, actions, desk roles, rules, levels, stages of states;
- `records`: `Actor`, `Case` and its parts, `CaseEvent`, `Notification`, one builder each;
- `guards`: the named checks; `table`: the transition table, checked when built;
- `deadlines`: deadline policies and the deadlines written into events;
- `folds`: how each event changes a case; `notify`: the notifications; `prepare`: what
  an action computes before its event;
- `machine`: `apply` (whose head is the one gate), `report`, replay;
- `lights`: `case_light`; `serial`: events as JSON; `log`: `CaseLog`.
"""

from gridcore.cases.deadlines import (
    CategoryDeadlines,
    DeadlineMemo,
    DeadlinePolicy,
    FixedDeadlines,
    stage_deadline,
)
from gridcore.cases.guards import Guard
from gridcore.cases.lights import case_light
from gridcore.cases.log import CaseLog, StoredCaseLog
from gridcore.cases.machine import apply, follow, report
from gridcore.cases.records import (
    Actor,
    Assignment,
    Case,
    CaseAssignment,
    CaseEvent,
    CaseExtra,
    CaseInfo,
    Notification,
    Outcome,
)
from gridcore.cases.serial import event_from_dict, event_from_json, event_to_dict, event_to_json
from gridcore.cases.store import CaseStore
from gridcore.cases.table import TRANSITIONS, Transition, mermaid_diagram
from gridcore.cases.vocabulary import (
    FINAL_STATES,
    HELD_STATES,
    OPEN_STATES,
    OWNER_LEVELS,
    PARENT_LEVEL,
    RESOLVED_STATES,
    START_STATE,
    STATE_STAGE,
    Action,
    DeskRole,
    DuplicateCaseError,
    EventLogError,
    JSONValue,
    Payload,
    Rule,
    State,
    level_rank,
)

__all__ = [
    "FINAL_STATES",
    "HELD_STATES",
    "OPEN_STATES",
    "OWNER_LEVELS",
    "PARENT_LEVEL",
    "RESOLVED_STATES",
    "START_STATE",
    "STATE_STAGE",
    "TRANSITIONS",
    "Action",
    "Actor",
    "Assignment",
    "Case",
    "CaseAssignment",
    "CaseEvent",
    "CaseExtra",
    "CaseInfo",
    "CaseLog",
    "CaseStore",
    "CategoryDeadlines",
    "DeadlineMemo",
    "DeadlinePolicy",
    "DeskRole",
    "DuplicateCaseError",
    "EventLogError",
    "FixedDeadlines",
    "Guard",
    "JSONValue",
    "Notification",
    "Outcome",
    "Payload",
    "Rule",
    "State",
    "StoredCaseLog",
    "Transition",
    "apply",
    "case_light",
    "event_from_dict",
    "event_from_json",
    "event_to_dict",
    "event_to_json",
    "follow",
    "level_rank",
    "mermaid_diagram",
    "report",
    "stage_deadline",
]

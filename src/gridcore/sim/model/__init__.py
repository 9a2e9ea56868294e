"""The grid model: incidents, grid workers, duties, escalation and routing as SimPy processes.

One replication is cut into partitions, one per street, each its own small SimPy
environment (`street.py`); partitions can run on separate cores and are merged
afterwards (`merge.py`). Per street, one module a concept over one slotted state
(`state.py`):

- `arrivals.py`: incidents per community and category, located by the real routing
  index; reported by a resident after a delay, or latent until a patrol finds them;
- `workers.py`: grid workers pulling tasks (cases by priority, patrols, visits,
  inspections); an emergency interrupts a patrol and is taken off hours;
- `desk.py`: the dispatch desk, relay or flattened routing, misroutes and returns,
  the community, street and department staff pools, checks and rework;
- `watch.py`: the escalation sweeps (`gridcore.escalation.due_escalations`);
- `day.py`: working and on-call periods, patrols due, visit and inspection pools;
- `bridge.py`: the one door into the core: every case is moved by `gridcore.cases.apply`;
- `_engine.py`: every SimPy trick the model uses, documented once (driven processes,
  urgent events, interruptions, the event counter, the collector pause).

What a scenario runs on (city, roster, routing index, calendars) is in
`gridcore.sim.inputs`, re-exported here.
"""

from __future__ import annotations

from gridcore.sim.inputs import (
    Staff,
    city_for,
    default_owner_rules,
    duty_of,
    partitions,
    routing_index_for,
    staff_for,
)
from gridcore.sim.model.merge import (
    CASE_COLUMNS,
    MAX_CASE_ROWS,
    CaseRowSink,
    PartitionResult,
    ReplicationFold,
    _round,  # noqa: F401  (tests hold the bulk rounding to it)
    _rounded,  # noqa: F401
    concat_facts,
    merge_partitions,
)
from gridcore.sim.model.street import (
    Street,
    partition_events,
    run_grid_replication,
    run_partition,
)

_Street = Street
"""The street simulation under its former name (tests and benchmarks use it)."""

__all__ = [
    "CASE_COLUMNS",
    "MAX_CASE_ROWS",
    "CaseRowSink",
    "PartitionResult",
    "ReplicationFold",
    "Staff",
    "Street",
    "city_for",
    "concat_facts",
    "default_owner_rules",
    "duty_of",
    "merge_partitions",
    "partition_events",
    "partitions",
    "routing_index_for",
    "run_grid_replication",
    "run_partition",
    "staff_for",
]

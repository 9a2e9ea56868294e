"""The durable journal's speed, against bare database calls on the same rows, same run.

Run (from the repository root; `-s` prints the figures):

    PYTHONPATH=src python -m pytest -p no:cacheprovider benchmarks/bench_store.py \
        --benchmark-only -s

Each pair is interleaved round by round: the baseline is timed in the (untimed) set-up of
each round of ours, so both see the same load; extra_info holds both rates and the
per-round ratio range. PostgreSQL runs on a throwaway local cluster (unix socket, as the
tests start it). `GRIDCORE_BENCH_EVENTS` (default 1,000,000) sizes the read journal
(about 10 events a case).

- appends: single-action durable transactions (one `append` each) against a bare
  one-row-per-transaction INSERT of the same rows into the same table (the disk's
  commit limit); batches of 1,000 events against a bare `executemany` of the same rows.
- reads: replaying the whole journal (every case folded) against reading the same rows
  with a bare cursor; the open-case and warning-light queries (target under 10 ms).
"""

from __future__ import annotations

import gc
import itertools
import os
import sys
import time
from collections.abc import Callable, Iterator
from itertools import groupby
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "store"))

from pgcluster import ThrowawayCluster
from store_traffic import desk_events, desk_steps

from gridcore.cases import Case, CaseEvent, CategoryDeadlines
from gridcore.categories import default_taxonomy
from gridcore.clock import CalendarSet, WarningLight
from gridcore.store import SqlCaseStore, open_store
from gridcore.store.backends import Backend, connect
from gridcore.store.journal import _INSERT_EVENT
from gridcore.store.rows import event_to_row

POLICY = CategoryDeadlines(default_taxonomy(), CalendarSet.standard())
BACKENDS = ("sqlite", "postgresql")
SINGLE = 200
BATCH = 1_000
N_BATCHES = 20
READ_EVENTS = int(os.environ.get("GRIDCORE_BENCH_EVENTS", "1000000"))


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThrowawayCluster]:
    c = ThrowawayCluster()
    try:
        yield c
    finally:
        c.stop()


@pytest.fixture(scope="module")
def traffic() -> list[CaseEvent]:
    """About 24,000 seeded desk events, valid in order."""
    return desk_events(desk_steps(3_000, 1), POLICY)


def _url_maker(kind: str, tmp: Path, request: Any) -> Callable[[], str]:
    """A maker of fresh journal URLs on `kind`: a new SQLite file in `tmp` each call, or
    a new database on the module's throwaway PostgreSQL cluster."""
    if kind == "postgresql":
        cluster: ThrowawayCluster = request.getfixturevalue("cluster")
        return cluster.new_database
    files = itertools.count(1)
    return lambda: f"sqlite:///{tmp / f'j{next(files)}.db'}"


def _empty_journal(url: str) -> Backend:
    """A new journal's tables (gridcore's schema), opened bare for the baseline."""
    open_store(url).close()
    return connect(url)


class _Recorder:
    """A journal's backend that keeps a copy of every `write_all` (statement, rows) of
    each transaction it commits, and does the writes. Only for `append`, whose writes
    all go through one `write_all(..., commit=True)` a transaction."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.transactions: list[list[tuple[str, list[Any]]]] = []
        self._open: list[tuple[str, list[Any]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    def write_all(self, writes: Any, *, commit: bool = False) -> None:
        self._open += [(sql, list(rows)) for sql, rows in writes if rows]
        self.backend.write_all(writes, commit=commit)
        if commit:
            self.transactions.append(self._open)
            self._open = []


def _written_rows(
    url: str, ours: Callable[[SqlCaseStore], None]
) -> list[list[tuple[str, list[Any]]]]:
    """Every row `ours` writes (events, projection, counts, outbox), a list per
    transaction: recorded from one untimed run on a fresh journal."""
    store = open_store(url, policy=POLICY)
    recorder = _Recorder(store._b)
    store._b = recorder  # type: ignore[assignment]
    try:
        ours(store)
    finally:
        store._b = recorder.backend
        store.close()
    return recorder.transactions


def _replay_bare(transactions: list[list[tuple[str, list[Any]]]]) -> Callable[[Backend], None]:
    """The floor: the same rows as `_written_rows` gave, one bare `executemany` a
    statement, the same transactions, through the driver's own batching (`write_all`)."""

    def bare(b: Backend) -> None:
        for writes in transactions:
            b.begin_write()
            b.write_all(writes, commit=True)

    return bare


def _pair(
    benchmark: Any,
    kind: str,
    make_url: Callable[[], str],
    ours: Callable[[SqlCaseStore], None],
    bare: Callable[[Backend], None],
    count: int,
    rounds: int,
) -> None:
    """Interleave: each round times the baselines on a fresh journal each in the set-up,
    then `ours`; report each baseline's rate and ours/baseline per round. The baselines:
    `bare` (the issue's), and `all_rows`, every row `ours` writes, bare."""
    baselines = {"bare": bare, "all_rows": _replay_bare(_written_rows(make_url(), ours))}
    bare_s: dict[str, list[float]] = {name: [] for name in baselines}

    def setup() -> tuple[tuple[SqlCaseStore], dict[str, Any]]:
        for name, baseline in baselines.items():
            b = _empty_journal(make_url())
            t = time.perf_counter()
            baseline(b)
            bare_s[name].append(time.perf_counter() - t)
            b.close()
        return (open_store(make_url(), policy=POLICY),), {}

    stores: list[SqlCaseStore] = []

    def run(store: SqlCaseStore) -> None:
        stores.append(store)
        ours(store)

    benchmark.pedantic(run, setup=setup, rounds=rounds, iterations=1)
    for s in stores:
        s.close()
    ours_s = list(benchmark.stats.stats.data)
    info = benchmark.extra_info
    info["ours_events_per_s"] = [round(count / t) for t in ours_s]
    line = [f"{kind}: ours {_range(info['ours_events_per_s'])} events/s"]
    for name, times in bare_s.items():
        ratios = [b / o for o, b in zip(ours_s, times, strict=True)]
        info[f"{name}_events_per_s"] = [round(count / t) for t in times]
        info[f"ratio_to_{name}_min_max"] = (round(min(ratios), 3), round(max(ratios), 3))
        line.append(
            f"{name} {_range(info[f'{name}_events_per_s'])}, ratio "
            f"{info[f'ratio_to_{name}_min_max']}"
        )
    print("\n" + "; ".join(line))


def _range(values: list[int]) -> str:
    return f"{min(values)}-{max(values)}"


@pytest.mark.parametrize("kind", BACKENDS)
def test_single_action_durable_appends(
    benchmark: Any, kind: str, traffic: list[CaseEvent], tmp_path: Path, request: Any
) -> None:
    """SINGLE appends of one event each (one durable transaction each) vs a bare
    one-row-per-transaction INSERT of the same event rows (`bare`), and vs every row the
    appends write, bare, in the same transactions (`all_rows`)."""
    events = traffic[:SINGLE]
    rows = [event_to_row(i, e) for i, e in enumerate(events, start=1)]

    def ours(store: SqlCaseStore) -> None:
        for e in events:
            store.append((e,))
        assert store.last_position() == SINGLE

    def bare(b: Backend) -> None:
        for row in rows:
            b.begin_write()
            b.execute(_INSERT_EVENT, row)
            b.commit()

    _pair(benchmark, kind, _url_maker(kind, tmp_path, request), ours, bare, SINGLE, 5)


@pytest.mark.parametrize("kind", BACKENDS)
def test_batched_appends(
    benchmark: Any, kind: str, traffic: list[CaseEvent], tmp_path: Path, request: Any
) -> None:
    """N_BATCHES appends of BATCH events each vs a bare executemany of the same event
    rows (one transaction a batch: `bare`), and vs every row the appends write (events,
    projection, counts, outbox), bare, in the same transactions (`all_rows`: what any
    journal keeping the projection and outbox in the append's transaction must write)."""
    events = traffic[: BATCH * N_BATCHES]
    batches = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
    rows = [event_to_row(i, e) for i, e in enumerate(events, start=1)]
    row_batches = [rows[i : i + BATCH] for i in range(0, len(rows), BATCH)]

    def ours(store: SqlCaseStore) -> None:
        for batch in batches:
            store.append(batch)
        assert store.last_position() == len(events)

    def bare(b: Backend) -> None:
        for part in row_batches:
            b.begin_write()
            b.executemany(_INSERT_EVENT, part)
            b.commit()

    _pair(benchmark, kind, _url_maker(kind, tmp_path, request), ours, bare, len(events), 5)


# -- reads on a big journal -------------------------------------------------------------


def _big_events() -> list[CaseEvent]:
    """READ_EVENTS seeded desk events (about 8 a case: 1M events, ~130k cases)."""
    n_cases = -(-READ_EVENTS // 7)  # enough cases for READ_EVENTS events
    evs = desk_events(desk_steps(n_cases, 3), POLICY)
    return evs[:READ_EVENTS]


@pytest.fixture(scope="module")
def big_urls(tmp_path_factory: Any, request: Any) -> dict[str, str]:
    """The big journal on each backend, built once (one transaction each); the events
    are dropped before anything is timed, so the reads do not run with a million event
    objects on the heap (the cyclic GC's full passes would walk them)."""
    urls = {
        "sqlite": f"sqlite:///{tmp_path_factory.mktemp('big') / 'big.db'}",
        "postgresql": request.getfixturevalue("cluster").new_database(),
    }
    events = _big_events()
    for kind, url in urls.items():
        with open_store(url, policy=POLICY) as store:
            t = time.perf_counter()
            store.append_all(events)
            print(
                f"\nbuilt {kind} journal: {len(events)} events, {len(store)} cases "
                f"in {time.perf_counter() - t:.1f} s"
            )
            if kind == "postgresql":
                store._b.execute("ANALYZE")  # fresh statistics, as autovacuum would give
    del events
    gc.collect()
    return urls


@pytest.fixture(scope="module", params=BACKENDS)
def big(request: Any, big_urls: dict[str, str]) -> Iterator[tuple[str, SqlCaseStore]]:
    """The big journal of each backend, open."""
    with open_store(big_urls[request.param], policy=POLICY) as store:
        yield request.param, store


def test_replay_whole_journal(benchmark: Any, big: tuple[str, SqlCaseStore]) -> None:
    """Every case folded from the journal (read a chunk of cases at a time) vs reading
    the same rows in the same order with a bare cursor."""
    kind, store = big
    b = store._b
    bare_s: list[float] = []

    def bare_read() -> int:
        n = 0
        lo = ""
        while True:
            rows = b.query(
                "SELECT * FROM events WHERE case_id > ? ORDER BY case_id, seq LIMIT 100000", [lo]
            )
            if not rows:
                return n
            n += len(rows)
            last = rows[-1][1]
            # finish the last case so chunks hold whole cases, as ours does
            rows = b.query("SELECT * FROM events WHERE case_id = ? ORDER BY seq", [last])
            lo = last

    def setup() -> tuple[tuple[()], dict[str, Any]]:
        t = time.perf_counter()
        bare_read()
        bare_s.append(time.perf_counter() - t)
        return (), {}

    def replay() -> int:
        n = 0
        for stored, _ in store.case_chunks(5_000):
            for _cid, group in groupby(stored, key=lambda s: s.event.case_id):
                evs = [s.event for s in group]
                Case.replay(evs)
                n += len(evs)
        return n

    benchmark.pedantic(replay, setup=setup, rounds=3, iterations=1)
    n = store.last_position()
    ours = [n / t for t in benchmark.stats.stats.data]
    bare = [n / t for t in bare_s]
    benchmark.extra_info.update(
        ours_events_per_s=[round(x) for x in ours], bare_events_per_s=[round(x) for x in bare]
    )
    print(
        f"\n{kind} replay: ours {min(ours):.0f}-{max(ours):.0f} events/s, bare cursor "
        f"{min(bare):.0f}-{max(bare):.0f}"
    )


QUERIES: dict[str, Callable[[SqlCaseStore, Any], Any]] = {
    "open_by_grid": lambda s, last: s.open_cases(grid="g0123"),
    "open_by_owner": lambda s, last: s.open_cases(owner="h042"),
    "open_by_level_category": lambda s, last: s.open_cases(
        level="grid", category="C0101", limit=100
    ),
    "yellow_now_page": lambda s, last: s.lit_cases(last, limit=100),
    "red_now_page": lambda s, last: s.lit_cases(last, WarningLight.RED, limit=100),
    "newly_yellow_last_hour": lambda s, last: s.lit_cases(last, since=last - HOUR),
    "newly_yellow_busy_hour": lambda s, last: s.lit_cases(
        _busy_hour(s, last), since=_busy_hour(s, last) - HOUR
    ),
    "state_counts": lambda s, last: s.state_counts(),
}
from datetime import datetime, timedelta  # noqa: E402

HOUR = timedelta(hours=1)
_BUSY: dict[int, datetime] = {}


def _busy_hour(store: SqlCaseStore, last: datetime) -> datetime:
    """The first whole hour after the journal's last event in which the most cases turn
    yellow, among the next 72 (a sweep's worst hour; found once, not timed)."""
    key = id(store)
    if key not in _BUSY:
        hours = [last + HOUR * k for k in range(1, 73)]
        counts = [len(store.lit_cases(t, since=t - HOUR)) for t in hours]
        _BUSY[key] = hours[counts.index(max(counts))]
    return _BUSY[key]


@pytest.mark.parametrize("query", list(QUERIES))
def test_desk_queries(benchmark: Any, big: tuple[str, SqlCaseStore], query: str) -> None:
    """One indexed query on the big journal (target: under 10 ms)."""
    kind, store = big
    from gridcore.store.lights import from_us

    last = from_us(store.last_instant_us() or 0)
    _busy_hour(store, last)
    fn = QUERIES[query]
    result = benchmark.pedantic(lambda: fn(store, last), rounds=30, iterations=1, warmup_rounds=2)
    size = len(result)
    ms = sorted(t * 1e3 for t in benchmark.stats.stats.data)
    benchmark.extra_info.update(rows=size, median_ms=round(ms[len(ms) // 2], 3))
    print(
        f"\n{kind} {query}: {size} rows, median {ms[len(ms) // 2]:.2f} ms, "
        f"range {ms[0]:.2f}-{ms[-1]:.2f} ms"
    )

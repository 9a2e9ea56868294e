"""Properties of gridcore.metrics on random logs: rates are rates, groups add up."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.cases import Action, CaseEvent, State
from gridcore.ids import CaseId, PersonId
from gridcore.metrics import CaseFacts, EventTable, compute_metrics
from gridcore.metrics.fold import MetricsFold

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2024, 3, 1, 8, 0, tzinfo=SH)
GRIDS = ("G11", "G12", "G21", "G22", "G31")
COMMUNITY = {"G11": "C1", "G12": "C1", "G21": "C2", "G22": "C2", "G31": "C3"}
STREET_OF_COMMUNITY = {"C1": "S1", "C2": "S1", "C3": "S2"}
OWNERS = ("D1", "D2", "D3")
LEVELS = ("grid", "community", "street", "department")
PEOPLE = ("P1", "P2", "P3", "P4")
COUNTS = (
    "n_cases",
    "n_open",
    "n_ended",
    "n_due",
    "n_closed",
    "n_on_time",
    "n_reworked",
    "n_rework_events",
    "n_dispatched",
    "n_accurate_dispatch",
    "n_passes",
    "n_passed_cases",
    "n_resolved_community",
    "n_resolved_unknown",
)
RATES = (
    "closure_rate",
    "on_time_rate",
    "rework_rate",
    "accurate_dispatch_rate",
    "passing_rate",
    "share_grid",
    "share_department",
    "share_within_community",
    "share_within_street",
)


@st.composite
def case_events(draw: st.DrawFn, case_id: str) -> list[CaseEvent]:
    """One case along the main loop with random side paths, minutes apart."""
    minutes = draw(st.lists(st.integers(1, 600), min_size=16, max_size=16))
    start = T0 + timedelta(minutes=draw(st.integers(0, 60 * 24 * 40)))
    steps: list[tuple[str, State, str, dict[str, Any]]] = []
    grid = draw(st.sampled_from(GRIDS))
    steps.append(
        ("report", State.REPORTED, "R", {"grid": grid, "category": draw(st.sampled_from("AB"))})
    )
    fate = draw(st.sampled_from(["cancel", "open", "signed", "closed", "closed", "reopened"]))
    if fate == "cancel":
        steps.append(("cancel", State.CANCELLED, "DESK", {}))
    else:
        due_h = draw(st.integers(1, 48))
        owner = draw(st.sampled_from(OWNERS))
        steps.append(
            (
                "dispatch",
                State.DISPATCHED,
                "DESK",
                {"to": owner, "level": draw(st.sampled_from(LEVELS)), "due_h": due_h},
            )
        )
        if fate != "open":
            steps.append(("sign_for", State.SIGNED_FOR, draw(st.sampled_from(PEOPLE)), {}))
            for _ in range(draw(st.integers(0, 2))):
                action = draw(st.sampled_from(["transfer", "approve_return", "escalate"]))
                to = draw(st.sampled_from(OWNERS))
                steps.append(
                    (
                        action,
                        State.DISPATCHED,
                        "DESK",
                        {"to": to, "level": draw(st.sampled_from(LEVELS))},
                    )
                )
                steps.append(("sign_for", State.SIGNED_FOR, draw(st.sampled_from(PEOPLE)), {}))
            if fate in ("closed", "reopened"):
                for _ in range(draw(st.integers(0, 2))):
                    steps.append(("handle", State.HANDLED, "H", {}))
                    steps.append(
                        ("rework", State.IN_PROGRESS, "CHK", {"due_h": draw(st.integers(1, 48))})
                    )
                steps.append(("handle", State.HANDLED, "H", {}))
                steps.append(("close", State.CLOSED, "CHK", {}))
                if fate == "reopened":
                    steps.append(("reopen", State.DISPATCHED, "DESK", {"to": owner, "due_h": 8}))
    events: list[CaseEvent] = []
    t = start
    prev: State | None = None
    for i, (action, state, actor, payload) in enumerate(steps, start=1):
        t = t + timedelta(minutes=minutes[i % 16])
        p = dict(payload)
        if "due_h" in p:
            p["due"] = (t + timedelta(hours=p.pop("due_h"))).isoformat()
        events.append(
            CaseEvent(
                CaseId(case_id), i, t, PersonId(actor), "x", Action(action), prev, state, "", p
            )
        )
        prev = state
    return events


@st.composite
def logs(draw: st.DrawFn) -> list[CaseEvent]:
    n = draw(st.integers(1, 25))
    out: list[CaseEvent] = []
    for k in range(n):
        out.extend(draw(case_events(f"K{k:03d}")))
    return draw(st.permutations(out))


def _check_rates(table: Any) -> None:
    for name in RATES:
        v = np.asarray(table[name], np.float64)
        ok = np.isnan(v) | ((v >= 0.0) & (v <= 1.0))
        assert ok.all(), (name, v)


@settings(max_examples=60, deadline=None)
@given(logs())
def test_rates_are_in_zero_one_for_every_grouping(events: list[CaseEvent]) -> None:
    """Every rate is NaN or within [0, 1], at every grouping."""
    table = EventTable.from_events(events, area_of=COMMUNITY)
    for by in ((), "grid", "area", "person", "department", "category", "day", ("week", "grid")):
        _check_rates(compute_metrics(table, by=by))


@settings(max_examples=60, deadline=None)
@given(logs())
def test_counts_add_up_across_groups_to_the_total(events: list[CaseEvent]) -> None:
    """Summing any count column over the groups of one key gives the total row."""
    table = EventTable.from_events(events, area_of=COMMUNITY)
    total = compute_metrics(table).to_rows()[0]
    assert total["n_cases"] == len({e.case_id for e in events})
    for by in ("grid", "area", "person", "department", "first_department", "category", "month"):
        groups = compute_metrics(table, by=by)
        for name in COUNTS:
            assert int(groups[name].sum()) == total[name], (by, name)


@settings(max_examples=60, deadline=None)
@given(logs())
def test_coarser_area_equals_the_sum_of_finer_ones(events: list[CaseEvent]) -> None:
    """Per street = the communities of that street summed; its rates follow from the sums."""
    table = EventTable.from_events(events)
    street_of_grid = {g: STREET_OF_COMMUNITY[c] for g, c in COMMUNITY.items()}
    fine = compute_metrics(table, by="area", area_of=COMMUNITY).to_rows()
    coarse = compute_metrics(table, by="area", area_of=street_of_grid).to_rows()
    for row in coarse:
        parts = [r for r in fine if STREET_OF_COMMUNITY[r["area"]] == row["area"]]
        for name in COUNTS:
            assert sum(r[name] for r in parts) == row[name], name
        due = sum(r["n_due"] for r in parts)
        closed = sum(r["n_closed"] for r in parts)
        expected = closed / due if due else math.nan
        assert math.isclose(row["closure_rate"], expected) or (
            math.isnan(expected) and math.isnan(row["closure_rate"])
        )


@settings(max_examples=40, deadline=None)
@given(logs())
def test_percentiles_match_numpy_per_group(events: list[CaseEvent]) -> None:
    """Group percentiles equal numpy.percentile over that group's cases."""
    table = EventTable.from_events(events)
    facts = table.facts()
    groups = compute_metrics(facts, by="grid").to_rows()
    for row in groups:
        code = facts.grid_names.index(row["grid"])
        sel = (facts.grid == code) & facts.closed
        secs = (facts.closed_us[sel] - facts.reported_us[sel]) / 1e6
        if secs.size == 0:
            assert math.isnan(row["resolution_s_p90"])
            continue
        assert math.isclose(row["resolution_s_p90"], float(np.percentile(secs, 90)), rel_tol=1e-9)
        assert math.isclose(row["resolution_s_mean"], float(secs.mean()), rel_tol=1e-9)


def _one_case(at: datetime, due: str, mixed: bool) -> list[CaseEvent]:
    at2 = at.astimezone(UTC) if mixed else at
    return [
        CaseEvent(
            CaseId("X"),
            1,
            at,
            PersonId("R"),
            "x",
            Action.REPORT,
            None,
            State.REPORTED,
            "",
            {"grid": "G"},
        ),
        CaseEvent(
            CaseId("X"),
            2,
            at2,
            PersonId("D"),
            "x",
            Action.DISPATCH,
            State.REPORTED,
            State.DISPATCHED,
            "",
            {"to": "D1", "due": due},
        ),
    ]


@settings(max_examples=150, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(2150, 1, 1),
        timezones=st.sampled_from([ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), SH]),
    ),
    st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2150, 1, 1)),
    st.integers(-14 * 60, 14 * 60),
    st.booleans(),
    st.booleans(),
)
def test_instants_and_due_strings_are_exact_to_the_microsecond(
    at: datetime, due_naive: datetime, offset_min: int, zulu: bool, mixed: bool
) -> None:
    """Bulk decoding of instants (DST folds and gaps too) and ISO strings is exact."""
    zone = UTC if zulu else timezone(timedelta(minutes=offset_min))
    due = due_naive.replace(tzinfo=zone)
    text = due.isoformat().replace("+00:00", "Z") if zulu else due.isoformat()
    table = EventTable.from_events(_one_case(at, text, mixed))
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert table.at_us.tolist() == [(at - epoch) // timedelta(microseconds=1)] * 2
    assert table.facts().due_us.tolist() == [(due - epoch) // timedelta(microseconds=1)]


def _same_rows(a: list[dict[str, Any]], b: list[dict[str, Any]], keys: tuple[str, ...]) -> None:
    def key(r: dict[str, Any]) -> tuple[str, ...]:
        return tuple(str(r[k]) for k in keys)

    assert sorted(map(key, a)) == sorted(map(key, b))
    by_key = {key(r): r for r in b}
    for ra in a:
        rb = by_key[key(ra)]
        for name, va in ra.items():
            vb = rb[name]
            if isinstance(va, float) and math.isnan(va):
                assert isinstance(vb, float) and math.isnan(vb), name
            elif isinstance(va, float):
                assert math.isclose(va, vb, rel_tol=1e-9, abs_tol=1e-6), name
            else:
                assert va == vb, name


@settings(max_examples=40, deadline=None)
@given(logs(), st.integers(1, 4), st.randoms(use_true_random=False))
def test_facts_folded_chunk_by_chunk_give_the_same_metrics(
    events: list[CaseEvent], n_chunks: int, rnd: Any
) -> None:
    """CaseFacts.concat of per-chunk facts (cases split at random) equals the whole log's."""
    as_of = max(e.at for e in events)
    whole = EventTable.from_events(events, area_of=COMMUNITY).facts(as_of)
    chunk_of = {cid: rnd.randrange(n_chunks) for cid in sorted({e.case_id for e in events})}
    parts = []
    for k in range(n_chunks):
        evs = [e for e in events if chunk_of[e.case_id] == k]
        if evs:
            parts.append(EventTable.from_events(evs, area_of=COMMUNITY).facts(as_of))
    folded = CaseFacts.concat(parts)
    assert sorted(folded.case_ids) == sorted(whole.case_ids)
    for by in ((), "grid", "area", "person", "department", "first_department", "category"):
        keys = (by,) if isinstance(by, str) else by
        _same_rows(
            compute_metrics(folded, by=by).to_rows(), compute_metrics(whole, by=by).to_rows(), keys
        )


@settings(max_examples=40, deadline=None)
@given(logs(), st.integers(1, 4), st.randoms(use_true_random=False))
def test_metrics_fold_equals_the_total_of_the_concatenated_facts(
    events: list[CaseEvent], n_chunks: int, rnd: Any
) -> None:
    """MetricsFold over chunks gives compute_metrics(CaseFacts.concat(chunks)) bit for bit:
    the same columns in the same order, the same values (NaN where NaN)."""
    as_of = max(e.at for e in events)
    chunk_of = {cid: rnd.randrange(n_chunks) for cid in sorted({e.case_id for e in events})}
    parts = []
    for k in range(n_chunks):
        evs = [e for e in events if chunk_of[e.case_id] == k]
        if evs:
            parts.append(EventTable.from_events(evs).facts(as_of))
    fold = MetricsFold()
    for p in parts:
        fold.add(p)
    want = compute_metrics(CaseFacts.concat(parts))
    got = fold.table()
    assert got.names == want.names
    for name in want.names:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name, strict=True)
    assert fold.cases == len(CaseFacts.concat(parts))


def test_metrics_fold_of_nothing_is_the_empty_total() -> None:
    want = compute_metrics(CaseFacts.concat([]))
    got = MetricsFold().table()
    assert got.names == want.names
    assert got.to_rows() == want.to_rows() or all(
        (a == b) or (a != a and b != b)
        for a, b in zip(got.to_rows()[0].values(), want.to_rows()[0].values(), strict=True)
    )


# -- the bulk "due" parser against the per-text reference ------------------------------

_CORRUPT = st.sampled_from([*"0123456789:-+TZ. x", "\u0663", "\u4e00"])


def _reference_instant_us(text: str) -> int | str:
    """What one text decodes to: the former bulk decoder's rules, one text at a time, else
    `datetime.fromisoformat`; an error message for a text neither accepts."""
    n = len(text)
    shapes = {20: (False, True), 25: (False, False), 27: (True, True), 32: (True, False)}
    if n in shapes:
        frac, zulu = shapes[n]
        tail = 26 if frac else 19
        seps = {4: "-", 7: "-", 10: "T", 13: ":", 16: ":"}
        digits = [*range(4), 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
        if frac:
            seps[19] = "."
            digits += list(range(20, 26))
        if not zulu:
            seps[tail + 3] = ":"
            digits += [tail + 1, tail + 2, tail + 4, tail + 5]

        def num(a: int, b: int) -> int:
            return int(text[a:b])

        ok = all("0" <= text[k] <= "9" for k in digits)
        ok = ok and all(text[k] == ch for k, ch in seps.items())
        ok = ok and (text[tail] == "Z" if zulu else text[tail] in "+-")
        if ok:
            year, month, day = num(0, 4), num(5, 7), num(8, 10)
            hour, minute, second = num(11, 13), num(14, 16), num(17, 19)
            month_days = [31, 29 if _leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
            in_range = 1 <= month <= 12 and 1 <= day <= month_days[month - 1]
            if in_range and hour <= 23 and minute <= 59 and second <= 59:
                micro = num(20, 26) if frac else 0
                offset = 0
                if not zulu:
                    sign = -1 if text[tail] == "-" else 1
                    offset = sign * (num(tail + 1, tail + 3) * 60 + num(tail + 4, tail + 6))
                days = _days_from_civil(year, month, day)
                secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset * 60
                return secs * 1_000_000 + micro
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return "not an ISO 8601 instant"
    if value.utcoffset() is None:
        return "not a timezone-aware instant"
    return (value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (year 0 too, as the bulk path)."""
    if year >= 1:
        return (date(year, month, day) - date(1970, 1, 1)).days
    return _days_from_civil(year + 400, month, day) - 146_097


@st.composite
def due_texts(draw: st.DrawFn) -> str:
    """isoformat() texts (Z, offsets, fractions), sometimes with one character replaced."""
    naive = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
    offset = draw(st.sampled_from([None, 0, 480, -330, 14 * 60, -(14 * 60)]))
    zone = None if offset is None else timezone(timedelta(minutes=offset))
    text = naive.replace(tzinfo=zone).isoformat()
    if offset == 0 and draw(st.booleans()):
        text = text.replace("+00:00", "Z")
    if draw(st.integers(0, 3)) == 0:
        k = draw(st.integers(0, len(text) - 1))
        text = text[:k] + draw(_CORRUPT) + text[k + 1 :]
    return text


@settings(max_examples=300, deadline=None)
@given(st.lists(due_texts(), min_size=1, max_size=6), st.lists(st.integers(0, 5), max_size=12))
def test_due_texts_parse_as_one_by_one(pool: list[str], picks: list[int]) -> None:
    """Repeated and malformed texts: the same values, or the error naming the first bad row."""
    from gridcore.metrics import MetricsError, _parse_instants

    texts = [pool[k % len(pool)] for k in picks] or pool
    expected = [_reference_instant_us(t) for t in texts]
    bad = [i for i, v in enumerate(expected) if isinstance(v, str)]
    if bad:
        try:
            _parse_instants(texts, lambda i: f"row {i}")
        except MetricsError as e:
            assert str(e).startswith(f"row {bad[0]}: ")
            assert expected[bad[0]] in str(e)
        else:
            raise AssertionError("a malformed text was accepted")
    else:
        assert _parse_instants(texts, str).tolist() == expected


@given(st.lists(st.integers(-1, 5)), st.sets(st.sampled_from("abcdefg")))
def test_isin_names_matches_numpy_isin(codes: list[int], names: set[str]) -> None:
    """The lookup-table membership test equals np.isin, -1 (no value) included."""
    from gridcore.metrics import _isin_names

    vocab = ("a", "b", "c", "d", "e", "f")
    arr = np.array(codes, np.int64)
    wanted = [i for i, v in enumerate(vocab) if v in names]
    expected = np.isin(arr, np.array(wanted, np.int64))
    assert _isin_names(arr, vocab, names).tolist() == expected.tolist()
    wide = np.array([*codes, 9, -5], np.int64)  # out-of-vocabulary codes: never members
    assert not _isin_names(wide, vocab, names)[-2:].any()

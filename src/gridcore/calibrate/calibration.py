"""Calibrate a scenario from a case log: every key the log can show, fitted with its
uncertainty; every key it cannot show, left at the base scenario's value and listed.

`calibrate(log, households=..., city=..., base=...)` returns a `Calibration`: the
fitted `Scenario` (loadable, runnable), `entries` (per dotted key: estimate, 95%
interval, sample size, the test used and its verdict), `not_fitted` (key -> why), the
log's dirt, its observed headline metrics (to compare a simulation of the fit with), and
samples of the data behind each duration fit (for the report's figures).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import numpy.typing as npt

from gridcore.calibrate._arrivals import ArrivalFit, fit_arrivals
from gridcore.calibrate._durations import (
    Step,
    action_mask,
    first_per_case,
    level_before,
    step_durations,
)
from gridcore.calibrate._fits import (
    ALPHA,
    MIN_SAMPLE,
    DurationFit,
    fit_duration,
    fit_share,
    scipy_stats,
)
from gridcore.calibrate._log import EventLog
from gridcore.calibrate._verify import verify_steps
from gridcore.categories import default_taxonomy
from gridcore.errors import ConfigError
from gridcore.metrics import EventTable, compute_metrics
from gridcore.sim.scenario import Scenario, apply_overrides

__all__ = ["FORMAT", "NOT_IN_A_LOG", "Calibration", "calibrate"]

FORMAT = "gridcore.calibration/1"
"""The `format` value of fitted.json."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

NOT_IN_A_LOG: dict[str, str] = {
    "incidents.discovery_probability": "latent incidents found by patrol leave no event "
    "before they are found",
    "incidents.severity_growth_days": "severity while latent is not logged",
    "incidents.report_delay": "the occurrence instant is not logged, only the report",
    "duties": "patrols, visits and inspections are not case events",
    "staffing": "who is on the payroll is not in a case log (give it with --base)",
    "escalation": "the rules are configuration; the log shows only what they did",
    "routing.forward": "a relay hop's time is mixed with rule escalations in the log",
    "routing.direct": "not separable from the dispatch in the log",
}
"""Keys a case log cannot show, and why (left at the base scenario's values)."""

# the scenario's handling keys per owner level ("district" and "city" handle as departments)
_HANDLE_KEY = {
    "grid": "times.handle_grid",
    "community": "times.handle_community",
    "street": "times.handle_street",
    "department": "times.handle_department",
    "district": "times.handle_department",
    "city": "times.handle_department",
}
_PER_CATEGORY_MIN = 200
_SAMPLE = 4000


@attrs.frozen
class Calibration:
    """The result of `calibrate` (see the module docstring)."""

    scenario: Scenario
    entries: Mapping[str, Mapping[str, Any]]
    not_fitted: Mapping[str, str]
    dirt: Mapping[str, int]
    observed: Mapping[str, float]
    samples: Mapping[str, tuple[float, ...]]
    arrivals: ArrivalFit | None

    def failing(self) -> list[str]:
        """Keys whose fit failed its test (the data disagree with the fitted form)."""
        out = []
        for key, e in self.entries.items():
            if e.get("passes") is False or e.get("poisson") is False:
                out.append(key)
        return sorted(out)

    def to_json(self) -> dict[str, Any]:
        """The fitted.json document."""
        return {
            "format": FORMAT,
            "scenario": self.scenario.name,
            "alpha": ALPHA,
            "fitted": {k: dict(v) for k, v in sorted(self.entries.items())},
            "failing_tests": self.failing(),
            "not_fitted": dict(sorted(self.not_fitted.items())),
            "dirt": dict(sorted(self.dirt.items())),
            "observed": dict(sorted(self.observed.items())),
        }


def _calendar_flags(base: Scenario, names: tuple[str, ...]) -> tuple[Any, npt.NDArray[np.bool_]]:
    """The working calendar, and per category name whether it runs on working hours."""
    from gridcore.sim.inputs import calendars_for

    working, calendars = calendars_for(base)
    tax = default_taxonomy()
    flags = []
    for code in names:
        cal = tax.get(code).calendar if code in tax else "working"
        flags.append(calendars.get(cal) is working)
    return working, np.array([*flags, True], np.bool_)  # the trailing flag: no category


def _span(a_us: IntArray, b_us: IntArray, work: npt.NDArray[np.bool_], cal: Any) -> FloatArray:
    """Minutes from a to b: working time where `work`, else wall time."""
    out: FloatArray = (b_us - a_us) / 60e6
    if work.any():
        a = a_us[work].astype("datetime64[us]")
        b = b_us[work].astype("datetime64[us]")
        out[work] = (cal.cumulative_seconds(b) - cal.cumulative_seconds(a)) / 60.0
    return out


def _minutes(
    step: Step, work: npt.NDArray[np.bool_], cal: Any, as_of_us: int
) -> tuple[FloatArray, FloatArray]:
    """Each step's length in minutes, and the longest it could have been seen (to the end of
    the log): working time where `work`, else wall time."""
    end = np.full(len(step), as_of_us, np.int64)
    return _span(step.begin_us, step.end_us, work, cal), _span(step.begin_us, end, work, cal)


def _sample(x: FloatArray) -> tuple[float, ...]:
    """At most `_SAMPLE` values, evenly spaced in sorted order (deterministic)."""
    s = np.sort(x)
    if s.size > _SAMPLE:
        s = s[np.linspace(0, s.size - 1, _SAMPLE).round().astype(np.int64)]
    return tuple(float(v) for v in s)


class _Fitter:
    """Collects fits, not-fitted reasons, dirt counts and samples while calibrating."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}
        self.not_fitted: dict[str, str] = {}
        self.samples: dict[str, tuple[float, ...]] = {}
        self.dirt: dict[str, int] = {}
        self.overrides: dict[str, Any] = {}

    def duration(
        self,
        key: str,
        lengths: tuple[FloatArray, FloatArray],
        ended: npt.NDArray[np.bool_],
        scale: str,
        note: str = "",
        *,
        competing: bool = False,
    ) -> DurationFit | None:
        """Fit one duration key; negative lengths (a dirty log) are counted and left out."""
        minutes, limits = lengths
        bad = ~np.isfinite(minutes) | (minutes < 0)
        if bad.any():
            self.dirt[f"negative_durations:{key}"] = int(bad.sum())
        x, done = minutes[~bad], ended[~bad]
        fit = fit_duration(x, ~done, limits[~bad], competing=competing)
        if fit is None:
            self.not_fitted[key] = (
                f"too few complete observations ({int(done.sum())} < {MIN_SAMPLE})"
            )
            return None
        if fit.kind == "fixed" and fit.mean_minutes == 0.0:
            # both ends logged at one instant: no time recorded (an import's synthetic steps)
            self.not_fitted[key] = "every complete value is 0: the log records no time for it"
            return None
        entry = fit.to_json()
        entry["time"] = scale
        if note:
            entry["note"] = (entry.get("note", "") + "; " + note).lstrip("; ")
        self.entries[key] = entry
        self.samples[key] = _sample(x[done])
        if key.startswith("times."):
            self.overrides[key] = fit.dist().to_value()
        return fit


def calibrate(
    log: EventLog,
    *,
    households: int,
    city: str = "",
    base: Scenario | None = None,
    name: str = "fitted",
) -> Calibration:
    """Fit a scenario to `log` (see the module docstring); `households` of the city whose
    GeoJSON file is `city` (written as `city.geojson`), other keys from `base`."""
    scipy_stats()  # fail early, naming the extra, when scipy is missing
    base = base if base is not None else Scenario()
    t = log.table
    if not len(t):
        raise ConfigError(f"{log.source}: no events to calibrate from")
    f = _Fitter()
    as_of_us = int(t.at_us.max())
    reports = first_per_case(t, action_mask(t, "report"))
    arrivals = _arrivals(f, t, reports, households, ZoneInfo(base.run.timezone), as_of_us)
    _categories(f, t, reports)
    public = _channels(f, log, reports)
    cal, work_cat = _calendar_flags(base, t.category_names)
    _handling(f, t, cal, work_cat, as_of_us)
    _steps(f, t, cal, work_cat, reports[public], as_of_us)
    _verify(f, log, reports[public], base, cal, as_of_us)
    _shares(f, t, cal, work_cat, as_of_us)
    facts = t.facts()
    observed = _observed(facts, arrivals)
    closed = facts.closed
    for i, level in enumerate(facts.level_names):
        share = fit_share(int((closed & (facts.resolved_level == i)).sum()), int(closed.sum()))
        e = share.to_json()
        e["note"] = "observed only: the resolving level is the taxonomy's, not a scenario key"
        f.entries[f"observed.share_resolved_{level}"] = e
    for key, why in NOT_IN_A_LOG.items():
        f.not_fitted.setdefault(key, why + " (left at the base scenario's value)")
    if city:
        f.overrides["city.geojson"] = city
    scenario = attrs.evolve(apply_overrides(base, f.overrides), name=name)
    dirt = {**log.dirt, **f.dirt}
    return Calibration(scenario, f.entries, f.not_fitted, dirt, observed, f.samples, arrivals)


def _arrivals(
    f: _Fitter, t: EventTable, reports: IntArray, households: int, tz: tzinfo, as_of_us: int
) -> ArrivalFit | None:
    """The arrival keys, and the run's start and length (the log's days)."""
    if not reports.size or households <= 0:
        why = "no report events" if not reports.size else "no households in the city"
        f.not_fitted["incidents.per_1000_households_per_day"] = why
        return None
    a = fit_arrivals(t.at_us[reports], households, tz, as_of_us)
    f.entries.update(a.to_json())
    f.overrides.update(
        {
            "incidents.per_1000_households_per_day": a.per_1000_households_per_day,
            "incidents.hour_profile": list(a.hour_profile),
            "incidents.weekday_profile": list(a.weekday_profile),
            "run.start": a.first_day.isoformat(),
            "run.days": float(a.days),
            "run.warmup_days": 0.0,
        }
    )
    return a


def _channels(f: _Fitter, log: EventLog, reports: IntArray) -> npt.NDArray[np.bool_]:
    """`incidents.resident_share` by channel: a report on any channel but `patrol` (a
    resident, the hotline, an app, a 311 call) comes from the public, the model's resident
    report; a patrol's is a latent incident found. Returns which reports came from the
    public (a report without a channel is neither)."""
    ch = log.channel[log.table.case[reports]]
    names = log.channel_names
    patrol = np.isin(ch, [i for i, c in enumerate(names) if c == "patrol"])
    public = (ch >= 0) & ~patrol
    pub, pat = int(public.sum()), int(patrol.sum())
    if not pub + pat:
        f.not_fitted["incidents.resident_share"] = "no report names its channel"
        return public
    share = fit_share(pub, pub + pat)
    e = share.to_json()
    counts = np.bincount(ch[ch >= 0], minlength=len(names))
    e["channels"] = {str(c): int(counts[i]) for i, c in enumerate(names) if counts[i]}
    e["no_channel"] = int((ch < 0).sum())
    e["note"] = (
        "share of the reports made by the public (every channel but patrol: residents, "
        "hotline, app...) among reports with a channel; patrol reports are latent incidents "
        "found"
    )
    if not pat:
        e["note"] += "; no report in the log came from a patrol"
    f.entries["incidents.resident_share"] = e
    f.overrides["incidents.resident_share"] = share.estimate
    return public


def _steps(
    f: _Fitter,
    t: EventTable,
    cal: Any,
    work_cat: npt.NDArray[np.bool_],
    resident_reports: IntArray,
    as_of_us: int,
) -> None:
    """`times.check` (every handle to its close or rework), `observed.report_to_verify` (a
    public report to its verification: the wait and the work) and `times.dispatch`
    (verification to registration)."""
    cat_of_row = t.category[t.case]  # -1 (no category) indexes work_cat's trailing flag
    check = step_durations(
        t, np.flatnonzero(action_mask(t, "handle")), action_mask(t, "close", "rework"), as_of_us
    )
    work = work_cat[cat_of_row[check.begin]]
    f.duration(
        "times.check",
        _minutes(check, work, cal, as_of_us),
        check.ended,
        "working time for working-hours categories",
    )
    verify = step_durations(t, resident_reports, action_mask(t, "verify"), as_of_us)
    f.duration(
        "observed.report_to_verify",
        _minutes(verify, np.zeros(len(verify), np.bool_), cal, as_of_us),
        verify.ended,
        "wall time",
        "a public report to its verification: the verification work plus the wait for "
        "an on-call grid worker (overnight too); times.verify is the work alone",
    )
    disp = step_durations(
        t, first_per_case(t, action_mask(t, "verify")), action_mask(t, "register"), as_of_us
    )
    f.duration(
        "times.dispatch",
        _minutes(disp, np.zeros(len(disp), np.bool_), cal, as_of_us),
        disp.ended,
        "wall time (the desk works round the clock)",
    )


def _verify(
    f: _Fitter, log: EventLog, public_reports: IntArray, base: Scenario, cal: Any, as_of_us: int
) -> None:
    """`times.verify`: a public report's verification from the instant its work began, where
    that instant is known (`gridcore.calibrate._verify`); wall time, as grid workers work."""
    t = log.table
    v = verify_steps(
        t,
        public_reports,
        log.severity,
        base.duties,
        cal.is_working_day,
        ZoneInfo(base.run.timezone),
        as_of_us,
    )
    minutes = (v.end_us - v.begin_us) / 60e6
    limits = (as_of_us - v.begin_us) / 60e6
    fit = f.duration(
        "times.verify",
        (minutes, limits),
        v.ended,
        "wall time (grid workers)",
        "from the instant the work began: the report, the verifier's previous event or the "
        "start of on-call time, whichever is latest; public reports only (a patrol verifies "
        "its find on the spot)",
    )
    left_out = {k: n for k, n in v.left_out.items() if n}
    if fit is not None:
        f.entries["times.verify"]["left_out"] = left_out
    elif left_out and "times.verify" in f.not_fitted:
        f.not_fitted["times.verify"] += (
            " (left out: "
            + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in left_out.items())
            + ")"
        )


def _shares(
    f: _Fitter, t: EventTable, cal: Any, work_cat: npt.NDArray[np.bool_], as_of_us: int
) -> None:
    """`times.rework_probability`, `routing.misroute_probability` (counted) and
    `routing.return_delay` (a misrouted dispatch to its return request)."""
    n_rework = int(action_mask(t, "rework").sum())
    n_close = int(action_mask(t, "close").sum())
    _share(
        f,
        "times.rework_probability",
        n_rework,
        n_rework + n_close,
        "checks that failed (rework) among checks (close + rework)",
        0.9,
    )
    rows, misrouted = _misroutes(t)
    _share(
        f,
        "routing.misroute_probability",
        int(misrouted.sum()),
        int(rows.size),
        "dispatches to a wrong owner among dispatches: followed by a return request before "
        "the next routing, or (grid and community levels) to a unit that is not the report's "
        "grid or its community (an escalation can take a misrouted case before it is returned)",
        1.0,
    )
    _return_delay(f, t, rows[misrouted], cal, work_cat, as_of_us)


def _return_delay(
    f: _Fitter,
    t: EventTable,
    misrouted: IntArray,
    cal: Any,
    work_cat: npt.NDArray[np.bool_],
    as_of_us: int,
) -> None:
    """`routing.return_delay`: each misrouted dispatch to its wrong owner's return request,
    in working time for working-hours categories (as the model draws it). One not returned
    is censored at the case's next routing (an escalation took it first) or the log's end."""
    if not misrouted.size:
        f.not_fitted["routing.return_delay"] = "no misrouted dispatch in the log"
        return
    routing = action_mask(t, "dispatch", "transfer", "approve_return", "escalate")
    ret = step_durations(t, misrouted, action_mask(t, "request_return"), as_of_us)
    nxt = step_durations(t, misrouted, routing, as_of_us)
    returned = ret.ended & (~nxt.ended | (ret.end_us <= nxt.end_us))
    end_us = np.where(returned, ret.end_us, np.where(nxt.ended, nxt.end_us, as_of_us))
    step = Step(misrouted, t.at_us[misrouted], end_us, returned, t.case[misrouted])
    work = work_cat[t.category[t.case[misrouted]]]
    fit = f.duration(
        "routing.return_delay",
        _minutes(step, work, cal, as_of_us),
        returned,
        "working time for working-hours categories",
        "a misrouted dispatch to its return request; one taken by an escalation first is "
        "censored there (the test weights the fit by the censoring's reverse Kaplan-Meier "
        "survival, as escalations are a competing event)",
        competing=True,
    )
    if fit is not None:
        f.overrides["routing.return_delay"] = fit.dist().to_value()


def _share(f: _Fitter, key: str, k: int, n: int, what: str, cap: float) -> None:
    if n <= 0:
        f.not_fitted[key] = f"no events to count ({what})"
        return
    s = fit_share(k, n)
    e = s.to_json()
    e["note"] = what
    f.entries[key] = e
    f.overrides[key] = min(cap, s.estimate)


def _categories(f: _Fitter, t: EventTable, reports: IntArray) -> None:
    """Category weights: each category's share of the reports (Wilson intervals)."""
    tax = default_taxonomy()
    cats = t.category[t.case[reports]]
    counts = np.bincount(cats[cats >= 0], minlength=len(t.category_names))
    total = int(counts.sum())
    if not total:
        f.not_fitted["categories.CODE.weight"] = "no report names a category"
        return
    table: dict[str, dict[str, Any]] = {}
    unknown = 0
    for i, code in enumerate(t.category_names):
        if code not in tax or not tax.get(code).is_leaf:
            unknown += int(counts[i])
            continue
        s = fit_share(int(counts[i]), total)
        e = s.to_json()
        e["note"] = "share of the reports (the scenario's weight is this share x 100)"
        f.entries[f"categories.{code}.weight"] = e
        table[code] = {"weight": 100.0 * s.estimate}
    for leaf in tax.leaves():
        table.setdefault(leaf.code, {"weight": 0.0})  # not seen: not simulated either
    if unknown:
        f.dirt["reports_in_categories_not_in_the_taxonomy"] = unknown
    f.overrides["categories"] = table


def _handling(
    f: _Fitter, t: EventTable, cal: Any, work_cat: npt.NDArray[np.bool_], as_of_us: int
) -> None:
    """Handling per level (each case's first start -> handle), per category where the
    category's own times differ from its level's (two-sample KS at `ALPHA`).

    A case counts for the level its category resolves at (the taxonomy's: the scenario's
    `handle_<level>` applies by category) and only when it was handled there: one escalated
    elsewhere by a rule is counted under `dirt` as handled away from its level. A category
    the taxonomy does not know counts at the level it was handled at."""
    stats = scipy_stats()
    starts = first_per_case(t, action_mask(t, "start"))
    step = step_durations(t, starts, action_mask(t, "handle"), as_of_us)
    lv = level_before(t, starts)  # -1 (none) indexes the trailing ""
    handled_at = np.array([_HANDLE_KEY.get(x, "") for x in (*t.level_names, "")], object)[lv]
    cats = t.category[t.case[starts]]
    tax = default_taxonomy()
    owning = np.array(
        [
            _HANDLE_KEY.get(str(tax.get(c).resolve_level), "") if c in tax else ""
            for c in (*t.category_names, "")
        ],
        object,
    )[cats]
    owning = np.where(owning == "", handled_at, owning)
    away = (owning != handled_at) & (handled_at != "")
    if away.any():
        f.dirt["handled_away_from_their_level"] = int(away.sum())
    for level in ("grid", "community", "street", "department"):
        key = _HANDLE_KEY[level]
        sel = (owning == key) & ~away
        if not sel.any():
            f.not_fitted[key] = "no case handled at this level in the log"
            continue
        sub = Step(
            step.begin[sel], step.begin_us[sel], step.end_us[sel], step.ended[sel], step.case[sel]
        )
        # grid workers handle in wall time; level staff in working time (working categories)
        work = work_cat[cats[sel]] & (level != "grid")
        lengths = _minutes(sub, work, cal, as_of_us)
        mins = lengths[0]
        fit = f.duration(
            key,
            lengths,
            sub.ended,
            "wall time" if level == "grid" else "working time for working-hours categories",
        )
        if fit is None:
            continue
        c_sel = cats[sel]
        done = sub.ended & (mins >= 0)
        for code_i in np.unique(c_sel[c_sel >= 0]).tolist():
            mine = done & (c_sel == code_i)
            if mine.sum() < _PER_CATEGORY_MIN or (done & ~mine).sum() < MIN_SAMPLE:
                continue
            p = float(stats.ks_2samp(mins[mine], mins[done & ~mine]).pvalue)
            if p >= ALPHA:
                continue
            code = t.category_names[code_i]
            of_cat = c_sel == code_i
            cfit = f.duration(
                f"categories.{code}.handle",
                (mins[of_cat], lengths[1][of_cat]),
                sub.ended[of_cat],
                f"as {key}",
                f"differs from the rest of its level (two-sample KS p = {p:.2g})",
            )
            if cfit is not None:
                table = f.overrides.setdefault("categories", {})
                table.setdefault(code, {})["handle"] = cfit.dist().to_value()


def _misroutes(t: EventTable) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """The dispatch rows, and which went to a wrong owner (see
    `routing.misroute_probability`'s note). Vectorised: the right owner of each grid at
    grid and community level is looked up once per grid."""
    rows = np.flatnonzero(action_mask(t, "dispatch"))
    if not rows.size:
        return rows, np.zeros(0, np.bool_)
    routing = action_mask(t, "dispatch", "transfer", "approve_return", "escalate")
    ret = step_durations(t, rows, action_mask(t, "request_return"), 0)
    nxt = step_durations(t, rows, routing, 0)
    # returned before the case was routed again (a step ending later, or never: the sentinel)
    ret_at = np.where(ret.ended, ret.end_us, np.iinfo(np.int64).max)
    route_at = np.where(nxt.ended, nxt.end_us, np.iinfo(np.int64).max)
    returned = ret.ended & (ret_at <= route_at)
    owner_code = {o: i for i, o in enumerate(t.owner_names)}
    team = np.array([owner_code.get(f"team:{g}", -2) for g in t.grid_names] + [-1], np.int64)
    comm = np.array(
        [owner_code.get(f"community:{g[:12]}", -2) for g in t.grid_names] + [-1], np.int64
    )
    grid = t.grid[t.case[rows]]  # -1 (no grid) indexes the trailing -1: never wrong
    owner = t.to_owner[rows]
    lv = t.level[rows]
    lv_names = list(t.level_names)
    lv_grid = lv_names.index("grid") if "grid" in lv_names else -3
    lv_comm = lv_names.index("community") if "community" in lv_names else -3
    known = (grid >= 0) & (owner >= 0)
    wrong = known & (
        ((lv == lv_grid) & (owner != team[grid])) | ((lv == lv_comm) & (owner != comm[grid]))
    )
    return rows, returned | wrong


def _observed(facts: Any, arrivals: ArrivalFit | None) -> dict[str, float]:
    """The log's own headline figures (what a simulation of the fit should reproduce)."""
    m = compute_metrics(facts).to_rows()[0] if len(facts) else {}
    days = arrivals.days if arrivals is not None else math.nan

    def g(name: str, scale: float = 1.0) -> float:
        v = m.get(name)
        return float(v) * scale if v is not None and v == v else math.nan

    return {
        "cases": float(len(facts)),
        "cases_per_day": len(facts) / days if days == days and days else math.nan,
        "response_minutes_mean": g("response_s_mean", 1 / 60),
        "resolution_hours_mean": g("resolution_s_mean", 1 / 3600),
        "on_time_rate": g("on_time_rate"),
        "closure_rate": g("closure_rate"),
        "rework_rate": g("rework_rate"),
        "accurate_dispatch_rate": g("accurate_dispatch_rate"),
    }

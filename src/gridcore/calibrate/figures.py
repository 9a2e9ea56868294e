"""Figures of a calibration for `gridcore report`: each fit against its data.

For every fitted duration a histogram of the data with the fitted density and a Q-Q plot
(data quantiles against the fitted distribution's); for the arrivals the hourly profile and
the daily counts against their fitted means. `calibration_report(fitted_json, out)` returns
the section's title, an HTML table of the fits and the figures as (file, title, caption).
matplotlib is imported lazily (`gridcore[report]`), scipy too (`gridcore[calibrate]`).
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from gridcore.calibrate._fits import scipy_stats
from gridcore.errors import ConfigError, FileFormatError

__all__ = ["calibration_file", "calibration_report"]

_FORMAT = "gridcore.calibration/1"


def calibration_file(folder: Path) -> Path | None:
    """The fitted.json of a calibration in `folder` (any `*.json` of that format), or None."""
    for p in sorted(folder.glob("*.json")):
        if p.name.endswith("_data.json") or p.stat().st_size > 50_000_000:
            continue
        try:
            doc = json.loads(p.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and doc.get("format") == _FORMAT:
            return p
    return None


def _figure(width: float = 8.0, height: float = 3.5) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ConfigError(
            "reports need matplotlib: install the extra with pip install 'gridcore[report]'"
        ) from None
    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _frozen(entry: dict[str, Any], stats: Any) -> Any | None:
    """The fitted scipy distribution of a duration entry (None: empirical or fixed)."""
    kind, mean = entry.get("dist"), entry.get("estimate")
    if not isinstance(mean, float) or not mean > 0:
        return None
    if kind == "exponential":
        return stats.expon(scale=mean)
    if kind == "lognormal":
        s = float(entry["sigma"])
        return stats.lognorm(s, scale=math.exp(math.log(mean) - s * s / 2))
    return None


def _duration_figure(
    key: str, entry: dict[str, Any], data: list[float], out: Path, i: int
) -> tuple[str, str, str]:
    stats = scipy_stats()
    x = np.asarray(data, np.float64)
    fig = _figure()
    ax, qq = fig.subplots(1, 2)
    ax.hist(x, bins=min(60, max(10, x.size // 20)), density=True, color="#9ab", label="data")
    dist = _frozen(entry, stats)
    if dist is not None:
        grid = np.linspace(0.0, float(np.quantile(x, 0.99)) if x.size else 1.0, 200)
        ax.plot(grid, dist.pdf(grid), color="#c33", label=f"{entry['dist']} fit")
    ax.set_xlabel("minutes")
    ax.set_title(key)
    ax.legend()
    probs = (np.arange(x.size) + 0.5) / max(x.size, 1)
    if dist is not None and x.size:
        theo = dist.ppf(probs)
        qq.plot(theo, np.sort(x), ".", markersize=2, color="#357")
        top = float(max(theo.max(), x.max()))
        qq.plot([0, top], [0, top], color="#888", linewidth=1)
        qq.set_xlabel(f"{entry['dist']} quantiles (minutes)")
    else:
        qq.plot(probs, np.sort(x), ".", markersize=2, color="#357")
        qq.set_xlabel("probability (no parametric fit)")
    qq.set_ylabel("data quantiles (minutes)")
    qq.set_title("Q-Q")
    name = f"calibration_{i:02d}.png"
    fig.savefig(out / name, format="png")
    verdict = "passes" if entry.get("passes") else "FAILS"
    cap = (
        f"{entry.get('sample_size')} complete values ({entry.get('censored')} censored); "
        f"KS p = {entry.get('p_value', float('nan')):.3g}: {verdict} at the test level"
    )
    return name, f"{key}: {entry.get('dist')} fit", cap


def _arrival_figure(doc: dict[str, Any], data: dict[str, Any], out: Path) -> tuple[str, str, str]:
    fig = _figure(9.0, 3.5)
    ax, days = fig.subplots(1, 2)
    counts = np.asarray(data["hour_counts"], np.float64)
    ax.bar(np.arange(24), counts / max(counts.sum(), 1.0) * 24, color="#9ab")
    ax.set_xlabel("local hour")
    ax.set_ylabel("relative rate (mean 1)")
    ax.set_title("hourly profile")
    obs = np.asarray(data["daily_counts"], np.float64)
    exp = np.asarray(data["daily_expected"], np.float64)
    days.plot(obs, "o-", color="#357", label="reports")
    days.plot(exp, "-", color="#c33", label="fitted mean")
    days.set_xlabel(f"day (from {data['first_day']})")
    days.set_title("daily counts")
    days.legend()
    name = "calibration_arrivals.png"
    fig.savefig(out / name, format="png")
    e = doc["fitted"].get("incidents.per_1000_households_per_day", {})
    cap = f"{e.get('verdict', '')} (daily dispersion {e.get('dispersion_daily')})"
    return name, "arrivals", cap


def calibration_report(fitted: Path, out: Path) -> tuple[str, str, list[tuple[str, str, str]]]:
    """(title, HTML table of the fits, figures) of the calibration whose fitted.json is
    `fitted`; the figures are written to `out`."""
    doc = json.loads(fitted.read_text("utf-8"))
    data_path = fitted.with_name(fitted.stem + "_data.json")
    try:
        data = json.loads(data_path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise FileFormatError(
            str(data_path), "", "", "the calibration's data file", str(exc)
        ) from None
    figs: list[tuple[str, str, str]] = []
    if "arrivals" in data:
        figs.append(_arrival_figure(doc, data["arrivals"], out))
    for i, (key, values) in enumerate(sorted(data.get("samples", {}).items())):
        entry = doc["fitted"].get(key)
        if entry is not None and values:
            figs.append(_duration_figure(key, entry, values, out, i))
    rows = []
    for key, e in sorted(doc["fitted"].items()):
        if key.startswith("categories.") or not isinstance(e.get("estimate"), float | int):
            continue
        ok = "FAILS" if e.get("passes") is False or e.get("poisson") is False else "ok"
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{html.escape(str(v))}</td>"
                for v in (
                    key,
                    e.get("dist", ""),
                    f"{e['estimate']:.4g}",
                    f"[{e.get('ci_low', float('nan')):.4g}, {e.get('ci_high', float('nan')):.4g}]",
                    e.get("sample_size", ""),
                    ok,
                )
            )
            + "</tr>"
        )
    head = "".join(f"<th>{c}</th>" for c in ("key", "dist", "estimate", "95% CI", "n", "test"))
    not_fitted = "".join(
        f"<li><code>{html.escape(k)}</code>: {html.escape(v)}</li>"
        for k, v in doc["not_fitted"].items()
    )
    body = (
        f"<table><tr>{head}</tr>{''.join(rows)}</table>"
        f"<p>Not in a log (left at the base values):</p><ul>{not_fitted}</ul>"
    )
    return f"Calibration {doc.get('scenario', fitted.stem)}", body, figs

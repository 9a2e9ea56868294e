"""Duration distributions of a scenario: exponential, lognormal, fixed or empirical."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs

from gridcore.errors import ScenarioError
from gridcore.sim.scenario.convert import one_of, to_float, to_floats

__all__ = ["DIST_KINDS", "Dist", "dump_dist", "exp_", "to_dist"]

DIST_KINDS = ("exponential", "lognormal", "fixed", "empirical")
"""Distribution kinds a duration may follow."""


@attrs.frozen
class Dist:
    """A duration distribution in minutes: exponential, lognormal, fixed or empirical.

    `mean_minutes` is the mean for every kind (for `empirical`, the mean of `values`);
    `sigma` is the lognormal shape (the standard deviation of the log).
    """

    kind: str = "exponential"
    mean_minutes: float = 60.0
    sigma: float = 0.8
    values: tuple[float, ...] = ()

    def to_value(self) -> dict[str, Any]:
        """The table that loads back into this distribution."""
        if self.kind == "empirical":
            return {"dist": "empirical", "values": list(self.values)}
        if self.kind == "lognormal":
            return {"dist": "lognormal", "mean_minutes": self.mean_minutes, "sigma": self.sigma}
        return {"dist": self.kind, "mean_minutes": self.mean_minutes}


def exp_(mean: float) -> Dist:
    """An exponential distribution with the given mean in minutes."""
    return Dist("exponential", mean)


def to_dist(key: str, v: object, src: str) -> Dist:
    what = (
        "a number (an exponential mean in minutes) or a table "
        '{dist = "exponential"|"lognormal"|"fixed"|"empirical", mean_minutes = ..., '
        "sigma = ... (lognormal), values = [...] (empirical)}"
    )
    if isinstance(v, Dist):
        return v
    if isinstance(v, int | float) and not isinstance(v, bool):
        return Dist("exponential", to_float(0.0, open_lo=True)(key, v, src))
    if not isinstance(v, Mapping):
        raise ScenarioError(key, v, what, src)
    extra = set(v) - {"dist", "mean_minutes", "sigma", "values"}
    if extra:
        k = sorted(extra)[0]
        raise ScenarioError(f"{key}.{k}", v[k], "one of dist, mean_minutes, sigma, values", src)
    kind = one_of(*DIST_KINDS)(f"{key}.dist", v.get("dist", "exponential"), src)
    if kind == "empirical":
        vals = to_floats(None)(f"{key}.values", v.get("values"), src)
        return Dist("empirical", math.fsum(vals) / len(vals), 0.0, vals)
    if "mean_minutes" not in v:
        raise ScenarioError(f"{key}.mean_minutes", None, "a number > 0 (required)", src)
    mean = to_float(0.0, open_lo=kind != "fixed")(f"{key}.mean_minutes", v["mean_minutes"], src)
    sigma = to_float(0.0, 5.0, open_lo=True)(f"{key}.sigma", v.get("sigma", 0.8), src)
    return Dist(kind, mean, sigma if kind == "lognormal" else 0.8)


def dump_dist(d: Dist) -> dict[str, Any]:
    return d.to_value()

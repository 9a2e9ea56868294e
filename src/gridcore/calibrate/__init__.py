"""Calibration: a scenario fitted from a case log, with the uncertainty of every fit.

An edge (reads files, writes files; scipy is imported lazily and its absence is a
`ConfigError` naming the `gridcore[calibrate]` extra). See docs/calibration.md.

    log = read_event_log("events.jsonl")
    cal = calibrate(log, households=25_000, city="city.geojson")
    write_calibration(cal, "fitted.toml")
"""

from __future__ import annotations

from gridcore.calibrate._fits import ALPHA, DurationFit, ShareFit, fit_duration, fit_share
from gridcore.calibrate._log import EventLog, event_log_from_events, read_event_log
from gridcore.calibrate.calibration import FORMAT, NOT_IN_A_LOG, Calibration, calibrate
from gridcore.calibrate.output import scenario_toml, write_calibration

__all__ = [
    "ALPHA",
    "FORMAT",
    "NOT_IN_A_LOG",
    "Calibration",
    "DurationFit",
    "EventLog",
    "ShareFit",
    "calibrate",
    "event_log_from_events",
    "fit_duration",
    "fit_share",
    "read_event_log",
    "scenario_toml",
    "write_calibration",
]

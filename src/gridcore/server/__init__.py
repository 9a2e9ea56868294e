"""The Open311 GeoReport v2 HTTP endpoint over a case journal (the ``server`` extra).

`GeoReport` holds the methods (no web framework); `make_app` wraps them in a Starlette
application; `gridcore serve` runs it with uvicorn. Starlette and uvicorn are imported
only when an application is made or served.
"""

from __future__ import annotations

from gridcore.server.app import make_app, need_server_extra
from gridcore.server.georeport import MAX_DAYS, MAX_REQUESTS, ApiError, GeoReport

__all__ = ["MAX_DAYS", "MAX_REQUESTS", "ApiError", "GeoReport", "make_app", "need_server_extra"]

"""The GeoReport v2 HTTP endpoint: a Starlette application over `GeoReport`.

Routes (``{fmt}`` is ``json`` or ``xml``): ``GET /services.{fmt}``,
``GET /services/{code}.{fmt}``, ``GET /requests.{fmt}``, ``GET /requests/{id}.{fmt}``,
``POST /requests.{fmt}`` (a form: ``application/x-www-form-urlencoded``). Errors are
the spec's error list (``[{"code": .., "description": ..}]`` or ``<errors>``) with
404 for what does not exist, 403 for a missing or wrong api_key, 400 otherwise.

Starlette is imported when an application is made (the ``server`` extra).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from gridcore.errors import ConfigError, GridcoreError
from gridcore.io._xml import escape_text
from gridcore.io.open311 import (
    requests_to_json,
    requests_to_xml,
    services_to_json,
    services_to_xml,
)
from gridcore.server.georeport import ApiError, GeoReport

__all__ = ["make_app", "need_server_extra"]

_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
_XML_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'


def need_server_extra() -> None:
    """`ConfigError` naming the extra to install when Starlette or uvicorn is missing."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"the Open311 endpoint needs the server extra ({exc.name} is missing): "
            "pip install 'gridcore[server]'"
        ) from None


def _errors_body(fmt: str, err: ApiError) -> str:
    if fmt == "xml":
        return (
            f"{_XML_HEAD}<errors>\n  <error>\n    <code>{err.code}</code>\n"
            f"    <description>{escape_text(err.description)}</description>\n"
            "  </error>\n</errors>\n"
        )
    return json.dumps([{"code": err.code, "description": err.description}], indent=2) + "\n"


def _created_body(fmt: str, rid: str) -> str:
    if fmt == "xml":
        return (
            f"{_XML_HEAD}<service_requests>\n  <request>\n"
            f"    <service_request_id>{escape_text(rid)}</service_request_id>\n"
            "    <service_notice></service_notice>\n    <account_id></account_id>\n"
            "  </request>\n</service_requests>\n"
        )
    body = [{"service_request_id": rid, "service_notice": None, "account_id": None}]
    return json.dumps(body, indent=2) + "\n"


def _definition_body(fmt: str, code: str) -> str:
    if fmt == "xml":
        return (
            f"{_XML_HEAD}<service_definition>\n"
            f"  <service_code>{escape_text(code)}</service_code>\n"
            "  <attributes></attributes>\n</service_definition>\n"
        )
    return json.dumps({"service_code": code, "attributes": []}, indent=2) + "\n"


def make_app(georeport: GeoReport) -> Any:
    """The Starlette application serving `georeport` (needs the ``server`` extra)."""
    need_server_extra()
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    def respond(fmt: str, text: str, status: int = 200) -> Response:
        return Response(text, status_code=status, media_type=_TYPES[fmt])

    def fmt_of(request: Request) -> str:
        fmt = str(request.path_params.get("fmt", "json")).lower()
        if fmt not in _TYPES:
            raise ApiError(404, f"format {fmt!r}: expected json or xml")
        return fmt

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            fmt = "json"
            try:
                fmt = fmt_of(request)
                return respond(fmt, await handler(request, fmt))
            except ApiError as err:
                return respond(fmt, _errors_body(fmt, err), err.status)
            except GridcoreError as exc:  # anything else the core refuses: the spec's 400
                general = ApiError(400, f"general service error: {exc}")
                return respond(fmt, _errors_body(fmt, general), 400)

        return endpoint

    async def services(request: Request, fmt: str) -> str:
        items = georeport.services()
        return services_to_xml(items) if fmt == "xml" else services_to_json(items)

    async def definition(request: Request, fmt: str) -> str:
        return _definition_body(fmt, georeport.service_definition(request.path_params["code"]))

    async def requests(request: Request, fmt: str) -> str:
        items = georeport.requests(dict(request.query_params))
        return requests_to_xml(items) if fmt == "xml" else requests_to_json(items)

    async def one_request(request: Request, fmt: str) -> str:
        items = [georeport.request(request.path_params["rid"])]
        return requests_to_xml(items) if fmt == "xml" else requests_to_json(items)

    async def create(request: Request, fmt: str) -> str:
        body = (await request.body()).decode("utf-8", errors="replace")
        form = dict(request.query_params)
        form.update(parse_qsl(body, keep_blank_values=True))
        return _created_body(fmt, georeport.create(form))

    async def not_found(request: Request, exc: Exception) -> Response:
        err = ApiError(404, f"{request.url.path}: no such resource")
        return respond("json", _errors_body("json", err), 404)

    routes = [
        Route("/services.{fmt}", guarded(services), methods=["GET"]),
        Route("/services/{code}.{fmt}", guarded(definition), methods=["GET"]),
        Route("/requests.{fmt}", guarded(requests), methods=["GET"]),
        Route("/requests.{fmt}", guarded(create), methods=["POST"]),
        Route("/requests/{rid}.{fmt}", guarded(one_request), methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found})

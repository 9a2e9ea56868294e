"""`gridcore serve`: the Open311 GeoReport v2 endpoint over a journal, on uvicorn."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from gridcore.errors import ConfigError

__all__ = ["read_api_keys", "register"]


def read_api_keys(path: str | None) -> frozenset[str]:
    """The api keys of a file, one a line (blank lines and # comments skipped)."""
    if path is None:
        return frozenset()
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the api keys ({exc.strerror})") from None
    return frozenset(s for line in lines if (s := line.strip()) and not s.startswith("#"))


def _cmd_serve(args: argparse.Namespace) -> int:
    from gridcore.io.commands import city_index
    from gridcore.io.mapping import read_open311_mapping
    from gridcore.server import GeoReport, make_app, need_server_extra
    from gridcore.store import open_store

    need_server_extra()
    import uvicorn

    if not 0 < args.port < 65536:
        raise ConfigError(f"--port {args.port}: expected 1..65535")
    mapping = read_open311_mapping(args.mapping)
    index = city_index(args.city)
    keys = read_api_keys(args.api_keys)
    with open_store(args.store) as store:
        app = make_app(GeoReport(store, index, mapping, api_keys=keys))
        print(
            f"serving Open311 GeoReport v2 on http://{args.host}:{args.port} "
            f"({len(mapping.services)} services, {len(keys)} api keys)",
            flush=True,
        )
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def register(subparsers: Any) -> None:
    """Add `serve` to an argparse subparsers object."""
    p = subparsers.add_parser("serve", help="serve a journal as an Open311 GeoReport v2 API")
    p.add_argument("--store", required=True, help="the journal URL (sqlite:///PATH, ...)")
    p.add_argument("--city", required=True, help="the GeoJSON hierarchy to route by position")
    p.add_argument("--mapping", required=True, help="the mapping file (TOML)")
    p.add_argument("--port", type=int, default=8311)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--api-keys", help="a file of api keys allowed to post, one a line")
    p.add_argument("--log-level", default="warning", help="uvicorn's log level")
    p.set_defaults(func=_cmd_serve)

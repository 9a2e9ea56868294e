"""Executors from a command-line spec: ``local``, ``serial`` or ``dask://HOST:PORT``.

Every command that runs many replications or runs (``gridcore sweep`` today) takes
``--executor SPEC`` and turns it into a `concurrent.futures.Executor` here:

- ``local``: a process pool whose workers die with this process (`gridcore.sim.pool`),
  of ``--workers`` processes (default: the machine's cores);
- ``serial``: `SerialExecutor`, each call run at once in this process (debugging,
  baselines);
- ``dask://HOST:PORT`` (or ``tcp://HOST:PORT``): a Dask scheduler's executor,
  `DaskExecutor`. Dask is an optional extra (``pip install 'gridcore[dist]'``),
  imported only for such a spec.

`parse_executor_spec` checks a spec without starting anything, so a command can refuse a
bad one before any work; `executor_from_spec` makes the executor. The caller shuts it down.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Callable
from typing import Any, Literal

import attrs

from gridcore.errors import ConfigError

__all__ = [
    "EXECUTOR_HELP",
    "DaskExecutor",
    "ExecutorSpec",
    "SerialExecutor",
    "executor_from_spec",
    "local_pool",
    "parse_executor_spec",
]

EXECUTOR_HELP = "local (process pool, default), serial, or dask://HOST:PORT"
"""The help text of an ``--executor`` option."""


@attrs.frozen
class ExecutorSpec:
    """A parsed ``--executor`` spec: its kind and, for Dask, the scheduler's address."""

    text: str
    """The spec as given (for messages)."""
    kind: Literal["local", "serial", "dask"]
    address: str = ""
    """``tcp://HOST:PORT`` of the Dask scheduler; empty for the other kinds."""


def parse_executor_spec(spec: str) -> ExecutorSpec:
    """The spec `spec` checked and parsed, or ConfigError naming it and what is accepted.

    >>> parse_executor_spec("dask://10.0.0.5:8786").address
    'tcp://10.0.0.5:8786'
    """
    if spec == "local":
        return ExecutorSpec(spec, "local")
    if spec == "serial":
        return ExecutorSpec(spec, "serial")
    if spec.startswith(("dask://", "tcp://")):
        return ExecutorSpec(spec, "dask", "tcp://" + spec.split("://", 1)[1])
    raise ConfigError(f"executor {spec!r}: expected 'local', 'serial' or 'dask://HOST:PORT'")


class SerialExecutor(cf.Executor):
    """An executor that runs each call at once in this process (for debugging and baselines)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        """Run ``fn(*args, **kwargs)`` now; the future holds its result or exception."""
        fut: cf.Future[Any] = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # the caller sees it through the future, as with a pool
            fut.set_exception(exc)
        return fut


class DaskExecutor(cf.Executor):
    """A Dask client's executor that also closes the client on shutdown."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._inner = client.get_executor()

    @property
    def workers(self) -> int:
        """How many tasks the cluster runs at once now (its workers' threads)."""
        info: dict[str, Any] = self._client.scheduler_info()
        threads = [int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()]
        return max(1, sum(threads))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future[Any]:
        """Submit to the cluster (pure=False: a call is never merged with an identical one)."""
        fut: cf.Future[Any] = self._inner.submit(fn, *args, pure=False, **kwargs)
        return fut

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Finish (or cancel) the submitted calls and close the client."""
        self._inner.shutdown(wait=wait and not cancel_futures)
        self._client.close()


def local_pool(workers: int | None = None) -> cf.Executor:
    """A local process pool whose workers die with this process (default: the cores)."""
    from gridcore.sim.pool import MAX_WORKERS, process_pool

    return process_pool(min(MAX_WORKERS, os.cpu_count() or 1) if workers is None else workers)


def _dask_executor(spec: ExecutorSpec) -> DaskExecutor:
    """A `DaskExecutor` on the scheduler at ``spec.address`` (ConfigError if unreachable)."""
    try:
        from distributed import Client as _Client
    except ImportError:
        raise ConfigError(
            f"executor {spec.text!r} needs Dask: install the extra with pip install "
            "'gridcore[dist]'"
        ) from None
    make_client: Any = _Client  # untyped library
    try:
        client = make_client(spec.address, timeout=10)
    except OSError as exc:
        raise ConfigError(
            f"executor {spec.text!r}: cannot reach a Dask scheduler at {spec.address} ({exc})"
        ) from None
    return DaskExecutor(client)


def executor_from_spec(
    spec: str | ExecutorSpec = "local", workers: int | None = None
) -> cf.Executor:
    """An executor from a command-line spec: ``local``, ``serial`` or ``dask://HOST:PORT``.

    ``local`` is a process pool of `workers` (default: the machine's cores). Dask is an
    optional extra (``pip install 'gridcore[dist]'``), imported only for a ``dask://``
    spec. The caller shuts the executor down.
    """
    parsed = parse_executor_spec(spec) if isinstance(spec, str) else spec
    if parsed.kind == "local":
        return local_pool(workers)
    if parsed.kind == "serial":
        return SerialExecutor()
    return _dask_executor(parsed)

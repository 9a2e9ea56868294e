"""A throwaway PostgreSQL cluster for tests and benchmarks: a temp folder, a unix socket.

PostgreSQL refuses to run as root, so when the tests run as root (CI) the server runs as
an unprivileged system user (`postgres` when the Debian package made it, else
`gridcore_pg`, created here if missing), which is given the temp folder. Nothing is
skipped: a cluster that cannot start raises, naming the step and its output.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

PG_BIN = Path(os.environ.get("GRIDCORE_PG_BIN", "/usr/lib/postgresql/15/bin"))
_USERS = ("postgres", "gridcore_pg")


class ClusterError(RuntimeError):
    """The throwaway cluster could not be started (names the step)."""


def _server_user() -> str | None:
    """The user to run the server as (None: the current, non-root, user)."""
    if os.geteuid() != 0:
        return None
    for name in _USERS:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", _USERS[1]],
        check=True,
        capture_output=True,
    )
    return _USERS[1]


class ThrowawayCluster:
    """initdb + pg_ctl start in a temp folder; `url(db)`; `stop()` removes everything."""

    def __init__(self) -> None:
        initdb = PG_BIN / "initdb"
        if not initdb.exists():
            raise ClusterError(
                f"{initdb} not found: install Debian's postgresql package (.ci/run does), "
                "or set GRIDCORE_PG_BIN"
            )
        self.user = _server_user()
        self.dir = Path(tempfile.mkdtemp(prefix="gridcore-pg-"))
        self.data = self.dir / "data"
        self._names = itertools.count(1)
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        os.chmod(self.dir, 0o700)
        try:
            self._run(
                [
                    str(initdb),
                    "-D",
                    str(self.data),
                    "-A",
                    "trust",
                    "-U",
                    "postgres",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ],
                "initdb",
            )
            opts = f"-k {self.dir} -c listen_addresses='' -c max_connections=50"
            self._run(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-o",
                    opts,
                    "-w",
                    "-l",
                    str(self.dir / "server.log"),
                    "start",
                ],
                "pg_ctl start",
            )
        except BaseException:
            self.stop()
            raise

    def _run(self, cmd: list[str], step: str) -> None:
        if self.user is not None:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.dir / "server.log"
            more = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ClusterError(
                f"PostgreSQL {step} failed ({done.returncode}): {done.stdout}{done.stderr}{more}"
            )

    def url(self, database: str = "postgres") -> str:
        """The libpq URL of a database on this cluster (over the unix socket)."""
        return f"postgresql://postgres@/{database}?host={self.dir}"

    def new_database(self) -> str:
        """A fresh empty database; its URL."""
        import psycopg

        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (immediately) and remove the folder."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(ClusterError):
                self._run(
                    [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                    "pg_ctl stop",
                )
        shutil.rmtree(self.dir, ignore_errors=True)

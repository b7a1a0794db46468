"""A throwaway PostgreSQL server for the tests, run from the installed binaries.

As pytest-postgresql does: `initdb` a cluster in a temporary folder, start it with
`pg_ctl` on a free local port (trust authentication, nothing reachable from outside), and
remove it at the end of the session. The binaries are found on PATH or in Debian's
`/usr/lib/postgresql/<version>/bin`. As root (PostgreSQL refuses to run as root), the
server runs as the `postgres` user. `.ci/run` installs the binaries when they are missing.

`DESK_TEST_DATABASE_URL` uses a server of one's own instead (its database is emptied
before each test).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import asyncpg

from bot.config import Settings

USER = "desk"
DATABASE = "desk_test"


def binaries() -> Path | None:
    """The folder of `initdb`, `pg_ctl` and `postgres`, or None."""
    found = shutil.which("pg_ctl")
    if found is not None:
        return Path(found).resolve().parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    return versions[0].parent if versions else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """One cluster in a temporary folder, started and stopped by the tests."""

    def __init__(self, bin_dir: Path, *, durable: bool = False) -> None:
        self.bin_dir = bin_dir
        self.durable = durable
        self.root = Path(tempfile.mkdtemp(prefix="desk-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            # PostgreSQL will not run as root: the cluster belongs to `postgres`.
            shutil.chown(self.root, "postgres", "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, tool: str, *args: str) -> None:
        command = [*self._as, str(self.bin_dir / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync"
        )
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1"
            f" -c unix_socket_directories={self.root} -c max_connections=200"
        )
        if not self.durable:
            # Durability is not what the tests measure: fsync off makes the suite quicker.
            # (The benchmark keeps PostgreSQL's defaults, as a desk in production would.)
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w",
            "start",
        )  # fmt: skip
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, DATABASE)

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


async def empty(url: str) -> None:
    """Drop every table, function and sequence of the desk's: each test starts on a new
    database, migrated by the desk itself as it would be in production."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        # A connection an earlier test left open (a worker's lock, a pool) goes first.
        await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()


def database_env(settings: Settings) -> dict[str, str]:
    """The environment that points a `python -m bot` process at the settings' database."""
    env = {"DATABASE_PATH": str(settings.database_path)}
    if settings.database_url is not None:
        env["DATABASE_URL"] = settings.database_url.get_secret_value()
    return env

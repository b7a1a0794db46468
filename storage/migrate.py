"""The schema's migrations, on each database.

- SQLite: the numbered scripts `storage/migrations/NNNN_name.sql`, listed and applied in
  order. Each migration and the record of it in `schema_migrations` commit together, so a
  kill leaves a migration applied and recorded, or neither.
- PostgreSQL: Alembic's revisions in `storage/alembic/versions`, from a baseline equal to
  SQLite's migration 17, in one transaction under an advisory lock, so workers starting
  together upgrade the database once.
"""

from __future__ import annotations

import logging
import re
import time
from importlib import resources
from pathlib import Path

import aiosqlite
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """The numbered `storage/migrations/NNNN_name.sql` scripts, in order."""
    found: list[tuple[int, str, str]] = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return found


async def apply_migrations(conn: aiosqlite.Connection) -> None:
    """Apply, in order, the migrations not yet recorded in `schema_migrations`."""
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
    )
    async with conn.execute("SELECT version FROM schema_migrations") as cursor:
        applied = {row[0] for row in await cursor.fetchall()}
    for version, name, script in migrations():
        if version in applied:
            continue
        log.info("Applying migration %04d %s", version, name)
        # executescript commits on its own, so the whole migration and its record go
        # into one explicit transaction written out as a script.
        await conn.executescript(
            "BEGIN IMMEDIATE;\n"
            f"{script}\n"
            "INSERT INTO schema_migrations (version, name, applied_at) "
            f"VALUES ({version}, '{name}', {int(time.time())});\n"
            "COMMIT;"
        )


# Any number that is the desk's own: the key of the advisory lock its migrations take.
MIGRATION_LOCK = 0x5D_E5_C0_01


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "alembic"))
    config.attributes["connection"] = connection
    return config


async def apply_postgres_migrations(conn: AsyncConnection) -> None:
    """Upgrade a PostgreSQL database to Alembic's head (inside the caller's transaction)."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    await conn.run_sync(_upgrade)


def _upgrade(connection: Connection) -> None:
    # Alembic's own INFO lines ("Context impl PostgresqlImpl", "Will assume transactional
    # DDL") mean nothing to an operator; the desk logs the revisions it applies.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    command.upgrade(alembic_config(connection), "head")

"""`python -m bot migrate-to postgresql://...`: an SQLite desk copied whole, counts checked."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from bot.compose import StoredDesk
from bot.config import Settings
from bot.domain.models import Draft, Priority
from storage import Database
from storage.copy import COUNTERS, TABLES
from tests.conftest import TOKEN, FakeClock
from tests.unit.test_forget import CUSTOMER, seed

pytestmark = pytest.mark.one_backend  # the source is an SQLite file; the target is below


async def _migrate_to(tmp_path: Path, url: str) -> int:
    """The command, with BOT_TOKEN and DATABASE_PATH set by the test."""
    env = tmp_path / "empty.env"
    env.write_text("")
    # main() runs its own event loop: in a thread, away from the test's.
    return await asyncio.to_thread(main, ["--env-file", str(env), "migrate-to", url])


async def _rows(db: Database, table: str) -> list[dict[str, Any]]:
    """Every row, by column name (the two databases order their columns differently); of
    a counter, the counts that are not zero (a count gone back to zero keeps its row)."""
    rows = await db.fetch_all(COUNTERS.get(table, f"SELECT * FROM {table}"))
    found = [{name: row[name] for name in row.keys()} for row in rows]  # noqa: SIM118
    return sorted(found, key=repr)


async def test_every_table_arrives_whole_and_the_desk_goes_on_there(
    settings: Settings,
    db: Database,
    clock: FakeClock,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("DATABASE_PATH", str(settings.database_path))
    desk = StoredDesk(settings, db, clock)
    numbers = await seed(desk, clock)
    # A ticket deleted after it was numbered: its number is never given again.
    late = await desk.submit(
        Draft(
            user_id=CUSTOMER,
            department="billing",
            subject="Dobel",
            priority=Priority.LOW,
            message="x",
        ),
        "id",
    )
    async with db.transaction() as tx:
        for table in ("ticket_events", "ticket_messages", "outbox"):
            await tx.execute(f"DELETE FROM {table} WHERE ticket_number = ?", (late.number,))
        await tx.execute("DELETE FROM tickets WHERE number = ?", (late.number,))
    await db.close()

    assert await _migrate_to(tmp_path, pg_url) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1].startswith("copied ")
    assert "every count matches" in out

    copy = Database(settings.database_path, url=pg_url)
    await db.connect()
    try:
        for table in (*TABLES, *COUNTERS):
            mine, theirs = await _rows(db, table), await _rows(copy, table)
            assert theirs == mine, table
        assert await _rows(copy, "tickets")  # something was copied
        # The desk carries on in PostgreSQL: the next number follows the deleted one.
        there = StoredDesk(settings, copy, clock)
        assert (await there.tickets.get(numbers[0])) is not None
        follow = await there.submit(
            Draft(
                user_id=CUSTOMER,
                department="billing",
                subject="Lagi",
                priority=Priority.LOW,
                message="y",
            ),
            "id",
        )
        assert follow.number == late.number + 1
    finally:
        await copy.close()


async def test_a_target_that_holds_a_desk_is_refused_and_left_alone(
    make_settings: Callable[..., Settings],
    db: Database,
    clock: FakeClock,
    pg_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    settings = make_settings()
    monkeypatch.setenv("DATABASE_PATH", str(settings.database_path))
    await seed(StoredDesk(settings, db, clock), clock)
    await db.close()
    assert await _migrate_to(tmp_path, pg_url) == 0
    capsys.readouterr()

    assert await _migrate_to(tmp_path, pg_url) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: migrate-to: the target database is not empty (users has 3")
    assert error.endswith("nothing was copied")
    copy = Database(settings.database_path, url=pg_url)
    try:
        users = await copy.fetch_one("SELECT COUNT(*) AS n FROM users")
        assert users is not None and users["n"] == 3  # not doubled
    finally:
        await copy.close()

    assert await _migrate_to(tmp_path, "mysql://desk@db/desk") == 2
    assert capsys.readouterr().err.strip().startswith("error: migrate-to: must be a PostgreSQL URL")

"""One leader among the workers of a PostgreSQL desk (storage/leader.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from bot.domain.models import Audience
from bot.domain.outbox import OutboxKind
from storage import Database
from storage.leader import LEADER_LOCK, Leadership
from storage.outbox import enqueue

pytestmark = pytest.mark.one_backend  # each test names its database itself


@pytest.fixture
async def workers(pg_url: str, tmp_path: Path) -> AsyncIterator[list[Database]]:
    """Three workers' databases on one PostgreSQL (as three processes would open it)."""
    dbs = [Database(tmp_path / "support.db", url=pg_url) for _ in range(3)]
    for db in dbs:
        await db.connect()
    yield dbs
    for db in dbs:
        await db.close()


@pytest.fixture
async def held() -> AsyncIterator[list[Leadership]]:
    """The test's leaderships, given up at its end whatever happened."""
    leaderships: list[Leadership] = []
    yield leaderships
    for lead in leaderships:
        await lead.release()


async def _leaders(leaderships: list[Leadership]) -> list[bool]:
    return [await lead.leads() for lead in leaderships]


async def test_one_worker_leads_and_another_takes_over_when_it_goes(
    workers: list[Database], held: list[Leadership]
) -> None:
    leaderships = [Leadership(db, retry=0) for db in workers]
    held.extend(leaderships)
    first = await _leaders(leaderships)
    assert first == [True, False, False]
    assert await _leaders(leaderships) == first  # it keeps the lead while it asks

    await leaderships[0].release()  # a worker stopping
    assert await _leaders(leaderships[1:]) == [True, False]


async def test_a_follower_asks_again_on_the_one_connection_it_keeps(
    workers: list[Database], pg_url: str, held: list[Leadership]
) -> None:
    leaderships = [Leadership(db, retry=0) for db in workers[:2]]
    held.extend(leaderships)
    conn = await asyncpg.connect(pg_url)
    try:
        count = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        assert await _leaders(leaderships) == [True, False]
        before = await conn.fetchval(count)
        for _ in range(5):
            assert await _leaders(leaderships) == [True, False]
        assert await conn.fetchval(count) == before  # no connection opened per ask
        await leaderships[0].release()
        assert await leaderships[1].leads()  # and takes the lead on it when it is free
        assert await conn.fetchval(count) == before - 1
    finally:
        await conn.close()


async def test_a_killed_leaders_lock_passes_to_another_worker(
    workers: list[Database], pg_url: str, held: list[Leadership]
) -> None:
    leaderships = [Leadership(db, retry=0) for db in workers]
    held.extend(leaderships)
    assert await _leaders(leaderships) == [True, False, False]
    # What PostgreSQL sees of a SIGKILLed worker: its session ends.
    admin = await asyncpg.connect(pg_url)
    try:
        ended = await admin.fetchval(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_locks"
            " WHERE locktype = 'advisory' AND objid = $1",
            LEADER_LOCK,
        )
        assert ended == 1
        await asyncio.sleep(0.1)  # the server releases the lock with the session
    finally:
        await admin.close()
    now = await _leaders(leaderships)
    assert now.count(True) == 1 and not now[0]
    assert await _leaders(leaderships) == now  # and the old leader does not come back


async def test_the_leader_hears_of_an_outbox_item_another_worker_wrote(
    workers: list[Database], held: list[Leadership]
) -> None:
    leader, other = Leadership(workers[0], retry=0), Leadership(workers[1], retry=0)
    held.extend([leader, other])
    heard = asyncio.Event()
    leader.on_queued = heard.set
    assert await leader.leads() and not await other.leads()
    async with workers[2].transaction() as tx:
        await enqueue(tx, OutboxKind.CARD, Audience.ADMIN, datetime.now(UTC))
    await asyncio.wait_for(heard.wait(), timeout=5)
    # Nothing heard by a follower, and a transaction that queued nothing notifies nobody.
    heard.clear()
    await workers[2].execute("DELETE FROM outbox")
    await asyncio.sleep(0.2)
    assert not heard.is_set()


async def test_sqlite_has_one_worker_and_it_always_leads(tmp_path: Path) -> None:
    db = Database(tmp_path / "support.db")
    await db.connect()
    try:
        assert await Leadership(db).leads()
        assert await Leadership(db).leads()
    finally:
        await db.close()

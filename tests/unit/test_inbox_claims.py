"""The shared inbox's lines (storage/updates.py, migration 0018): a worker claims the oldest
unhandled update of a line nobody holds, so one chat's updates are handled one at a time,
in order, by one worker at a time, and a dead worker's line is taken over once its lease
lapses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Database, Inbox, ProcessedUpdates

LEASE = 10.0
NOW = 1_800_000_000.0


def _update(update_id: int, chat: int) -> dict[str, object]:
    return {"update_id": update_id, "message": {"chat": {"id": chat}, "text": f"u{update_id}"}}


@pytest.fixture
async def inboxes(db: Database, tmp_path: Path) -> AsyncIterator[list[Inbox]]:
    """Two workers' inboxes on the test's database (on SQLite, one file opened twice)."""
    other = Database(db.path, url=db.url)
    await other.connect()
    yield [Inbox(db), Inbox(other)]
    await other.close()


async def _fill(inbox: Inbox) -> None:
    # Two customers: chat 1 sent 10, 12, 13; chat 2 sent 11.
    for update_id, chat in ((10, 1), (11, 2), (12, 1), (13, 1)):
        assert await inbox.receive(_update(update_id, chat), f"chat:{chat}")
    assert not await inbox.receive(_update(10, 1), "chat:1")  # Telegram posted it again


async def test_each_line_gives_its_oldest_update_to_one_worker(
    inboxes: list[Inbox], db: Database
) -> None:
    first, second = inboxes
    await _fill(first)
    got = await first.claim("a", now=NOW, lease=LEASE, limit=10)
    assert [c.update_id for c in got] == [10, 11]
    assert not any(c.taken_over for c in got)
    assert got[0].payload["message"] == {"chat": {"id": 1}, "text": "u10"}
    # Both lines are held: the other worker gets nothing, not even chat 1's next update.
    assert await second.claim("b", now=NOW, lease=LEASE, limit=10) == []

    # 10 handled (its change noted it), but its handling not over: chat 1 stays held.
    await ProcessedUpdates(db).mark(10)
    assert await second.claim("b", now=NOW + 1, lease=LEASE, limit=10) == []
    await first.release(10, "a")
    nxt = await second.claim("b", now=NOW + 1, lease=LEASE, limit=10)
    assert [c.update_id for c in nxt] == [12]
    # A worker lets go only of its own: "a" releasing 12 changes nothing.
    await first.release(12, "a")
    assert await first.claim("a", now=NOW + 2, lease=LEASE, limit=10) == []


async def test_a_dead_workers_line_is_taken_over_when_its_lease_lapses(
    inboxes: list[Inbox],
) -> None:
    first, second = inboxes
    await _fill(first)
    assert [c.update_id for c in await first.claim("a", now=NOW, lease=LEASE, limit=1)] == [10]
    # "a" renews while it lives ...
    await first.renew("a", NOW + 5 + LEASE)
    assert [c.update_id for c in await second.claim("b", now=NOW + 12, lease=LEASE, limit=10)] == [
        11
    ]
    # ... then dies: past its lease, 10 goes to "b", marked as a replay.
    later = await second.claim("b", now=NOW + 5 + LEASE + 1, lease=LEASE, limit=10)
    assert [(c.update_id, c.taken_over) for c in later] == [(10, True)]


async def test_workers_racing_for_the_lines_get_each_update_once(
    inboxes: list[Inbox], db: Database
) -> None:
    first, second = inboxes
    for chat in range(1, 41):
        await first.receive(_update(100 + chat, chat), f"chat:{chat}")
    claimed: list[int] = []
    while True:
        # A worker that lost a race for a line gets fewer this round, and asks again.
        results = await asyncio.gather(
            *(
                inbox.claim(worker, now=NOW, lease=LEASE, limit=7)
                for _ in range(3)
                for inbox, worker in ((first, "a"), (second, "b"))
            )
        )
        round_ = [c.update_id for batch in results for c in batch]
        if not round_:
            break
        claimed += round_
    assert len(claimed) == len(set(claimed))  # never the same update twice
    assert sorted(claimed) == list(range(101, 141))  # and every line taken

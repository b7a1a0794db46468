"""Pruning: old delivered outbox rows, handled inbox rows and old update ids go; the rest stays."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from bot.compose import StoredDesk
from handlers.sweeper import DELIVERED_KEPT, PROCESSED_KEPT
from storage import Database, retention
from tests.conftest import FakeClock
from tests.unit.seeding import add_outbox_row, add_processed, ids

DAY = 86_400


async def test_deliveredadd_outbox_rows_go_a_day_after_they_were_done(
    desk: StoredDesk, db: Database, clock: FakeClock
) -> None:
    now = int(clock.now.timestamp())
    old = 2 * DAY
    gone = {
        await add_outbox_row(db, state, now - old, now - old - 5)
        for state in ("sent", "failed", "blocked")
    }
    kept = {
        await add_outbox_row(db, "sent", now - 60, now - 65),  # done a minute ago
        # Due long ago but retried until a minute ago: done_at decides, not the due time.
        await add_outbox_row(db, "failed", now - 60, now - old),
        await add_outbox_row(db, "pending", None, now - old),  # still owed
    }
    assert await desk.retention.forget_delivered(clock.now - DELIVERED_KEPT) == len(gone)
    assert await ids(db, "SELECT id FROM outbox") == kept


async def test_handled_update_ids_go_after_the_retention_and_the_inbox_keeps_the_unhandled(
    desk: StoredDesk, db: Database
) -> None:
    # Update ids are noted on the wall clock (storage's own time), not the desk's.
    now = int(time.time())
    await desk.processed.mark(1)  # handled just now: kept
    await add_processed(db, 2, now - 8 * DAY)
    await desk.inbox.add([{"update_id": 1}, {"update_id": 3}])  # 1 handled, 3 not yet
    assert await desk.retention.forget_handled_inbox() == 1
    assert [u["update_id"] for u in await desk.inbox.unhandled()] == [3]
    assert await ids(db, "SELECT update_id FROM inbox") == {3}
    week_ago = datetime.fromtimestamp(now, UTC) - PROCESSED_KEPT
    assert await desk.retention.forget_processed(week_ago) == 1
    assert await ids(db, "SELECT update_id FROM processed_updates") == {1}


async def test_pruning_goes_in_batches_and_stops_after_the_most_batches(
    desk: StoredDesk, db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "BATCH", 3)
    monkeypatch.setattr(retention, "MOST_BATCHES", 2)
    old = int(clock.now.timestamp()) - 2 * DAY
    for _ in range(8):
        await add_outbox_row(db, "sent", old, old - 1)
    cutoff = clock.now - DELIVERED_KEPT
    assert await desk.retention.forget_delivered(cutoff) == 6  # two batches of three
    assert await desk.retention.forget_delivered(cutoff) == 2  # the rest, next time
    assert await desk.retention.forget_delivered(cutoff) == 0

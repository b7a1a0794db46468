"""The desk-wide trail (`desk_events`): recorded inside the transaction of each change."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.audit import DeskActor, DeskChange, DeskEvent, page_of
from storage.db import Database, Transaction
from storage.engines import Record

# Oldest first, as a ticket's trail; pages read by offset (the trail grows by a few rows a
# day, so the offset stays small enough for its primary key).
DESK_EVENTS_PAGE = "SELECT * FROM desk_events ORDER BY id LIMIT ? OFFSET ?"


async def record(tx: Transaction, change: DeskChange, now: datetime) -> None:
    """Write `change` to the trail in the caller's transaction."""
    await tx.execute(
        "INSERT INTO desk_events (kind, actor, actor_id, from_value, to_value, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            change.action.value,
            change.actor.value,
            change.actor_id,
            change.before,
            change.after,
            int(now.timestamp()),
        ),
    )


def _event(row: Record) -> DeskEvent:
    return DeskEvent(
        id=row["id"],
        kind=row["kind"],
        actor=DeskActor(row["actor"]),
        actor_id=row["actor_id"],
        from_value=row["from_value"],
        to_value=row["to_value"],
        created_at=datetime.fromtimestamp(row["created_at"], tz=UTC),
    )


class DeskAudit:
    """Reads the desk-wide trail; writes an action that changes nothing else (an export)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(self, change: DeskChange, now: datetime) -> None:
        async with self._db.transaction() as tx:
            await record(tx, change, now)

    async def page(self, page: int | None, size: int) -> tuple[list[DeskEvent], int, int]:
        """The events of one page (from 0; None: the last, the newest), the page shown and
        how many there are, read from one state of the file."""
        async with self._db.snapshot() as tx:
            row = await tx.fetch_one("SELECT COUNT(*) FROM desk_events")
            total = 0 if row is None else int(row[0])
            shown, pages = page_of(total, page, size)
            rows = await tx.fetch_all(DESK_EVENTS_PAGE, (size, shown * size))
        return [_event(r) for r in rows], shown, pages

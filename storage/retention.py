"""What the desk forgets, and when: rows nobody will read again, deleted in small batches.

Each statement deletes at most `BATCH` rows in its own transaction, so pruning a backlog
never holds the write lock (or the one connection) for long, and each call stops after
`MOST_BATCHES`: a large backlog drains over a few sweeps instead of stalling one.
"""

from __future__ import annotations

from datetime import datetime

from storage.db import Database

BATCH = 1000
MOST_BATCHES = 50

# Delivered (or given up on) outbox rows, done before the cutoff. The outbox has no index on
# done_at, but a row is only ever worked on once due, so it was due (next_attempt_at) no
# later than it was done: that bound lets outbox_due seek the old rows instead of walking
# every delivered one. It only narrows the search; done_at still decides.
FORGET_DELIVERED = (
    "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
    " WHERE state IN ('sent', 'failed', 'blocked') AND next_attempt_at < ?1 + 1"
    " AND done_at < ?1 LIMIT ?2)"
)
FORGET_PROCESSED = (
    "DELETE FROM processed_updates WHERE update_id IN (SELECT update_id FROM processed_updates"
    " WHERE processed_at < ? ORDER BY processed_at LIMIT ?)"
)
# Inbox rows whose update was handled (the bot stopped between noting it and removing it).
# Not one a worker still holds: its line stays held until its handling ended.
FORGET_HANDLED_INBOX = (
    "DELETE FROM inbox WHERE update_id IN (SELECT update_id FROM inbox"
    " JOIN processed_updates USING (update_id) WHERE inbox.claimed_until IS NULL LIMIT ?)"
)


class Retention:
    """Deletes what has served its purpose; each method returns how many rows went."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def forget_delivered(self, before: datetime) -> int:
        """Outbox rows sent, failed or blocked before `before` (pending ones always stay)."""
        return await self._db.delete_in_batches(
            FORGET_DELIVERED, (int(before.timestamp()),), batch=BATCH, most=MOST_BATCHES
        )

    async def forget_processed(self, before: datetime) -> int:
        """Handled update ids noted before `before`."""
        return await self._db.delete_in_batches(
            FORGET_PROCESSED, (int(before.timestamp()),), batch=BATCH, most=MOST_BATCHES
        )

    async def forget_handled_inbox(self) -> int:
        """Inbox rows of updates already handled."""
        return await self._db.delete_in_batches(
            FORGET_HANDLED_INBOX, (), batch=BATCH, most=MOST_BATCHES
        )

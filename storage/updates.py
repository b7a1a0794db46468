"""The updates' way in: the inbox of fetched updates, the ids handled, the quarantine."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from storage.db import Database, update_settled
from storage.engines import Record
from storage.retention import Retention
from storage.rows import from_ts


class ProcessedUpdates:
    """Update ids already handled, so a restart never runs one twice."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def seen(self, update_id: int) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,)
        )
        return row is not None

    async def newest(self) -> int:
        """The highest update id noted as handled, or 0."""
        row = await self._db.fetch_one("SELECT MAX(update_id) AS id FROM processed_updates")
        return 0 if row is None or row["id"] is None else int(row["id"])

    async def mark(self, update_id: int) -> None:
        """Note the update as handled, unless its change did so already (`Transaction.settle`).

        One statement: its inbox row is left to `Inbox.clear_handled` and the sweeper's
        retention, since the inbox is read without the handled ones anyway.
        """
        if update_settled():
            return
        await self._db.write_alone(
            "INSERT INTO processed_updates (update_id, processed_at) VALUES (?, ?)"
            " ON CONFLICT DO NOTHING",
            (update_id, int(time.time())),
        )


@dataclass(frozen=True, slots=True)
class Claimed:
    """An update a worker claimed: its line is this worker's until it lets go."""

    update_id: int
    payload: dict[str, Any]
    # Claimed before by a worker that never let go (it died): a replay.
    taken_over: bool


# The oldest unhandled update of each line nobody holds (migration 0018), oldest first.
# The lease is checked again on the row itself, so two workers racing for one line get it
# once (PostgreSQL re-reads a row another transaction just changed before it updates it).
INBOX_CLAIM = (
    "UPDATE inbox SET claimed_by = ?1, claimed_until = ?2, claims = claims + 1"
    " WHERE update_id IN (SELECT MIN(i.update_id) FROM inbox i"
    " WHERE NOT EXISTS (SELECT 1 FROM processed_updates p WHERE p.update_id = i.update_id)"
    " GROUP BY i.line HAVING NOT EXISTS (SELECT 1 FROM inbox b"
    " WHERE b.line = i.line AND b.claimed_until >= ?3) ORDER BY 1 LIMIT ?4)"
    " AND (claimed_until IS NULL OR claimed_until < ?3)"
    " RETURNING update_id, payload, claims"
)


class Inbox:
    """Updates received but not yet handled (see migrations 0006 and 0018)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def receive(self, update: dict[str, Any], line: str) -> bool:
        """Keep one update (masked) in its line; False if it was there already."""
        added = await self._db.execute(
            "INSERT INTO inbox (update_id, payload, received_at, line) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (update["update_id"], json.dumps(update, ensure_ascii=False), int(time.time()), line),
        )
        return added > 0

    async def claim(self, worker: str, *, now: float, lease: float, limit: int) -> list[Claimed]:
        """Claim the next update of up to `limit` lines nobody holds, until `now + lease`."""
        async with self._db.transaction() as tx:
            rows = await tx.fetch_all(INBOX_CLAIM, (worker, now + lease, now, limit))
        claimed = [
            Claimed(int(r["update_id"]), json.loads(r["payload"]), int(r["claims"]) > 1)
            for r in rows
        ]
        return sorted(claimed, key=lambda c: c.update_id)

    async def renew(self, worker: str, until: float) -> None:
        """Keep holding every line this worker holds (it is alive)."""
        await self._db.write_alone(
            "UPDATE inbox SET claimed_until = ? WHERE claimed_by = ? AND claimed_until IS NOT NULL",
            (until, worker),
        )

    async def release(self, update_id: int, worker: str) -> None:
        """Let go of an update's line once its handling ended (handled or not)."""
        await self._db.write_alone(
            "UPDATE inbox SET claimed_until = NULL WHERE update_id = ? AND claimed_by = ?",
            (update_id, worker),
        )

    async def add(self, updates: Sequence[dict[str, Any]]) -> None:
        now = int(time.time())
        async with self._db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO inbox (update_id, payload, received_at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                [(u["update_id"], json.dumps(u, ensure_ascii=False), now) for u in updates],
            )

    async def unhandled(self) -> list[dict[str, Any]]:
        rows = await self._db.fetch_all(
            "SELECT payload FROM inbox WHERE update_id NOT IN"
            " (SELECT update_id FROM processed_updates) ORDER BY update_id"
        )
        return [json.loads(r["payload"]) for r in rows]

    async def handled(self, update_id: int) -> None:
        await self._db.execute("DELETE FROM inbox WHERE update_id = ?", (update_id,))

    async def clear_handled(self) -> None:
        """Drop every row whose update was handled (see `Retention.forget_handled_inbox`)."""
        while await Retention(self._db).forget_handled_inbox():
            pass


@dataclass(frozen=True, slots=True)
class QuarantinedUpdate:
    update_id: int
    error: str
    attempts: int
    quarantined_at: datetime


def _quarantined(row: Record) -> QuarantinedUpdate:
    return QuarantinedUpdate(
        row["update_id"], row["error"], row["attempts"], from_ts(row["quarantined_at"])
    )


_QUARANTINE_LIST = (
    "SELECT update_id, error, attempts, quarantined_at FROM quarantined_updates"
    " ORDER BY quarantined_at DESC, update_id DESC LIMIT ?"
)


class Quarantine:
    """Updates set aside because they could not be handled (see migration 0011)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, update_id: int, payload: Any, error: str, attempts: int) -> None:
        """Set the update aside and record it as handled, so it is confirmed and never replayed."""
        now = int(time.time())
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO quarantined_updates"
                " (update_id, payload, error, attempts, quarantined_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (update_id) DO UPDATE SET error = excluded.error,"
                " attempts = excluded.attempts, quarantined_at = excluded.quarantined_at",
                (update_id, json.dumps(payload, ensure_ascii=False), error, attempts, now),
            )
            await tx.execute(
                "INSERT INTO processed_updates (update_id, processed_at) VALUES (?, ?)"
                " ON CONFLICT DO NOTHING",
                (update_id, now),
            )
            await tx.execute("DELETE FROM inbox WHERE update_id = ?", (update_id,))

    async def latest(self, limit: int = 50) -> list[QuarantinedUpdate]:
        return [_quarantined(r) for r in await self._db.fetch_all(_QUARANTINE_LIST, (limit,))]


def read_quarantine(path: Path, limit: int = 50) -> list[QuarantinedUpdate] | None:
    """The quarantined updates in the file at `path`, read without changing anything.

    None when there is no database there yet; for `python -m bot check`, which must not
    create or migrate anything.
    """
    if not path.is_file():
        return None
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        known = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'quarantined_updates'"
        ).fetchone()
        if known is None:
            return []
        return [_quarantined(r) for r in conn.execute(_QUARANTINE_LIST, (limit,))]
    finally:
        conn.close()

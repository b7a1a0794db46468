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


class Inbox:
    """Updates fetched but not yet handled (see migration 0006)."""

    def __init__(self, db: Database) -> None:
        self._db = db

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

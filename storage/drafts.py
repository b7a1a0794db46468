"""DraftRepo: the new-ticket forms customers are filling in."""

from __future__ import annotations

import json
from datetime import datetime

from bot.domain.models import Audience, Draft
from bot.domain.outbox import OutboxKind
from storage.db import Database
from storage.outbox import enqueue
from storage.rows import to_ts

EXPIRED_DRAFTS = "SELECT user_id FROM drafts WHERE updated_at <= ?"


class DraftRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> Draft | None:
        row = await self._db.fetch_one("SELECT data FROM drafts WHERE user_id = ?", (user_id,))
        return None if row is None else Draft.from_json(user_id, json.loads(row["data"]))

    async def save(self, draft: Draft, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO drafts (user_id, data, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET data = excluded.data,"
            " updated_at = excluded.updated_at",
            (draft.user_id, json.dumps(draft.to_json(), ensure_ascii=False), to_ts(now)),
        )

    async def delete(self, user_id: int) -> None:
        await self._db.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))

    async def expire(self, cutoff: datetime, now: datetime) -> list[int]:
        """Drop drafts untouched since `cutoff`; owe each customer a word. Their user ids."""
        async with self._db.transaction() as tx:
            rows = await tx.fetch_all(EXPIRED_DRAFTS, (to_ts(cutoff),))
            users = [int(r["user_id"]) for r in rows]
            for user_id in users:
                await tx.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))
                await enqueue(tx, OutboxKind.DRAFT_EXPIRED, Audience.CUSTOMER, now, chat_id=user_id)
        return users

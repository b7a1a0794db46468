"""HeldMessageRepo: customers' messages waiting for them to pick the ticket they belong to."""

from __future__ import annotations

import json
from datetime import datetime

from bot.domain.models import Attachment
from storage.db import Database
from storage.rows import to_ts


class HeldMessageRepo:
    """Customers' messages waiting for them to pick the ticket they belong to."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def hold(
        self,
        *,
        customer_id: int,
        tg_chat_id: int,
        tg_message_id: int,
        body: str,
        attachment: Attachment | None,
        media_group_id: str | None,
        now: datetime,
    ) -> tuple[int, bool]:
        """Keep a message; return its choice id and whether that choice is new.

        The later messages of an album join the choice of its first one, so the customer is
        asked once per album.
        """
        async with self._db.transaction() as tx:
            again = await tx.fetch_one(
                "SELECT COALESCE(choice_id, id) AS choice FROM held_messages"
                " WHERE tg_chat_id = ? AND tg_message_id = ?",
                (tg_chat_id, tg_message_id),
            )
            if again is not None:  # the same update handed out again: asked already
                return int(again["choice"]), False
            choice_id: int | None = None
            if media_group_id is not None:
                row = await tx.fetch_one(
                    "SELECT COALESCE(choice_id, id) AS choice FROM held_messages"
                    " WHERE customer_id = ? AND media_group_id = ? ORDER BY id LIMIT 1",
                    (customer_id, media_group_id),
                )
                choice_id = None if row is None else int(row["choice"])
            held_id = await tx.insert(
                "INSERT INTO held_messages (customer_id, choice_id, tg_chat_id, tg_message_id,"
                " media_group_id, body, attachment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " RETURNING id",
                (
                    customer_id,
                    choice_id,
                    tg_chat_id,
                    tg_message_id,
                    media_group_id,
                    body,
                    None if attachment is None else json.dumps(attachment.to_json()),
                    to_ts(now),
                ),
            )
        if choice_id is None:
            return held_id, True
        return choice_id, False

    async def first_text(self, customer_id: int, choice_id: int) -> str | None:
        """The text (or caption) of a choice, for answering it from the FAQ instead."""
        rows = await self._db.fetch_all(
            "SELECT body FROM held_messages WHERE customer_id = ? AND (id = ? OR choice_id = ?)"
            " AND body != '' ORDER BY id LIMIT 1",
            (customer_id, choice_id, choice_id),
        )
        return str(rows[0]["body"]) if rows else None

    async def release(self, customer_id: int, choice_id: int) -> None:
        await self._db.execute(
            "DELETE FROM held_messages WHERE customer_id = ? AND (id = ? OR choice_id = ?)",
            (customer_id, choice_id, choice_id),
        )

"""RatingRepo: the customers' scores of their tickets and their comments on them."""

from __future__ import annotations

from datetime import datetime

from bot.domain.models import Rating
from storage.db import Database
from storage.rows import to_ts

RATING_COMMENT = "UPDATE ratings SET comment = ?, updated_at = ? WHERE ticket_number = ?"


class RatingRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def comment(self, number: int, comment: str, now: datetime) -> None:
        await self._db.execute(RATING_COMMENT, (comment, to_ts(now), number))

    async def get(self, number: int) -> Rating | None:
        row = await self._db.fetch_one("SELECT * FROM ratings WHERE ticket_number = ?", (number,))
        return None if row is None else Rating(row["ticket_number"], row["score"], row["comment"])

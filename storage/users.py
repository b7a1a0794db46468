"""UserRepo: the people Telegram has shown the bot, each kept a short while once read."""

from __future__ import annotations

import time
from datetime import datetime

from bot.domain.audit import DeskChange
from bot.domain.models import User
from storage import audit
from storage.db import Database, Params
from storage.engines import Record
from storage.rows import to_ts


def _user(row: Record) -> User:
    return User(
        id=row["id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        username=row["username"],
        language_code=row["language_code"],
        chosen_locale=row["chosen_locale"],
        is_banned=bool(row["is_banned"]),
        ban_notified=bool(row["ban_notified"]),
    )


# Users read lately are kept (most updates come from someone seen a moment ago, and every
# update reads its sender): a write through this repository replaces or drops the copy, a
# write by another process (`python -m bot forget`) is seen once the copy is this old.
USER_KEPT_SECONDS = 60.0
USERS_KEPT = 10_000


class UserRepo:
    def __init__(self, db: Database, *, keep_copies: bool = True) -> None:
        self._db = db
        self._keep_copies = keep_copies
        self._kept: dict[int, tuple[float, User]] = {}
        # Counts writes begun and ended: a read that overlapped one is not kept, since it
        # may have read the row as it was before.
        self._writes = 0

    def _copy(self, user_id: int) -> User | None:
        kept = self._kept.get(user_id)
        if kept is None:
            return None
        at, user = kept
        if time.monotonic() - at > USER_KEPT_SECONDS:
            del self._kept[user_id]
            return None
        return user

    def _keep(self, user: User) -> User:
        if not self._keep_copies:
            return user
        if len(self._kept) >= USERS_KEPT:
            self._kept.clear()
        self._kept[user.id] = (time.monotonic(), user)
        return user

    def changing(self, user_id: int) -> None:
        """Drop the copy of a user whose row is being written (call before and after)."""
        self._writes += 1
        self._kept.pop(user_id, None)

    async def upsert(
        self,
        *,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        now: datetime,
    ) -> User:
        """Record what Telegram says about a user now, keeping their own choices.

        Most updates come from someone already known as they are: a read then, not a write.
        """
        known = await self.get(user_id)
        if known is not None and (
            known.first_name,
            known.last_name,
            known.username,
            known.language_code,
        ) == (first_name, last_name, username, language_code):
            return known
        self.changing(user_id)
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO users (id, first_name, last_name, username, language_code,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET first_name = excluded.first_name,"
                " last_name = excluded.last_name, username = excluded.username,"
                " language_code = excluded.language_code, updated_at = excluded.updated_at",
                (user_id, first_name, last_name, username, language_code, to_ts(now), to_ts(now)),
            )
            row = await tx.fetch_one("SELECT * FROM users WHERE id = ?", (user_id,))
        assert row is not None
        self.changing(user_id)
        # Read in the write's own transaction: no other write came between.
        return self._keep(_user(row))

    async def get(self, user_id: int) -> User | None:
        kept = self._copy(user_id)
        if kept is not None:
            return kept
        writes = self._writes
        row = await self._db.fetch_one("SELECT * FROM users WHERE id = ?", (user_id,))
        if row is None:
            return None
        user = _user(row)
        return self._keep(user) if writes == self._writes else user

    async def _write(self, user_id: int, sql: str, params: Params) -> int:
        self.changing(user_id)
        try:
            return await self._db.execute(sql, params)
        finally:
            self.changing(user_id)

    async def set_banned(
        self, user_id: int, banned: bool, now: datetime, *, change: DeskChange | None = None
    ) -> bool:
        """Ban or unban; False if the user is unknown. Unbanning resets the one-time notice.
        `change` goes to the desk's trail in the same transaction."""
        self.changing(user_id)
        try:
            async with self._db.transaction() as tx:
                count = await tx.execute(
                    "UPDATE users SET is_banned = ?, ban_notified = 0, updated_at = ? WHERE id = ?",
                    (int(banned), to_ts(now), user_id),
                )
                if count and change is not None:
                    await audit.record(tx, change, now)
        finally:
            self.changing(user_id)
        return count > 0

    async def set_reply_ticket(self, user_id: int, number: int | None, now: datetime) -> None:
        await self._db.execute(
            "UPDATE users SET reply_ticket = ?, reply_since = ? WHERE id = ?",
            (number, to_ts(now) if number is not None else None, user_id),
        )

    async def reply_ticket(self, user_id: int, *, newer_than: datetime | None = None) -> int | None:
        """The ticket the customer chose to reply to (if chosen after `newer_than`)."""
        row = await self._db.fetch_one(
            "SELECT reply_ticket, reply_since FROM users WHERE id = ?", (user_id,)
        )
        if row is None or row["reply_ticket"] is None:
            return None
        if newer_than is not None and (row["reply_since"] or 0) < to_ts(newer_than):
            return None
        return int(row["reply_ticket"])

    async def mark_ban_notified(self, user_id: int) -> bool:
        """Record that the ban was explained; True only for the first caller."""
        count = await self._write(
            user_id,
            "UPDATE users SET ban_notified = 1 WHERE id = ? AND ban_notified = 0",
            (user_id,),
        )
        return count > 0

    async def set_locale(self, user_id: int, locale: str, now: datetime) -> None:
        await self._write(
            user_id,
            "UPDATE users SET chosen_locale = ?, updated_at = ? WHERE id = ?",
            (locale, to_ts(now), user_id),
        )

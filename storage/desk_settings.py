"""DeskSettingsRepo: the desk-wide values operators change at run time."""

from __future__ import annotations

from datetime import datetime

from bot.domain.audit import DeskChange
from storage import audit
from storage.db import Database
from storage.rows import to_ts


class DeskSettingsRepo:
    """Desk-wide values changed at run time by operators."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        row = await self._db.fetch_one("SELECT value FROM desk_settings WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    async def set(
        self, key: str, value: str, now: datetime, *, change: DeskChange | None = None
    ) -> None:
        """Store `value`; `change` goes to the desk's trail in the same transaction."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO desk_settings (key, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                " updated_at = excluded.updated_at",
                (key, value, to_ts(now)),
            )
            if change is not None:
                await audit.record(tx, change, now)

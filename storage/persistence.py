"""PTB persistence in the desk's SQLite file: conversation states only.

Services live in `bot_data` and are rebuilt at start-up, drafts have their own table, and
nothing else is kept in `user_data`/`chat_data`, so only conversations are persisted.
PTB batches writes every `update_interval`; the application also flushes after every
private-chat update (see `bot.app`), so a kill loses no step of a conversation.
"""

from __future__ import annotations

import json
import time
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from storage.db import Database

_NOT_STORED = "SQLitePersistence stores only conversations"


class SQLitePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], Any]):
    """Keep PTB's conversation states in the `ptb_conversations` table."""

    def __init__(
        self, db: Database, update_interval: float = 5.0, idle_limit: float | None = None
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=False, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._db = db
        # PTB does not restore conversation time-outs after a restart: a conversation idle
        # for longer than this when the bot starts is over.
        self._idle_limit = idle_limit

    async def get_conversations(self, name: str) -> ConversationDict:
        if self._idle_limit is not None:
            await self._db.execute(
                "DELETE FROM ptb_conversations WHERE name = ? AND updated_at < ?",
                (name, int(time.time() - self._idle_limit)),
            )
        rows = await self._db.fetch_all(
            "SELECT key, state FROM ptb_conversations WHERE name = ?", (name,)
        )
        return {tuple(json.loads(r["key"])): json.loads(r["state"]) for r in rows}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        encoded_key = json.dumps(list(key))
        if new_state is None:
            await self._db.execute(
                "DELETE FROM ptb_conversations WHERE name = ? AND key = ?", (name, encoded_key)
            )
            return
        await self._db.execute(
            "INSERT INTO ptb_conversations (name, key, state, updated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (name, key) DO UPDATE SET state = excluded.state,"
            " updated_at = excluded.updated_at",
            (name, encoded_key, json.dumps(new_state), int(time.time())),
        )

    async def flush(self) -> None:
        """Nothing is buffered here: every write above is already committed."""

    # What follows is never called, because `store_data` turns it all off.
    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> Any:
        raise NotImplementedError(_NOT_STORED)

    async def get_callback_data(self) -> None:
        return None

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_bot_data(self, data: Any) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def drop_user_data(self, user_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: Any) -> None:
        return None

"""The bot object: PTB's ExtBot with three changes.

- With `Defaults(parse_mode=...)`, PTB 22 adds `parse_mode` to every request built by its
  shared send helper, including methods that have no such parameter
  (`editMessageReplyMarkup`, `sendSticker`, ...). Telegram ignores it today, but the Bot API
  does not promise to, and a strict server refuses it. This bot drops the parameters a
  method does not take.
- Every batch `getUpdates` returns is written to the inbox before PTB queues it: Telegram
  forgets a batch once the next one is asked for, so a kill before the queue is worked off
  would otherwise lose those updates. Customers' texts are stored masked.
- An edit Telegram refuses with "message is not modified" is done: the message already
  shows what was asked. That happens whenever an edit is made twice, as when an update
  handled before a kill is handled again at the start (the form's buttons were removed,
  its next question not yet sent), and must not turn a replay into an apology.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram._utils.types import JSONDict
from telegram.error import BadRequest
from telegram.ext import ExtBot

from bot.domain.fraud import guard

# Methods that take `parse_mode` (Bot API 10.2); PTB may add it to any other.
TAKES_PARSE_MODE = frozenset(
    {
        "sendMessage",
        "editMessageText",
        "sendPhoto",
        "sendAudio",
        "sendDocument",
        "sendVideo",
        "sendAnimation",
        "sendVoice",
        "sendPaidMedia",
        "copyMessage",
        "editMessageCaption",
    }
)
TAKES_LINK_PREVIEW = frozenset({"sendMessage", "editMessageText"})
EDITS = frozenset(
    {"editMessageText", "editMessageCaption", "editMessageReplyMarkup", "editMessageMedia"}
)


InboxWriter = Callable[[list[dict[str, Any]]], Awaitable[None]]
_TEXT_FIELDS = frozenset({"text", "caption"})


def masked(data: Any) -> Any:
    """A copy of an update's JSON with every text and caption through the fraud guard."""
    if isinstance(data, dict):
        return {
            key: guard(value).text
            if key in _TEXT_FIELDS and isinstance(value, str)
            else masked(value)
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [masked(item) for item in data]
    return data


class DeskBot(ExtBot[int]):
    """ExtBot that sends each method only the parameters it has (rate-limit args: int)
    and keeps fetched updates in the inbox until they are handled."""

    # PTB freezes a bot's public attributes; protected ones stay settable.
    _inbox_writer: InboxWriter | None = None

    def keep_fetched_in(self, writer: InboxWriter) -> None:
        """Write every fetched batch with `writer` before PTB queues it."""
        self._inbox_writer = writer

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        updates = await super().get_updates(*args, **kwargs)
        if updates and self._inbox_writer is not None:
            await self._inbox_writer([masked(update.to_dict()) for update in updates])
        return updates

    async def _do_post(self, endpoint: str, data: JSONDict, **kwargs: Any) -> Any:
        if endpoint not in TAKES_PARSE_MODE:
            data.pop("parse_mode", None)
        if endpoint not in TAKES_LINK_PREVIEW:
            data.pop("link_preview_options", None)
        try:
            return await super()._do_post(endpoint, data, **kwargs)
        except BadRequest as exc:
            if endpoint in EDITS and is_not_modified(exc):
                return True  # what Telegram answers for an edit it did not need to make
            raise


def is_not_modified(error: BadRequest) -> bool:
    return "message is not modified" in error.message.lower()

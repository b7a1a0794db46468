"""The bot object: PTB's ExtBot, minus one quirk that a strict Bot API would refuse.

With `Defaults(parse_mode=...)`, PTB 22 adds `parse_mode` to every request built by its
shared send helper, including methods that have no such parameter (`editMessageReplyMarkup`,
`sendSticker`, ...). Telegram ignores it today, but the Bot API does not promise to, and a
strict server refuses it. This bot drops the parameters a method does not take.
"""

from __future__ import annotations

from typing import Any

from telegram._utils.types import JSONDict
from telegram.ext import ExtBot

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


class DeskBot(ExtBot[int]):
    """ExtBot that sends each method only the parameters it has (rate-limit args: int)."""

    async def _do_post(self, endpoint: str, data: JSONDict, **kwargs: Any) -> Any:
        if endpoint not in TAKES_PARSE_MODE:
            data.pop("parse_mode", None)
        if endpoint not in TAKES_LINK_PREVIEW:
            data.pop("link_preview_options", None)
        return await super()._do_post(endpoint, data, **kwargs)

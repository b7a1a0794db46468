"""An in-process fake Telegram Bot API for tests.

:class:`FakeTelegram` is an aiohttp server on 127.0.0.1 that the real python-telegram-bot
``Application`` (or a bare ``telegram.Bot``) talks to over HTTP: point it there with
``base_url(f"{fake.url}/bot")`` and ``base_file_url(f"{fake.url}/file/bot")``. Tests act as
people through :class:`FakeUser` and :class:`FakeChat` and inspect :class:`SentMessage`.

The fake refuses what Telegram refuses: unknown methods and parameters, missing required
ones, unknown chats/messages/topics, malformed HTML, over-long texts and callback data; with
``limits=True`` also messages beyond Telegram's flood limits (see :mod:`.limits`).

Provenance: ``botapi_methods.json`` is a compact extract (method names and their parameters'
names, optionality and types) of the Bot API 10.2 description exported by the public project
rockneurotiko/telegram_api_json; regenerate it with ``make_methods_json.py``.
"""

from .limits import RateReport, Throttled
from .objects import Call, FakeChat, FakeUser, SentMessage, StoredFile
from .schema import ApiError, UploadedFile
from .server import ChatRef, FakeTelegram

__all__ = [
    "ApiError",
    "Call",
    "ChatRef",
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "RateReport",
    "SentMessage",
    "StoredFile",
    "Throttled",
    "UploadedFile",
]

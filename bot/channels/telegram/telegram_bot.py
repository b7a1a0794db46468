"""The bot object: PTB's ExtBot with three changes.

- With `Defaults(parse_mode=...)`, PTB 22 adds `parse_mode` to every request built by its
  shared send helper, including methods that have no such parameter
  (`editMessageReplyMarkup`, `sendSticker`, ...). Telegram ignores it today, but the Bot API
  does not promise to, and a strict server refuses it. This bot drops the parameters a
  method does not take.
- Every batch `getUpdates` returns is written to the inbox before PTB queues it: Telegram
  forgets a batch once the next one is asked for, so a kill before the queue is worked off
  would otherwise lose those updates. Customers' texts are stored masked.
- An update PTB can't read is set aside (quarantined) instead of failing the whole batch:
  PTB would log it and ask for the same batch again at once, forever. It is confirmed with
  the next request, so it never comes back. Each update is parsed once: the check that PTB
  can read it is the parse whose result is handed over.
- When the inbox can't be written (a full disk), the batch is handed over all the same, so
  every customer is answered (told to try again where their change can't be saved) instead
  of the bot asking for the same batch again and again. The failure is logged once per
  change of state (bot/channels/telegram/faults.py), as are `getUpdates` errors (PTB
  retries those with a growing delay; `polling_failed` is its error callback).
- An edit Telegram refuses with "message is not modified" is done: the message already
  shows what was asked. That happens whenever an edit is made twice, as when an update
  handled before a kill is handled again at the start (the form's buttons were removed,
  its next question not yet sent), and must not turn a replay into an apology.
- A button tap Telegram no longer lets the bot answer ("query is too old", as for a tap
  answered before a kill and handled again after it) is still handled: the answer only
  stops the button's spinner.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import ExtBot

from bot.channels.telegram.faults import StorageHealth, Trouble, describe
from bot.channels.telegram.startup import short_reason
from bot.domain.fraud import guard

log = logging.getLogger(__name__)

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
# Sets one unreadable update aside: (update_id, masked payload, error, attempts).
QuarantineWriter = Callable[[int, Any, str, int], Awaitable[None]]
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
    _quarantine_writer: QuarantineWriter | None = None
    _health: StorageHealth | None = None
    _polling: Trouble | None = None
    # Every update id up to this one was set aside: the next request confirms them.
    _set_aside_through = 0
    # The last getUpdates batch as JSON, for the inbox, and its updates as PTB reads them.
    _fetched: list[Any] = []  # noqa: RUF012 - replaced, never changed in place
    _parsed: tuple[Update, ...] = ()

    def keep_fetched_in(
        self,
        writer: InboxWriter | None,
        *,
        quarantine: QuarantineWriter | None = None,
        health: StorageHealth | None = None,
    ) -> None:
        """Write every fetched batch with `writer` before PTB queues it; set unreadable
        updates aside with `quarantine`; report the inbox's writes to `health`."""
        self._inbox_writer = writer
        self._quarantine_writer = quarantine
        self._health = health

    def _trouble(self) -> Trouble:
        if self._polling is None:
            self._polling = Trouble("Fetching updates (getUpdates)", log)
        return self._polling

    def polling_failed(self, exc: TelegramError) -> None:
        """PTB's error callback for `getUpdates`: one line per change of state."""
        self._trouble().failed(short_reason(exc))

    async def get_updates(
        self, offset: int | None = None, *args: Any, **kwargs: Any
    ) -> tuple[Update, ...]:
        if self._set_aside_through and (offset or 0) <= self._set_aside_through:
            offset = self._set_aside_through + 1
        # PTB's own get_updates finds nothing left to parse (see _do_post): the updates are
        # those parsed when the batch was checked.
        await super().get_updates(offset, *args, **kwargs)
        self._trouble().succeeded()
        fetched, self._fetched = self._fetched, []
        updates, self._parsed = self._parsed, ()
        for update in updates:
            self.insert_callback_data(update)  # what ExtBot.get_updates does with each
        if updates and self._inbox_writer is not None:
            try:
                # The JSON as Telegram sent it (kept by _do_post): cheaper than to_dict().
                await self._inbox_writer([masked(raw) for raw in fetched])
            except Exception as exc:  # polling must go on: see the module's docstring
                if self._health is None:
                    raise
                self._health.failed(exc, "keeping fetched updates in the inbox")
            else:
                if self._health is not None:
                    self._health.ok()
        return updates

    # PTB's one door for every request, a private method (PTB is pinned below 23 in
    # pyproject.toml for it): each Bot API method passes here with its final parameters,
    # so this is where they are tidied and where answers that are no failure (an edit
    # already made, a tap too old to answer) are told apart.
    async def _do_post(self, endpoint: str, data: dict[str, Any], **kwargs: Any) -> Any:
        if endpoint not in TAKES_PARSE_MODE:
            data.pop("parse_mode", None)
        if endpoint not in TAKES_LINK_PREVIEW:
            data.pop("link_preview_options", None)
        try:
            result = await super()._do_post(endpoint, data, **kwargs)
        except BadRequest as exc:
            if endpoint in EDITS and is_not_modified(exc):
                return True  # what Telegram answers for an edit it did not need to make
            if endpoint == "answerCallbackQuery" and is_stale_query(exc):
                # The tap was answered before a kill, or long ago: the answer is only the
                # button's spinner, and the tap itself must still be handled.
                log.info("A button tap could not be answered any more (%s)", exc.message)
                return True
            raise
        if endpoint == "getUpdates" and isinstance(result, list):
            # Here the raw JSON is still at hand. PTB's get_updates would parse it next, a
            # second time: it is given nothing, and get_updates above hands these over.
            self._fetched, self._parsed = await self._readable(result)
            return []
        return result

    async def _readable(self, batch: list[Any]) -> tuple[list[Any], tuple[Update, ...]]:
        """The updates of `batch` PTB can read, as JSON and parsed; the others are set aside."""
        readable: list[Any] = []
        parsed: list[Update] = []
        for raw in batch:
            try:
                update = Update.de_json(raw, self)
                if not isinstance(raw["update_id"], int):
                    raise TypeError("update_id is not an integer")
            except Exception as exc:  # noqa: BLE001 - whatever PTB raises on it, it is set aside
                await self._set_aside(raw, describe(exc))
            else:
                readable.append(raw)
                parsed.append(update)
        return readable, tuple(parsed)

    async def _set_aside(self, raw: Any, error: str) -> None:
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if not isinstance(update_id, int):
            # Telegram numbers every update; without a number there is nothing to confirm.
            log.error("An update without an id can't be read (%s); dropped", error)
            return
        log.error("Update %s can't be read (%s); set aside", update_id, error)
        self._set_aside_through = max(self._set_aside_through, update_id)
        if self._quarantine_writer is None:
            return
        try:
            await self._quarantine_writer(update_id, masked(raw), error, 0)
        except Exception as exc:  # it can't be kept: it is dropped, and said so above
            if self._health is None:
                raise
            self._health.failed(exc, f"setting update {update_id} aside")


def is_not_modified(error: BadRequest) -> bool:
    return "message is not modified" in error.message.lower()


def is_stale_query(error: BadRequest) -> bool:
    """Telegram's answer to a second answer for the same tap, or one after 15 minutes."""
    text = error.message.lower()
    return "query is too old" in text or "query id is invalid" in text

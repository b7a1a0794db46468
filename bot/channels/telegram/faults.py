"""Living with failures that repeat: back off, say so once, tell the agents once.

A failure that repeats (the database refusing writes, Telegram unreachable, a bug in a
loop) must neither spin nor flood the log. `Trouble` keeps one such failure's state: the
delay before the next try doubles up to a cap, and the log gets a line when the failure
starts, when its reason changes and when it ends, never one per attempt (those are at
DEBUG).

`StorageHealth` is the desk's view of its database at run time. The first failed write
of an outage is logged and announced in the agents' chat, once: through the outbox when
that can still be written, else sent directly (a message to the agents' chat needs no
disk). Updates that could not be handled because of it were answered with "try again";
they are noted as handled once writes work again, so a restart does not replay them on
top of what the customer sent since.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from telegram import Bot
from telegram.error import TelegramError

from bot.i18n import gettext as _
from bot.i18n import use_locale
from storage import storage_fault

if TYPE_CHECKING:
    from bot.compose import StoredDesk

log = logging.getLogger(__name__)

FIRST_DELAY = 1.0
MAX_DELAY = 60.0


class Trouble:
    """One repeating failure: a growing delay, and one log line per change of state."""

    def __init__(
        self,
        what: str,
        logger: logging.Logger = log,
        *,
        first: float = FIRST_DELAY,
        cap: float = MAX_DELAY,
    ) -> None:
        self.what = what
        self._log = logger
        self._first = first
        self._cap = cap
        self._delay = first
        self._reason: str | None = None
        self.failures = 0

    @property
    def failing(self) -> bool:
        return self._reason is not None

    @property
    def delay(self) -> float:
        """How long to wait before the next try (the first try after a success: none)."""
        return self._delay if self.failing else 0.0

    def failed(self, reason: str, *, quiet: bool = False, detail: str = "") -> float:
        """Note a failed attempt; return how long to wait before the next one.

        A new `reason` is a change of state; `detail` (what was being done) is only shown.
        `quiet` when someone else reports this failure already (StorageHealth).
        """
        wait = self._delay
        self._delay = min(self._delay * 2, self._cap)
        self.failures += 1
        if reason != self._reason and not quiet:
            self._log.error(
                "%s failed: %s%s; retrying with a growing delay", self.what, reason, detail
            )
        else:
            self._log.debug(
                "%s failed again (%s%s); next try in %g s", self.what, reason, detail, wait
            )
        self._reason = reason
        return wait

    def succeeded(self, *, quiet: bool = False) -> bool:
        """Note a success; True if it ends a failure (logged once, unless `quiet`)."""
        if self._reason is None:
            return False
        if not quiet:
            self._log.warning("%s works again (after %d failed attempts)", self.what, self.failures)
        self._reason = None
        self._delay = self._first
        self.failures = 0
        return True


def describe(exc: BaseException) -> str:
    """An exception in one line: its type and its first line."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


class StorageHealth:
    """Whether the database takes writes; tells the log and the agents once per outage."""

    def __init__(self, desk: StoredDesk, wake_outbox: Callable[[], None] = lambda: None) -> None:
        self.desk = desk
        self.bot: Bot | None = None  # set when the bot starts (bot.app)
        self._wake_outbox = wake_outbox
        self._trouble = Trouble(f"Writing to the database {desk.database_name}", log)
        self._announced = False
        self._owed: list[int] = []  # updates answered "try again", not yet noted as handled
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def failing(self) -> bool:
        return self._trouble.failing

    def failed(self, exc: BaseException, doing: str) -> None:
        """Note a failed write (while `doing` something); the first one is announced."""
        cause = storage_fault(exc) or describe(exc)
        self._trouble.failed(cause, detail=f" ({doing})")
        if not self._announced:
            self._announced = True
            self._spawn(self._announce(cause))

    def owe_handled(self, update_id: int) -> None:
        """`update_id` was answered "try again": note it as handled once writes work."""
        self._owed.append(update_id)

    def ok(self) -> None:
        """A write went through: the outage, if there was one, is over."""
        if self._trouble.succeeded():
            self._announced = False
        if self._owed:
            owed, self._owed = self._owed, []
            self._spawn(self._settle(owed))

    async def _settle(self, owed: list[int]) -> None:
        for position, update_id in enumerate(owed):
            try:
                await self.desk.update_handled(update_id)
            except Exception as exc:  # still failing: keep them for the next success
                if storage_fault(exc) is None:
                    raise
                self._owed.extend(owed[position:])
                return

    async def _announce(self, cause: str) -> None:
        chat_id = await self.desk.admin_chat_id()
        if chat_id is None:
            return
        with use_locale(await self.desk.default_locale()):
            text = _(
                "⚠️ The desk can't save to its database ({cause}). Customers are asked to "
                "send again what could not be saved; the desk recovers by itself once the "
                "database takes writes again. Operators: check the disk and the file {path}."
            ).format(cause=html.escape(cause), path=html.escape(self.desk.database_name))
        try:
            await self.desk.answer_agent(chat_id, text)
        except Exception as exc:
            if storage_fault(exc) is None:
                raise
        else:
            self._wake_outbox()
            return
        # The outbox can't be written either: say it directly. A plain short message (no
        # reply, no reaction, no buttons) is the one thing sure to need nothing stored.
        if self.bot is None:
            return
        try:
            await self.bot.send_message(chat_id, text)
        except TelegramError as exc:
            log.warning("Could not tell the agents' chat that storage fails: %s", exc)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("Telling about the storage failure failed: %s", describe(exc))
            log.debug("The traceback", exc_info=exc)

    async def drain(self) -> None:
        """Wait for announcements under way (at shutdown)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

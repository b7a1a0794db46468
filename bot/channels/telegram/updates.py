"""How updates are run: every chat at once, each chat's own updates in order.

PTB's `concurrent_updates(False)` runs one update at a time for the whole bot, so one slow
chat (an agent's command waiting on Telegram, say) holds up every customer. PTB's extension
point for this is `BaseUpdateProcessor`: this one gives each *line* (a customer's private
chat; the agents' chat, one line per forum topic) its own FIFO lock, so a line's updates
keep their order (a form's steps, an album's parts, a Reply's messages), while different
lines run side by side.

Two bounds: PTB's own semaphore (`max_pending`) caps the updates in hand, queued behind
their line included; `max_running` caps those actually running, so a flood in one line
waits in its line without taking the places of other chats.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.logcontext import note_update
from storage import handling_update

DEFAULT_MAX_RUNNING = 64
DEFAULT_MAX_PENDING = 4096


def line_name(update: object) -> str:
    """The update's line as the shared inbox stores it (`chat:42`, `chat:-100:7`)."""
    return ":".join(str(part) for part in line_of(update))


def line_of(update: object) -> tuple[Hashable, ...]:
    """The line an update belongs to: updates of one line are handled one at a time."""
    if not isinstance(update, Update):
        return ("other",)
    chat = update.effective_chat
    if chat is None:
        user = update.effective_user
        return ("user", user.id) if user is not None else ("other",)
    if chat.type == chat.PRIVATE:
        return ("chat", chat.id)
    # A group: in a forum each topic is a ticket (or the general topic) and keeps its own
    # order; a plain group is one line. One line for the agents' general chat also means an
    # agent's burst of commands takes one place among the running updates at a time, so it
    # never crowds out the customers'.
    message = update.effective_message
    thread = message.message_thread_id if message is not None and message.is_topic_message else None
    return ("chat", chat.id, thread)


@dataclass
class _Line:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across lines, sequential within one (see the module's docstring)."""

    def __init__(
        self, max_running: int = DEFAULT_MAX_RUNNING, max_pending: int = DEFAULT_MAX_PENDING
    ) -> None:
        super().__init__(max_concurrent_updates=max_pending)
        self._max_running = max_running
        # Told when an update's handling ended, however it ended (the shared inbox's claims).
        self.on_done: Callable[[int], Awaitable[None]] | None = None
        self._running: asyncio.Semaphore | None = None
        self._lines: dict[Hashable, _Line] = {}

    async def initialize(self) -> None:
        self._running = asyncio.Semaphore(self._max_running)

    async def shutdown(self) -> None:
        self._lines.clear()

    @property
    def lines_in_use(self) -> int:
        """How many lines have an update running or waiting (for tests and figures)."""
        return len(self._lines)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self._running is None:
            await self.initialize()
        assert self._running is not None
        update_id = update.update_id if isinstance(update, Update) else None
        # This task's log lines are about this update (bot/logcontext.py).
        note_update(update_id)
        key = line_of(update)
        line = self._lines.setdefault(key, _Line())
        line.waiting += 1
        try:
            # asyncio.Lock wakes its waiters first come, first served: the line's order.
            async with line.lock, self._running:
                if update_id is None:
                    await coroutine
                else:
                    # The change this update causes records it as handled (storage.db).
                    with handling_update(update_id):
                        await coroutine
        finally:
            line.waiting -= 1
            if line.waiting == 0:
                del self._lines[key]
            if update_id is not None and self.on_done is not None:
                await self.on_done(update_id)


class InboxQueue(asyncio.Queue[object]):
    """PTB's update queue with the inbox in front of it, for webhook mode.

    PTB's webhook handler puts each update Telegram posts into this queue and answers 200
    once the put returns; `keep_in` makes the put write the update to the inbox first. So
    an update answered 200 is stored, and a kill before it was handled replays it at the
    next start, as a fetched one is (polling writes its batches itself, in DeskBot).
    """

    def __init__(self) -> None:
        super().__init__()
        self._keep: Callable[[Update], Awaitable[None]] | None = None
        self._shared = False

    def keep_in(self, keep: Callable[[Update], Awaitable[None]], *, shared: bool = False) -> None:
        """Write each update with `keep` before it is taken. `shared` (several workers): it
        is only written; the worker that claims its line hands it over (`claims.py`)."""
        self._keep = keep
        self._shared = shared

    async def put(self, item: object) -> None:
        if self._keep is not None and isinstance(item, Update):
            await self._keep(item)
            if self._shared:
                return
        await super().put(item)

    async def hand_over(self, item: object) -> None:
        """Queue an update that is in the inbox already (a replay at start-up)."""
        await super().put(item)

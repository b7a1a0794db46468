"""The one sender of the durable outbox.

It delivers items oldest first, one at a time per chat and at most one message a second
to each customer (the Bot API's per-chat limit); PTB's AIORateLimiter keeps the overall
30 a second and 20 a minute per group. A 429 waits `retry_after`, a 5xx or time-out is
retried with backoff, a 403 (the customer blocked the bot) is recorded and not retried,
and a 400 is logged and given up. An item is marked sent only after Telegram accepted it,
so a crash re-sends it at most once (Telegram has no idempotency key to do better).

Its own failures back off: an error in a round waits longer each time (up to a minute),
logged when it starts and when it ends. When the database refuses a write (a full disk),
deliveries pause the same way; an item Telegram accepted but that could not be marked sent
is remembered here and marked once writes work again, never sent twice meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from telegram import Bot
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.channels.telegram.faults import StorageHealth, Trouble, describe
from bot.channels.telegram.notify import Notifier
from bot.channels.telegram.ratelimit import sending_from_outbox
from bot.compose import StoredDesk
from bot.domain.models import Audience, OutboxItem
from bot.domain.outbox import OutboxKind
from bot.logcontext import note_ticket
from storage import storage_fault

log = logging.getLogger(__name__)

ADMIN = "admin"
MAX_BACKOFF = 300.0
MAX_ADMIN_ATTEMPTS = 288  # a day of five-minute retries
STOP_GRACE = 5.0  # seconds deliveries under way may take to finish at shutdown
# A round starts the items whose slots fall within this many seconds, each waiting for its
# own: one read of the outbox serves several sends.
LOOKAHEAD = 0.25
# A worker that does not lead (storage.leader) looks again this often.
FOLLOWER_WAIT = 2.0


class Dispatcher:
    def __init__(
        self,
        desk: StoredDesk,
        notifier: Notifier,
        *,
        per_chat_interval: float = 1.0,
        overall_rate: float = 29.0,  # a hair under Telegram's 30, for clock jitter
        max_parallel: int = 8,
        batch: int = 200,
        health: StorageHealth | None = None,
        room: Callable[[int], float] | None = None,
    ) -> None:
        self.desk = desk
        # Seconds until a chat's message budget has room (the rate limiter's count): the
        # agents' chat's next item is chosen only then, so an answer an agent asks for
        # meanwhile goes before the refresh that would otherwise wait inside the limiter.
        self.room = room
        self.health = health
        self.notifier = notifier
        self.per_chat_interval = per_chat_interval
        # Items are started evenly spaced: PTB's limiter would allow a burst of 30 at once,
        # the steady pace keeps every one-second window within Telegram's 30 messages.
        self.spacing = 1.0 / overall_rate
        self.batch = batch
        self._next_start = 0.0
        self._slots = asyncio.Semaphore(max_parallel)
        self._wake = asyncio.Event()
        self._busy: set[object] = set()
        self._next_ok: dict[object, float] = {}
        self._task: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()
        self._trouble = Trouble("The outbox dispatcher", log)
        # Writes the database refused: deliveries pause, growing, until one goes through.
        self._storage = Trouble("Recording outbox deliveries", log)
        self._pause = 0.0
        # Items Telegram accepted whose new state could not be written yet: item id -> write.
        self._unrecorded: dict[int, Callable[[], Awaitable[None]]] = {}

    def wake(self) -> None:
        """Look at the outbox now (something was just written)."""
        self._wake.set()

    def start(self, bot: Bot) -> None:
        self.desk.when_queued(self.wake)
        if self._task is None:
            self._task = asyncio.create_task(self._run(bot), name="outbox-dispatcher")

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop taking new items and let deliveries under way finish.

        A delivery still waiting for its chat's budget after `grace` seconds is cancelled:
        its item stays pending and goes out after the next start.
        """
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._deliveries:
            _done, late = await asyncio.wait(self._deliveries, timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.gather(*late, return_exceptions=True)

    async def _run(self, bot: Bot) -> None:
        while True:
            try:
                if not await self.desk.leads():
                    # Another worker delivers; this one asks again for the lead in a while.
                    wait = FOLLOWER_WAIT
                else:
                    await self._record_unrecorded()
                    wait = await self._round(bot)
            except Exception as exc:  # noqa: BLE001 - the loop survives anything, backing off
                wait = self._round_failed(exc)
            else:
                self._trouble.succeeded()
            if self._pause:
                wait, self._pause = max(wait, self._pause), 0.0
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    def _round_failed(self, exc: Exception) -> float:
        if storage_fault(exc) is not None:
            return self._storage_failed(exc, "reading the outbox")
        log.debug("The dispatcher's traceback", exc_info=exc)
        return self._trouble.failed(describe(exc))

    def _storage_failed(self, exc: Exception, doing: str) -> float:
        """A write was refused: report it (once per outage) and pause deliveries."""
        if self.health is not None:
            self.health.failed(exc, doing)
        quiet = self.health is not None
        self._pause = max(self._pause, self._storage.failed(describe(exc), quiet=quiet))
        return self._pause

    def _storage_ok(self) -> None:
        self._storage.succeeded(quiet=self.health is not None)
        if self.health is not None:
            self.health.ok()

    async def _record(self, item_id: int, write: Callable[[], Awaitable[None]]) -> None:
        """Write an item's new state; if the database refuses, keep it to write later."""
        try:
            await write()
        except Exception as exc:
            if storage_fault(exc) is None:
                raise
            self._unrecorded[item_id] = write
            self._storage_failed(exc, f"recording outbox item {item_id}")
        else:
            self._storage_ok()

    async def _record_unrecorded(self) -> None:
        for item_id, write in list(self._unrecorded.items()):
            await write()  # a refusal ends the round: it backs off and comes back here
            del self._unrecorded[item_id]
            self._storage_ok()

    def _now(self) -> float:
        """The desk's clock, which wrote the items' due times."""
        return self.desk.clock().timestamp()

    async def _round(self, bot: Bot) -> float:
        """Start what may go now; return how long to sleep if nothing wakes us.

        Items of one chat go strictly in order: an item waiting for its retry holds back
        every later item of the same chat, so replies never overtake each other.
        """
        tick = time.monotonic()
        if self._next_start > tick + LOOKAHEAD:
            # Every slot until then is taken: reading the outbox again would find nothing
            # to start (a wake-up comes with every delivery and every queued item).
            return self._next_start - LOOKAHEAD - tick
        now = self._now()
        items = await self.desk.pending_deliveries(self.batch)
        held: set[object] = set()
        soonest = 1.0
        for item in items:
            key = self._key(item)
            if item.id in self._unrecorded:
                # Sent already; the line waits until that is written down.
                held.add(key)
                continue
            if key in held or key in self._busy:
                held.add(key)
                continue
            held.add(key)
            if item.next_attempt_at > now:
                soonest = min(soonest, item.next_attempt_at - now)
                continue
            tick = time.monotonic()
            ready_at = self._next_ok.get(key, 0.0)
            if ready_at > tick:
                soonest = min(soonest, ready_at - tick)
                continue
            if key == ADMIN and self.room is not None:
                admin_chat = await self.desk.admin_chat_id()
                wait = self.room(admin_chat) if admin_chat is not None else 0.0
                if wait > 0:
                    soonest = min(soonest, wait)
                    continue
            slot = max(self._next_start, tick)
            if slot > tick + LOOKAHEAD:
                soonest = min(soonest, slot - LOOKAHEAD - tick)
                break
            # Started at its own slot, evenly spaced: one read of the outbox starts what
            # the next LOOKAHEAD seconds can send.
            self._busy.add(key)
            self._next_start = slot + self.spacing
            task = asyncio.create_task(self._deliver(bot, item, key, at=slot))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)
        return max(soonest, 0.01)

    @staticmethod
    def _key(item: OutboxItem) -> object:
        return item.chat_id if item.audience is Audience.CUSTOMER else ADMIN

    async def _deliver(self, bot: Bot, item: OutboxItem, key: object, *, at: float) -> None:
        try:
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            async with self._slots:
                with sending_from_outbox():
                    await self._attempt(bot, item)
        except Exception as exc:  # a delivery task has no one to raise to
            if storage_fault(exc) is not None:
                self._storage_failed(exc, f"delivering outbox item {item.id}")
            else:
                log.error("Outbox item %s (%s) failed: %s", item.id, item.kind, describe(exc))
                log.debug("The traceback", exc_info=exc)
        finally:
            self._busy.discard(key)
            if item.audience is Audience.CUSTOMER:
                # Spacing is measured on the monotonic clock: it is about Telegram's limits.
                self._next_ok[key] = time.monotonic() + self.per_chat_interval
            self.wake()

    async def _attempt(self, bot: Bot, item: OutboxItem) -> None:
        note_ticket(item.ticket_number)  # each delivery is its own task: its own log context
        desk = self.desk
        if item.kind == OutboxKind.CARD:
            # From now on a new change must queue its own refresh: this one renders now.
            await desk.claim_delivery(item.id)
        # What the delivery writes (the copies' ids, the items a folded message delivered,
        # a long text's further parts) is written with the item's outcome, in one
        # transaction: a kill leaves both or neither.
        try:
            with desk.deferring_writes() as writes:
                await self.notifier.deliver(bot, item)
        except RetryAfter as exc:
            delay = _seconds(exc.retry_after)
            log.warning("Telegram asked to wait %.0f s (outbox item %s)", delay, item.id)
            await desk.retry_delivery(
                item.id, self._now() + delay, f"retry after {delay:.0f} s", with_writes=writes
            )
        except (Forbidden, BadRequest) as exc:
            if item.audience is Audience.ADMIN and _lost_place(exc):
                # The bot was removed from the agents' chat or lost a right: an operator can
                # fix that, so keep the item (slowly) instead of losing what agents are owed.
                log.error("The admin chat refused outbox item %s: %s", item.id, exc)
                if item.attempts + 1 >= MAX_ADMIN_ATTEMPTS:
                    await desk.delivery_done(item.id, "failed", str(exc), with_writes=writes)
                else:
                    await desk.retry_delivery(
                        item.id, self._now() + MAX_BACKOFF, str(exc), with_writes=writes
                    )
            elif isinstance(exc, Forbidden) and item.audience is Audience.CUSTOMER:
                # The customer blocked the bot: recorded, shown on the card, never retried.
                await desk.delivery_done(item.id, "blocked", str(exc), with_writes=writes)
                if item.ticket_number is not None:
                    await desk.service.mark_unreachable(item.ticket_number)
            else:
                # The message itself is at fault: retrying would fail the same way.
                log.error("Telegram refused outbox item %s (%s): %s", item.id, item.kind, exc)
                await desk.delivery_done(item.id, "failed", str(exc), with_writes=writes)
        except TelegramError as exc:  # time-outs, 5xx, network trouble: try again later
            delay = min(MAX_BACKOFF, 2.0 ** min(item.attempts, 9))
            log.warning("Outbox item %s failed (%s); retrying in %.0f s", item.id, exc, delay)
            await desk.retry_delivery(item.id, self._now() + delay, str(exc), with_writes=writes)
        except Exception as exc:  # a bug must not lose the message: keep it for later
            if storage_fault(exc) is not None:
                raise  # the item stays as it was; deliveries pause (see _deliver)
            log.error("Outbox item %s (%s) crashed: %s", item.id, item.kind, describe(exc))
            log.debug("The traceback", exc_info=exc)
            delay = min(MAX_BACKOFF, 2.0 ** min(item.attempts + 3, 9))
            await desk.retry_delivery(item.id, self._now() + delay, repr(exc), with_writes=writes)
        else:
            # Telegram has it now: whatever happens to the database, never send it again.
            await self._record(item.id, lambda: desk.delivery_done(item.id, with_writes=writes))


# What Telegram says when the bot can't write to a chat at all (as opposed to a message
# that is wrong): it was removed, the chat moved or vanished, or a right is missing.
_PLACE_LOST = (
    "chat not found",
    "not enough rights",
    "have no rights",
    "need administrator rights",
    "chat_admin_required",
    "bot is not a member",
    "bot was kicked",
    "group chat was upgraded",
    "topic_closed",
)


def _lost_place(exc: Forbidden | BadRequest) -> bool:
    return isinstance(exc, Forbidden) or any(
        phrase in exc.message.lower() for phrase in _PLACE_LOST
    )


def _seconds(value: object) -> float:
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]

"""PTB's AIORateLimiter, told what Telegram counts.

Telegram limits the *messages* a bot puts into chats: about 30 a second overall, about one
a second in one private chat (a short burst is tolerated), 20 a minute in one group.
PTB's AIORateLimiter applies its limits to every request that names a chat, so reads
(`getChatMember`, `getChat`, `getFile`), reactions and leaving a group would wait for a
busy group's budget, and a 429 pauses every request of the bot (or, with the default
`max_retries=0`, is raised and the answer is lost). This subclass:

- passes every request that is not a message (sent, edited, copied, forwarded) straight
  through, with no limiter at all;
- spaces messages overall evenly rather than in bursts: a bucket of 30 would let 30 go at
  once and 30 more within the same second, which Telegram counts as 60;
- counts a group's messages in a sliding minute, as Telegram does, so the agents' chat
  may have its 20 at once when it is quiet (a leaky bucket of 20 would let a 21st through
  three seconds after a burst);
- gives each customer's private chat its own small bucket (a burst of three, then one a
  second), so direct answers keep the pace the outbox keeps;
- counts every item of an album, as Telegram does;
- waits out a 429 and sends again, for that request only, so no answer is dropped and
  other chats do not stop;
- lets what a person is waiting for right now (a direct answer) go before what the outbox
  owes: both share Telegram's 30 a second, and the outbox can always wait a moment;
- with several workers on one desk (PostgreSQL), takes each message's place in the budget
  they share as well (`SharedBudget`, kept in the database by storage/budget.py): its
  chat's, as a sliding window of the same limits, and the whole bot's, evenly spaced a
  little under Telegram's 30 a second. A worker's memory
  knows only its own sends; the chat's last messages may have been another worker's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol, TypeGuard

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter

from bot.channels.telegram.faults import describe

log = logging.getLogger(__name__)

# The Bot API methods that put a message into a chat or change one there.
MESSAGE_ENDPOINTS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "sendVideo",
        "sendAnimation",
        "sendAudio",
        "sendVoice",
        "sendVideoNote",
        "sendSticker",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "sendInvoice",
        "sendPaidMedia",
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
        "editMessageLiveLocation",
        "stopMessageLiveLocation",
        "stopPoll",
        # A new topic posts a service message into the group.
        "createForumTopic",
    }
)

MAX_RETRIES = 5
OUTBOX_YIELDS_AT_MOST = 1.0  # seconds an outbox send stands back for direct answers

_from_outbox: ContextVar[bool] = ContextVar("from_outbox", default=False)


@contextmanager
def sending_from_outbox() -> Iterator[None]:
    """Mark the requests made inside as the outbox's: they give way to direct answers."""
    token = _from_outbox.set(True)
    try:
        yield
    finally:
        _from_outbox.reset(token)


_MAX_PRIVATE_LIMITERS = 1024  # idle ones are dropped past this many

Callback = Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]]

# A budget's sends so far (times, oldest first) -> this send's slot and the times to keep.
Plan = Callable[[list[float]], tuple[float, list[float]]]
# The whole bot's shared pace, as a share of Telegram's 30 a second: messages planned by
# different workers reach Telegram a little early or late (an event loop under load), and
# evenly spaced at this pace a tenth of a second of that still keeps any second within 30.
SHARED_OVERALL_SHARE = 0.86  # 29 -> 25 a second


class SharedBudget(Protocol):
    """Telegram's budget kept where every worker of the desk sees it (storage/budget.py)."""

    async def take(self, budget: str, plan: Plan) -> float:
        """Take a send's place in `budget` as `plan` works it out; its slot (`time.time()`)."""
        ...


def window_plan(
    limit: int, period: float, cost: int, clock: Callable[[], float] = time.time
) -> Plan:
    """The slot of `cost` messages in a sliding window of `limit` per `period` seconds.

    Slots go first come, first served: never before a slot already taken, and only when the
    window behind it has room. The times kept are the window's (the older ones can go).
    """
    cost = min(cost, limit)

    def plan(sent: list[float]) -> tuple[float, list[float]]:
        now = clock()
        taken = sorted(at for at in sent if at > now - period)
        slot = max(now, taken[-1]) if taken else now
        while True:
            behind = [at for at in taken if at > slot - period]
            over = len(behind) + cost - limit
            if over <= 0:
                return slot, [*behind, *([slot] * cost)]
            slot = behind[over - 1] + period

    return plan


def spacing_plan(interval: float, cost: int, clock: Callable[[], float] = time.time) -> Plan:
    """The slot of `cost` messages evenly spaced `interval` seconds apart, never a burst:
    the time kept is the next free slot."""

    def plan(sent: list[float]) -> tuple[float, list[float]]:
        slot = max(clock(), sent[-1]) if sent else clock()
        return slot, [slot + cost * interval]

    return plan


@dataclass(frozen=True, slots=True)
class TelegramLimits:
    """The pace the bot keeps. The defaults are Telegram's, each a hair under its figure
    for clock jitter and the network."""

    overall_per_second: float = 29.0
    group_limit: int = 20  # messages in one group ...
    group_period: float = 61.0  # ... in this many seconds
    private_burst: int = 3
    private_per_second: float = 0.95


TELEGRAM = TelegramLimits()


def _chat_id(data: dict[str, Any]) -> int | str | None:
    value = data.get("chat_id")
    if isinstance(value, int | str):
        try:
            return int(value)
        except ValueError:
            return value  # "@channelname"
    return None


def _is_group(chat_id: int | str | None) -> TypeGuard[int | str]:
    """A group, supergroup or channel (a negative id, or an "@username"), not a private chat."""
    return isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0)


def message_count(endpoint: str, data: dict[str, Any]) -> int:
    """How many messages Telegram counts for one request (an album counts each item)."""
    if endpoint in {"sendMediaGroup", "copyMessages", "forwardMessages"}:
        items = data.get("media") or data.get("message_ids") or ()
        return max(1, len(items)) if isinstance(items, list | tuple) else 1
    return 1


class SlidingWindow:
    """At most `limit` messages in any `period` seconds; waiters go first come, first served."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()

    def _forget_old(self, now: float) -> None:
        while self._sent and self._sent[0] <= now - self.period:
            self._sent.popleft()

    @property
    def idle(self) -> bool:
        """Nothing sent within the period: the window can be dropped."""
        self._forget_old(time.monotonic())
        return not self._sent and not self._lock.locked()

    def room_in(self, amount: int = 1) -> float:
        """Seconds until `amount` more would fit (0: now)."""
        now = time.monotonic()
        self._forget_old(now)
        over = len(self._sent) + min(amount, self.limit) - self.limit
        if over <= 0 and not self._lock.locked():
            return 0.0
        if over <= 0:
            return 0.05  # someone is waiting already: look again shortly
        return max(0.0, self._sent[over - 1] + self.period - now)

    async def acquire(self, amount: int = 1) -> None:
        amount = min(amount, self.limit)
        async with self._lock:
            while True:
                now = time.monotonic()
                self._forget_old(now)
                over = len(self._sent) + amount - self.limit
                if over <= 0:
                    self._sent.extend([now] * amount)
                    return
                # Wait until enough of the oldest have left the window.
                await asyncio.sleep(self._sent[over - 1] + self.period - now)


class DeskRateLimiter(AIORateLimiter):
    """AIORateLimiter that limits messages only, as Telegram does (see the module)."""

    def __init__(
        self,
        limits: TelegramLimits = TELEGRAM,
        *,
        max_retries: int = MAX_RETRIES,
        shared: SharedBudget | None = None,
    ) -> None:
        # Overall, a bucket of one refilled at the rate: evenly spaced messages, never a
        # burst. Groups are counted in their sliding windows below instead.
        super().__init__(
            overall_max_rate=1,
            overall_time_period=1 / limits.overall_per_second,
            group_max_rate=0,
            group_time_period=0,
            max_retries=0,  # retried below, per request
        )
        self._retries = max_retries
        self._group_limit = limits.group_limit
        self._group_period = limits.group_period
        self._groups: dict[int | str, SlidingWindow] = {}
        self._private_burst = limits.private_burst
        self._private_period = limits.private_burst / limits.private_per_second
        self._private: dict[int, AsyncLimiter] = {}
        self._direct_waiting = 0  # direct answers waiting for (or in) the overall budget
        self._direct_done = asyncio.Event()
        self._shared = shared
        self._shared_spacing = 1 / (limits.overall_per_second * SHARED_OVERALL_SHARE)
        self._shared_failing = False

    def _private_limiter(self, chat_id: int) -> AsyncLimiter:
        if len(self._private) > _MAX_PRIVATE_LIMITERS:
            for key, limiter in list(self._private.items()):
                if limiter.has_capacity(limiter.max_rate):
                    del self._private[key]
        if chat_id not in self._private:
            self._private[chat_id] = AsyncLimiter(self._private_burst, self._private_period)
        return self._private[chat_id]

    def room_in(self, chat_id: int) -> float:
        """Seconds until a message to `chat_id` would go without waiting (0: now)."""
        if chat_id < 0:
            window = self._groups.get(chat_id)
            return 0.0 if window is None else window.room_in()
        limiter = self._private.get(chat_id)
        if limiter is None or limiter.has_capacity():
            return 0.0
        return self._private_period / self._private_burst

    def _group_window(self, chat_id: int | str) -> SlidingWindow:
        if len(self._groups) > _MAX_PRIVATE_LIMITERS:
            for key, window in list(self._groups.items()):
                if window.idle:
                    del self._groups[key]
        if chat_id not in self._groups:
            self._groups[chat_id] = SlidingWindow(self._group_limit, self._group_period)
        return self._groups[chat_id]

    async def _take_budget(self, chat_id: int | str | None, count: int) -> None:
        """Wait until the chat's budget has room for `count` messages, and take it."""
        if _is_group(chat_id):
            await self._group_window(chat_id).acquire(count)
        elif isinstance(chat_id, int):
            await self._private_limiter(chat_id).acquire(min(count, self._private_burst))
        if count > 1 and self._base_limiter is not None:
            # PTB's limiter takes one message per request: the rest of an album from here
            # (its limiter is a protected member, meant for subclasses).
            for _ in range(count - 1):
                await self._base_limiter.acquire()
        if self._shared is not None:
            await self._take_shared(self._shared, chat_id, count)

    async def _take_shared(
        self, shared: SharedBudget, chat_id: int | str | None, count: int
    ) -> None:
        """Wait for the place of `count` messages in the budgets every worker shares: the
        chat's, then the whole bot's. If the database can't say, this worker's own pace
        (above) is all there is, this once: an answer never waits for the database."""
        budgets: list[tuple[str, Plan]] = []
        if _is_group(chat_id):
            plan = window_plan(self._group_limit, self._group_period, count)
            budgets.append((f"chat:{chat_id}", plan))
        elif isinstance(chat_id, int):
            plan = window_plan(self._private_burst, self._private_period, count)
            budgets.append((f"chat:{chat_id}", plan))
        budgets.append(("bot", spacing_plan(self._shared_spacing, count)))
        for budget, plan in budgets:
            try:
                slot = await shared.take(budget, plan)
            except Exception as exc:  # noqa: BLE001 - the send goes on, paced by this worker
                if not self._shared_failing:
                    log.warning(
                        "The shared Telegram budget can't be read (%s): pacing alone",
                        describe(exc),
                    )
                self._shared_failing = True
                return
            if self._shared_failing:
                log.info("The shared Telegram budget can be read again")
                self._shared_failing = False
            delay = slot - time.time()
            if delay > 0:
                await asyncio.sleep(delay)

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if endpoint not in MESSAGE_ENDPOINTS:
            return await callback(*args, **kwargs)
        if _from_outbox.get():
            await self._give_way()
            return await self._send(callback, args, kwargs, endpoint, data, rate_limit_args)
        self._direct_waiting += 1
        try:
            return await self._send(callback, args, kwargs, endpoint, data, rate_limit_args)
        finally:
            self._direct_waiting -= 1
            if not self._direct_waiting:
                self._direct_done.set()

    async def _give_way(self) -> None:
        """Wait while direct answers are waiting, for a second at most (no starving)."""
        if self._direct_waiting:
            self._direct_done.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._direct_done.wait(), OUTBOX_YIELDS_AT_MOST)

    async def _send(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = _chat_id(data)
        retries = self._retries if rate_limit_args is None else rate_limit_args
        for attempt in range(retries + 1):
            await self._take_budget(chat_id, message_count(endpoint, data))
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, None)
            except RetryAfter as exc:
                if attempt == retries:
                    raise
                wait = exc.retry_after
                seconds = wait if isinstance(wait, int | float) else wait.total_seconds()
                log.info(
                    "Telegram asked to wait %.0f s before %s to chat %s; sending again then",
                    seconds,
                    endpoint,
                    chat_id,
                )
                await asyncio.sleep(seconds + 0.1)
        raise AssertionError("unreachable")  # pragma: no cover

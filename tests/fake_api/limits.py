"""Telegram's flood limits for bots, as the fake enforces them when asked to.

Telegram documents (Bots FAQ, "My bot is hitting limits") about one message a second per
private chat with short bursts allowed, 20 messages a minute per group and about 30 a
second over the whole bot, and answers anything beyond with HTTP 429 and
``parameters.retry_after``. The fake models them as:

- overall: at most 30 messages in any one-second window (sliding);
- a private chat (positive id): a token bucket of 3 that refills at 1 a second;
- a group, supergroup or channel (negative id): at most 20 messages in any 60 s (sliding).

Every message a call creates or edits counts: each medium of ``sendMediaGroup``, each id of
``copyMessages``/``forwardMessages``, every ``send*`` except ``sendChatAction``, and the
``editMessage*`` family. Reads and housekeeping calls are never limited.

The ledger records every admitted message even while enforcement is off, so switching it on
in a running fake starts from the recent history (a private chat's bucket at worst empty)
and :meth:`RateLimits.report` can describe the pace of any run.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .schema import ApiError

GLOBAL_PER_SECOND = 30
PRIVATE_BURST = 3
PRIVATE_PER_SECOND = 1.0
GROUP_PER_MINUTE = 20
_SECOND = 1.0
_MINUTE = 60.0

# Methods that send or edit a message (lower-case). sendChatAction sends no message.
_EDITS = frozenset(
    {"editmessagetext", "editmessagecaption", "editmessagemedia", "editmessagereplymarkup"}
)
_MANY = frozenset({"copymessages", "forwardmessages"})  # cost: one per message id
_SINGLE = frozenset({"copymessage", "forwardmessage"})
_NOT_MESSAGES = frozenset({"sendchataction"})


def message_cost(method: str, params: dict[str, Any]) -> int:
    """How many messages a call counts for (0: the call is never limited)."""
    name = method.lower()
    if name in _NOT_MESSAGES:
        return 0
    if name == "sendmediagroup":
        media = params.get("media")
        return max(1, len(media)) if isinstance(media, list) else 1
    if name in _MANY:
        ids = params.get("message_ids")
        return max(1, len(ids)) if isinstance(ids, list) else 1
    if name.startswith("send") or name in _EDITS or name in _SINGLE:
        return 1
    return 0


@dataclass(frozen=True, slots=True)
class Throttled:
    """One call the fake refused with 429."""

    method: str
    chat_id: int | None
    at: float  # the limiter's clock (time.monotonic unless replaced)
    retry_after: int


@dataclass(frozen=True, slots=True)
class Delivered:
    """Messages one admitted call created or edited."""

    method: str
    chat_id: int | None
    at: float
    count: int


@dataclass(frozen=True, slots=True)
class RateReport:
    """The pace of delivered messages, for assertions and the benchmark."""

    messages: int
    max_per_second: int  # most messages in any one-second window, all chats together
    min_private_gap: dict[int, float]  # private chat -> smallest gap between two messages
    max_group_per_minute: dict[int, int]  # group -> most messages in any 60 s window
    throttled: int

    @property
    def smallest_private_gap(self) -> float | None:
        return min(self.min_private_gap.values(), default=None)

    @property
    def busiest_group_minute(self) -> int:
        return max(self.max_group_per_minute.values(), default=0)


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class _Window:
    """A sliding window: (time, count) entries younger than ``span``."""

    span: float
    limit: int
    entries: deque[tuple[float, int]] = field(default_factory=deque)
    total: int = 0

    def expire(self, now: float) -> None:
        while self.entries and self.entries[0][0] <= now - self.span:
            self.total -= self.entries.popleft()[1]

    def wait(self, now: float, cost: int) -> float:
        """Seconds until ``cost`` more messages fit (0: they fit now)."""
        self.expire(now)
        excess = self.total + cost - self.limit
        if excess <= 0:
            return 0.0
        freed = 0
        for at, count in self.entries:  # oldest first: wait until enough of them expire
            freed += count
            if freed >= excess:
                return at + self.span - now
        return self.span  # more than the window ever holds: wait for all of it to expire

    def add(self, now: float, cost: int) -> None:
        self.entries.append((now, cost))
        self.total += cost


class RateLimits:
    """Flood-limit bookkeeping for one fake bot; ``enabled`` decides whether it refuses."""

    def __init__(
        self, *, enabled: bool = False, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.enabled = enabled
        self.clock = clock
        self.throttled: list[Throttled] = []
        self.delivered: list[Delivered] = []
        self._overall = _Window(_SECOND, GLOBAL_PER_SECOND)
        self._groups: dict[int, _Window] = {}
        self._private: dict[int, _Bucket] = {}

    def check(self, method: str, chat_id: int | None, cost: int) -> None:
        """Raise the 429 Telegram would answer if ``cost`` more messages exceed a limit."""
        if not self.enabled or cost <= 0:
            return
        now = self.clock()
        wait = self._overall.wait(now, cost)
        if chat_id is not None and chat_id < 0:
            wait = max(wait, self._group(chat_id).wait(now, cost))
        elif chat_id is not None:
            wait = max(wait, self._bucket_wait(chat_id, now, cost))
        if wait <= 0:
            return
        # Telegram's retry_after is whole seconds, never 0: round the real wait up.
        retry_after = max(1, math.ceil(wait - 1e-9))
        self.throttled.append(Throttled(method, chat_id, now, retry_after))
        raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)

    def admit(self, method: str, chat_id: int | None, cost: int) -> None:
        """Record messages that were delivered (always, so that enabling later is exact)."""
        if cost <= 0:
            return
        now = self.clock()
        self.delivered.append(Delivered(method, chat_id, now, cost))
        self._overall.expire(now)
        self._overall.add(now, cost)
        if chat_id is not None and chat_id < 0:
            window = self._group(chat_id)
            window.expire(now)
            window.add(now, cost)
        elif chat_id is not None:
            bucket = self._refilled(chat_id, now)
            # An album bigger than the burst still goes out on a full bucket (Telegram does
            # deliver 10-photo albums to private chats); the debt delays what follows. While
            # nothing is enforced the debt stops at an empty bucket, so that switching the
            # limits on after an unlimited flood does not start with minutes of penalty.
            bucket.tokens -= cost
            if not self.enabled:
                bucket.tokens = max(bucket.tokens, 0.0)

    def report(self) -> RateReport:
        """The pace of everything delivered so far."""
        return RateReport(
            messages=sum(d.count for d in self.delivered),
            max_per_second=_max_in_window(((d.at, d.count) for d in self.delivered), _SECOND),
            min_private_gap=self._private_gaps(),
            max_group_per_minute={
                chat_id: _max_in_window(
                    ((d.at, d.count) for d in self.delivered if d.chat_id == chat_id), _MINUTE
                )
                for chat_id in sorted(
                    {d.chat_id for d in self.delivered if d.chat_id is not None and d.chat_id < 0}
                )
            },
            throttled=len(self.throttled),
        )

    def _private_gaps(self) -> dict[int, float]:
        last: dict[int, float] = {}
        gaps: dict[int, float] = {}
        for d in self.delivered:
            if d.chat_id is None or d.chat_id < 0:
                continue
            if d.chat_id in last:
                gap = 0.0 if d.count > 1 else d.at - last[d.chat_id]
                gaps[d.chat_id] = min(gaps.get(d.chat_id, math.inf), gap)
            elif d.count > 1:  # an album's media arrive together
                gaps[d.chat_id] = 0.0
            last[d.chat_id] = d.at
        return gaps

    def _group(self, chat_id: int) -> _Window:
        return self._groups.setdefault(chat_id, _Window(_MINUTE, GROUP_PER_MINUTE))

    def _refilled(self, chat_id: int, now: float) -> _Bucket:
        bucket = self._private.setdefault(chat_id, _Bucket(float(PRIVATE_BURST), now))
        bucket.tokens = min(
            float(PRIVATE_BURST), bucket.tokens + (now - bucket.at) * PRIVATE_PER_SECOND
        )
        bucket.at = now
        return bucket

    def _bucket_wait(self, chat_id: int, now: float, cost: int) -> float:
        bucket = self._refilled(chat_id, now)
        need = float(min(cost, PRIVATE_BURST))
        return max(0.0, (need - bucket.tokens) / PRIVATE_PER_SECOND)


def _max_in_window(events: Iterable[tuple[float, int]], span: float) -> int:
    """The largest total count of events within any window of ``span`` seconds."""
    ordered = sorted(events)
    best = total = start = 0
    for at, count in ordered:
        total += count
        while ordered[start][0] <= at - span:
            total -= ordered[start][1]
            start += 1
        best = max(best, total)
    return best

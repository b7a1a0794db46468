"""Flood control: how many messages one customer may send before the desk stops answering
each one.

Past `limit` messages in a sliding minute, a customer's messages are no longer answered one
by one: the first of them gets one polite "slow down" (again at most once a minute), and
the handler keeps what they send on their ticket silently. An album is one message, as
the customer sees it: its files share a media group and count once.

The state is kept in memory, not in the database, on purpose: it is a handful of
timestamps per customer, needed for a minute at most, and writing one per message would add
a write to every update on SQLite's single writer (the very cost a flood should not grow).
A restart forgets it, which only gives a flooding customer a fresh minute. Memory stays
bounded: at most `limit` timestamps per customer, and the least recently seen customers are
forgotten beyond `max_customers`.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass
from enum import StrEnum

PERIOD = 60.0  # seconds: the window the limit is counted over
NOTICE_EVERY = 60.0  # seconds between two "slow down" notices to one customer
MAX_CUSTOMERS = 10_000


class Verdict(StrEnum):
    ALLOW = "allow"  # answer as usual
    WARN = "warn"  # over the limit: say "slow down" once, keep the message quietly
    QUIET = "quiet"  # over the limit, already told: keep the message quietly


@dataclass(slots=True)
class _Customer:
    times: deque[float]
    warned_at: float | None = None
    album: str | None = None
    album_verdict: Verdict = Verdict.ALLOW


class FloodGuard:
    """Counts each customer's messages in a sliding window and says what to do with the next."""

    def __init__(
        self,
        limit: int,
        *,
        period: float = PERIOD,
        notice_every: float = NOTICE_EVERY,
        max_customers: int = MAX_CUSTOMERS,
    ) -> None:
        if limit < 1:
            raise ValueError("the limit must be at least one message")
        self.limit = limit
        self.period = period
        self.notice_every = notice_every
        self.max_customers = max_customers
        self._customers: OrderedDict[int, _Customer] = OrderedDict()

    def __len__(self) -> int:
        return len(self._customers)

    def admit(self, customer_id: int, now: float, *, album: str | None = None) -> Verdict:
        """Count a message from `customer_id` at `now` (seconds, any monotonic clock)."""
        entry = self._customers.get(customer_id)
        if entry is None:
            entry = _Customer(times=deque(maxlen=self.limit))
            self._customers[customer_id] = entry
            if len(self._customers) > self.max_customers:
                self._customers.popitem(last=False)  # the customer seen longest ago
        else:
            self._customers.move_to_end(customer_id)
        if album is not None and album == entry.album:
            # The rest of an album shares its first file's fate (and is told nothing more).
            return Verdict.QUIET if entry.album_verdict is not Verdict.ALLOW else Verdict.ALLOW
        verdict = self._count(entry, now)
        entry.album, entry.album_verdict = album, verdict
        return verdict

    def _count(self, entry: _Customer, now: float) -> Verdict:
        while entry.times and now - entry.times[0] >= self.period:
            entry.times.popleft()
        if len(entry.times) < self.limit:
            entry.times.append(now)
            return Verdict.ALLOW
        # Messages over the limit are not counted: the customer is answered again as soon
        # as their busiest minute has passed.
        if entry.warned_at is None or now - entry.warned_at >= self.notice_every:
            entry.warned_at = now
            return Verdict.WARN
        return Verdict.QUIET

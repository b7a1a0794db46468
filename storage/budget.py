"""Telegram's budget, shared by the workers of one desk (PostgreSQL): each budget's latest sends.

One worker paces its own messages in memory (bot/channels/telegram/ratelimit.py). Several
workers answering one bot share Telegram's limits, and the worker that sends a chat's next
message need not be the one that sent its last (a customer's updates move between
workers; a new leader takes over the outbox), so each message also takes its place here
first. A row per budget (a chat, or the whole bot's) keeps the times of its latest sends; a
worker reads it, works its slot out with the caller's `plan`, and writes the row back only
if no one wrote it in between (its version): a worker that lost the race reads again. Each
statement is its own: a send never waits for this worker's other write transactions. The
limits are the caller's; this module only keeps the times.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable

from storage.db import Database

# A budget's sends so far (times, oldest first) -> this send's slot and the times to keep.
Plan = Callable[[list[float]], tuple[float, list[float]]]

READ = "SELECT sent, version FROM send_budget WHERE budget = ?"
CREATE = (
    "INSERT INTO send_budget (budget, sent, version, last_at) VALUES (?, ?, 0, ?)"
    " ON CONFLICT DO NOTHING"
)
WRITE = (
    "UPDATE send_budget SET sent = ?, version = version + 1, last_at = ?"
    " WHERE budget = ? AND version = ?"
)
FORGET = (
    "DELETE FROM send_budget WHERE budget IN"
    " (SELECT budget FROM send_budget WHERE last_at < ? LIMIT ?)"
)
# Races lost in a row before giving up (each one means another worker just sent).
MOST_TRIES = 50


class BudgetContentionError(RuntimeError):
    """The budget's row changed under every try: the caller paces by itself this once."""


class SendBudgets:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def take(self, budget: str, plan: Plan) -> float:
        """Take this send's place in `budget`; its slot (a `time.time()` to send at)."""
        for _ in range(MOST_TRIES):
            row = await self._db.fetch_one(READ, (budget,))
            sent = [float(at) for at in json.loads(row["sent"])] if row is not None else []
            slot, kept = plan(sent)
            times = json.dumps(kept)
            if row is None:
                won = await self._db.write_alone(CREATE, (budget, times, slot))
            else:
                won = await self._db.write_alone(WRITE, (times, slot, budget, row["version"]))
            if won:
                return slot
            await asyncio.sleep(random.uniform(0.0, 0.003))  # noqa: S311 - not for secrets
        raise BudgetContentionError(budget)

    async def forget(self, before: float) -> int:
        """Budgets with no send since `before` (a `time.time()`): a chat long quiet."""
        return await self._db.delete_in_batches(FORGET, (before,), batch=1000, most=10)

"""OutboxRepo and `enqueue`: the durable queue of everything the bot owes anyone."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from bot.domain.channels import Channel, channel_of
from bot.domain.models import Audience, OutboxItem
from bot.domain.outbox import OutboxKind, admin_lane
from storage.db import Database, Deferred, Transaction
from storage.engines import Record
from storage.rows import to_ts

# The outbox's next items: each customer's oldest, and the agents' chat's next by lane
# (indexes of migration 0008).
OUTBOX_CUSTOMER_HEADS = (
    "SELECT * FROM outbox WHERE id IN (SELECT MIN(id) FROM outbox"
    " WHERE state = 'pending' AND audience = 'customer' GROUP BY chat_id)"
    " ORDER BY id LIMIT ?"
)
OUTBOX_ADMIN_NEXT = (
    "SELECT * FROM outbox WHERE state = 'pending' AND audience = 'admin' ORDER BY lane, id LIMIT 1"
)
# The agents' chat's pending items of one ticket after a given one, in its lane's order
# (to batch a flood of one customer's messages into one delivery).
OUTBOX_TICKET_NEXT = (
    "SELECT * FROM outbox WHERE audience = 'admin' AND state = 'pending' AND lane = ?"
    " AND id > ? AND ticket_number = ? ORDER BY id LIMIT ?"
)


async def enqueue(
    tx: Transaction,
    kind: OutboxKind,
    audience: Audience,
    now: datetime,
    chat_id: int | None = None,
    ticket_number: int | None = None,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> None:
    # With a dedupe key, a second pending row of the same key is dropped: the first one
    # will deliver the latest state anyway (a card refresh, for example).
    lane = admin_lane(kind) if audience is Audience.ADMIN else 0
    if (
        audience is Audience.CUSTOMER
        and chat_id is not None
        and channel_of(chat_id) is Channel.WHATSAPP
    ):
        # WhatsApp's customers have their own lane, limits and sender.
        audience = Audience.WHATSAPP
    tx.queued = True
    await tx.execute(
        "INSERT INTO outbox (kind, audience, lane, chat_id, ticket_number, payload,"
        " dedupe_key, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        (
            kind,
            audience.value,
            int(lane),
            chat_id,
            ticket_number,
            json.dumps(payload or {}, ensure_ascii=False),
            dedupe_key,
            (not_before or now).timestamp(),
            to_ts(now),
        ),
    )


def outbox_item(r: Record) -> OutboxItem:
    return OutboxItem(
        id=r["id"],
        kind=r["kind"],
        audience=Audience(r["audience"]),
        chat_id=r["chat_id"],
        ticket_number=r["ticket_number"],
        payload=json.loads(r["payload"]),
        attempts=r["attempts"],
        next_attempt_at=r["next_attempt_at"],
    )


class OutboxRepo:
    """The durable queue of everything the bot owes anyone."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        kind: OutboxKind,
        audience: Audience,
        now: datetime,
        *,
        chat_id: int | None = None,
        ticket_number: int | None = None,
        payload: dict[str, Any] | None = None,
        dedupe_key: str | None = None,
    ) -> None:
        async with self._db.transaction(deferrable=True) as tx:
            await enqueue(tx, kind, audience, now, chat_id, ticket_number, payload, dedupe_key)

    async def pending(self, limit: int) -> list[OutboxItem]:
        """The head of every line, oldest first: each customer's oldest pending item (due or
        waiting for a retry) and the agents' chat's next one by lane.

        Only the head of each line can go next, so one chat's backlog never hides the other
        chats' items, and the agents' chat's backlog never holds up a customer.
        """
        rows = await self._db.fetch_all(OUTBOX_CUSTOMER_HEADS, (limit,))
        admin = await self._db.fetch_one(OUTBOX_ADMIN_NEXT)
        items = [outbox_item(r) for r in rows]
        if admin is not None:
            items.append(outbox_item(admin))
            items.sort(key=lambda item: item.id)
        return items

    async def pending_of_kinds(
        self, kinds: Iterable[OutboxKind], *, due_by: float, limit: int
    ) -> list[OutboxItem]:
        """The agents' chat's due items of these kinds, oldest first (to fold them)."""
        names = sorted(kinds)
        marks = ", ".join("?" * len(names))
        rows = await self._db.fetch_all(
            "SELECT * FROM outbox WHERE state = 'pending' AND audience = 'admin'"
            f" AND kind IN ({marks}) AND next_attempt_at <= ? ORDER BY lane, id LIMIT ?",
            (*names, due_by, limit),
        )
        return [outbox_item(r) for r in rows]

    async def pending_after(
        self, item_id: int, *, lane: int, ticket_number: int, limit: int
    ) -> list[OutboxItem]:
        """The agents' chat's pending items of one ticket in `lane` after `item_id`, in
        order (due or not: the caller stops at the first it can't take)."""
        rows = await self._db.fetch_all(OUTBOX_TICKET_NEXT, (lane, item_id, ticket_number, limit))
        return [outbox_item(r) for r in rows]

    async def done_many(self, item_ids: Sequence[int]) -> None:
        """Mark items delivered as part of another (a folded message)."""
        if not item_ids:
            return
        async with self._db.transaction(deferrable=True) as tx:
            await tx.executemany(
                "UPDATE outbox SET state = 'sent', done_at = ?, attempts = attempts + 1"
                " WHERE id = ? AND state = 'pending'",
                [(int(time.time()), item_id) for item_id in item_ids],
            )

    async def claim(self, item_id: int) -> None:
        """Release the item's dedupe key as its delivery starts."""
        await self._db.execute("UPDATE outbox SET dedupe_key = NULL WHERE id = ?", (item_id,))

    async def done(
        self,
        item_id: int,
        state: str = "sent",
        error: str | None = None,
        *,
        with_writes: Deferred | None = None,
    ) -> None:
        """Record the item's outcome, with what its delivery wrote (`Database.deferring`)."""
        async with self._db.transaction() as tx:
            if with_writes is not None:
                await tx.apply(with_writes)
            await tx.execute(
                "UPDATE outbox SET state = ?, last_error = ?, done_at = ?,"
                " attempts = attempts + 1 WHERE id = ?",
                (state, error, int(time.time()), item_id),
            )

    async def retry(
        self, item_id: int, at: float, error: str, *, with_writes: Deferred | None = None
    ) -> None:
        async with self._db.transaction() as tx:
            if with_writes is not None:
                await tx.apply(with_writes)
            await tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?,"
                " last_error = ? WHERE id = ?",
                (at, error, item_id),
            )

    async def counts(self) -> dict[str, int]:
        rows = await self._db.fetch_all("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
        return {r["state"]: int(r["n"]) for r in rows}

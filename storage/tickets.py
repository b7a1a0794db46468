"""TicketRepo: tickets, their messages, relays and events, and the queries on their hot paths."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

from bot.domain.models import (
    Attachment,
    AttachmentKind,
    Audience,
    Author,
    Priority,
    Relay,
    RelayKind,
    Status,
    Ticket,
    TicketEvent,
    TicketMessage,
)
from bot.domain.outbox import OutboxKind
from storage.db import Database, Params
from storage.engines import Record
from storage.figures import TicketFigures
from storage.outbox import enqueue
from storage.rows import from_ts, message_of, ticket_of, to_ts
from storage.units import TICKET_BY_NUMBER, TicketUnit, insert_event, insert_message

# The queries on hot paths, as module constants so tests/unit/test_hot_queries.py can hold
# the very text that runs to its plan (each served by one index of migration 0009, filter
# and order alike). Statuses are literals where a partial index depends on them: the
# planner can use a partial index only when the query names its condition. The lookup by
# number, TICKET_BY_NUMBER, is in storage.units: TicketUnit reads by it too.
TICKETS_FOR_CUSTOMER = (
    "SELECT * FROM tickets WHERE customer_id = ? ORDER BY number DESC LIMIT ? OFFSET ?"
)
COUNT_FOR_CUSTOMER = "SELECT COUNT(*) AS n FROM tickets WHERE customer_id = ?"
OPEN_FOR_CUSTOMER = (
    "SELECT * FROM tickets WHERE customer_id = ? AND status IN ('open', 'pending')"
    " ORDER BY number DESC"
)
TICKET_BY_THREAD = "SELECT * FROM tickets WHERE admin_chat_id = ? AND admin_thread_id = ?"
# 'open' sorts before 'pending', so ordering by status puts open tickets first: the
# same order as the index tickets_queue, which then needs no sort.
QUEUE = (
    "SELECT * FROM tickets WHERE status IN ('open', 'pending')"
    " ORDER BY status, first_response_at IS NOT NULL, first_response_due_at, number"
    " LIMIT ? OFFSET ?"
)
# Counted as tickets change (ticket_counts, migration 0014): the live tickets can be tens
# of thousands, and a COUNT would walk every one of them.
COUNT_QUEUE = (
    "SELECT COALESCE(SUM(n), 0) AS n FROM ticket_counts WHERE status IN ('open', 'pending')"
)
BREACHED = (
    "SELECT * FROM tickets WHERE status = 'open' AND first_response_at IS NULL"
    " AND breach_announced_at IS NULL AND first_response_due_at <= ?"
    " ORDER BY first_response_due_at"
)
IN_STATUS_SINCE = (
    "SELECT * FROM tickets WHERE status = ? AND status_changed_at <= ?"
    " ORDER BY status_changed_at, number"
)
AWAITING_REMINDER = (
    "SELECT * FROM tickets WHERE status = 'pending' AND solve_reminder_at IS NULL"
    " AND status_changed_at <= ? ORDER BY status_changed_at, number"
)
# "Not in the bound chat, or there without a card", split into disjoint ranges that an
# index can seek (an `IS NOT ?` or an OR can't use one); the numbers come back in order.
_LIVE = "SELECT number FROM tickets WHERE status IN ('open', 'pending', 'solved') AND"
UNPOSTED = (
    f"SELECT * FROM tickets WHERE number IN ({_LIVE} admin_chat_id IS NULL"
    f" UNION ALL {_LIVE} admin_chat_id < ?1"
    f" UNION ALL {_LIVE} admin_chat_id > ?1"
    f" UNION ALL {_LIVE} admin_chat_id = ?1 AND admin_card_message_id IS NULL)"
    " ORDER BY number"
)
RELAY_BY_ADMIN_MESSAGE = (
    "SELECT * FROM relayed_messages WHERE admin_chat_id = ? AND admin_message_id = ?"
)
RELAY_BY_CUSTOMER_MESSAGE = (
    "SELECT * FROM relayed_messages WHERE customer_chat_id = ? AND customer_message_id = ?"
    " ORDER BY id LIMIT 1"
)


def _attachment(row: Record) -> Attachment:
    return Attachment(
        kind=AttachmentKind(row["kind"]),
        file_id=row["file_id"],
        file_unique_id=row["file_unique_id"],
        file_size=row["file_size"],
        file_name=row["file_name"],
        mime_type=row["mime_type"],
        media_group_id=row["media_group_id"],
    )


def _relay(row: Record) -> Relay:
    return Relay(
        ticket_number=row["ticket_number"],
        kind=RelayKind(row["kind"]),
        ticket_message_id=row["ticket_message_id"],
        admin_chat_id=row["admin_chat_id"],
        admin_message_id=row["admin_message_id"],
        customer_chat_id=row["customer_chat_id"],
        customer_message_id=row["customer_message_id"],
    )


class TicketRepo(TicketFigures):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        *,
        customer_id: int,
        department: str,
        subject: str,
        priority: Priority,
        locale: str,
        message: str,
        attachments: Sequence[Attachment],
        due_at: datetime,
        now: datetime,
        follow_up_of: int | None = None,
    ) -> Ticket:
        """Store a new ticket with its first message, attachments and `created` event.

        The customer's draft is removed in the same transaction, so a crash can leave
        either the draft or the ticket, never both and never neither.
        """
        ts = to_ts(now)
        async with self._db.transaction() as tx:
            await tx.settle()
            number = await tx.insert(
                "INSERT INTO tickets (customer_id, department, subject, priority, status, locale,"
                " created_at, updated_at, first_response_due_at, follow_up_of, status_changed_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING number",
                (
                    customer_id,
                    department,
                    subject,
                    priority.value,
                    Status.OPEN.value,
                    locale,
                    ts,
                    ts,
                    to_ts(due_at),
                    follow_up_of,
                    ts,
                ),
            )
            await insert_message(
                tx,
                number,
                author=Author.CUSTOMER,
                author_id=customer_id,
                body=message,
                attachments=attachments,
                ts=ts,
            )
            await insert_event(
                tx, number, "created", Author.CUSTOMER, customer_id, None, Status.OPEN.value, ts
            )
            await tx.execute("DELETE FROM drafts WHERE user_id = ?", (customer_id,))
            # The agents are owed the new ticket's card and the customer its receipt: in the
            # same transaction, so a kill right after it loses neither.
            await enqueue(
                tx,
                OutboxKind.NEW_TICKET,
                Audience.ADMIN,
                now,
                ticket_number=number,
                dedupe_key=f"{OutboxKind.NEW_TICKET}:{number}",
            )
            await enqueue(
                tx,
                OutboxKind.RECEIPT,
                Audience.CUSTOMER,
                now,
                chat_id=customer_id,
                ticket_number=number,
                dedupe_key=f"{OutboxKind.RECEIPT}:{number}",
            )
            row = await tx.fetch_one(TICKET_BY_NUMBER, (number,))
        assert row is not None
        return ticket_of(row)

    async def get(self, number: int) -> Ticket | None:
        row = await self._db.fetch_one(TICKET_BY_NUMBER, (number,))
        return None if row is None else ticket_of(row)

    async def for_customer(self, customer_id: int, *, limit: int, offset: int) -> list[Ticket]:
        rows = await self._db.fetch_all(TICKETS_FOR_CUSTOMER, (customer_id, limit, offset))
        return [ticket_of(r) for r in rows]

    async def count_for_customer(self, customer_id: int) -> int:
        row = await self._db.fetch_one(COUNT_FOR_CUSTOMER, (customer_id,))
        return 0 if row is None else int(row["n"])

    async def messages(self, number: int, *, include_internal: bool) -> list[TicketMessage]:
        rows = await self._db.fetch_all(
            "SELECT * FROM ticket_messages WHERE ticket_number = ?"
            " AND (internal = 0 OR ? = 1) ORDER BY id",
            (number, int(include_internal)),
        )
        files = await self._db.fetch_all(
            # A forgotten customer's files have no file id left: nothing to send.
            "SELECT * FROM attachments WHERE ticket_number = ? AND file_id != '' ORDER BY id",
            (number,),
        )
        by_message: dict[int, list[Attachment]] = {}
        for f in files:
            by_message.setdefault(f["message_id"], []).append(_attachment(f))
        return [message_of(r, by_message.get(r["id"], ())) for r in rows]

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[TicketUnit]:
        """A transaction over tickets: read, decide, write, all or nothing.

        It settles the update being handled: the change and the record that the update
        was handled commit together, so a replay after a kill never makes it twice.
        """
        async with self._db.transaction() as tx:
            await tx.settle()
            yield TicketUnit(tx)

    async def by_thread(self, admin_chat_id: int, thread_id: int) -> Ticket | None:
        row = await self._db.fetch_one(TICKET_BY_THREAD, (admin_chat_id, thread_id))
        return None if row is None else ticket_of(row)

    async def relay_by_admin_message(self, chat_id: int, message_id: int) -> Relay | None:
        row = await self._db.fetch_one(RELAY_BY_ADMIN_MESSAGE, (chat_id, message_id))
        return None if row is None else _relay(row)

    async def relay_by_customer_message(self, chat_id: int, message_id: int) -> Relay | None:
        row = await self._db.fetch_one(RELAY_BY_CUSTOMER_MESSAGE, (chat_id, message_id))
        return None if row is None else _relay(row)

    async def add_relay(self, relay: Relay, now: datetime) -> None:
        """Map a copy to its ticket's message (during a delivery: written with its outcome)."""
        await self._db.execute(
            "INSERT INTO relayed_messages (ticket_number, ticket_message_id, kind,"
            " admin_chat_id, admin_message_id, customer_chat_id, customer_message_id,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                relay.ticket_number,
                relay.ticket_message_id,
                relay.kind.value,
                relay.admin_chat_id,
                relay.admin_message_id,
                relay.customer_chat_id,
                relay.customer_message_id,
                to_ts(now),
            ),
            deferrable=True,
        )

    async def rating_prompt_since(self, chat_id: int, cutoff: datetime) -> int | None:
        """The ticket of the newest rating-comment prompt sent to `chat_id` since `cutoff`."""
        row = await self._db.fetch_one(
            "SELECT ticket_number FROM relayed_messages WHERE customer_chat_id = ?"
            " AND kind = ? AND created_at >= ? ORDER BY id DESC LIMIT 1",
            (chat_id, RelayKind.RATING.value, to_ts(cutoff)),
        )
        return None if row is None else int(row["ticket_number"])

    async def rating_prompted_at(self, chat_id: int, number: int) -> datetime | None:
        row = await self._db.fetch_one(
            "SELECT MAX(created_at) AS at FROM relayed_messages WHERE customer_chat_id = ?"
            " AND ticket_number = ? AND kind = ?",
            (chat_id, number, RelayKind.RATING.value),
        )
        return None if row is None or row["at"] is None else from_ts(row["at"])

    async def customer_wrote_since(self, customer_id: int, since: datetime) -> bool:
        """Whether the customer added anything to any ticket after `since` (in seconds)."""
        row = await self._db.fetch_one(
            "SELECT 1 FROM ticket_messages WHERE author = ? AND author_id = ?"
            " AND created_at > ? LIMIT 1",
            (Author.CUSTOMER.value, customer_id, to_ts(since)),
        )
        return row is not None

    async def _tickets(self, sql: str, params: Params) -> list[Ticket]:
        return [ticket_of(r) for r in await self._db.fetch_all(sql, params)]

    async def in_status_since(self, status: Status, cutoff: datetime) -> list[Ticket]:
        """Tickets in `status` that have not changed status since `cutoff`, longest first."""
        return await self._tickets(IN_STATUS_SINCE, (status.value, to_ts(cutoff)))

    async def awaiting_reminder(self, cutoff: datetime) -> list[Ticket]:
        """Pending tickets unchanged since `cutoff` whose customer has had no reminder."""
        return await self._tickets(AWAITING_REMINDER, (to_ts(cutoff),))

    async def open_for_customer(self, customer_id: int) -> list[Ticket]:
        return await self._tickets(OPEN_FOR_CUSTOMER, (customer_id,))

    async def unposted(self, admin_chat_id: int) -> list[Ticket]:
        """Live tickets that have no card in the bound admin chat yet."""
        return await self._tickets(UNPOSTED, (admin_chat_id,))

    async def move_admin_chat(self, old: int, new: int) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE tickets SET admin_chat_id = ? WHERE admin_chat_id = ?", (new, old)
            )
            await tx.execute(
                "UPDATE relayed_messages SET admin_chat_id = ? WHERE admin_chat_id = ?",
                (new, old),
            )

    async def queue(self, *, limit: int, offset: int) -> list[Ticket]:
        """Open and pending tickets: unanswered first, then by due time, most urgent first."""
        return await self._tickets(QUEUE, (limit, offset))

    async def count_queue(self) -> int:
        row = await self._db.fetch_one(COUNT_QUEUE)
        return 0 if row is None else int(row["n"])

    async def breached(self, now: datetime) -> list[Ticket]:
        """Open tickets past their first-response due time, not yet announced."""
        return await self._tickets(BREACHED, (to_ts(now),))

    async def mark_breach_announced(self, number: int, now: datetime) -> bool:
        count = await self._db.execute(
            "UPDATE tickets SET breach_announced_at = ? WHERE number = ?"
            " AND breach_announced_at IS NULL",
            (to_ts(now), number),
        )
        return count > 0

    async def set_location(
        self, number: int, *, chat_id: int, thread_id: int | None, card_message_id: int | None
    ) -> None:
        await self._db.execute(
            "UPDATE tickets SET admin_chat_id = ?, admin_thread_id = ?,"
            " admin_card_message_id = ? WHERE number = ?",
            (chat_id, thread_id, card_message_id, number),
        )

    async def message(self, message_id: int) -> TicketMessage | None:
        row = await self._db.fetch_one("SELECT * FROM ticket_messages WHERE id = ?", (message_id,))
        if row is None:
            return None
        files = await self._db.fetch_all(
            "SELECT * FROM attachments WHERE message_id = ? AND file_id != '' ORDER BY id",
            (message_id,),
        )
        return message_of(row, [_attachment(f) for f in files])

    async def events(self, number: int) -> list[TicketEvent]:
        rows = await self._db.fetch_all(
            "SELECT * FROM ticket_events WHERE ticket_number = ? ORDER BY id", (number,)
        )
        return [
            TicketEvent(
                id=r["id"],
                ticket_number=r["ticket_number"],
                kind=r["kind"],
                actor=Author(r["actor"]),
                actor_id=r["actor_id"],
                from_value=r["from_value"],
                to_value=r["to_value"],
                created_at=from_ts(r["created_at"]),
            )
            for r in rows
        ]

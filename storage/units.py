"""TicketUnit: reads and writes on tickets in one transaction, and a ticket's inserts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.domain.models import Attachment, Audience, Author, HeldMessage, Ticket, TicketMessage
from bot.domain.outbox import OutboxKind
from storage.db import Transaction
from storage.engines import Record
from storage.outbox import enqueue
from storage.ratings import RATING_COMMENT
from storage.rows import message_of, ticket_of, to_ts

# The lookup by number, a query on the hot paths (see storage.tickets): here, since
# TicketRepo and TicketUnit both read by it.
TICKET_BY_NUMBER = "SELECT * FROM tickets WHERE number = ?"

_TICKET_FIELDS = frozenset(
    {
        "status",
        "priority",
        "updated_at",
        "first_response_due_at",
        "first_response_at",
        "assignee_id",
        "admin_chat_id",
        "admin_thread_id",
        "admin_card_message_id",
        "breach_announced_at",
        "status_changed_at",
        "solve_reminder_at",
        "customer_unreachable",
        "solved_at",
        "closed_at",
        "resolved_at",
        "first_response_business",
        "resolution_business",
    }
)


async def insert_message(
    tx: Transaction,
    number: int,
    *,
    author: Author,
    author_id: int | None,
    body: str,
    attachments: Sequence[Attachment],
    ts: int,
    internal: bool = False,
    tg_chat_id: int | None = None,
    tg_message_id: int | None = None,
    edit_of: int | None = None,
) -> int:
    """Add a message with its attachments to a ticket; its id."""
    message_id = await tx.insert(
        "INSERT INTO ticket_messages (ticket_number, author, author_id, body, internal,"
        " tg_chat_id, tg_message_id, edit_of, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            number,
            author.value,
            author_id,
            body,
            int(internal),
            tg_chat_id,
            tg_message_id,
            edit_of,
            ts,
        ),
    )
    await tx.executemany(
        "INSERT INTO attachments (message_id, ticket_number, kind, file_id, file_unique_id,"
        " file_size, file_name, mime_type, media_group_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                message_id,
                number,
                a.kind.value,
                a.file_id,
                a.file_unique_id,
                a.file_size,
                a.file_name,
                a.mime_type,
                a.media_group_id,
                ts,
            )
            for a in attachments
        ],
    )
    return message_id


async def insert_event(
    tx: Transaction,
    number: int,
    kind: str,
    actor: Author,
    actor_id: int | None,
    from_value: str | None,
    to_value: str | None,
    ts: int,
) -> None:
    """Add an event to a ticket's history."""
    await tx.execute(
        "INSERT INTO ticket_events (ticket_number, kind, actor, actor_id, from_value,"
        " to_value, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (number, kind, actor.value, actor_id, from_value, to_value, ts),
    )


class TicketUnit:
    """Reads and writes on tickets inside one transaction (see `TicketRepo.unit`)."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get(self, number: int) -> Ticket | None:
        row = await self._tx.fetch_one(TICKET_BY_NUMBER, (number,))
        return None if row is None else ticket_of(row)

    async def update(self, number: int, **fields: object) -> None:
        """Set ticket columns; datetimes are stored as Unix seconds, enums as their value."""
        unknown = set(fields) - _TICKET_FIELDS
        if unknown:
            raise ValueError(f"not a ticket field: {sorted(unknown)}")
        values = [
            to_ts(v) if isinstance(v, datetime) else getattr(v, "value", v) for v in fields.values()
        ]
        # Column names come from the fixed set above, never from input.
        assignments = ", ".join(f"{name} = ?" for name in fields)
        await self._tx.execute(
            f"UPDATE tickets SET {assignments} WHERE number = ?", (*values, number)
        )

    async def add_message(
        self,
        number: int,
        *,
        author: Author,
        author_id: int | None,
        body: str,
        now: datetime,
        attachments: Sequence[Attachment] = (),
        internal: bool = False,
        tg_chat_id: int | None = None,
        tg_message_id: int | None = None,
        edit_of: int | None = None,
    ) -> int:
        return await insert_message(
            self._tx,
            number,
            author=author,
            author_id=author_id,
            body=body,
            attachments=attachments,
            ts=to_ts(now),
            internal=internal,
            tg_chat_id=tg_chat_id,
            tg_message_id=tg_message_id,
            edit_of=edit_of,
        )

    async def add_event(
        self,
        number: int,
        kind: str,
        actor: Author,
        actor_id: int | None,
        from_value: str | None,
        to_value: str | None,
        now: datetime,
    ) -> None:
        await insert_event(
            self._tx, number, kind, actor, actor_id, from_value, to_value, to_ts(now)
        )

    async def enqueue(
        self,
        kind: OutboxKind,
        audience: Audience,
        *,
        now: datetime,
        chat_id: int | None = None,
        ticket_number: int | None = None,
        payload: dict[str, Any] | None = None,
        dedupe_key: str | None = None,
        not_before: datetime | None = None,
    ) -> None:
        """Owe someone a message, in this same transaction (see OutboxRepo); `not_before`
        holds it back until then."""
        await enqueue(
            self._tx, kind, audience, now, chat_id, ticket_number, payload, dedupe_key, not_before
        )

    async def rate(self, number: int, score: int, now: datetime) -> None:
        await self._tx.execute(
            "INSERT INTO ratings (ticket_number, score, created_at, updated_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (ticket_number) DO UPDATE SET"
            " score = excluded.score, updated_at = excluded.updated_at",
            (number, score, to_ts(now), to_ts(now)),
        )

    async def comment(self, number: int, comment: str, now: datetime) -> None:
        """Keep the customer's comment on the ticket's rating."""
        await self._tx.execute(RATING_COMMENT, (comment, to_ts(now), number))

    async def has_telegram_message(self, chat_id: int, message_id: int) -> bool:
        row = await self._tx.fetch_one(
            "SELECT 1 FROM ticket_messages WHERE tg_chat_id = ? AND tg_message_id = ?"
            " AND edit_of IS NULL",
            (chat_id, message_id),
        )
        return row is not None

    async def message_by_telegram(self, chat_id: int, message_id: int) -> TicketMessage | None:
        row = await self._tx.fetch_one(
            "SELECT * FROM ticket_messages WHERE tg_chat_id = ? AND tg_message_id = ?"
            " AND edit_of IS NULL",
            (chat_id, message_id),
        )
        return None if row is None else message_of(row)

    async def latest_message(self, number: int) -> TicketMessage | None:
        """The ticket's newest message (edits left out)."""
        row = await self._tx.fetch_one(
            "SELECT * FROM ticket_messages WHERE ticket_number = ? AND edit_of IS NULL"
            " ORDER BY id DESC LIMIT 1",
            (number,),
        )
        return None if row is None else message_of(row)

    async def append_to_message(self, message_id: int, text: str) -> None:
        await self._tx.execute(
            "UPDATE ticket_messages SET body = body || ? WHERE id = ?", (text, message_id)
        )

    async def held_until(self, dedupe_key: str) -> float | None:
        """When the pending outbox item with this key may go (None: no such item)."""
        row = await self._tx.fetch_one(
            "SELECT next_attempt_at FROM outbox WHERE dedupe_key = ? AND state = 'pending'",
            (dedupe_key,),
        )
        return None if row is None else float(row["next_attempt_at"])

    async def hold_until(self, dedupe_key: str, at: datetime) -> None:
        await self._tx.execute(
            "UPDATE outbox SET next_attempt_at = ? WHERE dedupe_key = ? AND state = 'pending'",
            (at.timestamp(), dedupe_key),
        )

    async def held(self, customer_id: int, choice_id: int) -> list[HeldMessage]:
        """The messages of one choice (one message, or an album), oldest first."""
        rows = await self._tx.fetch_all(
            "SELECT * FROM held_messages WHERE customer_id = ? AND (id = ? OR choice_id = ?)"
            " ORDER BY id",
            (customer_id, choice_id, choice_id),
        )
        return [_held(r) for r in rows]

    async def release_held(self, customer_id: int, choice_id: int) -> None:
        await self._tx.execute(
            "DELETE FROM held_messages WHERE customer_id = ? AND (id = ? OR choice_id = ?)",
            (customer_id, choice_id, choice_id),
        )


def _held(row: Record) -> HeldMessage:
    attachment = row["attachment"]
    return HeldMessage(
        id=row["id"],
        customer_id=row["customer_id"],
        tg_chat_id=row["tg_chat_id"],
        tg_message_id=row["tg_message_id"],
        body=row["body"],
        attachment=Attachment.from_json(json.loads(attachment)) if attachment else None,
        media_group_id=row["media_group_id"],
    )

"""WhatsAppStore: the WhatsApp channel's own tables (migration 0017) and its outbox lane."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.channels import whatsapp_customer_id
from bot.domain.models import OutboxItem
from storage.db import Database
from storage.outbox import outbox_item

# The WhatsApp lane's next items: each customer's oldest pending one.
OUTBOX_WHATSAPP_HEADS = (
    "SELECT * FROM outbox WHERE id IN (SELECT MIN(id) FROM outbox"
    " WHERE state = 'pending' AND audience = 'whatsapp' GROUP BY chat_id)"
    " ORDER BY id LIMIT ?"
)
# A status never goes back: webhooks about one message may come in any order.
_STATUS_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}
# What an item waiting for the customer's window says, so their next message wakes it.
WINDOW_CLOSED = "window closed: template sent"


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message a customer sent, as the webhook carried it, stored once by its wamid."""

    id: int
    wamid: str
    wa_id: str
    payload: dict[str, Any]

    @property
    def update_id(self) -> int:
        """Its id among the desk's handled updates: negative, never a Telegram one."""
        return -self.id


class WhatsAppStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def receive(self, messages: list[tuple[str, str, dict[str, Any]]]) -> int:
        """Store each (wamid, wa_id, message) once and open the senders' windows; a
        redelivered wamid changes nothing. How many were new."""
        now = int(time.time())
        added = 0
        async with self._db.transaction() as tx:
            for wamid, wa_id, message in messages:
                added += await tx.execute(
                    "INSERT INTO wa_inbox (wamid, wa_id, payload, received_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (wamid, wa_id, json.dumps(message, ensure_ascii=False), now),
                )
                sent_at = int(message.get("timestamp") or now)
                await tx.execute(
                    "INSERT INTO wa_contacts (wa_id, last_inbound_at) VALUES (?, ?)"
                    " ON CONFLICT (wa_id) DO UPDATE SET last_inbound_at ="
                    " CASE WHEN excluded.last_inbound_at > wa_contacts.last_inbound_at"
                    " THEN excluded.last_inbound_at ELSE wa_contacts.last_inbound_at END",
                    (wa_id, sent_at),
                )
                # The customer's window is open again: what waited for it is due now.
                await tx.execute(
                    "UPDATE outbox SET next_attempt_at = ? WHERE audience = 'whatsapp'"
                    " AND chat_id = ? AND state = 'pending' AND last_error = ?",
                    (time.time(), whatsapp_customer_id(wa_id), WINDOW_CLOSED),
                )
        return added

    async def unhandled(self, limit: int = 100) -> list[InboundMessage]:
        rows = await self._db.fetch_all(
            "SELECT * FROM wa_inbox WHERE handled_at IS NULL ORDER BY id LIMIT ?", (limit,)
        )
        return [
            InboundMessage(r["id"], r["wamid"], r["wa_id"], json.loads(r["payload"])) for r in rows
        ]

    async def handled(self, row_id: int) -> None:
        await self._db.write_alone(
            "UPDATE wa_inbox SET handled_at = ? WHERE id = ?", (int(time.time()), row_id)
        )

    async def last_inbound(self, wa_id: str) -> float | None:
        row = await self._db.fetch_one(
            "SELECT last_inbound_at FROM wa_contacts WHERE wa_id = ?", (wa_id,)
        )
        return None if row is None else float(row["last_inbound_at"])

    async def record_sent(
        self, wamid: str, wa_id: str, ticket_number: int | None, *, outbox_id: int | None = None
    ) -> None:
        """Note what the Cloud API accepted; `outbox_id`: the outbox item it delivered."""
        await self._db.write_alone(
            "INSERT INTO wa_sent"
            " (wamid, wa_id, ticket_number, from_outbox, outbox_id, sent_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (wamid, wa_id, ticket_number, int(outbox_id is not None), outbox_id, int(time.time())),
        )

    async def deliver_again(self, wamid: str, error: str, at: float) -> bool:
        """The Cloud API accepted a message and failed it later, for a reason worth another
        try: its outbox item is owed again from `at`. Whether there was one to owe."""
        changed = await self._db.execute(
            "UPDATE outbox SET state = 'pending', next_attempt_at = ?, last_error = ?,"
            " done_at = NULL WHERE state = 'sent' AND id ="
            " (SELECT outbox_id FROM wa_sent WHERE wamid = ?)",
            (at, error, wamid),
        )
        return changed > 0

    async def record_status(self, wamid: str, status: str, error: str | None, at: int) -> bool:
        """Note a status webhook; whether it moved the message on (a known one, forward)."""
        rank = _STATUS_RANK.get(status)
        if rank is None:
            return False
        changed = await self._db.execute(
            "UPDATE wa_sent SET status = ?, error = ?, status_at = ? WHERE wamid = ?"
            " AND (CASE status WHEN 'accepted' THEN 0 WHEN 'sent' THEN 1 WHEN 'delivered'"
            " THEN 2 WHEN 'read' THEN 3 ELSE 4 END) < ?",
            (status, error, at, wamid, rank),
        )
        return changed > 0

    async def sent_message(self, wamid: str) -> tuple[int | None, str] | None:
        """A message the desk sent: its ticket and its status."""
        row = await self._db.fetch_one(
            "SELECT ticket_number, status FROM wa_sent WHERE wamid = ?", (wamid,)
        )
        return None if row is None else (row["ticket_number"], row["status"])

    async def latest_status(self, ticket_number: int) -> tuple[str, str | None] | None:
        """The status of the last message the outbox delivered to the customer about a
        ticket (an agent's reply, a status change), not of the desk's quick answers."""
        row = await self._db.fetch_one(
            "SELECT status, error FROM wa_sent WHERE ticket_number = ? AND from_outbox = 1"
            " ORDER BY sent_at DESC, outbox_id DESC LIMIT 1",
            (ticket_number,),
        )
        return None if row is None else (row["status"], row["error"])

    async def pending(self, limit: int) -> list[OutboxItem]:
        rows = await self._db.fetch_all(OUTBOX_WHATSAPP_HEADS, (limit,))
        return [outbox_item(r) for r in rows]

    async def forget_handled(self, before: datetime) -> int:
        """Drop handled messages older than `before` (the Cloud API stops redelivering a
        webhook after seven days, so their wamids are no longer needed)."""
        return await self._db.execute(
            "DELETE FROM wa_inbox WHERE handled_at IS NOT NULL AND received_at < ?",
            (int(before.timestamp()),),
        )

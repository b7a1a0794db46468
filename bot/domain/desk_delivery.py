"""What the channel that delivers the outbox asks of the desk: the items it owes, the ones it
settles together, the further ones it queues, and where a ticket lives in the agents' chat.

`Desk` (`bot.domain.desk`) inherits it, as it inherits `DeskQueries`. The outbox's sender
(`bot/channels/telegram/dispatcher.py`), its renderers (`notify.py`, `notices.py`) and the
relay (`relay.py`) call these, never the outbox or the tickets' repository: each is one
call to one port, with the port's own signature and meaning.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from bot.domain.models import Audience, OutboxItem
from bot.domain.outbox import OutboxKind
from bot.domain.ports import OutboxStore, TicketStore


class DeskDelivery:
    """The outbox as its sender reads and settles it, and the tickets' place in the agents'
    chat as the relay records it."""

    tickets: TicketStore
    outbox: OutboxStore

    # The outbox, for its dispatcher

    async def pending_deliveries(self, limit: int) -> list[OutboxItem]:
        """The head of every line, oldest first: each customer's oldest pending item (due or
        waiting for a retry) and the agents' chat's next one by lane."""
        return await self.outbox.pending(limit)

    async def pending_deliveries_after(
        self, item_id: int, *, lane: int, ticket_number: int, limit: int
    ) -> list[OutboxItem]:
        """The agents' chat's pending items of one ticket in `lane` after `item_id`, in
        order, due or not (a batch of a customer's messages is taken from them)."""
        return await self.outbox.pending_after(
            item_id, lane=lane, ticket_number=ticket_number, limit=limit
        )

    async def due_deliveries_of_kinds(
        self, kinds: Iterable[OutboxKind], *, due_by: float, limit: int
    ) -> list[OutboxItem]:
        """The agents' chat's items of these kinds due by `due_by` (a timestamp), oldest
        first (to fold them into one message)."""
        return await self.outbox.pending_of_kinds(kinds, due_by=due_by, limit=limit)

    async def delivered_together(self, item_ids: Sequence[int]) -> None:
        """Mark items delivered as part of another (a folded message, a batch)."""
        await self.outbox.done_many(item_ids)

    async def queue_delivery(
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
        """Owe one more item (a long text's further part, a new card's files); with
        `dedupe_key`, at most one such item waits at a time."""
        await self.outbox.add(
            kind,
            audience,
            now,
            chat_id=chat_id,
            ticket_number=ticket_number,
            payload=payload,
            dedupe_key=dedupe_key,
        )

    # Where a ticket lives in the agents' chat, for the relay

    async def set_ticket_location(
        self, number: int, *, chat_id: int, thread_id: int | None, card_message_id: int | None
    ) -> None:
        """Record the ticket's place in the agents' chat: the chat, its forum topic (None
        in a plain group) and its card (None until the card is posted)."""
        await self.tickets.set_location(
            number, chat_id=chat_id, thread_id=thread_id, card_message_id=card_message_id
        )

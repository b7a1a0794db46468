"""What the handlers and the channels ask of the desk about tickets and people, and the few
small writes they make outside a ticket's unit: each one call to one port, one transaction
at most.

`Desk` (`bot.domain.desk`) inherits it. Handlers and channel adapters call these, never a
repository.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime

from bot.domain.audit import DeskEvent
from bot.domain.export import ExportRow
from bot.domain.models import (
    Audience,
    Draft,
    Rating,
    Relay,
    Status,
    Ticket,
    TicketEvent,
    TicketMessage,
    User,
)
from bot.domain.outbox import OutboxKind
from bot.domain.ports import (
    AuditTrail,
    DraftStore,
    OutboxStore,
    RatingStore,
    TicketStore,
    UserStore,
)


class DeskQueries:
    """Tickets, their messages and trails, people, queues: read as handlers ask for them."""

    clock: Callable[[], datetime]
    tickets: TicketStore
    users: UserStore
    drafts: DraftStore
    ratings: RatingStore
    outbox: OutboxStore
    audit: AuditTrail

    # Tickets

    async def ticket(self, number: int) -> Ticket | None:
        return await self.tickets.get(number)

    async def ticket_in_thread(self, admin_chat_id: int, thread_id: int) -> Ticket | None:
        """The ticket whose forum topic `thread_id` is, in the admin chat."""
        return await self.tickets.by_thread(admin_chat_id, thread_id)

    async def relay_of_admin_message(self, chat_id: int, message_id: int) -> Relay | None:
        """The ticket a message in the admin chat belongs to, if the desk sent or copied it."""
        return await self.tickets.relay_by_admin_message(chat_id, message_id)

    async def relay_of_customer_message(self, chat_id: int, message_id: int) -> Relay | None:
        """The ticket a message in a customer's chat belongs to, if the desk knows it."""
        return await self.tickets.relay_by_customer_message(chat_id, message_id)

    async def remember_relay(self, relay: Relay) -> None:
        """Note a bot message as a ticket's, so a reply to it goes to the ticket."""
        await self.tickets.add_relay(relay, self.clock())

    async def ticket_message(self, message_id: int) -> TicketMessage | None:
        return await self.tickets.message(message_id)

    async def ticket_messages(self, number: int, *, include_internal: bool) -> list[TicketMessage]:
        return await self.tickets.messages(number, include_internal=include_internal)

    async def trail(self, number: int) -> list[TicketEvent]:
        """What happened to the ticket, oldest first (its events, not its messages)."""
        return await self.tickets.events(number)

    async def customer_ticket_count(self, customer_id: int) -> int:
        return await self.tickets.count_for_customer(customer_id)

    async def customer_tickets_page(
        self, customer_id: int, *, limit: int, offset: int
    ) -> list[Ticket]:
        return await self.tickets.for_customer(customer_id, limit=limit, offset=offset)

    async def queue_size(self) -> int:
        return await self.tickets.count_queue()

    async def queue_page(self, *, limit: int, offset: int) -> list[Ticket]:
        return await self.tickets.queue(limit=limit, offset=offset)

    async def rating(self, number: int) -> Rating | None:
        """The customer's rating of the ticket, if they gave one."""
        return await self.ratings.get(number)

    def export_rows(self, since: datetime | None, *, full: bool) -> AsyncIterator[list[ExportRow]]:
        """The tickets for a CSV export, in batches (`bot.domain.export`)."""
        return self.tickets.export_batches(since, full=full)

    # What the clock makes due (the sweeper)

    async def unposted_tickets(self, admin_chat_id: int) -> list[Ticket]:
        """Tickets without a card in the admin chat `admin_chat_id`."""
        return await self.tickets.unposted(admin_chat_id)

    async def owe_card(self, number: int, now: datetime) -> None:
        """Queue the ticket's card for the admin chat (once: the outbox dedupes it)."""
        await self.outbox.add(
            OutboxKind.NEW_TICKET,
            Audience.ADMIN,
            now,
            ticket_number=number,
            dedupe_key=f"{OutboxKind.NEW_TICKET}:{number}",
        )

    async def breached_tickets(self, now: datetime) -> list[Ticket]:
        return await self.tickets.breached(now)

    async def tickets_in_status_since(self, status: Status, cutoff: datetime) -> list[Ticket]:
        return await self.tickets.in_status_since(status, cutoff)

    async def tickets_awaiting_reminder(self, cutoff: datetime) -> list[Ticket]:
        return await self.tickets.awaiting_reminder(cutoff)

    async def expire_drafts(self, cutoff: datetime, now: datetime) -> list[int]:
        """Drop the drafts idle since `cutoff`, telling their customers; their user ids."""
        return await self.drafts.expire(cutoff, now)

    # People and drafts

    async def user(self, user_id: int) -> User | None:
        """A customer or an agent the desk knows, by Telegram user id."""
        return await self.users.get(user_id)

    async def first_ban_notice(self, user_id: int) -> bool:
        """Whether a banned user is to be told now (True once, then False)."""
        return await self.users.mark_ban_notified(user_id)

    async def saved_draft(self, user_id: int) -> Draft | None:
        """The customer's stored draft; None if there is none (see `Desk.draft`)."""
        return await self.drafts.get(user_id)

    # The desk's own trail

    async def desk_trail_page(
        self, page: int | None, size: int
    ) -> tuple[list[DeskEvent], int, int]:
        """A page of the desk-wide trail (None: the last), the page shown, the page count."""
        return await self.audit.page(page, size)

"""What happens to a ticket after it exists: replies, notes, status, priority, assignee.

Every change runs in one transaction: the ticket row, the message, the event that records
who did what and when (SPEC section 5), and the notifications it owes the customer and the
agents, written to the durable outbox (delivered by `bot/channels/telegram/dispatcher.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.customer_tickets import CustomerTickets
from bot.domain.lifecycle import Action, IllegalTransitionError
from bot.domain.models import Attachment, Audience, Author, Priority, Status, Ticket
from bot.domain.outbox import OutboxKind
from bot.domain.ticket_core import Change, NothingToChangeError


class TicketService(CustomerTickets):
    """The ticket use cases: the agents' and the clock's here, the customer's inherited
    (`bot.domain.customer_tickets`), the steps they share below those
    (`bot.domain.ticket_core`)."""

    async def apply(
        self, number: int, action: Action, actor: Author, actor_id: int | None
    ) -> Change:
        """Solve, close or reopen (by hand or by the clock)."""
        now = self._clock()
        async with self._tickets.unit() as unit:
            before = await self._load(unit, number)
            await self._move(unit, before, action, actor, actor_id, now)
            after = await self._load(unit, number)
        return Change(before, after)

    async def agent_reply(
        self,
        number: int,
        agent_id: int,
        body: str,
        attachments: Sequence[Attachment] = (),
        *,
        tg_chat_id: int | None = None,
        tg_message_id: int | None = None,
        agent_name: str = "",
    ) -> Change:
        """Record an agent's answer and owe it to the customer: the ticket waits for them."""
        now = self._clock()
        async with self._tickets.unit() as unit:
            await self._refuse_duplicate(unit, tg_chat_id, tg_message_id)
            before = await self._load(unit, number)
            await self._move(unit, before, Action.AGENT_REPLY, Author.AGENT, agent_id, now)
            if before.first_response_at is None:
                await unit.update(
                    number,
                    first_response_at=now,
                    first_response_business=self._business_seconds(before.created_at, now),
                )
                await unit.add_event(
                    number, "first_response", Author.AGENT, agent_id, None, None, now
                )
            message_id = await unit.add_message(
                number,
                author=Author.AGENT,
                author_id=agent_id,
                body=body,
                now=now,
                attachments=attachments,
                tg_chat_id=tg_chat_id,
                tg_message_id=tg_message_id,
            )
            await self._owe_customer(
                unit,
                before,
                OutboxKind.AGENT_REPLY,
                now,
                message_id=message_id,
                admin_chat_id=tg_chat_id,
                admin_message_id=tg_message_id,
                agent_name=agent_name,
                reopened=before.status is Status.SOLVED,
            )
            after = await self._load(unit, number)
        return Change(before, after, message_id)

    async def record_edit(
        self, author: Author, author_id: int, chat_id: int, message_id: int, new_body: str
    ) -> tuple[Ticket, int] | None:
        """Keep an edit beside the original message and owe it to the other side."""
        now = self._clock()
        async with self._tickets.unit() as unit:
            original = await unit.message_by_telegram(chat_id, message_id)
            if original is None or original.author_id != author_id:
                return None
            edit_id = await unit.add_message(
                original.ticket_number,
                author=author,
                author_id=author_id,
                body=new_body,
                now=now,
                edit_of=original.id,
                internal=original.internal,
            )
            await unit.add_event(
                original.ticket_number,
                "edit",
                author,
                author_id,
                str(original.id),
                str(edit_id),
                now,
            )
            ticket = await self._load(unit, original.ticket_number)
            if author is Author.CUSTOMER:
                await unit.enqueue(
                    OutboxKind.CUSTOMER_EDIT,
                    Audience.ADMIN,
                    now=now,
                    ticket_number=ticket.number,
                    payload={"edit_id": edit_id, "customer_message_id": message_id},
                )
            elif not original.internal:
                await self._owe_customer(
                    unit,
                    ticket,
                    OutboxKind.AGENT_EDIT,
                    now,
                    edit_id=edit_id,
                    admin_chat_id=chat_id,
                    admin_message_id=message_id,
                )
        return ticket, edit_id

    async def note(self, number: int, agent_id: int, body: str) -> int:
        """Keep an internal note: agents only, never sent to the customer."""
        now = self._clock()
        async with self._tickets.unit() as unit:
            await self._load(unit, number)
            message_id = await unit.add_message(
                number, author=Author.AGENT, author_id=agent_id, body=body, now=now, internal=True
            )
            await unit.add_event(number, "note", Author.AGENT, agent_id, None, None, now)
        return message_id

    async def assign(self, number: int, agent_id: int) -> Change:
        now = self._clock()
        async with self._tickets.unit() as unit:
            before = await self._load(unit, number)
            if before.assignee_id == agent_id:
                raise NothingToChangeError
            if before.status is Status.CLOSED:
                raise IllegalTransitionError(before.status, Action.REOPEN)
            await unit.update(number, assignee_id=agent_id, updated_at=now)
            await unit.add_event(
                number,
                "assignee",
                Author.AGENT,
                agent_id,
                None if before.assignee_id is None else str(before.assignee_id),
                str(agent_id),
                now,
            )
            await self._owe_card(unit, number, now)
            after = await self._load(unit, number)
        return Change(before, after)

    async def set_priority(self, number: int, priority: Priority, agent_id: int) -> Change:
        """Change the priority; the first-response due time is computed again from creation."""
        now = self._clock()
        async with self._tickets.unit() as unit:
            before = await self._load(unit, number)
            if before.priority is priority:
                raise NothingToChangeError
            if before.status is Status.CLOSED:
                raise IllegalTransitionError(before.status, Action.REOPEN)
            due = self._due_at(priority, before.created_at)
            fields: dict[str, object] = {
                "priority": priority,
                "first_response_due_at": due,
                "updated_at": now,
            }
            if due > now:
                # A new, later promise can be breached (and announced) again.
                fields["breach_announced_at"] = None
            await unit.update(number, **fields)
            await unit.add_event(
                number, "priority", Author.AGENT, agent_id, before.priority, priority, now
            )
            await self._owe_card(unit, number, now)
            after = await self._load(unit, number)
        return Change(before, after)

    # The clock

    async def announce_breach(self, number: int) -> bool:
        """Owe the agents one announcement of a missed response target; False if done."""
        now = self._clock()
        async with self._tickets.unit() as unit:
            ticket = await self._load(unit, number)
            if ticket.breach_announced_at is not None or ticket.first_response_at is not None:
                return False
            await unit.update(number, breach_announced_at=now)
            await unit.enqueue(OutboxKind.BREACH, Audience.ADMIN, now=now, ticket_number=number)
        return True

    async def remind_before_auto_solve(self, number: int, solve_at: datetime) -> bool:
        """Owe the customer one reminder that a pending ticket will be solved soon."""
        now = self._clock()
        async with self._tickets.unit() as unit:
            ticket = await self._load(unit, number)
            if ticket.status is not Status.PENDING or ticket.solve_reminder_at is not None:
                return False
            await unit.update(number, solve_reminder_at=now)
            await self._owe_customer(
                unit, ticket, OutboxKind.SOLVE_REMINDER, now, solve_at=solve_at.timestamp()
            )
        return True

    async def auto_move(self, number: int, action: Action, expected: Status) -> bool:
        """Auto-solve or auto-close, if the ticket is still where the clock saw it."""
        now = self._clock()
        async with self._tickets.unit() as unit:
            ticket = await self._load(unit, number)
            if ticket.status is not expected:
                return False
            await self._move(unit, ticket, action, Author.SYSTEM, None, now)
        return True

    async def mark_unreachable(self, number: int) -> None:
        """The customer blocked the bot: show it on the card and tell the agents once."""
        now = self._clock()
        async with self._tickets.unit() as unit:
            ticket = await self._load(unit, number)
            if ticket.customer_unreachable:
                return
            await unit.update(number, customer_unreachable=True)
            await unit.add_event(number, "unreachable", Author.SYSTEM, None, None, None, now)
            await unit.enqueue(
                OutboxKind.UNDELIVERABLE, Audience.ADMIN, now=now, ticket_number=number
            )
            await self._owe_card(unit, number, now)

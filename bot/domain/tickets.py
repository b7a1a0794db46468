"""What happens to a ticket after it exists: replies, notes, status, priority, assignee.

Every change runs in one transaction: the ticket row, the message and the event that
records who did what and when (SPEC section 5).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.lifecycle import Action, IllegalTransitionError, next_status
from bot.domain.models import Attachment, Author, Priority, Status, Ticket
from storage.repos import TicketRepo, TicketUnit

Clock = Callable[[], datetime]
DueAt = Callable[[Priority, datetime], datetime]

STATUS_EVENT = "status"


class TicketNotFoundError(LookupError):
    def __init__(self, number: int) -> None:
        super().__init__(f"ticket #{number} does not exist")
        self.number = number


class NothingToChangeError(Exception):
    """The change asked for is already in place (same priority, same assignee)."""


@dataclass(frozen=True, slots=True)
class Change:
    """A ticket before and after one action."""

    before: Ticket
    after: Ticket
    message_id: int | None = None

    @property
    def status_changed(self) -> bool:
        return self.before.status is not self.after.status


class TicketService:
    def __init__(self, tickets: TicketRepo, clock: Clock, due_at: DueAt) -> None:
        self._tickets = tickets
        self._clock = clock
        self._due_at = due_at

    async def _load(self, unit: TicketUnit, number: int) -> Ticket:
        ticket = await unit.get(number)
        if ticket is None:
            raise TicketNotFoundError(number)
        return ticket

    async def _move(
        self,
        unit: TicketUnit,
        ticket: Ticket,
        action: Action,
        actor: Author,
        actor_id: int | None,
        now: datetime,
    ) -> Status:
        """Apply the state machine; record the status event when the status changes."""
        status = next_status(ticket.status, action)
        if status is not ticket.status:
            await unit.update(ticket.number, status=status)
            await unit.add_event(
                ticket.number, STATUS_EVENT, actor, actor_id, ticket.status, status, now
            )
        await unit.update(ticket.number, updated_at=now)
        return status

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
    ) -> Change:
        """Record an agent's answer: the ticket waits for the customer."""
        now = self._clock()
        async with self._tickets.unit() as unit:
            before = await self._load(unit, number)
            await self._move(unit, before, Action.AGENT_REPLY, Author.AGENT, agent_id, now)
            if before.first_response_at is None:
                await unit.update(number, first_response_at=now)
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
            after = await self._load(unit, number)
        return Change(before, after, message_id)

    async def customer_reply(
        self,
        number: int,
        customer_id: int,
        body: str,
        attachments: Sequence[Attachment] = (),
        *,
        tg_chat_id: int | None = None,
        tg_message_id: int | None = None,
    ) -> Change:
        """Record the customer's message: the ticket is open again (a closed one refuses)."""
        now = self._clock()
        async with self._tickets.unit() as unit:
            before = await self._load(unit, number)
            if before.customer_id != customer_id:
                raise TicketNotFoundError(number)
            await self._move(unit, before, Action.CUSTOMER_REPLY, Author.CUSTOMER, customer_id, now)
            message_id = await unit.add_message(
                number,
                author=Author.CUSTOMER,
                author_id=customer_id,
                body=body,
                now=now,
                attachments=attachments,
                tg_chat_id=tg_chat_id,
                tg_message_id=tg_message_id,
            )
            after = await self._load(unit, number)
        return Change(before, after, message_id)

    async def record_edit(
        self, author: Author, author_id: int, chat_id: int, message_id: int, new_body: str
    ) -> tuple[Ticket, int] | None:
        """Keep an edit beside the original message (the audit trail keeps both)."""
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
            after = await self._load(unit, number)
        return Change(before, after)

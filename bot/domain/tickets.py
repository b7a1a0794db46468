"""What happens to a ticket after it exists: replies, notes, status, priority, assignee.

Every change runs in one transaction: the ticket row, the message, the event that records
who did what and when (SPEC section 5), and the notifications it owes the customer and the
agents, written to the durable outbox (delivered by `bot/channels/telegram/dispatcher.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.lifecycle import Action, IllegalTransitionError, next_status
from bot.domain.models import Attachment, Audience, Author, Priority, Status, Ticket
from bot.domain.outbox import OutboxKind
from bot.domain.ports import RatingStore, TicketStore, TicketUnit
from bot.logcontext import note_ticket

Clock = Callable[[], datetime]
DueAt = Callable[[Priority, datetime], datetime]
# Working time between two moments on the desk's calendar (bot.domain.sla.WorkCalendar).
BusinessTime = Callable[[datetime, datetime], timedelta]
RESOLVED = frozenset({Status.SOLVED, Status.CLOSED})


def _no_business_time(start: datetime, end: datetime) -> timedelta:
    return end - start


STATUS_EVENT = "status"


PASTE_MARGIN = timedelta(milliseconds=200)
TELEGRAM_TEXT_LIMIT = 4096  # UTF-16 code units in one message


def _notice_key(message_id: int) -> str:
    """The outbox key of the agents' copy of one customer message."""
    return f"{OutboxKind.CUSTOMER_MESSAGE}:{message_id}"


def _at(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


class TicketNotFoundError(LookupError):
    def __init__(self, number: int) -> None:
        super().__init__(f"ticket #{number} does not exist")
        self.number = number


class NothingToChangeError(Exception):
    """The change asked for is already in place (same priority, same assignee)."""


class DuplicateMessageError(Exception):
    """This Telegram message is already on the ticket (a re-delivered update)."""


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
    def __init__(
        self,
        tickets: TicketStore,
        ratings: RatingStore,
        clock: Clock,
        due_at: DueAt,
        business_time: BusinessTime = _no_business_time,
    ) -> None:
        self._tickets = tickets
        self._ratings = ratings
        self._clock = clock
        self._due_at = due_at
        self._business_time = business_time

    def _business_seconds(self, start: datetime, end: datetime) -> int:
        return int(self._business_time(start, end).total_seconds())

    def _resolution_marks(self, ticket: Ticket, status: Status, now: datetime) -> dict[str, Any]:
        """The figures' timestamps for a change of status (see migration 0012)."""
        marks: dict[str, Any] = {}
        if status is Status.SOLVED:
            marks["solved_at"] = now
        if status is Status.CLOSED:
            marks["closed_at"] = now
        if status in RESOLVED and ticket.status not in RESOLVED:
            marks["resolved_at"] = now
            marks["resolution_business"] = self._business_seconds(ticket.created_at, now)
        elif status not in RESOLVED:
            # Reopened: it is unresolved again, and its resolution is counted when it is.
            marks.update(solved_at=None, closed_at=None, resolved_at=None)
            marks["resolution_business"] = None
        return marks

    async def _load(self, unit: TicketUnit, number: int) -> Ticket:
        note_ticket(number)
        ticket = await unit.get(number)
        if ticket is None:
            raise TicketNotFoundError(number)
        return ticket

    @staticmethod
    async def _owe_card(unit: TicketUnit, number: int, now: datetime) -> None:
        # One pending refresh per ticket is enough: it renders the latest state.
        await unit.enqueue(
            OutboxKind.CARD,
            Audience.ADMIN,
            now=now,
            ticket_number=number,
            dedupe_key=f"{OutboxKind.CARD}:{number}",
        )

    @staticmethod
    async def _owe_customer(
        unit: TicketUnit, ticket: Ticket, kind: OutboxKind, now: datetime, **payload: Any
    ) -> None:
        await unit.enqueue(
            kind,
            Audience.CUSTOMER,
            now=now,
            chat_id=ticket.customer_id,
            ticket_number=ticket.number,
            payload=payload,
        )

    async def _move(
        self,
        unit: TicketUnit,
        ticket: Ticket,
        action: Action,
        actor: Author,
        actor_id: int | None,
        now: datetime,
    ) -> Status:
        """Apply the state machine; record the event and owe the news when it changes."""
        status = next_status(ticket.status, action)
        if status is not ticket.status:
            await unit.update(
                ticket.number,
                status=status,
                status_changed_at=now,
                solve_reminder_at=None,
                **self._resolution_marks(ticket, status, now),
            )
            await unit.add_event(
                ticket.number, STATUS_EVENT, actor, actor_id, ticket.status, status, now
            )
            await self._owe_card(unit, ticket.number, now)
            # The customer hears of every change they did not make themselves; an agent's
            # reply carries its own news (it says the desk now waits for them).
            if actor is not Author.CUSTOMER and action is not Action.AGENT_REPLY:
                await self._owe_customer(
                    unit, ticket, OutboxKind.STATUS, now, status=status.value, action=action.value
                )
            elif actor is Author.CUSTOMER and action is not Action.CUSTOMER_REPLY:
                # The agents hear in the thread when the customer closes or reopens.
                await unit.enqueue(
                    OutboxKind.CUSTOMER_STATUS,
                    Audience.ADMIN,
                    now=now,
                    ticket_number=ticket.number,
                    payload={"status": status.value},
                )
        elif action is Action.AGENT_REPLY:
            # Each new answer gives the customer the full AUTO_SOLVE_AFTER again.
            await unit.update(ticket.number, status_changed_at=now, solve_reminder_at=None)
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

    async def customer_action(self, number: int, customer_id: int, action: Action) -> Change:
        """Close or reopen from the customer's own ticket view (their tickets only)."""
        now = self._clock()
        async with self._tickets.unit() as unit:
            before = await self._load(unit, number)
            if before.customer_id != customer_id:
                raise TicketNotFoundError(number)
            await self._move(unit, before, action, Author.CUSTOMER, customer_id, now)
            after = await self._load(unit, number)
        return Change(before, after)

    @staticmethod
    async def _refuse_duplicate(
        unit: TicketUnit, tg_chat_id: int | None, tg_message_id: int | None
    ) -> None:
        """A Telegram message already on a ticket (a re-delivered update) is not added again."""
        if (
            tg_chat_id is not None
            and tg_message_id is not None
            and await unit.has_telegram_message(tg_chat_id, tg_message_id)
        ):
            raise DuplicateMessageError

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

    async def customer_reply(
        self,
        number: int,
        customer_id: int,
        body: str,
        attachments: Sequence[Attachment] = (),
        *,
        tg_chat_id: int | None = None,
        tg_message_id: int | None = None,
        hold_notice: timedelta | None = None,
    ) -> Change:
        """Record the customer's message and owe it to the agents (a closed ticket refuses).

        With `hold_notice`, the agents' copy waits that long, so the rest of a long paste
        (Telegram splits it) can still join this message: see `continue_message`.
        """
        now = self._clock()
        async with self._tickets.unit() as unit:
            await self._refuse_duplicate(unit, tg_chat_id, tg_message_id)
            before = await self._load(unit, number)
            if before.customer_id != customer_id:
                raise TicketNotFoundError(number)
            message_id = await self._take_customer_message(
                unit,
                before,
                body,
                attachments,
                now,
                tg_chat_id=tg_chat_id,
                tg_message_id=tg_message_id,
                not_before=now + hold_notice if hold_notice else None,
            )
            after = await self._load(unit, number)
        return Change(before, after, message_id)

    async def _take_customer_message(
        self,
        unit: TicketUnit,
        before: Ticket,
        body: str,
        attachments: Sequence[Attachment],
        now: datetime,
        *,
        tg_chat_id: int | None,
        tg_message_id: int | None,
        not_before: datetime | None = None,
    ) -> int:
        """Add one customer message to a ticket (reopening it) and owe it to the agents."""
        await self._move(
            unit, before, Action.CUSTOMER_REPLY, Author.CUSTOMER, before.customer_id, now
        )
        message_id = await unit.add_message(
            before.number,
            author=Author.CUSTOMER,
            author_id=before.customer_id,
            body=body,
            now=now,
            attachments=attachments,
            tg_chat_id=tg_chat_id,
            tg_message_id=tg_message_id,
        )
        after = await self._load(unit, before.number)
        await unit.enqueue(
            OutboxKind.CUSTOMER_MESSAGE,
            Audience.ADMIN,
            now=now,
            ticket_number=before.number,
            payload={
                "message_id": message_id,
                "customer_message_id": tg_message_id,
                "status_changed": after.status is not before.status,
            },
            dedupe_key=_notice_key(message_id),
            not_before=not_before,
        )
        return message_id

    async def continue_message(
        self,
        number: int,
        customer_id: int,
        text: str,
        *,
        within: timedelta,
        hold_notice: timedelta | None = None,
    ) -> bool:
        """Append `text` to the customer's last message on the ticket, if that message
        came within `within` and its agents' copy is still held back (see `customer_reply`).

        False if not: then `text` is a message of its own. With `hold_notice`, the copy
        waits that much longer (for a third part).
        """
        now = self._clock()
        async with self._tickets.unit() as unit:
            ticket = await self._load(unit, number)
            last = await unit.latest_message(number)
            if (
                ticket.customer_id != customer_id
                or last is None
                or last.author is not Author.CUSTOMER
                or last.attachments
                or now - last.created_at > within
            ):
                return False
            key = _notice_key(last.id)
            held_until = await unit.held_until(key)
            # A margin: the dispatcher must not be about to read the message right now.
            if held_until is None or held_until <= (now + PASTE_MARGIN).timestamp():
                return False
            # Telegram cuts at the limit, or just before it at a line or word break
            # it then drops: a cut at the limit joins as is, an earlier one at a break.
            cut_at_limit = len(last.body.encode("utf-16-le")) // 2 >= TELEGRAM_TEXT_LIMIT
            broken = last.body[-1:].isspace() or text[:1].isspace()
            await unit.append_to_message(last.id, text if cut_at_limit or broken else f"\n{text}")
            if hold_notice:
                await unit.hold_until(key, max(now + hold_notice, _at(held_until)))
        return True

    async def deliver_held(self, number: int, customer_id: int, choice_id: int) -> Change | None:
        """Add the held messages of one choice to the ticket the customer picked, and let
        them go; None if nothing is held under that choice any more."""
        now = self._clock()
        async with self._tickets.unit() as unit:
            held = await unit.held(customer_id, choice_id)
            if not held:
                return None
            first = await self._load(unit, number)
            if first.customer_id != customer_id:
                raise TicketNotFoundError(number)
            message_id: int | None = None
            for message in held:
                if await unit.has_telegram_message(message.tg_chat_id, message.tg_message_id):
                    continue  # delivered already (an update handed out again)
                message_id = await self._take_customer_message(
                    unit,
                    await self._load(unit, number),
                    message.body,
                    [message.attachment] if message.attachment else [],
                    now,
                    tg_chat_id=message.tg_chat_id,
                    tg_message_id=message.tg_message_id,
                )
            await unit.release_held(customer_id, choice_id)
            after = await self._load(unit, number)
        return Change(first, after, message_id)

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

    async def rate(self, number: int, customer_id: int, score: int) -> Ticket:
        now = self._clock()
        async with self._tickets.unit() as unit:
            ticket = await self._load(unit, number)
            if ticket.customer_id != customer_id or ticket.status not in (
                Status.SOLVED,
                Status.CLOSED,
            ):
                raise TicketNotFoundError(number)
            await unit.add_event(
                number, "rating", Author.CUSTOMER, customer_id, None, str(score), now
            )
            await unit.rate(number, score, now)
            await self._owe_card(unit, number, now)
        return ticket

    async def comment_on_rating(self, number: int, comment: str) -> None:
        """Keep the customer's comment on their rating and refresh the card that shows it,
        in one transaction."""
        now = self._clock()
        async with self._tickets.unit() as unit:
            await unit.comment(number, comment, now)
            await self._owe_card(unit, number, now)

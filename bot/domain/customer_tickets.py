"""The customer's side of a ticket: their messages (and the rest of a long paste), the
messages held while they chose a ticket, closing or reopening, and their rating.

`TicketService` (`bot.domain.tickets`) inherits these use cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.domain.lifecycle import Action
from bot.domain.models import Attachment, Audience, Author, Status, Ticket
from bot.domain.outbox import OutboxKind
from bot.domain.ports import TicketUnit
from bot.domain.ticket_core import Change, TicketCore, TicketNotFoundError

PASTE_MARGIN = timedelta(milliseconds=200)
TELEGRAM_TEXT_LIMIT = 4096  # UTF-16 code units in one message


def _notice_key(message_id: int) -> str:
    """The outbox key of the agents' copy of one customer message."""
    return f"{OutboxKind.CUSTOMER_MESSAGE}:{message_id}"


def _at(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


class CustomerTickets(TicketCore):
    """The use cases a customer sets off on their own ticket."""

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

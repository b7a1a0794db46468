"""What every ticket use case is made of: loading a ticket, moving it through the state
machine, and owing the news to the customer and the agents; and the errors and the
`Change` the use cases give back.

The use cases themselves are in `bot.domain.customer_tickets` (the customer's side) and
`bot.domain.tickets` (`TicketService`: the agents' side and the clock's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain.lifecycle import Action, next_status
from bot.domain.models import Audience, Author, Priority, Status, Ticket
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


class TicketCore:
    """The ticket service's stores and clocks, and the steps its use cases share."""

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

"""The trails: what agents and operators did, who and when.

A ticket's own trail is its events (`TicketEvent`) with the agents' answers to the
customer among them (`ticket_trail`: an answer is a message, kept with who and when, not
an event). What belongs to no ticket (bans, the
desk's languages, the bound agents' chat, forgotten customers, exports) is a `DeskEvent`,
written in the same transaction as the change it records. It holds ids and codes only,
never a name or a text: a forgotten customer must not live on in the trail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.models import Author, TicketEvent, TicketMessage

# The kind a ticket's trail gives an agent's answer to the customer.
REPLY = "reply"


def ticket_trail(
    events: Iterable[TicketEvent], messages: Iterable[TicketMessage]
) -> list[TicketEvent]:
    """A ticket's events and its agents' answers to the customer (not notes, which are
    events already, nor edits, which are too), in time order; an answer comes before an
    event of the same second (the first answer, then "answered for the first time")."""
    answers = [
        TicketEvent(
            id=message.id,
            ticket_number=message.ticket_number,
            kind=REPLY,
            actor=Author.AGENT,
            actor_id=message.author_id,
            from_value=None,
            to_value=None,
            created_at=message.created_at,
        )
        for message in messages
        if message.author is Author.AGENT and not message.internal and message.edit_of is None
    ]
    ordered = [(a.created_at, 0, a.id, a) for a in answers]
    ordered += [(e.created_at, 1, e.id, e) for e in events]
    return [entry for *_, entry in sorted(ordered, key=lambda item: item[:3])]


class DeskAction(StrEnum):
    BAN = "ban"  # after: the customer's user id
    UNBAN = "unban"  # after: the customer's user id
    DEFAULT_LOCALE = "default_locale"  # before, after: locale codes
    ADMIN_LOCALE = "admin_locale"  # before, after: locale codes
    BIND = "bind"  # before, after: chat ids (before: none bound)
    FORGET = "forget"  # after: the customer's user id
    EXPORT = "export"  # after: the period (7d, 30d, all), then " full" with the messages


class DeskActor(StrEnum):
    AGENT = "agent"  # an agent or operator, by `actor_id`
    SYSTEM = "system"  # the bot itself (the agents' chat became a supergroup)
    COMMAND_LINE = "command_line"  # `python -m bot ...` on the server


@dataclass(frozen=True, slots=True)
class DeskChange:
    """A desk-wide action to record along with the change itself."""

    action: DeskAction
    actor_id: int | None  # the agent or operator; None: the bot, or the command line
    before: str | None = None
    after: str | None = None
    command_line: bool = False

    @property
    def actor(self) -> DeskActor:
        if self.command_line:
            return DeskActor.COMMAND_LINE
        return DeskActor.SYSTEM if self.actor_id is None else DeskActor.AGENT


@dataclass(frozen=True, slots=True)
class DeskEvent:
    id: int
    kind: str  # a DeskAction's value; a newer bot's kind stays readable by its name
    actor: DeskActor
    actor_id: int | None
    from_value: str | None
    to_value: str | None
    created_at: datetime


def page_of(total: int, page: int | None, size: int) -> tuple[int, int]:
    """(page, pages) for `total` items `size` a page: `page` kept within them (counted
    from 0), None for the last one (the newest). No items: one empty page."""
    pages = max(1, -(-total // size))
    wanted = pages - 1 if page is None else page
    return min(max(wanted, 0), pages - 1), pages

"""The desk-wide trail: what agents and operators change outside any one ticket, who and when.

A ticket's own trail is its events (`TicketEvent`). What belongs to no ticket (bans, the
desk's languages, the bound agents' chat, forgotten customers, exports) is a `DeskEvent`,
written in the same transaction as the change it records. It holds ids and codes only,
never a name or a text: a forgotten customer must not live on in the trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


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

"""What a log line is about: the update being handled and the ticket, where known.

Kept in `ContextVar`s, so each update's task (and the tasks it starts) has its own: the
update processor sets the update (bot/channels/telegram/updates.py), whoever loads a
ticket sets the ticket, and bot/logging.py writes both into every line. No dependencies:
the domain sets the ticket too.
"""

from __future__ import annotations

from contextvars import ContextVar

_update: ContextVar[int | None] = ContextVar("log_update", default=None)
_ticket: ContextVar[int | None] = ContextVar("log_ticket", default=None)


def note_update(update_id: int | None) -> None:
    """Lines written from here on (in this task) are about update `update_id`."""
    _update.set(update_id)
    _ticket.set(None)


def note_ticket(number: int | None) -> None:
    """Lines written from here on (in this task) are about ticket `number`."""
    _ticket.set(number)


def current() -> tuple[int | None, int | None]:
    """The update id and the ticket number lines are about now."""
    return _update.get(), _ticket.get()

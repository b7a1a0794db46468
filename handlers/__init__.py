"""The bot's handlers, one module per feature, registered in one ordered place."""

from __future__ import annotations

from bot.context import SupportApp
from handlers import (
    agents,
    customer_replies,
    fallback,
    faq,
    gate,
    middleware,
    my_tickets,
    new_ticket,
    operators,
    rating,
    start,
)
from handlers.errors import on_error


def register(application: SupportApp) -> None:
    """Add every handler, in the order PTB must try them.

    bot/app.py adds two more around these: group -3 drops updates already handled, group 99
    persists conversation states and wakes the outbox after each update.
    """
    middleware.register(application)  # group -2: user and locale
    gate.register(application)  # group -1: bound chat, members, bans, forged buttons
    # Group 0, first match wins: the form, the customers' commands and replies, the agents'
    # side, then the fallbacks for whatever is left.
    new_ticket.register(application)
    # Before the plain commands: /cancel must reach an open Reply first.
    my_tickets.register(application)
    rating.register(application)
    start.register(application)
    faq.register(application)
    customer_replies.register(application)
    operators.register(application)
    agents.register(application)
    fallback.register(application)
    application.add_error_handler(on_error)

"""The bot's handlers, one module per feature, grouped by audience, registered in one
ordered place.

- `handlers/customers/`: the customer's private chat (the form, their tickets, replies,
  ratings, the FAQ, /start and the menus, their limits);
- `handlers/agents/`: the bound agents' chat (replies, notes, status, the cards' buttons,
  the queue, bans);
- `handlers/operators/`: the operators' commands (languages, figures, export, data
  requests, audits);
- here, what they share: the middleware and the gate, callback data, keyboards, media,
  answers in the agents' chat, the command menus, the fallbacks, the error handler and
  the sweeper.
"""

from __future__ import annotations

from bot.channels.telegram.context import SupportApp
from handlers import agents, fallback, gate, middleware, operators
from handlers.agents import membership
from handlers.customers import (
    customer_replies,
    faq,
    my_tickets,
    new_ticket,
    rating,
    start,
)
from handlers.errors import on_error


def register(application: SupportApp) -> None:
    """Add every handler, in the order PTB must try them (the groups: handlers/groups.py).

    bot/app.py adds two more around these: one drops updates already handled, the last
    notes each update handled.
    """
    middleware.register(application)  # user and locale
    gate.register(application)  # bound chat, members, bans, forged buttons
    # The form's own group (an open form takes its customer's updates), and its ways in.
    new_ticket.register(application)
    # The features' group from here, first match wins: the bot added to a group, /bind;
    # the customers' commands and replies, the operators' and the agents' side, then the
    # fallbacks for whatever is left.
    membership.register(application)
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

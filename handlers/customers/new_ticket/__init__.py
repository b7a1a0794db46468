"""`/new`: the new-ticket form, Telegram's side of it.

The form itself is `bot.domain.intake` (its steps, checks and state, which is the
customer's draft in the database). Here:

- `edges`: the ways in, and `in_the_form`, which hands an open form's updates to it;
- `adapter`: an update as the form's input, the form's output as Telegram messages;
- `questions`: each step's text and keyboard, the review and the notices.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, TypeHandler, filters

from bot.channels.telegram.context import SupportApp
from handlers import groups
from handlers.callbacks import MENU, TICKETS
from handlers.customers.new_ticket.edges import follow_up, in_the_form, new_ticket


def register(application: SupportApp) -> None:
    # An open form sees its customer's updates before any feature (its own group).
    application.add_handler(TypeHandler(Update, in_the_form), group=groups.FORM)
    application.add_handler(CommandHandler("new", new_ticket, filters=filters.ChatType.PRIVATE))
    application.add_handler(
        CallbackQueryHandler(new_ticket, pattern=MENU.pattern("new", bare=True))
    )
    application.add_handler(CallbackQueryHandler(follow_up, pattern=TICKETS.pattern("follow")))

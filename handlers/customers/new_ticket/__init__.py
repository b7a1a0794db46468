"""`/new`: the new-ticket form, as one persistent `ConversationHandler`.

Department → subject → priority → message → attachments → review. Every answer is saved
in the customer's draft before the next question, and the conversation state is persisted
in the same database, so a restart continues where the customer was.

- `questions`: each step's text and keyboard, the review, and asking them;
- `steps`: the handlers that take each step's answer into the draft;
- `edges`: the ways in and out, and what no step takes.
"""

from __future__ import annotations

from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.channels.telegram.context import SupportApp, SupportContext
from handlers.callbacks import FORM, MENU, TICKETS
from handlers.customers.new_ticket.edges import cancel, follow_up, new_ticket, still_here
from handlers.customers.new_ticket.steps import STEP_HANDLERS


def build() -> ConversationHandler[SupportContext]:
    """The `/new` conversation, persistent, per chat and user.

    No `conversation_timeout`: PTB keeps a job (holding the update and its context) per
    open form for it, and loses it at a restart. The draft's stored time is the deadline
    instead, which the sweeper enforces (handlers/sweeper.py).
    """
    cb = FORM.pattern()
    return ConversationHandler(
        entry_points=[
            CommandHandler("new", new_ticket, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(new_ticket, pattern=MENU.pattern("new", bare=True)),
            CallbackQueryHandler(follow_up, pattern=TICKETS.pattern("follow")),
        ],
        states={
            **STEP_HANDLERS,
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=FORM.pattern("cancel", bare=True)),
            CallbackQueryHandler(still_here, pattern=cb),
            CallbackQueryHandler(still_here),
            MessageHandler(filters.ALL & ~filters.UpdateType.EDITED, still_here),
        ],
        name="new_ticket",
        persistent=True,
        per_chat=True,
        per_user=True,
        per_message=False,
        allow_reentry=False,
    )


def register(application: SupportApp) -> None:
    application.add_handler(build())

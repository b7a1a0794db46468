"""The agents' side, in the bound agents' chat: replies, notes, status, priority, the
cards' buttons, the queue, bans.

- `commands.py`: the agents' slash commands (/note, /assign, /priority, /solve, /close,
  /reopen, /queue, /ticket, /ban, /unban, /faq, /help);
- `cards.py`: the buttons of a ticket's card and of the queue's pages;
- `replies.py`: an agent's message in a ticket's thread, relayed to the customer, and
  its edits;
- `common.py`: what they share (finding the ticket, status and assignment changes, the
  queue's pages);
- `membership.py`: the bot added to a group and /bind, registered on its own and first.
"""

from __future__ import annotations

from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.channels.telegram.context import SupportApp
from bot.domain.lifecycle import Action
from handlers.agents.cards import card_pressed, queue_page
from handlers.agents.commands import (
    _status_command,
    agent_help,
    assign,
    ban,
    faq_answer,
    note,
    priority,
    queue,
    show_ticket,
    unban,
)
from handlers.agents.common import GROUPS
from handlers.agents.replies import agent_edit, agent_message
from handlers.callbacks import CARD_BUTTONS, QUEUE


def register(application: SupportApp) -> None:
    """Add the agents' handlers (the gate has already checked chat and membership)."""
    add = application.add_handler
    add(CommandHandler("note", note, filters=GROUPS))
    add(CommandHandler("assign", assign, filters=GROUPS))
    add(CommandHandler("priority", priority, filters=GROUPS))
    add(CommandHandler("solve", _status_command(Action.SOLVE), filters=GROUPS))
    add(CommandHandler("close", _status_command(Action.CLOSE), filters=GROUPS))
    add(CommandHandler("reopen", _status_command(Action.REOPEN), filters=GROUPS))
    add(CommandHandler("queue", queue, filters=GROUPS))
    add(CommandHandler("ticket", show_ticket, filters=GROUPS))
    add(CommandHandler("ban", ban, filters=GROUPS))
    add(CommandHandler("unban", unban, filters=GROUPS))
    add(CommandHandler("faq", faq_answer, filters=GROUPS))
    add(CommandHandler("help", agent_help, filters=GROUPS))
    add(CallbackQueryHandler(card_pressed, pattern=CARD_BUTTONS.pattern()))
    add(CallbackQueryHandler(queue_page, pattern=QUEUE.pattern()))
    add(MessageHandler(GROUPS & filters.UpdateType.EDITED_MESSAGE, agent_edit))
    # Service messages (members joining, topics edited, pins) are nobody's reply.
    add(
        MessageHandler(
            GROUPS & filters.UpdateType.MESSAGE & ~filters.COMMAND & ~filters.StatusUpdate.ALL,
            agent_message,
        )
    )

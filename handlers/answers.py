"""Answering agents without spending the agents' chat's budget inside a handler.

Telegram lets a bot send 20 messages a minute to a group. A handler that answered an agent
directly would wait for that budget, and with it the agent's next command. So:

- a command that worked is acknowledged with a reaction on the agent's own message
  (reactions are not messages: they cost nothing of the budget), and the card is edited
  in place through the outbox;
- what carries information the agent asked for (/queue, /ticket, an error) is a message,
  queued in the outbox's first lane for the agents' chat (bot/domain/outbox.py).
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Message, ReactionTypeEmoji
from telegram.error import TelegramError

from bot.channels.telegram.context import SupportContext
from bot.domain.models import AnswerFile

log = logging.getLogger(__name__)

DONE = "👍"
NOTED = "✍"


async def answer_agent(
    context: SupportContext,
    message: Message,
    text: str,
    *,
    keyboard: InlineKeyboardMarkup | None = None,
    ticket_number: int | None = None,
    file: AnswerFile | None = None,
) -> None:
    """Reply to an agent's message with `text`, through the outbox (a ticket's answer is
    a place to reply to that ticket); with `file`, that file with `text` as its caption."""
    await context.desk.answer_agent(
        message.chat_id,
        text,
        reply_to=message.message_id,
        thread_id=message.message_thread_id if message.is_topic_message else None,
        keyboard=keyboard.to_dict() if keyboard is not None else None,
        ticket_number=ticket_number,
        file=file,
    )


async def acknowledge(
    context: SupportContext, message: Message, fallback: str, emoji: str = DONE
) -> None:
    """Mark an agent's command as done with a reaction; where reactions are off in the chat,
    say `fallback` instead.

    The reaction goes beside the agents' line, not in it: the change it confirms is settled
    already, so the agent's next command does not wait for Telegram's answer to this one
    (300 `/close` in a row are handled at the database's pace, not at a round trip each).
    A kill may lose the mark, never the change.
    """
    context.application.create_task(
        _react(context, message, fallback, emoji), name=f"react:{message.message_id}"
    )


async def _react(context: SupportContext, message: Message, fallback: str, emoji: str) -> None:
    try:
        await context.bot.set_message_reaction(
            message.chat_id, message.message_id, ReactionTypeEmoji(emoji)
        )
    except TelegramError as exc:
        log.info("Could not react to an agent's command (%s); answering instead", exc)
        await answer_agent(context, message, fallback)

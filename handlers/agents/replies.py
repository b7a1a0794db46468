"""An agent's message in the agents' chat: a reply to a ticket's message or one written in
its topic goes to the customer (through the outbox); an edit of it follows."""

from __future__ import annotations

import logging

from telegram import Message, Update

from bot.channels.telegram.context import SupportContext
from bot.domain.lifecycle import IllegalTransitionError
from bot.domain.models import Author
from bot.domain.ticket_core import DuplicateMessageError
from bot.i18n import gettext as _
from handlers.agents.common import acting_agent, context_ticket
from handlers.answers import answer_agent
from handlers.media import attachment_of, is_relayable

log = logging.getLogger(__name__)


async def agent_message(update: Update, context: SupportContext) -> None:
    """Deliver an agent's reply in a ticket's thread to the customer (through the outbox)."""
    message = update.effective_message
    assert message is not None
    ticket = await context_ticket(message, context)
    if ticket is None:
        await _hint_no_ticket(update, context, message)
        return
    if not is_relayable(message):
        await answer_agent(
            context, message, _("Only text, photos and documents can be sent to the customer.")
        )
        return
    agent_id, agent_name = acting_agent(update)
    attachment = attachment_of(message)
    try:
        await context.desk.service.agent_reply(
            ticket.number,
            agent_id,
            message.text or message.caption or "",
            [attachment] if attachment else [],
            tg_chat_id=message.chat_id,
            tg_message_id=message.message_id,
            agent_name=agent_name,
        )
    except DuplicateMessageError:
        return  # the same update again: it was delivered the first time
    except IllegalTransitionError:
        await answer_agent(
            context,
            message,
            _(
                "{ref} is closed, so nothing was sent. The customer can continue in a "
                "follow-up ticket."
            ).format(ref=ticket.ref),
        )


async def _hint_no_ticket(update: Update, context: SupportContext, message: Message) -> None:
    """Say (now and then, not every time) that a message reached no customer."""
    user = update.effective_user
    if user is None or not context.relay.may_hint(message.chat_id, user.id):
        return
    await answer_agent(
        context,
        message,
        _(
            "This message belongs to no ticket, so no customer sees it. To answer a customer, "
            "reply to a message of their ticket or write in its topic."
        ),
    )


async def agent_edit(update: Update, context: SupportContext) -> None:
    """Carry an agent's edit of a relayed reply to the customer's copy."""
    message = update.edited_message
    if message is None or update.effective_user is None:
        return
    recorded = await context.desk.service.record_edit(
        Author.AGENT,
        update.effective_user.id,
        message.chat_id,
        message.message_id,
        message.text or message.caption or "",
    )
    if recorded is None:
        # Agents edit their own chat talk too: nothing to carry, nothing to say.
        log.info("Edit of message %s in the agents' chat belongs to no ticket", message.message_id)

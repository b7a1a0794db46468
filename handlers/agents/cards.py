"""The buttons in the agents' chat: a card's (take, solve, close, reopen) and the queue's
pages."""

from __future__ import annotations

from telegram import Update

from bot.channels.telegram.context import SupportContext
from bot.domain.lifecycle import Action
from bot.i18n import gettext as _
from handlers.agents.common import (
    acting_agent,
    assign_ticket,
    in_admin_chat,
    queue_view,
    status_action,
)
from handlers.callbacks import CARD_BUTTONS, QUEUE, stale


async def queue_page(update: Update, context: SupportContext) -> None:
    """Turn the queue's message to another page (edited in place, through the outbox)."""
    query = update.callback_query
    assert query is not None
    callback = QUEUE.unpack(query.data)
    page = None if callback is None else callback.number
    if page is None or query.message is None or not await in_admin_chat(update, context):
        await stale(query, alert=True)
        return
    await query.answer()
    text, keyboard = await queue_view(context, page)
    await context.desk.answer_agent(
        query.message.chat.id,
        text,
        keyboard=keyboard.to_dict() if keyboard is not None else None,
        edit_message_id=query.message.message_id,
    )


async def card_pressed(update: Update, context: SupportContext) -> None:
    """Act on a card button: take, solve, close or reopen."""
    query = update.callback_query
    assert query is not None
    callback = CARD_BUTTONS.unpack(query.data)
    number = None if callback is None else callback.number
    if callback is None or number is None or not await in_admin_chat(update, context):
        await stale(query, alert=True)
        return
    ticket = await context.desk.ticket(number)
    if ticket is None:
        await stale(query, alert=True)
        return
    agent_id = acting_agent(update)[0]
    if callback.action == "assign":
        error = await assign_ticket(context, ticket, agent_id, None)
    else:
        action = {"solve": Action.SOLVE, "close": Action.CLOSE, "reopen": Action.REOPEN}[
            callback.action
        ]
        error = await status_action(context, ticket, action, agent_id, None)
    await query.answer(error or _("Done."), show_alert=bool(error))

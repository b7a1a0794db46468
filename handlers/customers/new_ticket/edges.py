"""The form's edges: the ways in (`/new`, the menu's New ticket, Follow-up), and the form
itself, which takes whatever its customer sends while a draft is open."""

from __future__ import annotations

from telegram import Chat, Update

from bot.channels.telegram.context import SupportContext
from handlers.callbacks import TICKETS, stale
from handlers.customers.new_ticket.adapter import form_input, render
from handlers.gate import stop_here


async def new_ticket(update: Update, context: SupportContext) -> None:
    """Start a fresh draft and ask for the department."""
    user = context.require_user()
    if update.callback_query is not None:
        await update.callback_query.answer()
    await render(update, context, await context.desk.form.start(user.id))


async def follow_up(update: Update, context: SupportContext) -> None:
    """Start a new ticket that continues a solved or closed one of the customer's."""
    query = update.callback_query
    assert query is not None
    user = context.require_user()
    callback = TICKETS.unpack(query.data)
    number = callback.number if callback is not None and callback.action == "follow" else None
    outputs = None if number is None else await context.desk.form.follow_up(user.id, number)
    if outputs is None:
        await stale(query, alert=True)
        return
    await render(update, context, outputs)


async def in_the_form(update: Update, context: SupportContext) -> None:
    """While the customer's draft is open, the form takes what they send in their private
    chat: their answer to the open step, /cancel, or anything else (answered with the
    step's question again). With no draft open, the features after it see the update."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or user is None or chat.type != Chat.PRIVATE:
        return
    given = form_input(update, context)
    if given is None:
        return
    outputs = await context.desk.form.take(user.id, given, context.locale)
    if outputs is None:
        return
    await render(update, context, outputs)
    await stop_here(update, context)  # nothing after the form is to see this update

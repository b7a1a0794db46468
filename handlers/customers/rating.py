"""Satisfaction: a solved ticket asks for 1–5 stars, then for an optional comment.

The comment prompt asks for a reply (Telegram's ForceReply), but many people simply type
on: the customer's next text within `COMMENT_WINDOW` of the prompt is the comment too
(see handlers/customers/customer_replies.py). The window is counted from the prompt's
stored time, so a restart keeps it, and it ends with the first comment or message on a
ticket.
"""

from __future__ import annotations

from telegram import ForceReply, Message, Update
from telegram.ext import CallbackQueryHandler

from bot.channels.telegram.context import SupportApp, SupportContext
from bot.domain.desk import COMMENT_WINDOW
from bot.domain.models import Relay, RelayKind, Ticket
from bot.domain.ticket_core import TicketNotFoundError
from bot.i18n import format_duration
from bot.i18n import gettext as _
from handlers.callbacks import RATING, stale
from handlers.keyboards import show_choice

COMMENT_LIMIT = 1000


async def rated(update: Update, context: SupportContext) -> None:
    """Keep the stars and invite a comment."""
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    callback = RATING.unpack(query.data)
    numbers = None if callback is None else callback.numbers(2)  # the ticket, the stars
    number, score = numbers if numbers is not None else (None, None)
    user = context.require_user()
    try:
        if number is None or score is None or not 1 <= score <= 5:
            raise TicketNotFoundError(0)
        ticket = await context.desk.service.rate(number, user.id, score)
    except TicketNotFoundError:
        await stale(query, alert=True)
        return
    await query.answer(_("Thank you!"))
    await show_choice(query)
    prompt = await context.bot.send_message(
        update.effective_chat.id,
        _(
            "Thanks for rating {ref} with {stars}. Anything you'd like to add? Write your "
            "comment within {window}, or just carry on."
        ).format(ref=ticket.ref, stars="⭐" * score, window=format_duration(COMMENT_WINDOW)),
        reply_markup=ForceReply(selective=True, input_field_placeholder=_("Your comment")),
    )
    await context.desk.remember_relay(
        Relay(ticket.number, RelayKind.RATING, None, None, None, prompt.chat_id, prompt.message_id)
    )


async def comment_given(context: SupportContext, ticket: Ticket, message: Message) -> None:
    """Keep a reply to the rating prompt as the rating's comment and show it to the agents."""
    assert message.text is not None
    comment = context.desk.guard_text(message.text).text[:COMMENT_LIMIT]
    await context.desk.service.comment_on_rating(ticket.number, comment)
    await message.reply_text(_("Thank you for your feedback!"))


def register(application: SupportApp) -> None:
    application.add_handler(CallbackQueryHandler(rated, pattern=RATING.pattern("rate")))

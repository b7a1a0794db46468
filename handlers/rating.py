"""Satisfaction: a solved ticket asks for 1–5 stars, then an optional comment."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.context import SupportApp, SupportContext
from bot.domain.models import Audience
from bot.domain.tickets import TicketNotFoundError
from bot.i18n import gettext as _
from bot.notify import RATE

END = ConversationHandler.END
COMMENT = "comment"


async def rated(update: Update, context: SupportContext) -> str | int:
    """Keep the stars and offer to add a comment."""
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    parts = (query.data or "").split(":")
    valid = len(parts) == 4 and parts[2].isdigit() and parts[3] in {"1", "2", "3", "4", "5"}
    user = context.require_user()
    try:
        if not valid:
            raise TicketNotFoundError(0)
        ticket = await context.desk.service.rate(int(parts[2]), user.id, int(parts[3]))
    except TicketNotFoundError:
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return END
    await query.answer(_("Thank you!"))
    if query.message is not None:
        await query.edit_message_reply_markup(reply_markup=None)
    await context.desk.users.set_reply_ticket(user.id, ticket.number)
    await context.bot.send_message(
        update.effective_chat.id,
        _(
            "Thanks for rating {ref} with {stars}. Anything you'd like to add? Write a comment, "
            "or press Skip."
        ).format(ref=ticket.ref, stars="⭐" * int(parts[3])),
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton(_("Skip"), callback_data=f"{RATE}:skip")]]
        ),
    )
    return COMMENT


async def commented(update: Update, context: SupportContext) -> int:
    """Keep the comment with the rating and show it to the agents."""
    message = update.effective_message
    assert message is not None and message.text is not None
    user = context.require_user()
    number = await context.desk.users.reply_ticket(user.id)
    if number is not None:
        comment = context.desk.guard_text(message.text).text[:1000]
        await context.desk.ratings.comment(number, comment, context.desk.clock())
        await context.desk.users.set_reply_ticket(user.id, None)
        await context.desk.outbox.add(
            "card",
            Audience.ADMIN,
            context.desk.clock(),
            ticket_number=number,
            dedupe_key=f"card:{number}",
        )
    await message.reply_text(_("Thank you for your feedback!"))
    return END


async def skipped(update: Update, context: SupportContext) -> int:
    """No comment: that is fine."""
    await context.desk.users.set_reply_ticket(context.require_user().id, None)
    if update.callback_query is not None:
        await update.callback_query.answer(_("Thank you!"))
        if update.callback_query.message is not None:
            await update.callback_query.edit_message_reply_markup(reply_markup=None)
    return END


def register(application: SupportApp, conversation_timeout: float | None) -> None:
    application.add_handler(
        ConversationHandler(
            entry_points=[CallbackQueryHandler(rated, pattern=rf"^{RATE}:rate:")],
            states={
                COMMENT: [
                    # A Telegram reply is about a ticket, not a comment on the rating.
                    MessageHandler(
                        filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND & ~filters.REPLY,
                        commented,
                    ),
                    CallbackQueryHandler(skipped, pattern=rf"^{RATE}:skip$"),
                ]
            },
            fallbacks=[CommandHandler("cancel", skipped), CommandHandler("skip", skipped)],
            name="rating",
            persistent=True,
            per_chat=True,
            per_user=True,
            per_message=False,
            allow_reentry=True,
            conversation_timeout=conversation_timeout,
        )
    )

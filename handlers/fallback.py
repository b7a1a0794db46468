"""Whatever no feature took: a short, localized answer instead of silence."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.channels.telegram.context import SupportApp, SupportContext
from bot.domain.faq_search import is_greeting
from bot.i18n import gettext as _
from handlers.callbacks import stale
from handlers.customers.faq import answer_free_text, no_answer_found
from handlers.customers.greeting import greet
from handlers.keyboards import main_menu


async def free_text(update: Update, context: SupportContext) -> None:
    """Answer what a customer just types from the FAQ, with a ticket as the way on."""
    if await answer_free_text(update, context):
        return
    assert update.effective_message is not None and update.effective_message.text is not None
    # "Halo kak", "hej", "good morning": a customer saying hello gets what /start gives,
    # the greeting and the main menu, not "I couldn't find that".
    if is_greeting(update.effective_message.text):
        await greet(update, context)
    else:
        await no_answer_found(update, context)


async def unknown_command(update: Update, context: SupportContext) -> None:
    """Answer a command we do not have."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        _("I don't know that command. Send /help to see what I can do."),
        reply_markup=main_menu(),
    )


async def unsupported(update: Update, context: SupportContext) -> None:
    """Answer stickers, voice notes, locations and the like."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        _(
            "I can't handle that kind of message. Please write text, or send photos and "
            "documents inside a ticket (/new)."
        )
    )


async def edited(update: Update, context: SupportContext) -> None:
    """Tell the customer an edit changes nothing that was already received."""
    assert update.edited_message is not None
    await update.edited_message.reply_text(
        _(
            "I noticed you edited a message. Edits don't reach our team: please send the "
            "correction as a new message."
        )
    )


async def stale_button(update: Update, context: SupportContext) -> None:
    """Answer a button whose data we don't know (old, or forged)."""
    assert update.callback_query is not None
    await stale(update.callback_query, alert=True)


def register(application: SupportApp) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(MessageHandler(private & filters.UpdateType.EDITED_MESSAGE, edited))
    application.add_handler(MessageHandler(private & filters.COMMAND, unknown_command))
    application.add_handler(MessageHandler(private & filters.TEXT, free_text))
    application.add_handler(MessageHandler(private & filters.UpdateType.MESSAGE, unsupported))
    application.add_handler(CallbackQueryHandler(stale_button))

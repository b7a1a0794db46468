"""`/start`, `/help`, `/language` and the main menu in the customer's private chat."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.channels.telegram.context import SupportApp, SupportContext
from bot.config import SUPPORTED_LOCALES
from bot.i18n import gettext as _
from bot.i18n import language_name, set_locale
from bot.texts import help_text, language_in_text
from handlers.callbacks import LANGUAGE, MENU, stale
from handlers.customers.customer_replies import stop_reply_mode
from handlers.customers.faq import faq_menu
from handlers.customers.greeting import greet
from handlers.customers.my_tickets import show_tickets
from handlers.keyboards import main_menu, show_choice


async def show_help(update: Update, context: SupportContext) -> None:
    """Explain the commands."""
    assert update.effective_message is not None
    text = help_text()
    user = context.require_user()
    if context.desk.is_operator(user.id):
        text += "\n\n" + _(
            "<b>Operators</b>\n"
            "/locale &lt;en|id|sv&gt;: the language for users whose own we don't speak\n"
            "/locale admin &lt;en|id|sv&gt;: the language of the agents' chat\n"
            "/stats [7d|30d|90d]: the desk's figures, with a chart\n"
            "/export [7d|30d|all] [full]: tickets as a CSV file (full: with the messages)\n"
            "/audit [number]: the desk's trail (bans, languages, the agents' chat, "
            "forgotten customers, exports), or a ticket's, who and when\n"
            "/forget &lt;user id&gt;: forget a customer who asks for it\n"
            "/bind (in a group): make it the agents' chat"
        )
    await update.effective_message.reply_text(text, reply_markup=main_menu())


async def nothing_to_cancel(update: Update, context: SupportContext) -> None:
    """Answer /cancel when no form is open: it stops Reply mode, or there is nothing."""
    message = update.effective_message
    assert message is not None
    if await stop_reply_mode(context.require_user().id, message, context):
        return
    await message.reply_text(_("There is nothing to cancel."), reply_markup=main_menu())


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(language_name(code), callback_data=LANGUAGE.pack("set", code))]
            for code in SUPPORTED_LOCALES
        ]
    )


async def choose_language(update: Update, context: SupportContext) -> None:
    """Offer the three languages."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        _("Choose your language:"), reply_markup=language_keyboard()
    )


async def language_chosen(update: Update, context: SupportContext) -> None:
    """Remember the chosen language for good and answer in it."""
    query = update.callback_query
    assert query is not None
    callback = LANGUAGE.unpack(query.data)
    if callback is None or callback.arg not in SUPPORTED_LOCALES:
        await stale(query, alert=True)
        return
    user = context.require_user()
    await context.desk.choose_locale(user.id, callback.arg)
    await query.answer()
    # Still in the question's language: the answer completes that message.
    await show_choice(query)
    context.locale = callback.arg
    set_locale(callback.arg)
    assert update.effective_chat is not None
    await context.bot.send_message(
        update.effective_chat.id,
        _("Done: I will speak {language} with you from now on.").format(
            language=language_in_text(callback.arg)
        ),
        reply_markup=main_menu(),
    )


async def menu_pressed(update: Update, context: SupportContext) -> None:
    """Route a main-menu button (except "new ticket", which the conversation takes)."""
    query = update.callback_query
    assert query is not None
    callback = MENU.unpack(query.data)
    if callback is None:
        await stale(query, alert=True)
        return
    await query.answer()
    if callback.action == "lang":
        await choose_language(update, context)
    elif callback.action == "tickets":
        await show_tickets(update, context, page=0)
    elif callback.action == "faq":
        await faq_menu(update, context)


def register(application: SupportApp) -> None:
    private = filters.ChatType.PRIVATE
    application.add_handler(CommandHandler("start", greet, filters=private))
    application.add_handler(CommandHandler("help", show_help, filters=private))
    application.add_handler(CommandHandler("language", choose_language, filters=private))
    application.add_handler(CommandHandler("cancel", nothing_to_cancel, filters=private))
    application.add_handler(CallbackQueryHandler(language_chosen, pattern=LANGUAGE.pattern()))
    application.add_handler(CallbackQueryHandler(menu_pressed, pattern=MENU.pattern()))

"""`/faq`: localized answers by topic, and answers found for what a customer just types.

Free text outside any conversation is matched against the FAQ in the customer's language
(typos and mixed Indonesian/English included); the best answers are offered, with
"open a ticket" as the way on. Answers are shown through `bot.faq_text.render_answer`, which
fills in the figures the settings decide.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.channels.telegram.context import SupportApp, SupportContext
from bot.faq_text import render_answer
from bot.i18n import gettext as _
from handlers.callbacks import FAQ, MENU, stale


def _open_ticket_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(_("📝 Open a ticket"), callback_data=MENU.pack("new"))


async def faq_menu(update: Update, context: SupportContext) -> None:
    """List the FAQ topics as buttons."""
    assert update.effective_chat is not None
    rows = [
        [InlineKeyboardButton(entry.button, callback_data=FAQ.pack("show", entry.key))]
        for entry in context.desk.faq.entries(context.locale)
    ]
    rows.append([_open_ticket_button()])
    await context.bot.send_message(
        update.effective_chat.id,
        _("<b>Frequently asked questions</b>\nChoose a topic:"),
        reply_markup=InlineKeyboardMarkup(rows),
    )


async def faq_pressed(update: Update, context: SupportContext) -> None:
    """Show one answer (or the list again)."""
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    callback = FAQ.unpack(query.data)
    entry = (
        context.desk.faq.entry(context.locale, callback.arg)
        if callback is not None and callback.action == "show"
        else None
    )
    if callback is not None and callback.action == "list":
        await query.answer()
        await faq_menu(update, context)
        return
    if entry is None:
        await stale(query, alert=True)
        return
    await query.answer()
    await context.bot.send_message(
        update.effective_chat.id,
        f"<b>{entry.title}</b>\n\n{render_answer(entry, context.desk.settings)}",
        reply_markup=InlineKeyboardMarkup(
            [
                [_open_ticket_button()],
                [InlineKeyboardButton(_("« All questions"), callback_data=FAQ.pack("list"))],
            ]
        ),
    )


async def answer_free_text(update: Update, context: SupportContext) -> bool:
    """Offer the FAQ answers that fit what the customer wrote, and a way to a ticket.

    False, with nothing sent, when no answer fits: the caller decides what to say then.
    """
    message = update.effective_message
    assert message is not None and message.text is not None
    return await answer_text(context, message.chat_id, message.text)


async def answer_text(
    context: SupportContext, chat_id: int, text: str, *, say_when_none: bool = False
) -> bool:
    """Send the FAQ answers that fit `text`, with a way to a ticket; False if none fits
    (having said so, with `say_when_none`)."""
    found = context.desk.faq.search(context.locale, text, limit=3)
    if not found:
        if say_when_none:
            await context.bot.send_message(
                chat_id, _no_answer_text(), reply_markup=_no_answer_keyboard()
            )
        return False
    best, others = found[0], found[1:]
    rows = [
        [InlineKeyboardButton(entry.button, callback_data=FAQ.pack("show", entry.key))]
        for entry in others
    ]
    rows.append([_open_ticket_button()])
    await context.bot.send_message(
        chat_id,
        _("This may help:")
        + f"\n\n<b>{best.title}</b>\n\n{render_answer(best, context.desk.settings)}\n\n"
        + _("Not what you need? Open a ticket."),
        reply_markup=InlineKeyboardMarkup(rows),
    )
    return True


def _no_answer_text() -> str:
    return _(
        "I couldn't find an answer to that in our FAQ. Open a ticket and our team "
        "will help you, or browse the questions with /faq."
    )


def _no_answer_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_open_ticket_button()]])


async def no_answer_found(update: Update, context: SupportContext) -> None:
    """Say the FAQ has no answer to what the customer wrote, and offer a ticket."""
    message = update.effective_message
    assert message is not None
    await message.reply_text(_no_answer_text(), reply_markup=_no_answer_keyboard())


def register(application: SupportApp) -> None:
    application.add_handler(CommandHandler("faq", faq_menu, filters=filters.ChatType.PRIVATE))
    application.add_handler(CallbackQueryHandler(faq_pressed, pattern=FAQ.pattern()))

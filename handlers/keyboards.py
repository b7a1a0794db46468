"""Keyboards shared by several features, and what becomes of a question once answered."""

from __future__ import annotations

from html import escape

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest

from bot.domain.models import Ticket
from bot.fit import clip_words
from bot.i18n import gettext as _
from handlers.callbacks import MENU

# A phone shows about this many characters of a full-width button before it cuts the
# label itself, mid-word and without saying so.
TICKET_LABEL_BUDGET = 30


def main_menu() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_("📝 New ticket"), callback_data=MENU.pack("new"))],
            [InlineKeyboardButton(_("📂 My tickets"), callback_data=MENU.pack("tickets"))],
            [
                InlineKeyboardButton(_("❓ FAQ"), callback_data=MENU.pack("faq")),
                InlineKeyboardButton(_("🌐 Language"), callback_data=MENU.pack("lang")),
            ],
        ]
    )


def ticket_label(ticket: Ticket) -> str:
    """A ticket as a button: its number and subject, cut at a word to fit a phone."""
    return clip_words(f"{ticket.ref} · {ticket.subject}", TICKET_LABEL_BUDGET)


async def show_choice(query: CallbackQuery) -> None:
    """Put the button pressed in place of a question's buttons, so the chat keeps a record
    of what was chosen (buttons that merely vanish leave the question looking unanswered)."""
    message = query.message
    if not isinstance(message, Message):
        return  # too old for Telegram to hand over: nothing can be edited
    markup = message.reply_markup
    pressed = next(
        (
            button.text
            for row in (markup.inline_keyboard if markup else ())
            for button in row
            if button.callback_data == query.data
        ),
        None,
    )
    try:
        if message.text is None or pressed is None:
            await query.edit_message_reply_markup(reply_markup=None)
            return
        answered = _("Your choice: {choice}").format(choice=f"<b>{escape(pressed)}</b>")
        await query.edit_message_text(f"{message.text_html}\n\n{answered}", reply_markup=None)
    except BadRequest as exc:
        # A second press of the same button while the first edit was under way.
        if "message is not modified" not in exc.message.lower():
            raise

"""Keyboards shared by several features."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import gettext as _
from handlers.callbacks import Callback

MENU = "m1"
MENU_ACTIONS = frozenset({"new", "tickets", "faq", "lang"})


def main_menu() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_("📝 New ticket"), callback_data=Callback(MENU, "new").pack())],
            [
                InlineKeyboardButton(
                    _("📂 My tickets"), callback_data=Callback(MENU, "tickets").pack()
                )
            ],
            [
                InlineKeyboardButton(_("❓ FAQ"), callback_data=Callback(MENU, "faq").pack()),
                InlineKeyboardButton(_("🌐 Language"), callback_data=Callback(MENU, "lang").pack()),
            ],
        ]
    )

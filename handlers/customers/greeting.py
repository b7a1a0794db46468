"""The greeting: what `/start` answers, and what a customer who just says hello gets.

Kept apart from `handlers.customers.start` so that the free-text fallback can greet too
without importing the menus (which import the ticket handlers, which import the fallback).
"""

from __future__ import annotations

from telegram import Update

from bot.channels.telegram.context import SupportContext
from bot.texts import welcome_text
from handlers.keyboards import main_menu


async def greet(update: Update, context: SupportContext) -> None:
    """Greet the customer in their language and show the main menu."""
    assert update.effective_message is not None
    user = context.require_user()
    await update.effective_message.reply_text(
        welcome_text(user.first_name), reply_markup=main_menu()
    )

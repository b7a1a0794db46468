"""Per-update preparation (PTB's middleware): record the user and pick their language."""

from __future__ import annotations

from telegram import Update
from telegram.ext import TypeHandler

from bot.channels.telegram.context import SupportApp, SupportContext
from bot.i18n import set_locale
from handlers import groups

GROUP = groups.MIDDLEWARE


async def prepare(update: Update, context: SupportContext) -> None:
    """Upsert the sender and make their language the current one for this update."""
    tg_user = update.effective_user
    if tg_user is None or tg_user.is_bot:
        set_locale(await context.desk.default_locale())
        return
    user = await context.desk.register_user(
        tg_user.id,
        tg_user.first_name,
        tg_user.last_name,
        tg_user.username,
        tg_user.language_code,
    )
    context.user = user
    context.locale = await context.desk.locale_for(user)
    set_locale(context.locale)


def register(application: SupportApp) -> None:
    application.add_handler(TypeHandler(Update, prepare), group=GROUP)

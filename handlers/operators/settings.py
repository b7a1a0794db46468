"""The desk's settings an operator changes: the customers' default language and the
agents' chat's (/locale)."""

from __future__ import annotations

from telegram import Update

from bot.channels.telegram.context import SupportContext
from bot.config import SUPPORTED_LOCALES
from bot.i18n import gettext as _
from bot.i18n import use_locale
from bot.texts import language_in_text
from handlers.commands import publish_commands
from handlers.operators.common import answer, operator


def _locale_usage() -> str:
    return _(
        "Give one of {locales}: /locale id sets the language for customers whose own we "
        "don't speak, /locale admin id the language of the agents' chat."
    ).format(locales=", ".join(SUPPORTED_LOCALES))


async def set_locale(update: Update, context: SupportContext) -> None:
    """Set the customers' default language (/locale <en|id|sv>) or the agents' chat's
    (/locale admin <en|id|sv>); the confirmation is in the new language."""
    message = update.effective_message
    assert message is not None
    if not await operator(update, context):
        return
    args = [arg.lower() for arg in context.args or []]
    for_agents = bool(args) and args[0] == "admin"
    if for_agents:
        args = args[1:]
    if len(args) != 1 or args[0] not in SUPPORTED_LOCALES:
        await answer(update, context, _locale_usage())
        return
    locale = args[0]
    assert update.effective_user is not None
    if for_agents:
        await context.desk.set_admin_locale(locale, by=update.effective_user.id)
    else:
        await context.desk.set_default_locale(locale, by=update.effective_user.id)
    # The menus follow: the agents' and operators' for the one, the customers' for the other.
    await publish_commands(context.bot, context.desk)
    with use_locale(locale):
        if for_agents:
            done = _("The agents' chat is now in {language}.")
        else:
            done = _("Customers whose language we don't speak are now answered in {language}.")
        done = done.format(language=language_in_text(locale))
    await answer(update, context, done)

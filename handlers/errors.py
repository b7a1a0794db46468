"""The error handler: log the failure, tell the user briefly, never show a traceback."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError

from bot.context import SupportContext
from bot.i18n import gettext as _

log = logging.getLogger(__name__)


async def on_error(update: object, context: SupportContext) -> None:
    """Log an exception from a handler or job and apologise to the user, if there is one."""
    error = context.error
    # BadRequest is a NetworkError in PTB, but a 400 is our mistake: apologise and log it.
    if isinstance(error, Forbidden) or (
        isinstance(error, NetworkError) and not isinstance(error, BadRequest)
    ):
        # Telegram hiccups are retried by PTB or the outbox; a blocked bot is not a bug.
        log.warning("Telegram error while handling an update: %s", error)
        return
    log.error("Unhandled error while handling an update", exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.effective_chat.type != "private":
        return
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except TelegramError:
            log.debug("The callback query was already answered or expired")
    try:
        await context.bot.send_message(
            update.effective_chat.id,
            _(
                "Sorry, something went wrong on our side. Nothing you sent is lost: "
                "please try again in a moment."
            ),
        )
    except TelegramError:
        log.warning("Could not tell the user about the error")

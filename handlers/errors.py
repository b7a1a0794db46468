"""The error handler: one log line per failure, a brief word to the user, never a traceback.

What failed decides what happens:

- Telegram trouble (a time-out, a blocked bot) is logged and left to PTB and the outbox.
- A storage fault (a full disk, an I/O error) rolled the change back: the customer is
  told to send it again, their form stays at its step (its handler never returned), the
  agents are told once (bot/channels/telegram/faults.py), and no later handler of the update runs.
- Anything else is a bug. The update is run once more (a race may not repeat); failing
  again it is quarantined: stored aside, masked, with its error, and recorded as handled,
  so it is never replayed and never holds up the next.

The traceback goes to DEBUG; ERROR gets one line with the update id.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.channels.telegram.context import SupportContext
from bot.channels.telegram.faults import describe
from bot.channels.telegram.telegram_bot import masked
from bot.i18n import N_, negotiate_locale, use_locale
from bot.i18n import gettext as _
from storage import storage_fault

log = logging.getLogger(__name__)

ATTEMPTS = 2  # an update that fails this many times is quarantined
NOT_SAVED = N_(
    "Sorry, we could not save that just now, so nothing has changed. "
    "Please send it again in a few minutes."
)
WENT_WRONG = N_(
    "Sorry, something went wrong on our side. Nothing you sent is lost: "
    "please try again in a moment."
)


async def on_error(update: object, context: SupportContext) -> None:
    """Log an exception from a handler or job and answer the user, if there is one."""
    error = context.error
    if error is None:
        return
    update_id = update.update_id if isinstance(update, Update) else None
    where = f"Update {update_id}" if update_id is not None else "A job"
    # BadRequest is a NetworkError in PTB, but a 400 is our mistake: apologise and log it.
    if isinstance(error, Forbidden) or (
        isinstance(error, NetworkError) and not isinstance(error, BadRequest)
    ):
        # Telegram hiccups are retried by PTB or the outbox; a blocked bot is not a bug.
        log.warning("%s: Telegram error: %s", where, error)
        return
    cause = storage_fault(error)
    if cause is not None:
        log.warning("%s not handled: the database refused a write (%s)", where, cause)
        log.debug("The traceback", exc_info=error)
        health = context.bot_data.health
        health.failed(error, f"handling update {update_id}" if update_id else "running a job")
        if isinstance(update, Update):
            health.owe_handled(update.update_id)
            await _tell(update, context, NOT_SAVED)
            raise ApplicationHandlerStop
        return
    if not isinstance(update, Update):
        log.error("%s failed: %s", where, describe(error))
        log.debug("The traceback", exc_info=error)
        return
    failures = context.bot_data.failures
    attempts = failures.get(update.update_id, 0) + 1
    failures[update.update_id] = attempts
    if attempts < ATTEMPTS:
        log.error("%s failed (%s); trying it once more", where, describe(error))
        log.debug("The traceback", exc_info=error)
        try:
            await context.application.process_update(update)
        finally:
            failures.pop(update.update_id, None)
        # The second run went through every handler itself: none of this run's may follow.
        raise ApplicationHandlerStop
    log.error("%s failed again (%s); quarantined", where, describe(error))
    log.debug("The traceback", exc_info=error)
    try:
        await context.desk.quarantine_update(
            update.update_id, masked(update.to_dict()), describe(error), attempts
        )
    except Exception as exc:
        if storage_fault(exc) is None:
            raise
        context.bot_data.health.failed(exc, f"quarantining update {update.update_id}")
    await _tell(update, context, WENT_WRONG)
    raise ApplicationHandlerStop


async def _tell(update: Update, context: SupportContext, text: str) -> None:
    """Say `text` (marked with N_) to a customer (only in a private chat), in their language."""
    chat = update.effective_chat
    if chat is None or chat.type != chat.PRIVATE:
        return
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except TelegramError:
            log.debug("The callback query was already answered or expired")
    with use_locale(await _locale(update, context)):
        message = _(text)
    try:
        await context.bot.send_message(chat.id, message)
    except TelegramError as exc:
        log.warning("Could not tell the user about the error: %s", exc)


async def _locale(update: Update, context: SupportContext) -> str:
    """The user's language, even when the middleware could not run (it writes first)."""
    if context.user is not None:
        return context.locale
    desk = context.desk
    sender = update.effective_user
    try:
        user = await desk.user(sender.id) if sender is not None else None
        if user is not None:
            return await desk.locale_for(user)
        default = await desk.default_locale()
    except Exception as exc:  # an unreadable file: Telegram's word for the language
        if storage_fault(exc) is None:
            raise
        default = desk.settings.default_locale
    return negotiate_locale(sender.language_code if sender else None, default)

"""The desk's clock: a JobQueue job that announces missed response targets and posts cards.

Everything it needs is in the database (due times, what was announced), so a restart
loses nothing: the first run after start-up catches up.
"""

from __future__ import annotations

import logging

from telegram.error import TelegramError
from telegram.ext import Application

from bot.context import SupportContext
from bot.domain.models import RelayKind
from bot.i18n import format_time, use_locale
from bot.i18n import gettext as _
from bot.texts import priority_label

log = logging.getLogger(__name__)

JOB_NAME = "sweep"


async def sweep(context: SupportContext) -> None:
    """Post missing cards, then announce each breached response target once."""
    desk, relay = context.desk, context.relay
    admin_chat = await desk.admin_chat_id()
    if admin_chat is None:
        return
    for ticket in await desk.tickets.unposted(admin_chat):
        try:
            await relay.ensure_posted(context.bot, ticket.number)
        except TelegramError as exc:
            log.warning("Could not post the card of %s yet: %s", ticket.ref, exc)
    for ticket in await desk.tickets.breached(desk.clock()):
        # Marked first: an announcement is made at most once, even if the send fails.
        if not await desk.tickets.mark_breach_announced(ticket.number, desk.clock()):
            continue
        with use_locale(await relay.admin_locale()):
            text = _(
                "⏰ Response target missed: <b>{ref}</b> ({priority}) was due {due} and has "
                "no answer yet."
            ).format(
                ref=ticket.ref,
                priority=priority_label(ticket.priority),
                due=format_time(ticket.first_response_due_at, desk.timezone),
            )
            try:
                await relay.send_to_thread(context.bot, ticket.number, text, kind=RelayKind.NOTICE)
            except TelegramError as exc:
                log.warning("Could not announce the breach of %s: %s", ticket.ref, exc)


def schedule(application: Application, interval: float) -> None:  # type: ignore[type-arg]
    assert application.job_queue is not None
    application.job_queue.run_repeating(sweep, interval=interval, first=1.0, name=JOB_NAME)

"""Operators (`OPERATOR_IDS`): the languages, the figures, the export, data requests, audits."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

from telegram import Chat, InputFile, Update
from telegram.ext import CommandHandler

from bot.chart import chart_title, render_chart
from bot.config import SUPPORTED_LOCALES
from bot.context import SupportApp, SupportContext
from bot.domain.export import ENCODING, EXPORT_PERIODS, write_csv
from bot.domain.models import AnswerFile, AttachmentKind
from bot.domain.stats import parse_period
from bot.i18n import format_number, ngettext, use_locale
from bot.i18n import gettext as _
from bot.stats_text import render_stats
from bot.texts import language_in_text
from handlers.answers import answer_agent
from handlers.commands import publish_commands


async def _operator(update: Update, context: SupportContext) -> bool:
    user = update.effective_user
    if user is not None and context.desk.is_operator(user.id):
        return True
    assert update.effective_message is not None
    await _answer(update, context, _("Only operators can do that."))
    return False


async def _in_staff_chat(update: Update, context: SupportContext) -> bool:
    """Whether the desk's data may be shown here: to an operator, in a private chat or the
    agents' chat, never in a group where others read along."""
    if not await _operator(update, context):
        return False
    chat = update.effective_chat
    assert chat is not None
    if chat.type == Chat.PRIVATE or chat.id == await context.desk.admin_chat_id():
        return True
    await _answer(
        update,
        context,
        _("Ask me in a private chat or in the agents' chat: others can read along here."),
    )
    return False


async def _answer(update: Update, context: SupportContext, text: str) -> None:
    """Answer where the operator asked: in the agents' chat through the outbox (a handler
    there never waits for the group's budget), elsewhere directly."""
    message = update.effective_message
    assert message is not None
    if message.chat.type != Chat.PRIVATE and message.chat_id == await context.desk.admin_chat_id():
        await answer_agent(context, message, text)
    else:
        await message.reply_text(text)


async def _send_file(
    update: Update, context: SupportContext, file: AnswerFile, caption: str
) -> None:
    """Send a photo or document where the operator asked (the agents' chat: the outbox)."""
    message = update.effective_message
    assert message is not None
    if message.chat.type != Chat.PRIVATE:
        await answer_agent(context, message, caption, file=file)
        return
    upload = InputFile(io.BytesIO(file.data), filename=file.name)
    if file.kind is AttachmentKind.PHOTO:
        await message.reply_photo(upload, caption=caption)
    else:
        await message.reply_document(upload, caption=caption)


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
    if not await _operator(update, context):
        return
    args = [arg.lower() for arg in context.args or []]
    for_agents = bool(args) and args[0] == "admin"
    if for_agents:
        args = args[1:]
    if len(args) != 1 or args[0] not in SUPPORTED_LOCALES:
        await _answer(update, context, _locale_usage())
        return
    locale = args[0]
    if for_agents:
        await context.desk.set_admin_locale(locale)
    else:
        await context.desk.set_default_locale(locale)
    # The menus follow: the agents' and operators' for the one, the customers' for the other.
    await publish_commands(context.bot, context.desk)
    with use_locale(locale):
        if for_agents:
            done = _("The agents' chat is now in {language}.")
        else:
            done = _("Customers whose language we don't speak are now answered in {language}.")
        done = done.format(language=language_in_text(locale))
    await _answer(update, context, done)


def _stats_usage() -> str:
    return _("Give the period as 7d, 30d or 90d: /stats 30d. Without one, the last 7 days.")


async def stats(update: Update, context: SupportContext) -> None:
    """Show the figures of the last 7, 30 or 90 days (/stats [7d|30d|90d]), with a chart."""
    if not await _in_staff_chat(update, context):
        return
    args = context.args or []
    days = parse_period(args[0] if args else None) if len(args) <= 1 else None
    if days is None:
        await _answer(update, context, _stats_usage())
        return
    figures = await context.desk.stats(days)
    settings = context.desk.settings
    await _answer(update, context, render_stats(figures, settings))
    # Drawing takes a few hundred milliseconds of CPU: off the event loop (the locale's
    # context variable goes along).
    png = await asyncio.to_thread(render_chart, figures, settings)
    if png is not None:
        chart = AnswerFile(AttachmentKind.PHOTO, "desk-figures.png", png)
        await _send_file(update, context, chart, chart_title(figures))


# Telegram takes documents up to 50 MB from a bot; a larger export is for the command line.
MAX_EXPORT_BYTES = 45 * 1024 * 1024


def _export_usage() -> str:
    return _(
        "Give the period as 7d, 30d or all, and add full for the messages too: "
        "/export 30d full. Without a period, every ticket."
    )


async def export(update: Update, context: SupportContext) -> None:
    """Send the tickets as a CSV file (/export [7d|30d|all] [full])."""
    if not await _in_staff_chat(update, context):
        return
    args = [arg.lower() for arg in context.args or []]
    full = "full" in args
    periods = [arg for arg in args if arg != "full"]
    if len(periods) > 1 or any(p not in EXPORT_PERIODS for p in periods):
        await _answer(update, context, _export_usage())
        return
    days = EXPORT_PERIODS[periods[0]] if periods else None
    desk = context.desk
    now = desk.clock()
    since = None if days is None else now - timedelta(days=days)
    buffer = io.StringIO(newline="")
    count = await write_csv(
        desk.tickets.export_batches(since, full=full),
        buffer,
        tz=desk.settings.tz,
        now=now,
        full=full,
    )
    data = buffer.getvalue().encode(ENCODING)
    if len(data) > MAX_EXPORT_BYTES:
        await _answer(
            update,
            context,
            _(
                "That export is too large to send here. Choose a shorter period, or run "
                "python -m bot export on the server."
            ),
        )
        return
    caption = ngettext("%(count)s ticket", "%(count)s tickets", count) % {
        "count": format_number(count)
    }
    name = f"tickets-{now.astimezone(desk.settings.tz):%Y-%m-%d}.csv"
    await _send_file(update, context, AnswerFile(AttachmentKind.DOCUMENT, name, data), caption)


def register(application: SupportApp) -> None:
    application.add_handler(CommandHandler("locale", set_locale))
    application.add_handler(CommandHandler("stats", stats))
    application.add_handler(CommandHandler("export", export))

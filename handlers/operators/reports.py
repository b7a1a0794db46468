"""The desk's figures and its tickets for an operator: /stats (with a chart) and /export
(a CSV file)."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

from telegram import Chat, InputFile, Update

from bot.channels.telegram.context import SupportContext
from bot.chart import chart_title, render_chart
from bot.domain.export import ENCODING, EXPORT_PERIODS, write_csv
from bot.domain.models import AnswerFile, AttachmentKind
from bot.domain.stats import parse_period
from bot.i18n import format_number, ngettext
from bot.i18n import gettext as _
from bot.stats_text import render_stats
from handlers.answers import answer_agent
from handlers.operators.common import answer, in_staff_chat


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


def _stats_usage() -> str:
    return _("Give the period as 7d, 30d or 90d: /stats 30d. Without one, the last 7 days.")


async def stats(update: Update, context: SupportContext) -> None:
    """Show the figures of the last 7, 30 or 90 days (/stats [7d|30d|90d]), with a chart."""
    if not await in_staff_chat(update, context):
        return
    args = context.args or []
    days = parse_period(args[0] if args else None) if len(args) <= 1 else None
    if days is None:
        await answer(update, context, _stats_usage())
        return
    figures = await context.desk.stats(days)
    settings = context.desk.settings
    await answer(update, context, render_stats(figures, settings))
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
    if not await in_staff_chat(update, context):
        return
    args = [arg.lower() for arg in context.args or []]
    full = "full" in args
    periods = [arg for arg in args if arg != "full"]
    if len(periods) > 1 or any(p not in EXPORT_PERIODS for p in periods):
        await answer(update, context, _export_usage())
        return
    days = EXPORT_PERIODS[periods[0]] if periods else None
    desk = context.desk
    now = desk.clock()
    since = None if days is None else now - timedelta(days=days)
    buffer = io.StringIO(newline="")
    count = await write_csv(
        desk.export_rows(since, full=full),
        buffer,
        tz=desk.settings.tz,
        now=now,
        full=full,
    )
    data = buffer.getvalue().encode(ENCODING)
    if len(data) > MAX_EXPORT_BYTES:
        await answer(
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
    assert update.effective_user is not None
    await desk.exported(update.effective_user.id, periods[0] if periods else "all", full=full)
    await _send_file(update, context, AnswerFile(AttachmentKind.DOCUMENT, name, data), caption)

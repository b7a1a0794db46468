"""Operators (`OPERATOR_IDS`): the languages, figures and an export of all tickets."""

from __future__ import annotations

import csv
import io

from telegram import Chat, InputFile, Update
from telegram.ext import CommandHandler

from bot.config import SUPPORTED_LOCALES
from bot.context import SupportApp, SupportContext
from bot.i18n import format_duration, format_number, format_share, ngettext, use_locale
from bot.i18n import gettext as _
from bot.texts import agent_status_label, language_in_text
from handlers.answers import answer_agent
from handlers.commands import publish_commands


async def _operator(update: Update, context: SupportContext) -> bool:
    user = update.effective_user
    if user is not None and context.desk.is_operator(user.id):
        return True
    assert update.effective_message is not None
    await _answer(update, context, _("Only operators can do that."))
    return False


async def _answer(update: Update, context: SupportContext, text: str) -> None:
    """Answer where the operator asked: in the agents' chat through the outbox (a handler
    there never waits for the group's budget), in a private chat directly."""
    message = update.effective_message
    assert message is not None
    if message.chat.type == Chat.PRIVATE:
        await message.reply_text(text)
    else:
        await answer_agent(context, message, text)


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


async def stats(update: Update, context: SupportContext) -> None:
    """Show the desk's figures: tickets by status, first response, targets met, ratings."""
    message = update.effective_message
    assert message is not None
    if not await _operator(update, context):
        return
    figures = await context.desk.tickets.figures()
    lines = [_("<b>Desk figures</b>")]
    # The agents' names for the statuses: "Waiting for your reply" is the customer's view.
    for status, count in figures.by_status.items():
        lines.append(f"{agent_status_label(status)}: {format_number(count)}")
    if figures.median_first_response is not None and figures.answered:
        lines.append(
            _("Median first response: {duration}").format(
                duration=format_duration(figures.median_first_response)
            )
        )
        lines.append(
            _("Response targets met: {met} of {total} ({share})").format(
                met=format_number(figures.met),
                total=format_number(figures.answered),
                share=format_share(figures.met / figures.answered),
            )
        )
    else:
        # The line is always there, so the figures read the same before the first answer.
        lines.append(_("Median first response: —, no ticket answered yet"))
    if figures.average_rating is not None:
        lines.append(
            ngettext(
                "Average rating: %(average)s from %(count)s rating",
                "Average rating: %(average)s from %(count)s ratings",
                figures.ratings,
            )
            % {
                "average": format_number(figures.average_rating, decimals=1),
                "count": format_number(figures.ratings),
            }
        )
    await message.reply_text("\n".join(lines))


async def export(update: Update, context: SupportContext) -> None:
    """Send every ticket as a CSV file."""
    message = update.effective_message
    assert message is not None
    if not await _operator(update, context):
        return
    rows = await context.desk.tickets.export_rows()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "number",
            "status",
            "priority",
            "department",
            "subject",
            "customer_id",
            "locale",
            "created_at",
            "first_response_due_at",
            "first_response_at",
            "assignee_id",
            "follow_up_of",
            "rating",
        ]
    )
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8-sig")  # with a BOM, so spreadsheets read UTF-8
    await message.reply_document(
        InputFile(io.BytesIO(data), filename="tickets.csv"),
        caption=ngettext("%(count)d ticket", "%(count)d tickets", len(rows)) % {"count": len(rows)},
    )


def register(application: SupportApp) -> None:
    application.add_handler(CommandHandler("locale", set_locale))
    application.add_handler(CommandHandler("stats", stats))
    application.add_handler(CommandHandler("export", export))

"""`/tickets`: the customer's tickets, newest first, a page at a time."""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.context import SupportContext
from bot.i18n import format_time
from bot.i18n import gettext as _
from bot.texts import status_label
from handlers.callbacks import Callback, pattern, unpack
from handlers.keyboards import main_menu

CB = "tk1"
CB_ACTIONS = frozenset({"page"})
PAGE_SIZE = 5


async def show_tickets(update: Update, context: SupportContext, page: int) -> None:
    """Send one page of the customer's tickets."""
    user = context.require_user()
    assert update.effective_chat is not None
    total = await context.desk.tickets.count_for_customer(user.id)
    if total == 0:
        await context.bot.send_message(
            update.effective_chat.id,
            _("You have no tickets yet. Open one with /new."),
            reply_markup=main_menu(),
        )
        return
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(page, 0), pages - 1)
    tickets = await context.desk.tickets.for_customer(
        user.id, limit=PAGE_SIZE, offset=page * PAGE_SIZE
    )
    lines = [_("<b>Your tickets</b> (page {page} of {pages})").format(page=page + 1, pages=pages)]
    for ticket in tickets:
        lines.append(
            _("<b>{ref}</b> {subject}\n{status} · updated {when}").format(
                ref=ticket.ref,
                subject=escape(ticket.subject),
                status=status_label(ticket.status),
                when=format_time(ticket.updated_at, context.desk.timezone),
            )
        )
    nav = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(
                _("« Newer"), callback_data=Callback(CB, "page", str(page - 1)).pack()
            )
        )
    if page < pages - 1:
        nav.append(
            InlineKeyboardButton(
                _("Older »"), callback_data=Callback(CB, "page", str(page + 1)).pack()
            )
        )
    await context.bot.send_message(
        update.effective_chat.id,
        "\n\n".join(lines),
        reply_markup=InlineKeyboardMarkup([nav]) if nav else None,
    )


async def tickets_command(update: Update, context: SupportContext) -> None:
    """List the customer's tickets, newest first."""
    await show_tickets(update, context, page=0)


async def page_pressed(update: Update, context: SupportContext) -> None:
    """Show another page of the list."""
    query = update.callback_query
    assert query is not None
    callback = unpack(query.data, CB, CB_ACTIONS)
    if callback is None or not callback.arg.isdigit():
        await query.answer(_("This button is no longer valid."), show_alert=True)
        return
    await query.answer()
    await show_tickets(update, context, page=int(callback.arg))


def register(application: Application) -> None:  # type: ignore[type-arg]
    application.add_handler(
        CommandHandler("tickets", tickets_command, filters=filters.ChatType.PRIVATE)
    )
    application.add_handler(CallbackQueryHandler(page_pressed, pattern=pattern(CB)))

"""`/tickets`: the customer's tickets, their history, and Reply / Close / Reopen / Follow-up.

Every button carries a ticket number, and every handler checks that the ticket is the
presser's own: forged or stale button data gets a polite answer and changes nothing.
"""

from __future__ import annotations

import contextlib
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.channels.telegram.context import SupportApp, SupportContext
from bot.domain.lifecycle import Action, IllegalTransitionError
from bot.domain.models import Author, Status, Ticket, TicketMessage
from bot.domain.ticket_core import TicketNotFoundError
from bot.fit import MESSAGE_BUDGET, clip_plain, utf16_len
from bot.i18n import format_time, ngettext
from bot.i18n import gettext as _
from bot.texts import agent_signature, status_label
from handlers.callbacks import TICKETS, stale
from handlers.customers.to_ticket import remember
from handlers.keyboards import main_menu, show_choice, ticket_label

PAGE_SIZE = 5
HISTORY_ITEMS = 12  # the latest entries shown; a Telegram message holds 4096 characters
HISTORY_BODY_BUDGET = 500  # of each message in the history (the full text is stored)


def _button(text: str, action: str, arg: str | int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=TICKETS.pack(action, arg))


async def show_tickets(update: Update, context: SupportContext, page: int) -> None:
    """Send one page of the customer's tickets."""
    user = context.require_user()
    assert update.effective_chat is not None
    total = await context.desk.customer_ticket_count(user.id)
    if total == 0:
        await context.bot.send_message(
            update.effective_chat.id,
            _("You have no tickets yet. Open one with /new."),
            reply_markup=main_menu(),
        )
        return
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(page, 0), pages - 1)
    tickets = await context.desk.customer_tickets_page(
        user.id, limit=PAGE_SIZE, offset=page * PAGE_SIZE
    )
    lines = [_("<b>Your tickets</b> (page {page} of {pages})").format(page=page + 1, pages=pages)]
    rows = []
    for ticket in tickets:
        lines.append(
            _("<b>{ref}</b> {subject}\n{status} · updated {when}").format(
                ref=ticket.ref,
                subject=escape(ticket.subject),
                status=status_label(ticket.status),
                when=format_time(ticket.updated_at, context.desk.timezone),
            )
        )
        rows.append([_button(ticket_label(ticket), "open", ticket.number)])
    nav = []
    if page > 0:
        nav.append(_button(_("« Newer"), "page", page - 1))
    if page < pages - 1:
        nav.append(_button(_("Older »"), "page", page + 1))
    if nav:
        rows.append(nav)
    await context.bot.send_message(
        update.effective_chat.id, "\n\n".join(lines), reply_markup=InlineKeyboardMarkup(rows)
    )


async def tickets_command(update: Update, context: SupportContext) -> None:
    """List the customer's tickets, newest first."""
    await show_tickets(update, context, page=0)


async def _own_ticket(update: Update, context: SupportContext, action: str) -> Ticket | None:
    """The ticket a button names, if it is the presser's own; else answer and None."""
    query = update.callback_query
    assert query is not None
    callback = TICKETS.unpack(query.data)
    ticket = None
    number = None if callback is None else callback.number
    if callback is not None and callback.action == action and number is not None:
        ticket = await context.desk.ticket(number)
    if ticket is None or ticket.customer_id != context.require_user().id:
        await stale(query, alert=True)
        return None
    return ticket


def ticket_keyboard(ticket: Ticket) -> InlineKeyboardMarkup:
    n = ticket.number
    rows: list[list[InlineKeyboardButton]] = []
    if ticket.status in (Status.OPEN, Status.PENDING):
        rows.append([_button(_("↩️ Reply"), "reply", n), _button(_("🔒 Close"), "close", n)])
    elif ticket.status is Status.SOLVED:
        rows.append([_button(_("↩️ Reply"), "reply", n), _button(_("🔓 Reopen"), "reopen", n)])
        rows.append([_button(_("➕ Follow-up"), "follow", n)])
    else:
        rows.append([_button(_("➕ Follow-up"), "follow", n)])
    rows.append([_button(_("« My tickets"), "page", 0)])
    return InlineKeyboardMarkup(rows)


async def history_text(context: SupportContext, ticket: Ticket) -> str:
    """The ticket's story as the customer may see it: messages and status changes."""
    desk = context.desk
    entries: list[tuple[float, int, str]] = []
    agents: dict[int, str] = {}
    for message in await desk.ticket_messages(ticket.number, include_internal=False):
        if message.author is Author.CUSTOMER:
            who = _("You")
        else:
            # Signed as the customer's copy was (bot.channels.telegram.notices), so the two
            # never disagree.
            name = await _agent_name(context, message, agents)
            who = agent_signature(desk.settings.team_name, name)
        label = _("{who} (edited)").format(who=who) if message.edit_of else who
        files = len(message.attachments)
        body = escape(clip_plain(message.body, HISTORY_BODY_BUDGET)) if message.body else ""
        if files:
            body += (" " if body else "") + ngettext(
                "📎 %(count)d file", "📎 %(count)d files", files
            ) % {"count": files}
        when = format_time(message.created_at, desk.timezone)
        entries.append(
            (message.created_at.timestamp(), message.id, f"<i>{when}</i> · <b>{label}</b>\n{body}")
        )
    for event in await desk.trail(ticket.number):
        if event.kind != "status" or event.to_value is None:
            continue
        when = format_time(event.created_at, desk.timezone)
        status = status_label(Status(event.to_value))
        entries.append(
            (
                event.created_at.timestamp(),
                10**12 + event.id,
                f"<i>{when}</i> · {_('Status: {status}').format(status=status)}",
            )
        )
    entries.sort()
    # The newest entries that fit one message (bodies are already clipped above).
    shown: list[tuple[float, int, str]] = []
    used = 0
    for entry in reversed(entries[-HISTORY_ITEMS:]):
        used += utf16_len(entry[2])
        if used > MESSAGE_BUDGET - 300:
            break
        shown.insert(0, entry)
    header = [
        _("<b>Ticket {ref}</b> · {status}").format(
            ref=ticket.ref, status=status_label(ticket.status)
        ),
        f"<b>{escape(ticket.subject)}</b>",
    ]
    if ticket.follow_up_of is not None:
        header.append(_("Follow-up of #{number}").format(number=ticket.follow_up_of))
    if len(entries) > len(shown):
        header.append(_("(latest {count} entries)").format(count=len(shown)))
    return "\n".join(header) + "\n\n" + "\n\n".join(e[2] for e in shown)


async def _agent_name(
    context: SupportContext, message: TicketMessage, known: dict[int, str]
) -> str:
    """The first name of the agent who wrote `message` ("" if unknown), looked up once."""
    if message.author_id is None:
        return ""
    if message.author_id not in known:
        agent = await context.desk.user(message.author_id)
        known[message.author_id] = agent.first_name if agent else ""
    return known[message.author_id]


async def open_ticket(update: Update, context: SupportContext) -> None:
    """Show one of the customer's tickets with its history and what can be done."""
    ticket = await _own_ticket(update, context, "open")
    if ticket is None:
        return
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    await query.answer()
    view = await context.bot.send_message(
        update.effective_chat.id,
        await history_text(context, ticket),
        reply_markup=ticket_keyboard(ticket),
    )
    await remember(context, ticket, view)


async def page_pressed(update: Update, context: SupportContext) -> None:
    """Show another page of the list."""
    query = update.callback_query
    assert query is not None
    callback = TICKETS.unpack(query.data)
    page = None if callback is None else callback.number
    if page is None:
        await stale(query, alert=True)
        return
    await query.answer()
    await show_tickets(update, context, page=page)


async def _customer_action(update: Update, context: SupportContext, action: Action) -> None:
    name = {Action.CLOSE: "closeyes", Action.REOPEN: "reopen"}[action]
    ticket = await _own_ticket(update, context, name)
    if ticket is None:
        return
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    try:
        change = await context.desk.service.customer_action(
            ticket.number, context.require_user().id, action
        )
    except (IllegalTransitionError, TicketNotFoundError):
        await query.answer(
            _("Ticket {ref} is {status}: that is not possible now.").format(
                ref=ticket.ref, status=status_label(ticket.status)
            ),
            show_alert=True,
        )
        return
    await query.answer()
    if action is Action.CLOSE:
        await show_choice(query)
    sent = await context.bot.send_message(
        update.effective_chat.id,
        _("Ticket {ref} is now: {status}.").format(
            ref=change.after.ref, status=status_label(change.after.status)
        ),
        reply_markup=ticket_keyboard(change.after),
    )
    await remember(context, change.after, sent)


async def close_pressed(update: Update, context: SupportContext) -> None:
    """Ask before closing: a closed ticket can't be reopened."""
    ticket = await _own_ticket(update, context, "close")
    if ticket is None:
        return
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    if ticket.status is Status.CLOSED:
        # An old view's button: there is nothing left to confirm.
        await query.answer(
            _("Ticket {ref} is already closed.").format(ref=ticket.ref), show_alert=True
        )
        return
    await query.answer()
    await context.bot.send_message(
        update.effective_chat.id,
        _(
            "Close ticket {ref}? A closed ticket can't be reopened; if you need us again, "
            "you can open a follow-up."
        ).format(ref=ticket.ref),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    # Two buttons share the row: each label must fit half a phone's width.
                    _button(_("🔒 Yes, close it"), "closeyes", ticket.number),
                    _button(_("No, keep it open"), "keep", ticket.number),
                ]
            ]
        ),
    )


async def close_confirmed(update: Update, context: SupportContext) -> None:
    """Close the ticket (the customer's own)."""
    await _customer_action(update, context, Action.CLOSE)


async def keep_open(update: Update, context: SupportContext) -> None:
    """Leave the ticket as it is, and say so where the question was."""
    ticket = await _own_ticket(update, context, "keep")
    if ticket is None:
        return
    query = update.callback_query
    assert query is not None
    await query.answer()
    await show_choice(query)


async def reopen_pressed(update: Update, context: SupportContext) -> None:
    """Reopen a solved ticket (the customer's own)."""
    await _customer_action(update, context, Action.REOPEN)


# Reply: what the customer sends next goes to that ticket, until Done, /cancel or a pause.


def _done_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[_button(_("✅ Done"), "replydone", 0)]])


async def reply_pressed(update: Update, context: SupportContext) -> None:
    """Ask for the messages to add to the ticket: Reply mode, which lives in the database
    (the customer's row names the ticket and when Reply last heard from them), so every
    worker and every restart sees it; `customer_replies.customer_message` follows it."""
    ticket = await _own_ticket(update, context, "reply")
    if ticket is None:
        return
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    if ticket.status is Status.CLOSED:
        await query.answer(
            _("Ticket {ref} is closed: open a follow-up instead.").format(ref=ticket.ref),
            show_alert=True,
        )
        return
    await query.answer()
    await context.desk.set_reply_target(context.require_user().id, ticket.number)
    prompt = await context.bot.send_message(
        update.effective_chat.id,
        _(
            "Write your message for ticket {ref}. You can also send photos or documents, "
            "several if you like. Press Done when you have finished."
        ).format(ref=ticket.ref),
        reply_markup=_done_keyboard(),
    )
    await remember(context, ticket, prompt)


async def reply_done(update: Update, context: SupportContext) -> None:
    """Finish adding to the ticket (Done on any Reply prompt, also after Reply ended)."""
    await context.desk.set_reply_target(context.require_user().id, None)
    query = update.callback_query
    assert query is not None
    await query.answer(_("Thank you!"))
    if query.message is not None:
        with contextlib.suppress(TelegramError):
            await query.edit_message_reply_markup(reply_markup=None)


def register(application: SupportApp) -> None:
    application.add_handler(CallbackQueryHandler(reply_pressed, pattern=TICKETS.pattern("reply")))
    application.add_handler(
        CommandHandler("tickets", tickets_command, filters=filters.ChatType.PRIVATE)
    )
    application.add_handler(CallbackQueryHandler(open_ticket, pattern=TICKETS.pattern("open")))
    application.add_handler(CallbackQueryHandler(close_pressed, pattern=TICKETS.pattern("close")))
    application.add_handler(
        CallbackQueryHandler(close_confirmed, pattern=TICKETS.pattern("closeyes"))
    )
    application.add_handler(CallbackQueryHandler(keep_open, pattern=TICKETS.pattern("keep")))
    application.add_handler(CallbackQueryHandler(reopen_pressed, pattern=TICKETS.pattern("reopen")))
    application.add_handler(CallbackQueryHandler(reply_done, pattern=TICKETS.pattern("replydone")))
    application.add_handler(CallbackQueryHandler(page_pressed, pattern=TICKETS.pattern()))

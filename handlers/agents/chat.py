"""The agents' side, in the bound admin chat: replies, notes, status, priority, queue, bans.

Only the bound chat's members reach these handlers: the gate (`handlers/gate.py`) stops
everything else first. A ticket is found from the message's forum topic, from the bot
message it replies to, or from a number given as an argument.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine
from html import escape, unescape
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.channels.telegram.cards import card_keyboard, card_text
from bot.channels.telegram.context import SupportApp, SupportContext
from bot.domain.lifecycle import Action, IllegalTransitionError
from bot.domain.models import Author, Priority, RelayKind, Status, Ticket
from bot.domain.ticket_core import Change, DuplicateMessageError, NothingToChangeError
from bot.faq_text import render_answer
from bot.i18n import format_time, use_locale
from bot.i18n import gettext as _
from bot.texts import agent_status_label, priority_label
from handlers.answers import NOTED, acknowledge, answer_agent
from handlers.callbacks import CARD_BUTTONS, QUEUE, parse_id, stale
from handlers.media import attachment_of, is_relayable

log = logging.getLogger(__name__)

GROUPS = filters.ChatType.GROUPS
QUEUE_PAGE = 10


async def _in_admin_chat(update: Update, context: SupportContext) -> bool:
    """Whether the update comes from the bound admin chat (a second line behind the gate)."""
    chat = update.effective_chat
    return chat is not None and chat.id == await context.desk.admin_chat_id()


# Finding the ticket


def _number_arg(args: list[str]) -> int | None:
    return parse_id(args[0]) if args else None


async def _context_ticket(message: Message, context: SupportContext) -> Ticket | None:
    """The ticket of the topic the message is in, or of the bot message it replies to."""
    desk = context.desk
    # Plain groups set message_thread_id on reply threads too; no ticket has such a thread
    # there (admin_thread_id is only set in forums), so the lookup simply finds nothing.
    if message.message_thread_id is not None:
        ticket = await desk.tickets.by_thread(message.chat_id, message.message_thread_id)
        if ticket is not None:
            return ticket
    reply = message.reply_to_message
    # In a forum every message "replies" to its topic's first message; only a real reply
    # (to a message other than the thread root) names a ticket here.
    if reply is not None and reply.message_id != message.message_thread_id:
        relay = await desk.tickets.relay_by_admin_message(message.chat_id, reply.message_id)
        if relay is not None:
            return await desk.tickets.get(relay.ticket_number)
        number = _card_number(reply, context.bot.id)
        if number is not None:
            return await desk.tickets.get(number)
    return None


def _card_number(reply: Message, bot_id: int) -> int | None:
    """The ticket of a card the desk does not know it sent, from the card's own buttons.

    A card Telegram accepted is written down a moment later; one sent just before a kill
    never is, and is sent again after the restart. A reply to it (or to any card in that
    moment) still reaches its ticket: the card's buttons carry the ticket's number.
    """
    if reply.from_user is None or reply.from_user.id != bot_id or reply.reply_markup is None:
        return None
    for row in reply.reply_markup.inline_keyboard:
        for button in row:
            data = button.callback_data if isinstance(button.callback_data, str) else None
            callback = CARD_BUTTONS.unpack(data)
            if callback is not None:
                return parse_id(callback.arg)
    return None


async def _target(
    update: Update, context: SupportContext, *, context_first: bool = False
) -> tuple[Ticket | None, list[str]]:
    """The ticket a command is about, and the arguments left after its number."""
    message = update.effective_message
    assert message is not None
    args = list(context.args or [])
    from_context = await _context_ticket(message, context)
    number = _number_arg(args)
    written = args[0].removeprefix("#") if args else ""
    if number is None and written.isdigit() and from_context is None:
        # Digits, but none a ticket can have ("²", twenty nines): no such ticket.
        await answer_agent(
            context, message, _("There is no ticket #{number}.").format(number=escape(written))
        )
        return None, args
    if number is not None and not (context_first and from_context is not None):
        ticket = await context.desk.tickets.get(number)
        if ticket is None:
            await answer_agent(
                context, message, _("There is no ticket #{number}.").format(number=number)
            )
            return None, args
        return ticket, args[1:]
    if from_context is None:
        await answer_agent(
            context,
            message,
            _(
                "Which ticket? Reply to one of its messages, write inside its topic, or give "
                "its number, like {example}."
            ).format(example=f"/{_command_name(message)} 1001"),
        )
    return from_context, args


def _command_name(message: Message) -> str:
    text = message.text or ""
    return text.split()[0].lstrip("/").split("@")[0] if text.startswith("/") else "ticket"


def _agent(update: Update) -> tuple[int, str]:
    user = update.effective_user
    assert user is not None
    return user.id, user.first_name


# Replies


async def agent_message(update: Update, context: SupportContext) -> None:
    """Deliver an agent's reply in a ticket's thread to the customer (through the outbox)."""
    message = update.effective_message
    assert message is not None
    ticket = await _context_ticket(message, context)
    if ticket is None:
        await _hint_no_ticket(update, context, message)
        return
    if not is_relayable(message):
        await answer_agent(
            context, message, _("Only text, photos and documents can be sent to the customer.")
        )
        return
    agent_id, agent_name = _agent(update)
    attachment = attachment_of(message)
    try:
        await context.desk.service.agent_reply(
            ticket.number,
            agent_id,
            message.text or message.caption or "",
            [attachment] if attachment else [],
            tg_chat_id=message.chat_id,
            tg_message_id=message.message_id,
            agent_name=agent_name,
        )
    except DuplicateMessageError:
        return  # the same update again: it was delivered the first time
    except IllegalTransitionError:
        await answer_agent(
            context,
            message,
            _(
                "{ref} is closed, so nothing was sent. The customer can continue in a "
                "follow-up ticket."
            ).format(ref=ticket.ref),
        )


async def _hint_no_ticket(update: Update, context: SupportContext, message: Message) -> None:
    """Say (now and then, not every time) that a message reached no customer."""
    user = update.effective_user
    if user is None or not context.relay.may_hint(message.chat_id, user.id):
        return
    await answer_agent(
        context,
        message,
        _(
            "This message belongs to no ticket, so no customer sees it. To answer a customer, "
            "reply to a message of their ticket or write in its topic."
        ),
    )


async def agent_edit(update: Update, context: SupportContext) -> None:
    """Carry an agent's edit of a relayed reply to the customer's copy."""
    message = update.edited_message
    if message is None or update.effective_user is None:
        return
    recorded = await context.desk.service.record_edit(
        Author.AGENT,
        update.effective_user.id,
        message.chat_id,
        message.message_id,
        message.text or message.caption or "",
    )
    if recorded is None:
        # Agents edit their own chat talk too: nothing to carry, nothing to say.
        log.info("Edit of message %s in the agents' chat belongs to no ticket", message.message_id)


# Commands and card buttons


async def _after(context: SupportContext, change: Change, reply_to: Message | None) -> None:
    """Confirm to the agent (the card and the customer are told through the outbox)."""
    if reply_to is not None:
        await acknowledge(
            context,
            reply_to,
            _("{ref}: {status}.").format(
                ref=change.after.ref, status=agent_status_label(change.after.status)
            ),
        )


async def _status_action(
    context: SupportContext, ticket: Ticket, action: Action, agent_id: int, reply_to: Message | None
) -> str | None:
    """Solve, close or reopen; return an error to show, or None."""
    try:
        change = await context.desk.service.apply(ticket.number, action, Author.AGENT, agent_id)
    except IllegalTransitionError as exc:
        return _illegal_text(ticket, exc)
    await _after(context, change, reply_to)
    return None


def _illegal_text(ticket: Ticket, exc: IllegalTransitionError) -> str:
    if exc.status is Status.CLOSED:
        return _(
            "{ref} is closed and can't be changed any more. The customer can open a "
            "follow-up ticket."
        ).format(ref=ticket.ref)
    return _("{ref} is {status}: that is not possible now.").format(
        ref=ticket.ref, status=agent_status_label(exc.status)
    )


def _status_command(
    action: Action,
) -> Callable[[Update, SupportContext], Coroutine[Any, Any, None]]:
    async def command(update: Update, context: SupportContext) -> None:
        ticket, _args = await _target(update, context)
        if ticket is None:
            return
        message = update.effective_message
        assert message is not None
        error = await _status_action(context, ticket, action, _agent(update)[0], message)
        if error:
            await answer_agent(context, message, error)

    command.__doc__ = f"{action.value.capitalize()} the ticket."
    return command


async def note(update: Update, context: SupportContext) -> None:
    """Keep an internal note on the ticket (never sent to the customer)."""
    message = update.effective_message
    assert message is not None
    ticket, args = await _target(update, context, context_first=True)
    if ticket is None:
        return
    text = " ".join(args).strip()
    if not text:
        await answer_agent(
            context, message, _("Write the note after the command: /note &lt;text&gt;")
        )
        return
    agent_id, _name = _agent(update)
    await context.desk.service.note(ticket.number, agent_id, text)
    # The note itself stands in the thread: a reply to it belongs to the ticket too.
    await context.relay.remember(ticket.number, RelayKind.NOTE, message)
    await acknowledge(
        context,
        message,
        _("📝 Internal note on {ref} (not sent to the customer).").format(ref=ticket.ref),
        NOTED,
    )


async def assign(update: Update, context: SupportContext) -> None:
    """Take the ticket."""
    ticket, _args = await _target(update, context)
    if ticket is None:
        return
    message = update.effective_message
    assert message is not None
    await _assign(context, ticket, _agent(update)[0], message)


async def _assign(
    context: SupportContext, ticket: Ticket, agent_id: int, reply_to: Message | None
) -> str | None:
    try:
        change = await context.desk.service.assign(ticket.number, agent_id)
    except NothingToChangeError:
        text = _("{ref} is already yours.").format(ref=ticket.ref)
        if reply_to is not None:
            await answer_agent(context, reply_to, text)
        return text
    except IllegalTransitionError as exc:
        text = _illegal_text(ticket, exc)
        if reply_to is not None:
            await answer_agent(context, reply_to, text)
        return text
    if reply_to is not None:
        await acknowledge(
            context, reply_to, _("{ref} is now assigned to you.").format(ref=change.after.ref)
        )
    return None


async def priority(update: Update, context: SupportContext) -> None:
    """Change the priority: /priority <low|medium|high|critical>."""
    message = update.effective_message
    assert message is not None
    ticket, args = await _target(update, context)
    if ticket is None:
        return
    levels = ", ".join(p.value for p in Priority)
    if not args or args[0].lower() not in {p.value for p in Priority}:
        await answer_agent(
            context,
            message,
            _("Give one of: {levels}. For example: /priority high").format(levels=levels),
        )
        return
    try:
        change = await context.desk.service.set_priority(
            ticket.number, Priority(args[0].lower()), _agent(update)[0]
        )
    except NothingToChangeError:
        await answer_agent(
            context, message, _("{ref} already has that priority.").format(ref=ticket.ref)
        )
        return
    except IllegalTransitionError as exc:
        await answer_agent(context, message, _illegal_text(ticket, exc))
        return
    await acknowledge(
        context,
        message,
        _("{ref}: priority {priority}, first answer due {when}.").format(
            ref=change.after.ref,
            priority=priority_label(change.after.priority),
            when=format_time(change.after.first_response_due_at, context.desk.timezone),
        ),
    )


async def show_ticket(update: Update, context: SupportContext) -> None:
    """Show a ticket's card: /ticket <number>."""
    message = update.effective_message
    assert message is not None
    ticket, _args = await _target(update, context)
    if ticket is None:
        return
    customer = await context.desk.users.get(ticket.customer_id)
    text = await card_text(context.desk, ticket, customer)
    await answer_agent(
        context,
        message,
        text,
        keyboard=card_keyboard(ticket),
        ticket_number=ticket.number,
    )


async def queue(update: Update, context: SupportContext) -> None:
    """List open and pending tickets, most urgent first."""
    message = update.effective_message
    assert message is not None
    text, keyboard = await _queue_page(context, 0)
    await answer_agent(context, message, text, keyboard=keyboard)


async def _queue_page(
    context: SupportContext, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of the queue, and the buttons to the pages beside it."""
    total = await context.desk.tickets.count_queue()
    if total == 0:
        return _("The queue is empty: no open tickets."), None
    pages = (total + QUEUE_PAGE - 1) // QUEUE_PAGE
    page = min(max(page, 0), pages - 1)
    tickets = await context.desk.tickets.queue(limit=QUEUE_PAGE, offset=page * QUEUE_PAGE)
    now = context.desk.clock()
    lines = [
        _("<b>Queue</b> ({total} open, page {page} of {pages})").format(
            total=total, page=page + 1, pages=pages
        )
    ]
    for ticket in tickets:
        due = format_time(ticket.first_response_due_at, context.desk.timezone)
        late = ticket.first_response_at is None and ticket.first_response_due_at <= now
        flag = "⏰ " if late else ""
        lines.append(
            _("{flag}<b>{ref}</b> [{priority}] {subject}\n{status} · due {due}").format(
                flag=flag,
                ref=ticket.ref,
                priority=priority_label(ticket.priority),
                subject=escape(ticket.subject),
                status=agent_status_label(ticket.status),
                due=due,
            )
        )
    nav = []
    if page > 0:
        nav.append(InlineKeyboardButton("«", callback_data=QUEUE.pack("page", page - 1)))
    if page < pages - 1:
        nav.append(InlineKeyboardButton("»", callback_data=QUEUE.pack("page", page + 1)))
    return "\n\n".join(lines), InlineKeyboardMarkup([nav]) if nav else None


async def queue_page(update: Update, context: SupportContext) -> None:
    """Turn the queue's message to another page (edited in place, through the outbox)."""
    query = update.callback_query
    assert query is not None
    callback = QUEUE.unpack(query.data)
    page = None if callback is None else callback.number
    if page is None or query.message is None or not await _in_admin_chat(update, context):
        await stale(query, alert=True)
        return
    await query.answer()
    text, keyboard = await _queue_page(context, page)
    await context.desk.answer_agent(
        query.message.chat.id,
        text,
        keyboard=keyboard.to_dict() if keyboard is not None else None,
        edit_message_id=query.message.message_id,
    )


async def ban(update: Update, context: SupportContext) -> None:
    """Ban a customer (/ban in their ticket, or /ban <user id>)."""
    await _ban(update, context, banned=True)


async def unban(update: Update, context: SupportContext) -> None:
    """Lift a ban (/unban in their ticket, or /unban <user id>)."""
    await _ban(update, context, banned=False)


async def _ban(update: Update, context: SupportContext, *, banned: bool) -> None:
    message = update.effective_message
    assert message is not None
    args = list(context.args or [])
    # A known user's id ("#1001" is always a ticket); otherwise a number names a ticket.
    user_id = parse_id(args[0]) if args and not args[0].startswith("#") else None
    if user_id is None or await context.desk.users.get(user_id) is None:
        ticket, _args = await _target(update, context)
        if ticket is None:
            return
        user_id = ticket.customer_id
    if context.desk.is_operator(user_id):
        await answer_agent(context, message, _("An operator can't be banned."))
        return
    if not await context.desk.ban(user_id, banned, by=_agent(update)[0]):
        await answer_agent(
            context, message, _("I don't know a customer with the id {id}.").format(id=user_id)
        )
        return
    if banned:
        done = _("Customer {id} is banned: they can't open tickets any more.").format(id=user_id)
    else:
        done = _("Customer {id} may open tickets again.").format(id=user_id)
    await acknowledge(context, message, done)


async def card_pressed(update: Update, context: SupportContext) -> None:
    """Act on a card button: take, solve, close or reopen."""
    query = update.callback_query
    assert query is not None
    callback = CARD_BUTTONS.unpack(query.data)
    number = None if callback is None else callback.number
    if callback is None or number is None or not await _in_admin_chat(update, context):
        await stale(query, alert=True)
        return
    ticket = await context.desk.tickets.get(number)
    if ticket is None:
        await stale(query, alert=True)
        return
    agent_id = _agent(update)[0]
    if callback.action == "assign":
        error = await _assign(context, ticket, agent_id, None)
    else:
        action = {"solve": Action.SOLVE, "close": Action.CLOSE, "reopen": Action.REOPEN}[
            callback.action
        ]
        error = await _status_action(context, ticket, action, agent_id, None)
    await query.answer(error or _("Done."), show_alert=bool(error))


async def faq_answer(update: Update, context: SupportContext) -> None:
    """Send an FAQ answer to the ticket's customer, in the customer's language: /faq <key>."""
    message = update.effective_message
    assert message is not None
    ticket, args = await _target(update, context, context_first=True)
    if ticket is None:
        return
    keys = context.desk.faq.keys()
    if not args or args[0] not in keys:
        await answer_agent(
            context, message, _("Unknown FAQ key. Use one of: {keys}").format(keys=", ".join(keys))
        )
        return
    customer = await context.desk.users.get(ticket.customer_id)
    locale = await context.desk.locale_for(customer) if customer else ticket.locale
    entry = context.desk.faq.entry(locale, args[0])
    assert entry is not None
    agent_id, agent_name = _agent(update)
    # The customer is in this ticket already: the in-ticket variant, in their language.
    with use_locale(locale):
        answer = render_answer(entry, context.desk.settings, in_ticket=True)
    # The answer's markup is Telegram HTML; the ticket keeps it as plain text.
    body = unescape(re.sub(r"</?[a-z]+>", "", f"{entry.title}\n\n{answer}"))
    try:
        await context.desk.service.agent_reply(ticket.number, agent_id, body, agent_name=agent_name)
    except IllegalTransitionError as exc:
        await answer_agent(context, message, _illegal_text(ticket, exc))
        return
    await acknowledge(
        context,
        message,
        _("Sent the FAQ answer “{title}” to the customer of {ref}.").format(
            title=escape(entry.title), ref=ticket.ref
        ),
    )


async def agent_help(update: Update, context: SupportContext) -> None:
    """Explain the agents' commands."""
    message = update.effective_message
    assert message is not None
    await answer_agent(
        context,
        message,
        _(
            "<b>Agents' commands</b> (reply to a ticket's message, write in its topic, or "
            "give the number first)\n\n"
            "Any message in a ticket's thread goes to the customer.\n"
            "/note &lt;text&gt;: internal note, never sent\n"
            "/assign: take the ticket\n"
            "/priority &lt;low|medium|high|critical&gt;\n"
            "/solve, /close, /reopen\n"
            "/queue: open tickets, most urgent first\n"
            "/ticket &lt;number&gt;: show a ticket\n"
            "/faq &lt;key&gt;: send an FAQ answer in the customer's language\n"
            "/ban, /unban: stop or allow a customer"
        ),
    )


def register(application: SupportApp) -> None:
    """Add the agents' handlers (the gate has already checked chat and membership)."""
    add = application.add_handler
    add(CommandHandler("note", note, filters=GROUPS))
    add(CommandHandler("assign", assign, filters=GROUPS))
    add(CommandHandler("priority", priority, filters=GROUPS))
    add(CommandHandler("solve", _status_command(Action.SOLVE), filters=GROUPS))
    add(CommandHandler("close", _status_command(Action.CLOSE), filters=GROUPS))
    add(CommandHandler("reopen", _status_command(Action.REOPEN), filters=GROUPS))
    add(CommandHandler("queue", queue, filters=GROUPS))
    add(CommandHandler("ticket", show_ticket, filters=GROUPS))
    add(CommandHandler("ban", ban, filters=GROUPS))
    add(CommandHandler("unban", unban, filters=GROUPS))
    add(CommandHandler("faq", faq_answer, filters=GROUPS))
    add(CommandHandler("help", agent_help, filters=GROUPS))
    add(CallbackQueryHandler(card_pressed, pattern=CARD_BUTTONS.pattern()))
    add(CallbackQueryHandler(queue_page, pattern=QUEUE.pattern()))
    add(MessageHandler(GROUPS & filters.UpdateType.EDITED_MESSAGE, agent_edit))
    # Service messages (members joining, topics edited, pins) are nobody's reply.
    add(
        MessageHandler(
            GROUPS & filters.UpdateType.MESSAGE & ~filters.COMMAND & ~filters.StatusUpdate.ALL,
            agent_message,
        )
    )

"""What the agents' handlers share: finding the ticket a message or a command is about,
who is acting, and the status and assignment changes both the commands and the card
buttons make.

Only the bound chat's members reach these handlers: the gate (`handlers/gate.py`) stops
everything else first. A ticket is found from the message's forum topic, from the bot
message it replies to, or from a number given as an argument.
"""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import filters

from bot.channels.telegram.context import SupportContext
from bot.domain.lifecycle import Action, IllegalTransitionError
from bot.domain.models import Author, Status, Ticket
from bot.domain.ticket_core import Change, NothingToChangeError
from bot.i18n import format_time
from bot.i18n import gettext as _
from bot.texts import agent_status_label, priority_label
from handlers.answers import acknowledge, answer_agent
from handlers.callbacks import CARD_BUTTONS, QUEUE, parse_id

GROUPS = filters.ChatType.GROUPS
QUEUE_PAGE = 10


async def in_admin_chat(update: Update, context: SupportContext) -> bool:
    """Whether the update comes from the bound admin chat (a second line behind the gate)."""
    chat = update.effective_chat
    return chat is not None and chat.id == await context.desk.admin_chat_id()


# Finding the ticket


def _number_arg(args: list[str]) -> int | None:
    return parse_id(args[0]) if args else None


async def context_ticket(message: Message, context: SupportContext) -> Ticket | None:
    """The ticket of the topic the message is in, or of the bot message it replies to."""
    desk = context.desk
    # Plain groups set message_thread_id on reply threads too; no ticket has such a thread
    # there (admin_thread_id is only set in forums), so the lookup simply finds nothing.
    if message.message_thread_id is not None:
        ticket = await desk.ticket_in_thread(message.chat_id, message.message_thread_id)
        if ticket is not None:
            return ticket
    reply = message.reply_to_message
    # In a forum every message "replies" to its topic's first message; only a real reply
    # (to a message other than the thread root) names a ticket here.
    if reply is not None and reply.message_id != message.message_thread_id:
        relay = await desk.relay_of_admin_message(message.chat_id, reply.message_id)
        if relay is not None:
            return await desk.ticket(relay.ticket_number)
        number = _card_number(reply, context.bot.id)
        if number is not None:
            return await desk.ticket(number)
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


async def target(
    update: Update, context: SupportContext, *, context_first: bool = False
) -> tuple[Ticket | None, list[str]]:
    """The ticket a command is about, and the arguments left after its number."""
    message = update.effective_message
    assert message is not None
    args = list(context.args or [])
    from_context = await context_ticket(message, context)
    number = _number_arg(args)
    written = args[0].removeprefix("#") if args else ""
    if number is None and written.isdigit() and from_context is None:
        # Digits, but none a ticket can have ("²", twenty nines): no such ticket.
        await answer_agent(
            context, message, _("There is no ticket #{number}.").format(number=escape(written))
        )
        return None, args
    if number is not None and not (context_first and from_context is not None):
        ticket = await context.desk.ticket(number)
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


def acting_agent(update: Update) -> tuple[int, str]:
    user = update.effective_user
    assert user is not None
    return user.id, user.first_name


# Status and assignment: the commands' and the card buttons'


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


async def status_action(
    context: SupportContext, ticket: Ticket, action: Action, agent_id: int, reply_to: Message | None
) -> str | None:
    """Solve, close or reopen; return an error to show, or None."""
    try:
        change = await context.desk.service.apply(ticket.number, action, Author.AGENT, agent_id)
    except IllegalTransitionError as exc:
        return illegal_text(ticket, exc)
    await _after(context, change, reply_to)
    return None


def illegal_text(ticket: Ticket, exc: IllegalTransitionError) -> str:
    if exc.status is Status.CLOSED:
        return _(
            "{ref} is closed and can't be changed any more. The customer can open a "
            "follow-up ticket."
        ).format(ref=ticket.ref)
    return _("{ref} is {status}: that is not possible now.").format(
        ref=ticket.ref, status=agent_status_label(exc.status)
    )


async def assign_ticket(
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
        text = illegal_text(ticket, exc)
        if reply_to is not None:
            await answer_agent(context, reply_to, text)
        return text
    if reply_to is not None:
        await acknowledge(
            context, reply_to, _("{ref} is now assigned to you.").format(ref=change.after.ref)
        )
    return None


# The queue's pages (the /queue command and its buttons)


async def queue_view(context: SupportContext, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of the queue, and the buttons to the pages beside it."""
    total = await context.desk.queue_size()
    if total == 0:
        return _("The queue is empty: no open tickets."), None
    pages = (total + QUEUE_PAGE - 1) // QUEUE_PAGE
    page = min(max(page, 0), pages - 1)
    tickets = await context.desk.queue_page(limit=QUEUE_PAGE, offset=page * QUEUE_PAGE)
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

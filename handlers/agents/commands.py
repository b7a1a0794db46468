"""The agents' commands in the bound admin chat: notes, assignment, status, priority, the
queue, a ticket's card, bans, FAQ answers and /help.

Only the bound chat's members reach these handlers: the gate (`handlers/gate.py`) stops
everything else first. A ticket is found from the message's forum topic, from the bot
message it replies to, or from a number given as an argument (`handlers/agents/common.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from html import escape, unescape
from typing import Any

from telegram import Update

from bot.channels.telegram.cards import card_keyboard, card_text
from bot.channels.telegram.context import SupportContext
from bot.domain.lifecycle import Action, IllegalTransitionError
from bot.domain.models import Priority, RelayKind
from bot.domain.ticket_core import NothingToChangeError
from bot.faq_text import render_answer
from bot.i18n import format_time, use_locale
from bot.i18n import gettext as _
from bot.texts import priority_label
from handlers.agents.common import (
    acting_agent,
    assign_ticket,
    illegal_text,
    queue_view,
    status_action,
    target,
)
from handlers.answers import NOTED, acknowledge, answer_agent
from handlers.callbacks import parse_id


def _status_command(
    action: Action,
) -> Callable[[Update, SupportContext], Coroutine[Any, Any, None]]:
    async def command(update: Update, context: SupportContext) -> None:
        ticket, _args = await target(update, context)
        if ticket is None:
            return
        message = update.effective_message
        assert message is not None
        error = await status_action(context, ticket, action, acting_agent(update)[0], message)
        if error:
            await answer_agent(context, message, error)

    command.__doc__ = f"{action.value.capitalize()} the ticket."
    return command


async def note(update: Update, context: SupportContext) -> None:
    """Keep an internal note on the ticket (never sent to the customer)."""
    message = update.effective_message
    assert message is not None
    ticket, args = await target(update, context, context_first=True)
    if ticket is None:
        return
    text = " ".join(args).strip()
    if not text:
        await answer_agent(
            context, message, _("Write the note after the command: /note &lt;text&gt;")
        )
        return
    agent_id, _name = acting_agent(update)
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
    ticket, _args = await target(update, context)
    if ticket is None:
        return
    message = update.effective_message
    assert message is not None
    await assign_ticket(context, ticket, acting_agent(update)[0], message)


async def priority(update: Update, context: SupportContext) -> None:
    """Change the priority: /priority <low|medium|high|critical>."""
    message = update.effective_message
    assert message is not None
    ticket, args = await target(update, context)
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
            ticket.number, Priority(args[0].lower()), acting_agent(update)[0]
        )
    except NothingToChangeError:
        await answer_agent(
            context, message, _("{ref} already has that priority.").format(ref=ticket.ref)
        )
        return
    except IllegalTransitionError as exc:
        await answer_agent(context, message, illegal_text(ticket, exc))
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
    ticket, _args = await target(update, context)
    if ticket is None:
        return
    customer = await context.desk.user(ticket.customer_id)
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
    text, keyboard = await queue_view(context, 0)
    await answer_agent(context, message, text, keyboard=keyboard)


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
    if user_id is None or await context.desk.user(user_id) is None:
        ticket, _args = await target(update, context)
        if ticket is None:
            return
        user_id = ticket.customer_id
    if context.desk.is_operator(user_id):
        await answer_agent(context, message, _("An operator can't be banned."))
        return
    if not await context.desk.ban(user_id, banned, by=acting_agent(update)[0]):
        await answer_agent(
            context, message, _("I don't know a customer with the id {id}.").format(id=user_id)
        )
        return
    if banned:
        done = _("Customer {id} is banned: they can't open tickets any more.").format(id=user_id)
    else:
        done = _("Customer {id} may open tickets again.").format(id=user_id)
    await acknowledge(context, message, done)


async def faq_answer(update: Update, context: SupportContext) -> None:
    """Send an FAQ answer to the ticket's customer, in the customer's language: /faq <key>."""
    message = update.effective_message
    assert message is not None
    ticket, args = await target(update, context, context_first=True)
    if ticket is None:
        return
    keys = context.desk.faq.keys()
    if not args or args[0] not in keys:
        await answer_agent(
            context, message, _("Unknown FAQ key. Use one of: {keys}").format(keys=", ".join(keys))
        )
        return
    customer = await context.desk.user(ticket.customer_id)
    locale = await context.desk.locale_for(customer) if customer else ticket.locale
    entry = context.desk.faq.entry(locale, args[0])
    assert entry is not None
    agent_id, agent_name = acting_agent(update)
    # The customer is in this ticket already: the in-ticket variant, in their language.
    with use_locale(locale):
        answer = render_answer(entry, context.desk.settings, in_ticket=True)
    # The answer's markup is Telegram HTML; the ticket keeps it as plain text.
    body = unescape(re.sub(r"</?[a-z]+>", "", f"{entry.title}\n\n{answer}"))
    try:
        await context.desk.service.agent_reply(ticket.number, agent_id, body, agent_name=agent_name)
    except IllegalTransitionError as exc:
        await answer_agent(context, message, illegal_text(ticket, exc))
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

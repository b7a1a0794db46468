"""How much one customer may ask of the desk: a message rate and a cap on open tickets.

Both are applied by the gate (handlers/gate.py), before any feature sees the update:

- Past `CUSTOMER_RATE_LIMIT` messages in a minute (bot/domain/flood.py), a customer's
  messages are not answered one by one. The first gets one polite "slow down" (at most one
  a minute); each is kept on their ticket (the Reply target, the ticket replied to, or
  their only active one) without a word, and the agents get them batched
  (bot/channels/telegram/notices.py).
  With no such ticket there is nowhere to keep it: it is logged and dropped.
- With `MAX_OPEN_TICKETS` active tickets, `/new`, the New-ticket and Follow-up buttons and
  the form's Submit list those tickets instead of opening another. The form's draft is
  kept: Submit works again once one of them is solved or closed.
"""

from __future__ import annotations

import logging
import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.channels.telegram.context import SupportContext
from bot.domain.flood import Verdict
from bot.domain.lifecycle import IllegalTransitionError
from bot.domain.models import Author, Ticket, User
from bot.domain.ticket_core import DuplicateMessageError, TicketNotFoundError
from bot.i18n import gettext as _
from bot.texts import cap_lines, slow_down_text
from handlers.callbacks import FORM, MENU, TICKETS
from handlers.customers.to_ticket import ticket_replied_to
from handlers.media import attachment_of, is_relayable

log = logging.getLogger(__name__)

SUBMIT = FORM.pack("submit")  # the form's Submit button
NEW_TICKET = MENU.pack("new")
SUBJECT_IN_BUTTON = 60


async def over_limits(update: Update, context: SupportContext) -> bool:
    """Deal with a customer's update that is over a limit; False if it is within them."""
    user = context.user
    if user is None:
        return False
    message = update.message or update.edited_message
    if message is not None and await _flooding(update, context, user, message):
        return True
    if _opens_ticket(update):
        return await _capped(update, context, user)
    return False


# The message rate


async def _flooding(update: Update, context: SupportContext, user: User, message: Message) -> bool:
    # Monotonic time: the pace is about the customer's real seconds, not the desk's clock.
    verdict = context.desk.flood.admit(user.id, time.monotonic(), album=message.media_group_id)
    if verdict is Verdict.ALLOW:
        return False
    ticket = await _ticket_for(context, user, message)
    if verdict is Verdict.WARN:
        log.info("Customer %s is over %d messages a minute", user.id, context.desk.flood.limit)
        await message.reply_text(slow_down_text(ticket))
    if update.edited_message is not None:
        body = context.desk.guard_text(message.text or message.caption or "").text
        await context.desk.service.record_edit(
            Author.CUSTOMER, user.id, message.chat_id, message.message_id, body
        )
    else:
        await _keep(context, user, message, ticket)
    return True


async def _ticket_for(context: SupportContext, user: User, message: Message) -> Ticket | None:
    """Where a message over the limit is kept: as the customer would have it delivered."""
    replied = await ticket_replied_to(message, context)
    if replied is not None:
        return replied
    chosen = await context.desk.reply_target(user.id)
    if chosen is not None:
        ticket = await context.desk.ticket(chosen)
        if ticket is not None and ticket.customer_id == user.id:
            return ticket
    active = await context.desk.active_tickets(user.id)
    return active[0] if len(active) == 1 else None


async def _keep(
    context: SupportContext, user: User, message: Message, ticket: Ticket | None
) -> None:
    """Put a message over the limit on the ticket, without answering it."""
    text = message.text or message.caption or ""
    attachment = attachment_of(message)
    if ticket is None or not is_relayable(message) or text.startswith("/"):
        log.info("Message %s of customer %s over the limit: not kept", message.message_id, user.id)
        return
    if attachment is not None and context.desk.check_ticket_file(attachment) is not None:
        log.info("File %s of customer %s over the limit: refused", message.message_id, user.id)
        return
    try:
        await context.desk.service.customer_reply(
            ticket.number,
            user.id,
            context.desk.guard_text(text).text,
            [attachment] if attachment else [],
            tg_chat_id=message.chat_id,
            tg_message_id=message.message_id,
        )
    except (TicketNotFoundError, DuplicateMessageError, IllegalTransitionError) as exc:
        log.info("Message %s of customer %s not kept: %r", message.message_id, user.id, exc)


# The open-ticket cap


def _opens_ticket(update: Update) -> bool:
    """Whether the update starts a new ticket or submits one."""
    query = update.callback_query
    if query is not None:
        data = query.data or ""
        return data in (NEW_TICKET, SUBMIT) or TICKETS.matches(data, "follow")
    message = update.message
    words = (message.text or "").split(maxsplit=1) if message is not None else []
    return bool(words) and words[0].split("@")[0] == "/new"


async def _capped(update: Update, context: SupportContext, user: User) -> bool:
    active = await context.desk.open_ticket_cap(user.id)
    if not active:
        return False
    query = update.callback_query
    submitting = query is not None and query.data == SUBMIT
    if query is not None:
        await query.answer()
    log.info("Customer %s is at the cap of %d open tickets", user.id, len(active))
    limit = context.desk.settings.max_open_tickets
    lines = cap_lines(limit, active)
    if submitting:
        lines += [
            "",
            _(
                "Your new ticket is kept as a draft: press Submit again once one of these is "
                "solved or closed."
            ),
        ]
    rows = [
        [
            InlineKeyboardButton(
                f"{ticket.ref} · {ticket.subject}"[:SUBJECT_IN_BUTTON],
                callback_data=TICKETS.pack("open", ticket.number),
            )
        ]
        for ticket in active
    ]
    assert update.effective_chat is not None
    await context.bot.send_message(
        update.effective_chat.id, "\n".join(lines), reply_markup=InlineKeyboardMarkup(rows)
    )
    return True

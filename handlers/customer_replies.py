"""A customer's messages on an existing ticket: replies and edits, carried to the agents.

A customer answers by replying (Telegram's reply) to any bot message of the ticket; the
message joins the ticket, reopens a solved one, and lands in the ticket's admin thread.
"""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import MessageHandler, filters

from bot.context import SupportApp, SupportContext
from bot.domain.lifecycle import IllegalTransitionError
from bot.domain.models import Author, Relay, RelayKind, Ticket
from bot.domain.tickets import DuplicateMessageError, TicketNotFoundError
from bot.i18n import gettext as _
from bot.i18n import use_locale
from handlers.callbacks import Callback
from handlers.fallback import edited, free_text, unsupported
from handlers.media import ALBUM_ACK_DELAY, attachment_of, fraud_notice, is_relayable
from handlers.rating import comment_given

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE


async def ticket_replied_to(message: Message, context: SupportContext) -> Ticket | None:
    """The customer's own ticket whose message `message` replies to, if any."""
    relay = await _relay_replied_to(message, context)
    if relay is None:
        return None
    ticket = await context.desk.tickets.get(relay.ticket_number)
    # Only the ticket's own customer: a relay row is per chat, but be explicit.
    if ticket is None or ticket.customer_id != message.chat_id:
        return None
    return ticket


async def _relay_replied_to(message: Message, context: SupportContext) -> Relay | None:
    reply = message.reply_to_message
    if reply is None:
        return None
    return await context.desk.tickets.relay_by_customer_message(message.chat_id, reply.message_id)


class Added(StrEnum):
    ADDED = "added"
    NOT_RELAYABLE = "not_relayable"
    CLOSED = "closed"
    REFUSED = "refused"


async def add_to_ticket(
    update: Update, context: SupportContext, ticket: Ticket, message: Message
) -> Added:
    """Add the customer's message to `ticket` and owe it to the agents."""
    user = context.require_user()
    if not is_relayable(message):
        await message.reply_text(_("I can only add text, photos and documents to a ticket."))
        return Added.NOT_RELAYABLE
    guarded = context.desk.guard_text(message.text or message.caption or "")
    if guarded.flagged:
        await fraud_notice(update, guarded.card_masked, guarded.otp_masked)
    attachment = attachment_of(message)
    try:
        await context.desk.service.customer_reply(
            ticket.number,
            user.id,
            guarded.text,
            [attachment] if attachment else [],
            tg_chat_id=message.chat_id,
            tg_message_id=message.message_id,
        )
    except (TicketNotFoundError, DuplicateMessageError):
        return Added.REFUSED
    except IllegalTransitionError:
        # A closed ticket stays closed: offer the follow-up right here.
        await message.reply_text(
            _(
                "Ticket {ref} is closed, so I can't add to it. Open a follow-up with the "
                "button below: we will pick it up from there."
            ).format(ref=ticket.ref),
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            _("➕ Follow-up"),
                            callback_data=Callback("tk1", "follow", str(ticket.number)).pack(),
                        )
                    ]
                ]
            ),
        )
        return Added.CLOSED
    await _acknowledge(context, message, ticket)
    return Added.ADDED


async def _acknowledge(context: SupportContext, message: Message, ticket: Ticket) -> None:
    """Confirm once per message, or once per album (Telegram sends one update per file)."""
    if message.media_group_id is None or context.job_queue is None:
        await message.reply_text(_("✅ Added to your ticket {ref}.").format(ref=ticket.ref))
        return
    name = f"reply-ack:{message.chat_id}:{message.media_group_id}"
    for job in context.job_queue.get_jobs_by_name(name):
        job.schedule_removal()
    context.job_queue.run_once(
        _album_acknowledged,  # type: ignore[arg-type]  # PTB types jobs with the base context
        ALBUM_ACK_DELAY,
        chat_id=message.chat_id,
        name=name,
        data=(context.locale, ticket.ref),
    )


async def _album_acknowledged(context: SupportContext) -> None:
    job = context.job
    assert job is not None and job.chat_id is not None
    locale, ref = cast(tuple[str, str], job.data)
    with use_locale(locale):
        await context.bot.send_message(
            job.chat_id, _("✅ Added to your ticket {ref}.").format(ref=ref)
        )


async def customer_reply(update: Update, context: SupportContext) -> None:
    """Take a reply to one of a ticket's messages as a message on that ticket."""
    message = update.effective_message
    assert message is not None
    ticket = await ticket_replied_to(message, context)
    relay = await _relay_replied_to(message, context)
    if ticket is not None and relay is not None and relay.kind is RelayKind.RATING and message.text:
        await comment_given(context, ticket, message)
        return
    if ticket is None:
        # Not about a ticket: answer it as any other message outside a ticket.
        await (free_text if message.text else unsupported)(update, context)
        return
    await add_to_ticket(update, context, ticket, message)


async def customer_edit(update: Update, context: SupportContext) -> None:
    """Record a customer's edit of a ticket message and show it in the thread."""
    message = update.edited_message
    assert message is not None
    user = context.require_user()
    body = context.desk.guard_text(message.text or message.caption or "").text
    recorded = await context.desk.service.record_edit(
        Author.CUSTOMER, user.id, message.chat_id, message.message_id, body
    )
    if recorded is None:
        await edited(update, context)
        return


def register(application: SupportApp) -> None:
    application.add_handler(
        MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, customer_edit)
    )
    application.add_handler(
        MessageHandler(
            PRIVATE & filters.UpdateType.MESSAGE & filters.REPLY & ~filters.COMMAND,
            customer_reply,
        )
    )

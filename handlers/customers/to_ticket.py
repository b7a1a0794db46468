"""A customer's message onto one of their tickets: which ticket a reply names, adding the
message to it (owed to the agents), and the acknowledgement with its way out.

`handlers/customers/customer_replies.py` decides where a message goes and calls this.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import cast

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity, Update

from bot.channels.telegram.context import SupportContext
from bot.domain.lifecycle import IllegalTransitionError
from bot.domain.models import Relay, RelayKind, Ticket
from bot.domain.ticket_core import DuplicateMessageError, TicketNotFoundError
from bot.i18n import gettext as _
from bot.i18n import use_locale
from handlers.callbacks import MENU, REPLIES, TICKETS
from handlers.media import (
    attachment_of,
    fraud_notice,
    is_relayable,
    once_after_album,
    refused_file,
)

_REF = re.compile(r"#([0-9]{1,18})")


async def ticket_replied_to(message: Message, context: SupportContext) -> Ticket | None:
    """The customer's own ticket whose message `message` replies to, if any."""
    relay = await relay_replied_to(message, context)
    return None if relay is None else await own(context, relay.ticket_number, message.chat_id)


async def own(context: SupportContext, number: int, customer_id: int) -> Ticket | None:
    ticket = await context.desk.ticket(number)
    # Only the ticket's own customer: a relay row is per chat, but be explicit.
    if ticket is None or ticket.customer_id != customer_id:
        return None
    return ticket


async def relay_replied_to(message: Message, context: SupportContext) -> Relay | None:
    reply = message.reply_to_message
    if reply is None:
        return None
    relay = await context.desk.relay_of_customer_message(message.chat_id, reply.message_id)
    if relay is not None:
        return relay
    number = _ref_named(reply, context.bot.id)
    if number is None:
        return None
    return Relay(number, RelayKind.NOTICE, None, None, None, reply.chat_id, reply.message_id)


def _ref_named(reply: Message, bot_id: int) -> int | None:
    """The one ticket a bot message names in bold (`<b>#1001</b>`), if the desk has no
    record of having sent it.

    A message Telegram accepted is written down a moment later; one sent just before a
    kill never is, and is sent again after the restart (the README's *Exactly once*). A
    reply to the first copy still reaches its ticket: receipts, answers and notices name
    their ticket in bold. A message naming several (a list) names none. The caller checks
    that the ticket is the customer's own.
    """
    if reply.from_user is None or reply.from_user.id != bot_id:
        return None
    entities = reply.parse_entities([MessageEntity.BOLD]) or reply.parse_caption_entities(
        [MessageEntity.BOLD]
    )
    named = {int(m[1]) for text in entities.values() if (m := _REF.fullmatch(text.strip()))}
    return named.pop() if len(named) == 1 else None


async def remember(context: SupportContext, ticket: Ticket, sent: Message) -> None:
    """Note a bot message as the ticket's, so a reply to it goes to the ticket."""
    await context.desk.remember_relay(
        Relay(ticket.number, RelayKind.NOTICE, None, None, None, sent.chat_id, sent.message_id)
    )


def new_ticket_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(_("📝 New ticket"), callback_data=MENU.pack("new"))


def reply_button(text: str, action: str, arg: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=REPLIES.pack(action, arg))


def way_out(ticket: Ticket, message_id: int | None) -> InlineKeyboardMarkup:
    """What to press when the message was not meant for `ticket`."""
    rows = []
    if message_id is not None:
        rows.append(
            [
                reply_button(
                    _("Not about {ref}? Ask something else").format(ref=ticket.ref),
                    "askmsg",
                    str(message_id),
                )
            ]
        )
    rows.append([new_ticket_button()])
    return InlineKeyboardMarkup(rows)


class Added(StrEnum):
    ADDED = "added"
    NOT_RELAYABLE = "not_relayable"
    CLOSED = "closed"
    REFUSED = "refused"
    FILE_REFUSED = "file_refused"  # the file policy: the customer was told why


async def add_to_ticket(
    update: Update,
    context: SupportContext,
    ticket: Ticket,
    message: Message,
    *,
    offer_way_out: bool = False,
    hold_notice: timedelta | None = None,
) -> Added:
    """Add the customer's message to `ticket` and owe it to the agents.

    `offer_way_out` is for a message the bot routed by itself (the customer did not pick
    the ticket): the acknowledgement then offers the FAQ and a new ticket instead.
    `hold_notice` holds the agents' copy back, for the rest of a long paste.
    """
    user = context.require_user()
    if not is_relayable(message):
        await message.reply_text(_("I can only add text, photos and documents to a ticket."))
        return Added.NOT_RELAYABLE
    if await refused_file(context, message):
        return Added.FILE_REFUSED
    guarded = context.desk.guard_text(message.text or message.caption or "")
    if guarded.flagged:
        await fraud_notice(update, guarded.card_masked, guarded.otp_masked)
    attachment = attachment_of(message)
    try:
        change = await context.desk.service.customer_reply(
            ticket.number,
            user.id,
            guarded.text,
            [attachment] if attachment else [],
            tg_chat_id=message.chat_id,
            tg_message_id=message.message_id,
            hold_notice=hold_notice,
        )
    except (TicketNotFoundError, DuplicateMessageError):
        return Added.REFUSED
    except IllegalTransitionError:
        await _closed(context, message.chat_id, ticket)
        return Added.CLOSED
    keyboard = None
    if offer_way_out:
        keyboard = way_out(ticket, change.message_id if guarded.text.strip() else None)
    await _acknowledge(context, message, ticket, keyboard)
    return Added.ADDED


async def _closed(context: SupportContext, chat_id: int, ticket: Ticket) -> None:
    """A closed ticket stays closed: offer the follow-up right here."""
    await context.bot.send_message(
        chat_id,
        _(
            "Ticket {ref} is closed, so I can't add to it. Open a follow-up with the "
            "button below: we will pick it up from there."
        ).format(ref=ticket.ref),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("➕ Follow-up"),
                        callback_data=TICKETS.pack("follow", ticket.number),
                    )
                ]
            ]
        ),
    )


def added_text(ticket: Ticket) -> str:
    return _("✅ Added to your ticket {ref}.").format(ref=ticket.ref)


async def _acknowledge(
    context: SupportContext,
    message: Message,
    ticket: Ticket,
    keyboard: InlineKeyboardMarkup | None,
) -> None:
    """Confirm once per message, or once per album (Telegram sends one update per file)."""
    if message.media_group_id is None or context.job_queue is None:
        sent = await message.reply_text(added_text(ticket), reply_markup=keyboard)
        await remember(context, ticket, sent)
        return
    once_after_album(
        context,
        f"reply-ack:{message.chat_id}:{message.media_group_id}",
        _album_acknowledged,
        chat_id=message.chat_id,
        data=(context.locale, ticket, keyboard is not None),
    )


async def _album_acknowledged(context: SupportContext) -> None:
    job = context.job
    assert job is not None and job.chat_id is not None
    locale, ticket, offer_way_out = cast(tuple[str, Ticket, bool], job.data)
    with use_locale(locale):
        sent = await context.bot.send_message(
            job.chat_id,
            added_text(ticket),
            reply_markup=way_out(ticket, None) if offer_way_out else None,
        )
    await remember(context, ticket, sent)

"""Where a customer's message goes: to a ticket, to a rating, or to the FAQ; and edits.

- A reply (Telegram's reply) to any bot message of a ticket goes to that ticket: it
  reopens a solved one, and a closed one offers the follow-up. A reply to the rating
  prompt is the rating's comment.
- Otherwise the first text after a rating prompt, within `COMMENT_WINDOW`, is the comment.
- A plain message from a customer with exactly one active ticket (open, or waiting for
  them) goes to that ticket, with a note naming it and a way out. With several, the
  message is kept in the database (so a restart loses nothing) and the customer is asked
  which ticket it is for; an album is asked about once. A solved ticket is not active: a
  plain message does not reopen it, a reply does.
- A customer with no active ticket gets FAQ answers for what they type.

Finding the ticket a reply names and adding a message to a ticket are in
`handlers/customers/to_ticket.py`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.channels.telegram.context import SupportApp, SupportContext
from bot.domain.lifecycle import IllegalTransitionError
from bot.domain.models import Author, RelayKind, Ticket
from bot.domain.ticket_core import TicketNotFoundError
from bot.fit import PASTE_PART, utf16_len
from bot.fit import PASTE_WINDOW as PASTE_WINDOW_SECONDS
from bot.i18n import gettext as _
from handlers.callbacks import REPLIES, parse_id, stale
from handlers.customers.faq import answer_text
from handlers.customers.rating import comment_given
from handlers.customers.to_ticket import (
    Added,
    add_to_ticket,
    added_text,
    new_ticket_button,
    own,
    relay_replied_to,
    remember,
    reply_button,
    ticket_replied_to,
)
from handlers.fallback import edited, free_text, unsupported
from handlers.keyboards import show_choice, ticket_label
from handlers.media import (
    attachment_of,
    fraud_notice,
    is_relayable,
    refused_file,
)

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE
# A long paste comes in parts (bot.fit.PASTE_PART): the agents' copy of a first part waits
# a moment for the rest, and a text that follows within the window joins it.
PASTE_HOLD = timedelta(seconds=1.5)
PASTE_WINDOW = timedelta(seconds=PASTE_WINDOW_SECONDS)


async def customer_message(update: Update, context: SupportContext) -> None:
    """Send a customer's message where it belongs: the ticket of Reply mode, a ticket, a
    rating, or the FAQ."""
    message = update.effective_message
    assert message is not None
    user = context.require_user()
    chosen = await context.desk.reply_target(user.id)
    if chosen is not None:
        await _reply_mode_message(update, context, message, chosen)
        return
    relay = await relay_replied_to(message, context)
    ticket = None if relay is None else await own(context, relay.ticket_number, user.id)
    if ticket is not None and relay is not None:
        if relay.kind is RelayKind.RATING and message.text:
            await comment_given(context, ticket, message)
        else:
            await add_to_ticket(update, context, ticket, message)
        return
    if message.text:
        rated = await context.desk.comment_awaited(user.id)
        rated_ticket = None if rated is None else await own(context, rated, user.id)
        if rated_ticket is not None:
            await comment_given(context, rated_ticket, message)
            return
    active = await context.desk.active_tickets(user.id)
    if not active:
        # Not about a ticket: the FAQ may know (and a ticket is the way on).
        await (free_text if message.text else unsupported)(update, context)
    elif len(active) == 1 or not is_relayable(message):
        await add_to_ticket(update, context, active[0], message, offer_way_out=True)
    else:
        await _ask_which(update, context, message, active)


# Kept for the form: a message after a form that expired is an ordinary one.
customer_reply = customer_message


async def _reply_mode_message(
    update: Update, context: SupportContext, message: Message, chosen: int
) -> None:
    """Add the message to the ticket chosen with Reply (a reply to another ticket's message
    goes to that other ticket). Reply mode left idle past `CONVERSATION_TIMEOUT` is over
    by then (`Desk.reply_target`), and the message is an ordinary one."""
    user = context.require_user()
    # Each message keeps Reply open for another CONVERSATION_TIMEOUT.
    await context.desk.set_reply_target(user.id, chosen)
    target = await ticket_replied_to(message, context)
    if target is None:
        target = await own(context, chosen, user.id)
    if target is None:
        await context.desk.set_reply_target(user.id, None)
        await message.reply_text(_("Which ticket? Open it in /tickets and press Reply."))
        return
    text = message.text
    limit = context.desk.max_text_length
    if text is not None and len(text) > limit:
        await message.reply_text(
            _(
                "That message is too long ({length} characters; the limit is {limit}). "
                "Please send it in shorter parts."
            ).format(length=len(text), limit=limit)
        )
        return
    hold_notice = PASTE_HOLD if text is not None and utf16_len(text) >= PASTE_PART else None
    if text is not None and await context.desk.service.continue_message(
        target.number,
        user.id,
        context.desk.guard_text(text).text,
        within=PASTE_WINDOW,
        hold_notice=hold_notice,
    ):
        return  # the rest of a long paste, joined to its first part
    outcome = await add_to_ticket(update, context, target, message, hold_notice=hold_notice)
    if outcome is Added.CLOSED:
        await context.desk.set_reply_target(user.id, None)


async def stop_reply_mode(user_id: int, message: Message, context: SupportContext) -> bool:
    """/cancel in Reply mode: stop adding to the ticket (what was sent stays on it). False
    when Reply mode is not on."""
    if await context.desk.reply_target(user_id) is None:
        return False
    await context.desk.set_reply_target(user_id, None)
    await message.reply_text(_("Stopped. Anything you already sent stays on the ticket."))
    return True


async def _ask_which(
    update: Update, context: SupportContext, message: Message, active: list[Ticket]
) -> None:
    """Keep the message and ask which of the customer's tickets it is for."""
    if await refused_file(context, message):
        return
    guarded = context.desk.guard_text(message.text or message.caption or "")
    if guarded.flagged:
        await fraud_notice(update, guarded.card_masked, guarded.otp_masked)
    choice, new = await context.desk.hold_message(
        customer_id=context.require_user().id,
        tg_chat_id=message.chat_id,
        tg_message_id=message.message_id,
        body=guarded.text,
        attachment=attachment_of(message),
        media_group_id=message.media_group_id,
        now=context.desk.clock(),
    )
    if not new:
        return  # the rest of an album: its first file asked already
    rows = [
        [reply_button(ticket_label(t), "to", f"{choice}:{t.number}")]
        for t in active  # newest first
    ]
    if guarded.text.strip():
        rows.append([reply_button(_("None of these: ask something else"), "ask", str(choice))])
    rows.append([new_ticket_button()])
    await message.reply_text(
        _("You have several open tickets. Which one is this about?"),
        reply_markup=InlineKeyboardMarkup(rows),
    )


async def ticket_chosen(update: Update, context: SupportContext) -> None:
    """Deliver the held message to the ticket the customer picked."""
    query = update.callback_query
    assert query is not None
    callback = REPLIES.unpack(query.data)
    user = context.require_user()
    choice_arg, _sep, number_arg = (callback.arg if callback else "").partition(":")
    choice, number = parse_id(choice_arg), parse_id(number_arg)
    ticket = (
        await own(context, number, user.id) if choice is not None and number is not None else None
    )
    change = None
    if ticket is not None and choice is not None:
        try:
            change = await context.desk.service.deliver_held(ticket.number, user.id, choice)
        except TicketNotFoundError:
            change = None
        except IllegalTransitionError:
            # Closed since the question was asked: the message stays held for another pick.
            await query.answer(
                _("Ticket {ref} is closed: pick another one, or open a follow-up.").format(
                    ref=ticket.ref
                ),
                show_alert=True,
            )
            return
    if ticket is None or change is None:
        await stale(query, alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        edited_message = await query.edit_message_text(added_text(ticket), reply_markup=None)
        if isinstance(edited_message, Message):
            await remember(context, ticket, edited_message)


async def ask_instead(update: Update, context: SupportContext) -> None:
    """Answer a message from the FAQ: it was not meant for a ticket after all."""
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    callback = REPLIES.unpack(query.data)
    user = context.require_user()
    text: str | None = None
    number = None if callback is None else callback.number
    if callback is not None and number is not None:
        if callback.action == "ask":
            text = await context.desk.held_text(user.id, number)
            if text is not None:
                await context.desk.release_held(user.id, number)
        else:
            text = await _own_message_text(context, number, user.id)
    if not text:
        await stale(query, alert=True)
        return
    await query.answer()
    if callback is not None and callback.action == "ask":
        await show_choice(query)
    await answer_text(context, update.effective_chat.id, text, say_when_none=True)


async def _own_message_text(context: SupportContext, message_id: int, user_id: int) -> str | None:
    """The text of the customer's own message on one of their tickets."""
    found = await context.desk.ticket_message(message_id)
    if found is None or found.author is not Author.CUSTOMER or found.author_id != user_id:
        return None
    if await own(context, found.ticket_number, user_id) is None:
        return None
    return found.body


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
    log.info(
        "Customer %s edited message %s of %s: shown to the agents",
        user.id,
        message.message_id,
        recorded[0].ref,
    )


def register(application: SupportApp) -> None:
    application.add_handler(
        MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, customer_edit)
    )
    application.add_handler(
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & ~filters.COMMAND, customer_message)
    )
    application.add_handler(CallbackQueryHandler(ticket_chosen, pattern=REPLIES.pattern("to")))
    application.add_handler(CallbackQueryHandler(ask_instead, pattern=REPLIES.pattern()))

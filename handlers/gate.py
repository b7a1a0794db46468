"""Who may do what, before any feature sees the update (PTB middleware, group -1).

- In a group: only the bound admin chat's members act as agents. Any other group is left,
  unless an operator is there to `/bind` it.
- Card and queue buttons only work in the bound chat: forged from elsewhere, they stop here.
- A banned customer is told once, politely, and nothing else happens.
"""

from __future__ import annotations

import logging
from typing import NoReturn

from telegram import Chat, ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    ChatMemberHandler,
    CommandHandler,
    TypeHandler,
    filters,
)

from bot.context import SupportApp, SupportContext
from bot.domain.models import Audience
from bot.domain.outbox import OutboxKind
from bot.i18n import gettext as _
from bot.i18n import set_locale
from handlers.answers import answer_agent
from handlers.callbacks import CARD_BUTTONS, QUEUE, is_forged, stale
from handlers.customers.limits import over_limits

log = logging.getLogger(__name__)

GROUP = -1  # after the middleware (-2), before every feature (0)
ADMIN_ONLY = (CARD_BUTTONS, QUEUE)  # the agents' buttons
_GROUP_TYPES = {Chat.GROUP, Chat.SUPERGROUP}
# The user Telegram names as the sender of an anonymous admin's messages.
ANONYMOUS_ADMIN_ID = 1087968824


async def gate(update: Update, context: SupportContext) -> None:
    """Let through only what the sender may do; stop everything else here."""
    chat = update.effective_chat
    if chat is None or update.my_chat_member is not None:
        return
    query = update.callback_query
    if query is not None and is_forged(query.data):
        # No button of ours carries this: answered here, before any parser reads it.
        log.info("Forged button data from user %s refused", query.from_user.id)
        try:
            await stale(query, alert=True)
        finally:
            await _stop(update, context)
    admin_chat = await context.desk.admin_chat_id()
    if chat.type == Chat.PRIVATE:
        if query is not None and any(buttons.matches(query.data) for buttons in ADMIN_ONLY):
            try:
                await stale(query, alert=True)
            finally:
                # Stopped whatever the answer does: an agents' button never acts here.
                await _stop(update, context)
        await _banned_customer(update, context)
        if await over_limits(update, context):
            await _stop(update, context)
        return
    if chat.type not in _GROUP_TYPES:
        # Channels: the desk has nothing to do there (and no one to answer).
        log.info("Ignored update %s from channel %s", update.update_id, chat.id)
        await _stop(update, context)
    # Agents' texts are in the agents' chat's language, not in each agent's own.
    set_locale(await context.desk.admin_locale())
    if await _migrated(update, context, admin_chat):
        await _stop(update, context)
    sender = update.effective_user
    if chat.id == admin_chat:
        if _anonymous_admin(update):
            await _hint_anonymous(update, context)
            await _stop(update, context)
        if sender is None or sender.is_bot:
            await _stop(update, context)
        # A button press must be proven; a message was delivered by Telegram from the chat.
        strict = query is not None
        if not await context.relay.is_member(context.bot, chat.id, sender.id, strict=strict):
            try:
                if query is not None:
                    await query.answer(_("Only the agents can do that."), show_alert=True)
            finally:
                await _stop(update, context)
        return
    # A group that is not the bound one.
    message = update.effective_message
    is_bind = message is not None and (message.text or "").split("@")[0].strip() == "/bind"
    if context.relay.was_invited(chat.id):
        # An operator brought the bot here to bind it: wait for /bind, answer only that.
        if is_bind:
            return
        await _stop(update, context)
    if sender is not None and context.desk.is_operator(sender.id):
        if is_bind:
            return
        if (
            message is not None
            and update.message is not None
            and context.relay.may_hint(chat.id, sender.id)
        ):
            await message.reply_text(
                _(
                    "This group is not the agents' chat. An operator can send /bind here to "
                    "make it so."
                )
            )
        await _stop(update, context)
    await _leave(context, chat.id)
    await _stop(update, context)


def _anonymous_admin(update: Update) -> bool:
    """A message an admin sent as the group itself ("Remain anonymous"): Telegram names the
    group as its sender_chat and GroupAnonymousBot as its from_user."""
    message = update.message
    return (
        message is not None
        and message.sender_chat is not None
        and message.sender_chat.id == message.chat_id
    )


async def _hint_anonymous(update: Update, context: SupportContext) -> None:
    """Explain why an anonymous admin's message reaches no customer (now and then)."""
    message = update.message
    assert message is not None
    log.info("A message from an anonymous admin in the agents' chat was not relayed")
    if not context.relay.may_hint(message.chat_id, ANONYMOUS_ADMIN_ID):
        return
    await answer_agent(
        context,
        message,
        _(
            "You are writing as the group (an anonymous admin), so I can't tell which agent "
            "you are and nothing was sent to the customer. Switch off “Remain anonymous” in "
            "your admin rights, then send it again."
        ),
    )


async def _stop(update: Update, context: SupportContext) -> NoReturn:
    """End the update here. Group 99 will not run, so note it as handled first: a stopped
    update must not come back from the inbox at the next start."""
    await context.desk.update_handled(update.update_id)
    raise ApplicationHandlerStop


async def _migrated(update: Update, context: SupportContext, admin_chat: int | None) -> bool:
    """Follow the agents' chat when Telegram turns the group into a supergroup (new id)."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or admin_chat is None:
        return False
    if message.migrate_to_chat_id:
        old, new = chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, chat.id
    else:
        return False
    if old != admin_chat:
        return False
    await context.desk.move_admin_chat(old, new)
    context.relay.forget_chat(old)
    log.info("The agents' chat moved from %s to %s", old, new)
    return True


async def _banned_customer(update: Update, context: SupportContext) -> None:
    user = context.user
    if user is None or not user.is_banned:
        return
    if update.callback_query is not None:
        await update.callback_query.answer()
    if await context.desk.users.mark_ban_notified(user.id):
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id,
            _(
                "We are sorry, but this support desk no longer takes requests from your "
                "account. If you think this is a mistake, please contact us by email."
            ),
        )
    await _stop(update, context)


async def _leave(context: SupportContext, chat_id: int) -> None:
    try:
        await context.bot.leave_chat(chat_id)
        log.info("Left group %s: it is not the bound admin chat", chat_id)
    except TelegramError as exc:
        log.warning("Could not leave group %s: %s", chat_id, exc)


async def added_to_chat(update: Update, context: SupportContext) -> None:
    """Stay where an operator added the bot (to be bound); leave anywhere else."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None or change.chat.type not in _GROUP_TYPES:
        return
    joined = change.new_chat_member.status in {
        ChatMemberStatus.MEMBER,
        ChatMemberStatus.ADMINISTRATOR,
    } and change.old_chat_member.status in {ChatMemberStatus.LEFT, ChatMemberStatus.BANNED}
    if not joined:
        return
    admin_chat = await context.desk.admin_chat_id()
    if change.chat.id == admin_chat:
        return
    set_locale(await context.desk.admin_locale())
    if context.desk.is_operator(change.from_user.id):
        context.relay.invited(change.chat.id)
        await context.bot.send_message(
            change.chat.id,
            _("Hello! Send /bind here to make this group the agents' chat."),
        )
        return
    await _leave(context, change.chat.id)


async def bind(update: Update, context: SupportContext) -> None:
    """Make this group the agents' chat (operators only)."""
    message = update.effective_message
    sender = update.effective_user
    assert message is not None and sender is not None
    if not context.desk.is_operator(sender.id):
        await message.reply_text(_not_an_operator(sender.id))
        return
    await context.desk.bind(message.chat_id, by=sender.id)
    context.relay.forget_chat(message.chat_id)
    await message.reply_text(
        _("Done: this group is now the agents' chat. New tickets will appear here.")
    )
    # Tickets filed while no chat was bound (or in the old one) get their cards now.
    for ticket in await context.desk.tickets.unposted(message.chat_id):
        await context.desk.outbox.add(
            OutboxKind.NEW_TICKET,
            Audience.ADMIN,
            context.desk.clock(),
            ticket_number=ticket.number,
            dedupe_key=f"{OutboxKind.NEW_TICKET}:{ticket.number}",
        )


async def bind_in_private(update: Update, context: SupportContext) -> None:
    """Explain /bind sent in a private chat, where there is no group to bind."""
    message = update.effective_message
    sender = update.effective_user
    assert message is not None and sender is not None
    if context.desk.is_operator(sender.id):
        await message.reply_text(
            _(
                "/bind works in a group: add me to the agents' group and send /bind there to "
                "make it the agents' chat."
            )
        )
        return
    await message.reply_text(_not_an_operator(sender.id))


def _not_an_operator(user_id: int) -> str:
    """Tell someone their id: what an operator needs to give them the right to bind."""
    return _(
        "Only an operator can bind the agents' chat. Your Telegram user id is {user_id}: "
        "to bind a group, ask whoever runs this bot to add it to OPERATOR_IDS."
    ).format(user_id=user_id)


def register(application: SupportApp) -> None:
    application.add_handler(TypeHandler(Update, gate), group=GROUP)
    application.add_handler(ChatMemberHandler(added_to_chat, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(CommandHandler("bind", bind, filters=filters.ChatType.GROUPS))
    application.add_handler(
        CommandHandler("bind", bind_in_private, filters=filters.ChatType.PRIVATE)
    )

"""Who may do what, before any feature sees the update (PTB middleware, group -1).

- In a group: only the bound admin chat's members act as agents. Any other group is left,
  unless an operator is there to `/bind` it.
- Card and queue buttons only work in the bound chat: forged from elsewhere, they stop here.
- A banned customer is told once, politely, and nothing else happens.
"""

from __future__ import annotations

import logging
from typing import NoReturn

from telegram import Chat, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, TypeHandler

from bot.channels.telegram.context import SupportApp, SupportContext
from bot.i18n import gettext as _
from bot.i18n import set_locale
from handlers import groups
from handlers.answers import answer_agent
from handlers.callbacks import CARD_BUTTONS, QUEUE, is_forged, stale
from handlers.customers.limits import over_limits

log = logging.getLogger(__name__)

GROUP = groups.GATE  # after the middleware, before the form and every feature
ADMIN_ONLY = (CARD_BUTTONS, QUEUE)  # the agents' buttons
GROUP_TYPES = {Chat.GROUP, Chat.SUPERGROUP}
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
            await stop_here(update, context)
    admin_chat = await context.desk.admin_chat_id()
    if chat.type == Chat.PRIVATE:
        if query is not None and any(buttons.matches(query.data) for buttons in ADMIN_ONLY):
            try:
                await stale(query, alert=True)
            finally:
                # Stopped whatever the answer does: an agents' button never acts here.
                await stop_here(update, context)
        await _banned_customer(update, context)
        if await over_limits(update, context):
            await stop_here(update, context)
        return
    if chat.type not in GROUP_TYPES:
        # Channels: the desk has nothing to do there (and no one to answer).
        log.info("Ignored update %s from channel %s", update.update_id, chat.id)
        await stop_here(update, context)
    # Agents' texts are in the agents' chat's language, not in each agent's own.
    set_locale(await context.desk.admin_locale())
    if await _migrated(update, context, admin_chat):
        await stop_here(update, context)
    sender = update.effective_user
    if chat.id == admin_chat:
        if _anonymous_admin(update):
            await _hint_anonymous(update, context)
            await stop_here(update, context)
        if sender is None or sender.is_bot:
            await stop_here(update, context)
        # A button press must be proven; a message was delivered by Telegram from the chat.
        strict = query is not None
        if not await context.relay.is_member(context.bot, chat.id, sender.id, strict=strict):
            try:
                if query is not None:
                    await query.answer(_("Only the agents can do that."), show_alert=True)
            finally:
                await stop_here(update, context)
        return
    # A group that is not the bound one.
    message = update.effective_message
    is_bind = message is not None and (message.text or "").split("@")[0].strip() == "/bind"
    if context.relay.was_invited(chat.id):
        # An operator brought the bot here to bind it: wait for /bind, answer only that.
        if is_bind:
            return
        await stop_here(update, context)
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
        await stop_here(update, context)
    await leave(context, chat.id)
    await stop_here(update, context)


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


async def stop_here(update: Update, context: SupportContext) -> NoReturn:
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
    if await context.desk.first_ban_notice(user.id):
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id,
            _(
                "We are sorry, but this support desk no longer takes requests from your "
                "account. If you think this is a mistake, please contact us by email."
            ),
        )
    await stop_here(update, context)


async def leave(context: SupportContext, chat_id: int) -> None:
    try:
        await context.bot.leave_chat(chat_id)
        log.info("Left group %s: it is not the bound admin chat", chat_id)
    except TelegramError as exc:
        log.warning("Could not leave group %s: %s", chat_id, exc)


def register(application: SupportApp) -> None:
    application.add_handler(TypeHandler(Update, gate), group=GROUP)

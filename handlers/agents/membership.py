"""The agents' chat itself: the bot added to a group stays only where an operator brought
it, and there an operator's `/bind` makes the group the agents' chat. (The gate,
handlers/gate.py, leaves any other group the bot finds itself in.)
"""

from __future__ import annotations

from telegram import ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus
from telegram.ext import ChatMemberHandler, CommandHandler, filters

from bot.channels.telegram.context import SupportApp, SupportContext
from bot.i18n import gettext as _
from bot.i18n import set_locale
from handlers.gate import GROUP_TYPES, leave


async def added_to_chat(update: Update, context: SupportContext) -> None:
    """Stay where an operator added the bot (to be bound); leave anywhere else."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None or change.chat.type not in GROUP_TYPES:
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
    await leave(context, change.chat.id)


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
    for ticket in await context.desk.unposted_tickets(message.chat_id):
        await context.desk.owe_card(ticket.number, context.desk.clock())


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
    application.add_handler(ChatMemberHandler(added_to_chat, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(CommandHandler("bind", bind, filters=filters.ChatType.GROUPS))
    application.add_handler(
        CommandHandler("bind", bind_in_private, filters=filters.ChatType.PRIVATE)
    )

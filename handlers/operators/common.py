"""What the operators' handlers share: who may ask, where the desk's data may be shown,
and answering where the operator asked."""

from __future__ import annotations

from telegram import Chat, Update

from bot.channels.telegram.context import SupportContext
from bot.i18n import gettext as _
from handlers.answers import answer_agent


async def operator(update: Update, context: SupportContext) -> bool:
    user = update.effective_user
    if user is not None and context.desk.is_operator(user.id):
        return True
    assert update.effective_message is not None
    await answer(update, context, _("Only operators can do that."))
    return False


async def in_staff_chat(update: Update, context: SupportContext) -> bool:
    """Whether the desk's data may be shown here: to an operator, in a private chat or the
    agents' chat, never in a group where others read along."""
    if not await operator(update, context):
        return False
    chat = update.effective_chat
    assert chat is not None
    if chat.type == Chat.PRIVATE or chat.id == await context.desk.admin_chat_id():
        return True
    await answer(
        update,
        context,
        _("Ask me in a private chat or in the agents' chat: others can read along here."),
    )
    return False


async def answer(update: Update, context: SupportContext, text: str) -> None:
    """Answer where the operator asked: in the agents' chat through the outbox (a handler
    there never waits for the group's budget), elsewhere directly."""
    message = update.effective_message
    assert message is not None
    if message.chat.type != Chat.PRIVATE and message.chat_id == await context.desk.admin_chat_id():
        await answer_agent(context, message, text)
    else:
        await message.reply_text(text)

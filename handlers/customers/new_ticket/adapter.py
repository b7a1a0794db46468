"""The form's Telegram adapter: an update in as a `FormInput`, the form's outputs out as
messages, buttons and callback answers (`bot.domain.intake` holds the rules)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity, Update

from bot.channels.telegram.context import SupportContext
from bot.domain.intake import (
    Ask,
    Attached,
    Cancelled,
    Choice,
    FileRefused,
    FormInput,
    FormOutput,
    InputKind,
    Masked,
    SameTicket,
    Stale,
)
from bot.fit import PASTE_PART, utf16_len
from bot.form_text import attached_text, cancelled_text, file_problem_text, same_ticket_text
from bot.i18n import gettext as _
from bot.i18n import use_locale
from handlers.callbacks import FORM, TICKETS, stale
from handlers.customers.new_ticket.questions import attachments_keyboard, show
from handlers.keyboards import main_menu
from handlers.media import attachment_of, fraud_notice, once_after_album


def form_input(update: Update, context: SupportContext) -> FormInput | None:
    """What the customer did, for the form; None for what no form takes (an edit, a
    reaction, a member update)."""
    replayed = update.update_id in context.bot_data.replayed
    query = update.callback_query
    if query is not None:
        callback = FORM.unpack(query.data)
        if callback is None:
            return FormInput(InputKind.FOREIGN_CHOICE, replayed=replayed)
        return FormInput(
            InputKind.CHOICE, choice=Choice(callback.action), arg=callback.arg, replayed=replayed
        )
    message = update.message
    if message is None:
        return None
    sent_at = message.date.timestamp()
    attachment = attachment_of(message)
    if attachment is not None:
        return FormInput(
            InputKind.FILE,
            text=message.caption or "",
            attachment=attachment,
            sent_at=sent_at,
            replayed=replayed,
        )
    text = message.text
    if text is None:
        return FormInput(InputKind.OTHER, sent_at=sent_at, replayed=replayed)
    entity = message.entities[0] if message.entities else None
    if entity is not None and entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
        name = text[1 : entity.length].split("@", 1)[0].lower()
        return FormInput(
            InputKind.COMMAND, text=text, command=name, sent_at=sent_at, replayed=replayed
        )
    return FormInput(
        InputKind.TEXT,
        text=text,
        sent_at=sent_at,
        may_continue=utf16_len(text) >= PASTE_PART,
        replayed=replayed,
    )


async def render(update: Update, context: SupportContext, outputs: list[FormOutput]) -> None:
    """Show what the form said, in its order. A pressed button is answered first: with a
    word when it is no longer valid, else silently (the next question is the answer)."""
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    query = update.callback_query
    if query is not None:
        if any(isinstance(output, Stale) for output in outputs):
            # An earlier question's button, or another feature's: the open question is the
            # latest message, so a passing word is enough.
            await stale(query)
        else:
            await query.answer()
    for output in outputs:
        if isinstance(output, Ask):
            await show(context, chat_id, output)
        elif isinstance(output, Masked):
            await fraud_notice(update, output.card, output.otp)
        elif isinstance(output, SameTicket):
            await _same_ticket(update, output)
        elif isinstance(output, Attached):
            await _attached(update, context, output)
        elif isinstance(output, FileRefused):
            assert update.effective_message is not None
            await update.effective_message.reply_text(
                file_problem_text(context.desk, output.problem),
                reply_markup=attachments_keyboard(output.draft),
            )
        elif isinstance(output, Cancelled):
            await context.bot.send_message(
                chat_id,
                cancelled_text(),
                reply_markup=main_menu(),
            )
        # Submitted: the receipt is in the outbox, owed with the ticket. Stale: answered.


async def _same_ticket(update: Update, output: SameTicket) -> None:
    assert update.effective_message is not None
    same = output.ticket
    await update.effective_message.reply_text(
        same_ticket_text(same),
        reply_markup=InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("Open {ref}").format(ref=same.ref),
                        callback_data=TICKETS.pack("open", same.number),
                    )
                ]
            ]
        ),
    )


async def _attached(update: Update, context: SupportContext, output: Attached) -> None:
    message = update.effective_message
    assert message is not None
    if output.album is not None and context.job_queue is not None:
        once_after_album(
            context,
            f"album-ack:{message.chat_id}:{output.album}",
            _album_ack,
            chat_id=message.chat_id,
            user_id=output.draft.user_id,
            data=context.locale,
        )
        return
    await message.reply_text(
        attached_text(output.draft), reply_markup=attachments_keyboard(output.draft)
    )


async def _album_ack(context: SupportContext) -> None:
    job = context.job
    assert job is not None and job.chat_id is not None and job.user_id is not None
    with use_locale(str(job.data)):
        draft = await context.desk.draft(job.user_id)
        await context.bot.send_message(
            job.chat_id, attached_text(draft), reply_markup=attachments_keyboard(draft)
        )

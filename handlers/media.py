"""What a customer's Telegram message carries: attachment references, whether the file
policy takes them, and what the fraud guard found in it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Message, Update

from bot.channels.telegram.context import SupportContext
from bot.domain.models import Attachment, AttachmentKind
from bot.form_text import file_problem_text, fraud_text
from bot.i18n import gettext as _

log = logging.getLogger(__name__)

ALBUM_ACK_DELAY = 1.5  # seconds to wait for the rest of an album before acknowledging it


def once_after_album(
    context: SupportContext,
    name: str,
    callback: Callable[[SupportContext], Awaitable[None]],
    *,
    chat_id: int,
    data: object,
    user_id: int | None = None,
) -> None:
    """Run `callback` once for an album, `ALBUM_ACK_DELAY` after its last file: Telegram
    delivers an album as one update per file, and each file pushes the run back."""
    assert context.job_queue is not None
    for job in context.job_queue.get_jobs_by_name(name):
        job.schedule_removal()
    context.job_queue.run_once(
        callback,  # type: ignore[arg-type]  # PTB types jobs with the base context
        ALBUM_ACK_DELAY,
        chat_id=chat_id,
        user_id=user_id,
        name=name,
        data=data,
    )


def attachment_of(message: Message) -> Attachment | None:
    """The photo or document in `message` as an attachment reference, or None."""
    if message.photo:
        largest = message.photo[-1]  # Telegram lists the sizes smallest first
        return Attachment(
            kind=AttachmentKind.PHOTO,
            file_id=largest.file_id,
            file_unique_id=largest.file_unique_id,
            file_size=largest.file_size,
            media_group_id=message.media_group_id,
        )
    if message.document:
        doc = message.document
        return Attachment(
            kind=AttachmentKind.DOCUMENT,
            file_id=doc.file_id,
            file_unique_id=doc.file_unique_id,
            file_size=doc.file_size,
            file_name=doc.file_name,
            mime_type=doc.mime_type,
            media_group_id=message.media_group_id,
        )
    return None


async def refused_file(context: SupportContext, message: Message) -> bool:
    """Whether the file in `message` breaks the file policy for a ticket; if so, say why.

    The form checks its own files (a draft also counts them); this is every other way a
    file reaches a ticket: Reply, a plain message, a Telegram reply, an album. An album's
    refused files are answered once, after its last file.
    """
    attachment = attachment_of(message)
    problem = None if attachment is None else context.desk.check_ticket_file(attachment)
    if attachment is None or problem is None:
        return False
    log.info(
        "Refused a file from customer %s (%s, %s, %s bytes)",
        message.chat_id,
        problem.value,
        attachment.mime_type or attachment.kind.value,
        attachment.file_size,
    )
    text = _("{reason} It was not added to your ticket.").format(
        reason=file_problem_text(context.desk, problem)
    )
    if message.media_group_id is None or context.job_queue is None:
        await message.reply_text(text)
        return True
    once_after_album(
        context,
        f"file-refused:{message.chat_id}:{message.media_group_id}",
        _album_refused,
        chat_id=message.chat_id,
        data=text,
    )
    return True


async def _album_refused(context: SupportContext) -> None:
    job = context.job
    assert job is not None and job.chat_id is not None
    await context.bot.send_message(job.chat_id, str(job.data))


def is_relayable(message: Message) -> bool:
    """Text, a photo or a document: what a ticket thread carries."""
    return bool(message.text or message.photo or message.document)


async def fraud_notice(update: Update, card: bool, otp: bool) -> None:
    """Tell the customer what the guard masked and why."""
    assert update.effective_message is not None
    await update.effective_message.reply_text(fraud_text(card, otp))

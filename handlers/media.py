"""What a Telegram message carries, as the desk's attachment references."""

from __future__ import annotations

from telegram import Message

from bot.domain.models import Attachment, AttachmentKind


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


def is_relayable(message: Message) -> bool:
    """Text, a photo or a document: what a ticket thread carries."""
    return bool(message.text or message.photo or message.document)

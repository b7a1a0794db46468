"""What a customer's Telegram message carries: attachment references, and what the fraud
guard found in it."""

from __future__ import annotations

from telegram import Message, Update

from bot.domain.models import Attachment, AttachmentKind
from bot.i18n import gettext as _

ALBUM_ACK_DELAY = 1.5  # seconds to wait for the rest of an album before acknowledging it


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


async def fraud_notice(update: Update, card: bool, otp: bool) -> None:
    """Tell the customer what the guard masked and why."""
    assert update.effective_message is not None
    parts = []
    if card:
        parts.append(
            _(
                "⚠️ Your message contained a full card number. For your safety I kept only "
                "the first 6 and last 4 digits. Never send a full card number in a chat."
            )
        )
    if otp:
        parts.append(
            _(
                "⚠️ Your message seems to contain a one-time code (OTP). I hid it. Never share "
                "an OTP with anyone: our team will never ask for it, or for your password."
            )
        )
    await update.effective_message.reply_text("\n\n".join(parts))

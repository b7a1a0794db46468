"""Sending to a chat the way Telegram takes it: a text in parts, files as albums, a thread.

Shared by the relay's two directions (bot/channels/telegram/relay.py): into a ticket's
thread in the agents' chat, and to the customer's private chat.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telegram import Bot, InputFile, InputMediaDocument, InputMediaPhoto, Message, ReplyParameters

from bot.domain.models import Attachment, AttachmentKind
from storage.files import KeptFiles

Text = str | Sequence[str] | None


def parts_of(text: Text) -> list[str]:
    """A message as its parts: the first goes out as the text (or the files' caption),
    the rest as further messages (see bot.fit.compose)."""
    if text is None:
        return []
    return [text] if isinstance(text, str) else [part for part in text if part]


def where(thread_id: int | None, card_id: int | None) -> dict[str, Any]:
    """Keyword arguments that put a message into a ticket's thread."""
    if thread_id is not None:
        return {"message_thread_id": thread_id}
    if card_id is not None:
        return {"reply_parameters": ReplyParameters(card_id, allow_sending_without_reply=True)}
    return {}


async def send_files(
    bot: Bot,
    chat_id: int,
    attachments: Sequence[Attachment],
    where: dict[str, Any],
    text: Text = None,
    kept: KeptFiles | None = None,
) -> list[Message]:
    """Send files by file_id, photos and documents each as an album (Telegram can't mix).

    The first part of `text` is the first file's caption; further parts follow as
    messages.
    """
    parts = parts_of(text)
    caption = parts[0] if parts else None

    def upload(a: Attachment) -> str | InputFile:
        # A file kept by the desk itself (a WhatsApp customer's) is uploaded from disk.
        path = kept.path(a.file_id) if kept is not None else None
        if path is None:
            return a.file_id
        return InputFile(path.read_bytes(), filename=a.file_name or path.name)

    sent: list[Message] = []
    photos = [a for a in attachments if a.kind is AttachmentKind.PHOTO]
    documents = [a for a in attachments if a.kind is AttachmentKind.DOCUMENT]
    for group in (photos, documents):
        for start in range(0, len(group), 10):  # an album holds at most ten
            chunk = group[start : start + 10]
            first_caption = caption if not sent else None
            if len(chunk) == 1:
                item = chunk[0]
                if item.kind is AttachmentKind.PHOTO:
                    sent.append(
                        await bot.send_photo(chat_id, upload(item), caption=first_caption, **where)
                    )
                else:
                    sent.append(
                        await bot.send_document(
                            chat_id, upload(item), caption=first_caption, **where
                        )
                    )
                continue
            media: list[InputMediaPhoto | InputMediaDocument] = [
                InputMediaPhoto(upload(a), caption=first_caption if i == 0 else None)
                if a.kind is AttachmentKind.PHOTO
                else InputMediaDocument(upload(a), caption=first_caption if i == 0 else None)
                for i, a in enumerate(chunk)
            ]
            sent.extend(await bot.send_media_group(chat_id, media, **where))
    for part in parts[1:]:
        sent.append(await bot.send_message(chat_id, part, **where))
    return sent

"""Driver-side objects: people and chats the tests act with, and what the bot sent."""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import FakeTelegram

JSON = dict[str, Any]

# Message kinds in the order Telegram's own clients check them ("animation" messages also
# carry a "document" field, so it must come first).
KINDS = (
    "text",
    "animation",
    "photo",
    "document",
    "video",
    "video_note",
    "voice",
    "audio",
    "sticker",
    "location",
    "venue",
    "contact",
    "dice",
    "poll",
    "forum_topic_created",
)


def message_kind(message: Mapping[str, Any]) -> str:
    return next((kind for kind in KINDS if kind in message), "service")


@dataclass
class Call:
    """One Bot API request as the fake saw it, refused ones included."""

    method: str
    params: dict[str, Any]
    status: int | None = None  # HTTP status once answered
    error: str | None = None  # the description of an error answer
    result: Any = None
    injected: bool = False  # True when fail_next() produced the error
    at: float = field(default_factory=time.monotonic)  # when the request arrived

    @property
    def done(self) -> bool:
        return self.status is not None

    @property
    def ok(self) -> bool:
        return self.status == 200

    def __repr__(self) -> str:
        outcome = (
            "pending" if not self.done else ("ok" if self.ok else f"{self.status} {self.error}")
        )
        return f"Call({self.method}, {self.params!r} -> {outcome})"


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # "photo", "document", ...
    file_size: int
    file_path: str
    media: Any  # what a message shows: the object, or for photos the whole PhotoSize list
    content: bytes | None = None  # the uploaded bytes, if the bot uploaded it


def file_content(stored: StoredFile) -> JSON:
    """The message fields that show a stored file (a copy, safe to mutate)."""
    content: JSON = {stored.kind: copy.deepcopy(stored.media)}
    if stored.kind == "animation":  # Telegram also sends animations as "document"
        content["document"] = copy.deepcopy(stored.media)
    return content


class SentMessage:
    """A message the bot sent; ``raw`` is the live message, updated by edits."""

    def __init__(self, raw: JSON, method: str, params: JSON) -> None:
        self.raw = raw
        self.method = method
        self.params = params  # decoded parameters of the call that created it
        self.parse_mode: str | None = params.get("parse_mode")
        self.edits: list[JSON] = []  # snapshot of the message after each successful edit
        self.deleted = False

    @property
    def message_id(self) -> int:
        return int(self.raw["message_id"])

    @property
    def chat_id(self) -> int:
        return int(self.raw["chat"]["id"])

    @property
    def text(self) -> str:
        """The text, or the caption of a media message ("" if neither)."""
        return str(self.raw.get("text", self.raw.get("caption", "")))

    @property
    def caption(self) -> str | None:
        return self.raw.get("caption")

    @property
    def kind(self) -> str:
        return message_kind(self.raw)

    @property
    def entities(self) -> list[JSON]:
        return list(self.raw.get("entities") or self.raw.get("caption_entities") or [])

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """Inline keyboard rows as ``(text, callback_data)``; url buttons have ``None``."""
        markup = self.raw.get("reply_markup") or {}
        return [
            [(b["text"], b.get("callback_data")) for b in row]
            for row in markup.get("inline_keyboard", [])
        ]

    def button_texts(self) -> list[str]:
        return [text for row in self.buttons for text, _ in row]

    @property
    def reply_keyboard(self) -> list[list[str]]:
        """A ReplyKeyboardMarkup sent with the message (Telegram does not echo it back)."""
        markup = self.params.get("reply_markup")
        if not isinstance(markup, dict):
            return []
        return [
            [b if isinstance(b, str) else b["text"] for b in row]
            for row in markup.get("keyboard", [])
        ]

    @property
    def reply_to_message_id(self) -> int | None:
        replied = self.raw.get("reply_to_message")
        return int(replied["message_id"]) if replied else None

    @property
    def message_thread_id(self) -> int | None:
        return self.raw.get("message_thread_id")

    def __repr__(self) -> str:
        flags = " deleted" if self.deleted else ""
        buttons = f" buttons={self.button_texts()}" if self.buttons else ""
        return (
            f"<SentMessage #{self.message_id} {self.kind} in {self.chat_id}{flags}: "
            f"{self.text[:80]!r}{buttons}>"
        )


MessageRef = SentMessage | Mapping[str, Any] | int


def message_id_of(ref: MessageRef) -> int:
    if isinstance(ref, SentMessage):
        return ref.message_id
    if isinstance(ref, Mapping):
        return int(ref["message_id"])
    return int(ref)


@dataclass(eq=False)
class FakeChat:
    """A chat: a user's private chat with the bot, or a supergroup (optionally a forum)."""

    fake: FakeTelegram = field(repr=False)
    id: int
    type: str  # "private" or "supergroup"
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    is_forum: bool = False
    members: dict[int, str] = field(default_factory=dict)  # user id -> member status
    topics: dict[int, JSON] = field(default_factory=dict)  # thread id -> ForumTopic
    closed_topics: set[int] = field(default_factory=set)
    messages: dict[int, JSON] = field(default_factory=dict, repr=False)  # live, not deleted
    bot_left: bool = False
    next_message_id: int = 1

    def to_dict(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        if self.is_forum:
            data["is_forum"] = True
        return data

    def take_message_id(self) -> int:
        # Message ids are per chat and only grow, whoever sent the message.
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    # -- people acting in this chat ---------------------------------------------------------
    def send(
        self,
        user: FakeUser,
        text: str,
        *,
        reply_to: MessageRef | None = None,
        thread_id: int | None = None,
    ) -> JSON:
        """``user`` sends a text message here; "/cmd" gets a bot_command entity."""
        return self.fake.post_incoming(
            self, user, self.fake.text_content(text), reply_to=reply_to, thread_id=thread_id
        )

    def send_photo(
        self,
        user: FakeUser,
        *,
        caption: str | None = None,
        file_size: int = 50_000,
        media_group_id: str | None = None,
        reply_to: MessageRef | None = None,
        thread_id: int | None = None,
    ) -> JSON:
        content = self.fake.media_content("photo", file_size=file_size, caption=caption)
        return self.fake.post_incoming(
            self,
            user,
            content,
            reply_to=reply_to,
            thread_id=thread_id,
            media_group_id=media_group_id,
        )

    def send_document(
        self,
        user: FakeUser,
        *,
        file_name: str = "receipt.pdf",
        mime_type: str = "application/pdf",
        file_size: int = 120_000,
        caption: str | None = None,
        media_group_id: str | None = None,
        reply_to: MessageRef | None = None,
        thread_id: int | None = None,
    ) -> JSON:
        content = self.fake.media_content(
            "document",
            file_size=file_size,
            caption=caption,
            file_name=file_name,
            mime_type=mime_type,
        )
        return self.fake.post_incoming(
            self,
            user,
            content,
            reply_to=reply_to,
            thread_id=thread_id,
            media_group_id=media_group_id,
        )

    def send_media(
        self,
        user: FakeUser,
        kind: str,
        *,
        reply_to: MessageRef | None = None,
        thread_id: int | None = None,
        media_group_id: str | None = None,
        **fields: Any,
    ) -> JSON:
        """Any other kind: sticker, voice, video, audio, animation, location, contact."""
        content = self.fake.media_content(kind, **fields)
        return self.fake.post_incoming(
            self,
            user,
            content,
            reply_to=reply_to,
            thread_id=thread_id,
            media_group_id=media_group_id,
        )

    def send_album(
        self,
        user: FakeUser,
        items: list[tuple[str, dict[str, Any]]],
        *,
        thread_id: int | None = None,
    ) -> list[JSON]:
        """Several messages sharing one media_group_id, one update each (as Telegram does)."""
        group_id = self.fake.new_media_group_id()
        return [
            self.send_media(user, kind, thread_id=thread_id, media_group_id=group_id, **fields)
            for kind, fields in items
        ]

    def edit(self, user: FakeUser, message: MessageRef, text: str) -> JSON:
        """``user`` edits their own text message: an ``edited_message`` update."""
        return self.fake.edit_incoming(self, user, message_id_of(message), text)

    def create_topic(self, name: str, *, icon_color: int = 7322096) -> int:
        """A topic created by hand in the Telegram client; returns its message_thread_id."""
        return self.fake.create_topic(self, name, icon_color=icon_color)

    def delete_topic(self, thread_id: int) -> None:
        """Delete a topic by hand: its messages vanish, and the bot is not told."""
        self.fake.delete_topic(self, thread_id)


@dataclass(eq=False)
class FakeUser:
    """A human Telegram user; their private chat with the bot has the same id."""

    fake: FakeTelegram = field(repr=False)
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def to_dict(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data

    @property
    def chat(self) -> FakeChat:
        return self.fake.chat(self.id)

    def send(self, text: str, *, reply_to: MessageRef | None = None) -> JSON:
        return self.chat.send(self, text, reply_to=reply_to)

    def send_photo(
        self,
        *,
        caption: str | None = None,
        file_size: int = 50_000,
        media_group_id: str | None = None,
    ) -> JSON:
        return self.chat.send_photo(
            self, caption=caption, file_size=file_size, media_group_id=media_group_id
        )

    def send_document(
        self,
        *,
        file_name: str = "receipt.pdf",
        mime_type: str = "application/pdf",
        file_size: int = 120_000,
        caption: str | None = None,
        media_group_id: str | None = None,
    ) -> JSON:
        return self.chat.send_document(
            self,
            file_name=file_name,
            mime_type=mime_type,
            file_size=file_size,
            caption=caption,
            media_group_id=media_group_id,
        )

    def send_album(self, items: list[tuple[str, dict[str, Any]]]) -> list[JSON]:
        return self.chat.send_album(self, items)

    def send_sticker(self, *, emoji: str = "👍") -> JSON:
        return self.chat.send_media(self, "sticker", emoji=emoji)

    def send_voice(self, *, duration: int = 3, file_size: int = 8_000) -> JSON:
        return self.chat.send_media(self, "voice", duration=duration, file_size=file_size)

    def send_video(
        self,
        *,
        caption: str | None = None,
        duration: int = 10,
        file_size: int = 2_000_000,
        media_group_id: str | None = None,
    ) -> JSON:
        return self.chat.send_media(
            self,
            "video",
            caption=caption,
            duration=duration,
            file_size=file_size,
            media_group_id=media_group_id,
        )

    def send_location(self, *, latitude: float = 52.37, longitude: float = 4.89) -> JSON:
        return self.chat.send_media(self, "location", latitude=latitude, longitude=longitude)

    def send_contact(self, *, phone_number: str = "+31600000000") -> JSON:
        return self.chat.send_media(
            self, "contact", phone_number=phone_number, first_name=self.first_name, user_id=self.id
        )

    def edit(self, message: MessageRef, text: str) -> JSON:
        return self.chat.edit(self, message, text)

    def press(self, message: MessageRef, button: str) -> str:
        """Press the inline button whose text or callback_data is ``button``; returns the query id.

        An ``int`` message reference means a message in this user's private chat.
        """
        return self.fake.press(self, message, button=button)

    def press_data(self, message: MessageRef, data: str) -> str:
        """Send a callback query with arbitrary (possibly forged) data."""
        return self.fake.press(self, message, data=data)


def snapshot(message: JSON) -> JSON:
    return copy.deepcopy(message)

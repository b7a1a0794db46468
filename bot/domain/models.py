"""The desk's records, as plain dataclasses. Nothing here knows about Telegram or SQL."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    OPEN = "open"
    PENDING = "pending"  # waiting for the customer
    SOLVED = "solved"
    CLOSED = "closed"


class Priority(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def is_emergency(self) -> bool:
        return self in (Priority.HIGH, Priority.CRITICAL)


class AttachmentKind(StrEnum):
    PHOTO = "photo"
    DOCUMENT = "document"


class Author(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class User:
    id: int
    first_name: str
    last_name: str | None
    username: str | None
    language_code: str | None
    chosen_locale: str | None
    is_banned: bool = False
    ban_notified: bool = False

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the customer or an agent sent: only Telegram's reference, never the bytes."""

    kind: AttachmentKind
    file_id: str
    file_unique_id: str
    file_size: int | None = None
    file_name: str | None = None
    mime_type: str | None = None
    media_group_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "media_group_id": self.media_group_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Attachment:
        return cls(
            kind=AttachmentKind(data["kind"]),
            file_id=str(data["file_id"]),
            file_unique_id=str(data["file_unique_id"]),
            file_size=data.get("file_size"),
            file_name=data.get("file_name"),
            mime_type=data.get("mime_type"),
            media_group_id=data.get("media_group_id"),
        )


@dataclass(frozen=True, slots=True)
class Ticket:
    number: int
    customer_id: int
    department: str
    subject: str
    priority: Priority
    status: Status
    locale: str
    created_at: datetime
    updated_at: datetime
    first_response_due_at: datetime
    first_response_at: datetime | None = None
    assignee_id: int | None = None
    follow_up_of: int | None = None
    admin_chat_id: int | None = None
    admin_thread_id: int | None = None
    admin_card_message_id: int | None = None
    breach_announced_at: datetime | None = None
    status_changed_at: datetime | None = None
    solve_reminder_at: datetime | None = None
    customer_unreachable: bool = False

    @property
    def ref(self) -> str:
        """The number as everyone sees it: `#1001`."""
        return f"#{self.number}"


@dataclass(frozen=True, slots=True)
class TicketMessage:
    id: int
    ticket_number: int
    author: Author
    author_id: int | None
    body: str
    created_at: datetime
    internal: bool = False
    attachments: tuple[Attachment, ...] = ()
    edit_of: int | None = None


@dataclass(frozen=True, slots=True)
class TicketEvent:
    id: int
    ticket_number: int
    kind: str
    actor: Author
    actor_id: int | None
    from_value: str | None
    to_value: str | None
    created_at: datetime


@dataclass(slots=True)
class Draft:
    """A ticket being written: saved after every step, so it survives a restart."""

    user_id: int
    department: str | None = None
    subject: str | None = None
    priority: Priority | None = None
    message: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    # Set while the customer is changing one step from the review: the next answer
    # returns to the review instead of walking on through the steps.
    editing: bool = False
    # The question the customer was last asked, so a wrong answer gets the same question.
    step: str | None = None
    # The closed or solved ticket this one continues.
    follow_up_of: int | None = None
    # When the message step took a text long enough to be the first part of a paste that
    # Telegram split: a text right after it is the rest (Unix seconds).
    message_part_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "department": self.department,
            "subject": self.subject,
            "priority": self.priority.value if self.priority else None,
            "message": self.message,
            "attachments": [a.to_json() for a in self.attachments],
            "editing": self.editing,
            "step": self.step,
            "follow_up_of": self.follow_up_of,
            "message_part_at": self.message_part_at,
        }

    @classmethod
    def from_json(cls, user_id: int, data: dict[str, Any]) -> Draft:
        priority = data.get("priority")
        return cls(
            user_id=user_id,
            department=data.get("department"),
            subject=data.get("subject"),
            priority=Priority(priority) if priority else None,
            message=data.get("message"),
            attachments=[Attachment.from_json(a) for a in data.get("attachments", [])],
            editing=bool(data.get("editing", False)),
            step=data.get("step"),
            follow_up_of=data.get("follow_up_of"),
            message_part_at=data.get("message_part_at"),
        )

    @property
    def is_complete(self) -> bool:
        return bool(self.department and self.subject and self.priority and self.message)


class RelayKind(StrEnum):
    """What a Telegram message linked to a ticket is."""

    CARD = "card"  # the ticket's card in the admin chat
    TO_CUSTOMER = "to_customer"  # an agent's message and its copy at the customer's
    TO_ADMIN = "to_admin"  # a customer's message and its copy in the admin chat
    NOTE = "note"  # an internal note, admin chat only
    NOTICE = "notice"  # anything else the bot said about the ticket, on either side
    RATING = "rating"  # the prompt for a rating's comment (the comment replies to it)


@dataclass(frozen=True, slots=True)
class Relay:
    ticket_number: int
    kind: RelayKind
    ticket_message_id: int | None
    admin_chat_id: int | None
    admin_message_id: int | None
    customer_chat_id: int | None
    customer_message_id: int | None


class Audience(StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"
    # A customer on WhatsApp: the desk owes it as CUSTOMER, the outbox keeps it in its own
    # lane (`storage.outbox.enqueue`), delivered by bot/channels/whatsapp/sender.py.
    WHATSAPP = "whatsapp"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One thing the bot owes someone, waiting in the durable outbox."""

    id: int
    kind: str
    audience: Audience
    chat_id: int | None
    ticket_number: int | None
    payload: dict[str, Any]
    attempts: int
    next_attempt_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Rating:
    ticket_number: int
    score: int
    comment: str | None


@dataclass(frozen=True, slots=True)
class HeldMessage:
    """A customer's message kept until they say which of their tickets it belongs to."""

    id: int
    customer_id: int
    tg_chat_id: int
    tg_message_id: int
    body: str
    attachment: Attachment | None = None
    media_group_id: str | None = None


@dataclass(frozen=True, slots=True)
class AnswerFile:
    """A photo or document owed to an agent (a chart, an export), carried in the outbox."""

    kind: AttachmentKind
    name: str
    data: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "name": self.name,
            "data": base64.b64encode(self.data).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AnswerFile:
        return cls(AttachmentKind(data["kind"]), str(data["name"]), base64.b64decode(data["data"]))


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What forgetting a customer replaced (see `storage.forget`)."""

    user_id: int
    tickets: list[int]
    messages: int
    attachments: int
    scrubbed: int  # rows of the inbox, quarantine and outbox that held their words

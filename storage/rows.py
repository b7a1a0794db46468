"""What the repositories share: datetimes as Unix seconds and back, and a ticket's rows read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from bot.domain.models import Attachment, Author, Priority, Status, Ticket, TicketMessage
from storage.engines import Record


def to_ts(moment: datetime) -> int:
    return int(moment.timestamp())


def from_ts(value: int) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)


def opt_ts(value: int | None) -> datetime | None:
    return None if value is None else from_ts(value)


def ticket_of(row: Record) -> Ticket:
    return Ticket(
        number=row["number"],
        customer_id=row["customer_id"],
        department=row["department"],
        subject=row["subject"],
        priority=Priority(row["priority"]),
        status=Status(row["status"]),
        locale=row["locale"],
        created_at=from_ts(row["created_at"]),
        updated_at=from_ts(row["updated_at"]),
        first_response_due_at=from_ts(row["first_response_due_at"]),
        first_response_at=opt_ts(row["first_response_at"]),
        assignee_id=row["assignee_id"],
        follow_up_of=row["follow_up_of"],
        admin_chat_id=row["admin_chat_id"],
        admin_thread_id=row["admin_thread_id"],
        admin_card_message_id=row["admin_card_message_id"],
        breach_announced_at=opt_ts(row["breach_announced_at"]),
        status_changed_at=opt_ts(row["status_changed_at"]),
        solve_reminder_at=opt_ts(row["solve_reminder_at"]),
        customer_unreachable=bool(row["customer_unreachable"]),
    )


def message_of(row: Record, attachments: Sequence[Attachment] = ()) -> TicketMessage:
    return TicketMessage(
        id=row["id"],
        ticket_number=row["ticket_number"],
        author=Author(row["author"]),
        author_id=row["author_id"],
        body=row["body"],
        created_at=from_ts(row["created_at"]),
        internal=bool(row["internal"]),
        attachments=tuple(attachments),
        edit_of=row["edit_of"],
    )

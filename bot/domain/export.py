"""The tickets as CSV (`/export`, `python -m bot export`): one row a ticket, no message
bodies unless asked for in full. Times are ISO 8601 in the desk's time zone; the file is
UTF-8 with a byte-order mark, so spreadsheets read Indonesian and Swedish letters right."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Final
from zoneinfo import ZoneInfo

COLUMNS: Final = (
    "number",
    "created",
    "channel",
    "department",
    "priority",
    "status",
    "first_response_at",
    "solved_at",
    "closed_at",
    "target_met",
    "rating",
    "assignee",
)
FULL_COLUMNS: Final = (*COLUMNS, "subject", "messages")
CHANNEL: Final = "telegram"  # every ticket comes in through the bot, for now
ENCODING: Final = "utf-8-sig"
# Periods `/export` takes, in days; None: every ticket.
EXPORT_PERIODS: Final[dict[str, int | None]] = {"7d": 7, "30d": 30, "all": None}


@dataclass(frozen=True, slots=True)
class ExportMessage:
    created_at: datetime
    author: str  # customer, agent, system
    internal: bool
    body: str


@dataclass(frozen=True, slots=True)
class ExportRow:
    number: int
    created_at: datetime
    department: str
    priority: str
    status: str
    first_response_due_at: datetime
    first_response_at: datetime | None
    solved_at: datetime | None
    closed_at: datetime | None
    rating: int | None
    assignee: str | None
    subject: str = ""
    messages: Sequence[ExportMessage] = ()

    def target_met(self, now: datetime) -> str:
        """yes / no once the due time has come (or the answer did), else empty."""
        if self.first_response_at is not None:
            return "yes" if self.first_response_at <= self.first_response_due_at else "no"
        return "no" if self.first_response_due_at <= now else ""


def _when(moment: datetime | None, tz: ZoneInfo) -> str:
    return "" if moment is None else moment.astimezone(tz).isoformat(timespec="seconds")


def _record(row: ExportRow, tz: ZoneInfo, now: datetime, full: bool) -> dict[str, object]:
    record: dict[str, object] = {
        "number": row.number,
        "created": _when(row.created_at, tz),
        "channel": CHANNEL,
        "department": row.department,
        "priority": row.priority,
        "status": row.status,
        "first_response_at": _when(row.first_response_at, tz),
        "solved_at": _when(row.solved_at, tz),
        "closed_at": _when(row.closed_at, tz),
        "target_met": row.target_met(now),
        "rating": "" if row.rating is None else row.rating,
        "assignee": row.assignee or "",
    }
    if full:
        record["subject"] = row.subject
        record["messages"] = "\n\n".join(
            f"[{_when(m.created_at, tz)} {m.author}{' note' if m.internal else ''}] {m.body}"
            for m in row.messages
        )
    return record


async def write_csv(
    batches: AsyncIterable[Sequence[ExportRow]],
    out: IO[str],
    *,
    tz: ZoneInfo,
    now: datetime,
    full: bool,
) -> int:
    """Write the rows as CSV to `out` (opened with newline=""); how many were written."""
    writer = csv.DictWriter(out, fieldnames=FULL_COLUMNS if full else COLUMNS)
    writer.writeheader()
    count = 0
    async for batch in batches:
        writer.writerows(_record(row, tz, now, full) for row in batch)
        count += len(batch)
    return count

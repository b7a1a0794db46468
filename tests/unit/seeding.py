"""Rows written straight into a migrated file, in any state a test needs."""

from __future__ import annotations

from typing import Any

from bot.domain.outbox import OutboxKind
from storage import Database

CUSTOMER = 42


async def add_customer(db: Database, user_id: int = CUSTOMER) -> None:
    await db.execute(
        "INSERT INTO users (id, first_name, created_at, updated_at) VALUES (?, ?, 0, 0)"
        " ON CONFLICT DO NOTHING",
        (user_id, f"Customer {user_id}"),
    )


async def add_ticket(db: Database, **fields: Any) -> int:
    """Insert one ticket (Unix-second times, open and unanswered unless told); its number."""
    created = fields.pop("created_at", 1_000_000)
    row: dict[str, Any] = {
        "customer_id": CUSTOMER,
        "department": "technical",
        "subject": "Server down",
        "priority": "high",
        "status": "open",
        "locale": "en",
        "created_at": created,
        "updated_at": created,
        "first_response_due_at": created + 3600,
        "status_changed_at": created,
    }
    row.update(fields)
    await add_customer(db, row["customer_id"])
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    async with db.transaction() as tx:
        return await tx.insert(
            f"INSERT INTO tickets ({columns}) VALUES ({marks}) RETURNING number",
            tuple(row.values()),
        )


async def add_outbox_row(db: Database, state: str, done_at: int | None, due: float) -> int:
    async with db.transaction() as tx:
        return await tx.insert(
            "INSERT INTO outbox (kind, audience, state, next_attempt_at, created_at, done_at)"
            " VALUES (?, 'admin', ?, ?, ?, ?) RETURNING id",
            (OutboxKind.CARD, state, due, int(due), done_at),
        )


async def ids(db: Database, sql: str) -> set[int]:
    return {row[0] for row in await db.fetch_all(sql)}


async def add_processed(db: Database, update_id: int, at: int) -> None:
    await db.execute(
        "INSERT INTO processed_updates (update_id, processed_at) VALUES (?, ?)", (update_id, at)
    )

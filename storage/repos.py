"""Repositories: SQL in, dataclasses out. `?` placeholders only."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.audit import DeskChange
from bot.domain.export import ExportMessage, ExportRow
from bot.domain.models import (
    Attachment,
    AttachmentKind,
    Audience,
    Author,
    Draft,
    HeldMessage,
    OutboxItem,
    Priority,
    Rating,
    Relay,
    RelayKind,
    Status,
    Ticket,
    TicketEvent,
    TicketMessage,
    User,
)
from bot.domain.outbox import OutboxKind, admin_lane
from bot.domain.stats import Compliance, Counts, DeskStats, Durations, per_day
from storage import audit
from storage.db import Database, Deferred, Params, Transaction, update_settled
from storage.retention import Retention


def to_ts(moment: datetime) -> int:
    return int(moment.timestamp())


def from_ts(value: int) -> datetime:
    return datetime.fromtimestamp(value, tz=UTC)


def _opt_ts(value: int | None) -> datetime | None:
    return None if value is None else from_ts(value)


# The queries on hot paths, as module constants so tests/unit/test_hot_queries.py can hold
# the very text that runs to its plan (each served by one index of migration 0009, filter
# and order alike). Statuses are literals where a partial index depends on them: the
# planner can use a partial index only when the query names its condition.
TICKET_BY_NUMBER = "SELECT * FROM tickets WHERE number = ?"
TICKETS_FOR_CUSTOMER = (
    "SELECT * FROM tickets WHERE customer_id = ? ORDER BY number DESC LIMIT ? OFFSET ?"
)
COUNT_FOR_CUSTOMER = "SELECT COUNT(*) AS n FROM tickets WHERE customer_id = ?"
OPEN_FOR_CUSTOMER = (
    "SELECT * FROM tickets WHERE customer_id = ? AND status IN ('open', 'pending')"
    " ORDER BY number DESC"
)
TICKET_BY_THREAD = "SELECT * FROM tickets WHERE admin_chat_id = ? AND admin_thread_id = ?"
# 'open' sorts before 'pending', so ordering by status puts open tickets first: the
# same order as the index tickets_queue, which then needs no sort.
QUEUE = (
    "SELECT * FROM tickets WHERE status IN ('open', 'pending')"
    " ORDER BY status, first_response_at IS NOT NULL, first_response_due_at, number"
    " LIMIT ? OFFSET ?"
)
# Counted as tickets change (ticket_counts, migration 0014): the live tickets can be tens
# of thousands, and a COUNT would walk every one of them.
COUNT_QUEUE = (
    "SELECT COALESCE(SUM(n), 0) AS n FROM ticket_counts WHERE status IN ('open', 'pending')"
)
BREACHED = (
    "SELECT * FROM tickets WHERE status = 'open' AND first_response_at IS NULL"
    " AND breach_announced_at IS NULL AND first_response_due_at <= ?"
    " ORDER BY first_response_due_at"
)
IN_STATUS_SINCE = (
    "SELECT * FROM tickets WHERE status = ? AND status_changed_at <= ?"
    " ORDER BY status_changed_at, number"
)
AWAITING_REMINDER = (
    "SELECT * FROM tickets WHERE status = 'pending' AND solve_reminder_at IS NULL"
    " AND status_changed_at <= ? ORDER BY status_changed_at, number"
)
# "Not in the bound chat, or there without a card", split into disjoint ranges that an
# index can seek (an `IS NOT ?` or an OR can't use one); the numbers come back in order.
_LIVE = "SELECT number FROM tickets WHERE status IN ('open', 'pending', 'solved') AND"
UNPOSTED = (
    f"SELECT * FROM tickets WHERE number IN ({_LIVE} admin_chat_id IS NULL"
    f" UNION ALL {_LIVE} admin_chat_id < ?1"
    f" UNION ALL {_LIVE} admin_chat_id > ?1"
    f" UNION ALL {_LIVE} admin_chat_id = ?1 AND admin_card_message_id IS NULL)"
    " ORDER BY number"
)
# /stats. Every count is read from the counts migration 0014 keeps (a dozen rows), not
# from the tickets: the closed ones alone are nearly all of them.
TICKET_COUNTS = "SELECT status, answered, met, n FROM ticket_counts"
COUNT_LIVE_BY_STATUS = (
    "SELECT status, SUM(n) AS n FROM ticket_counts"
    " WHERE status IN ('open', 'pending', 'solved') GROUP BY status"
)
# The middle one or two answered tickets by response time, read off tickets_first_response.
MIDDLE_FIRST_RESPONSES = (
    "SELECT first_response_at - created_at AS took FROM tickets"
    " WHERE first_response_at IS NOT NULL ORDER BY first_response_at - created_at"
    " LIMIT ? OFFSET ?"
)
RATINGS_SUMMARY = (
    "SELECT COALESCE(SUM(n), 0) AS n, COALESCE(SUM(score * n), 0) AS total FROM rating_counts"
)
# /stats over a period (indexes of migrations 0012 and 0015): each query reads only
# indexes, no table row. The counts by department and priority go group by group
# (STATS_KINDS: the departments the tickets have, found by hopping through the index from
# one to the next, times the priorities), each group a range of an index led by them, so
# nothing is sorted into groups. The tickets opened come with their response targets: a
# target counts once its due time has come, met if answered by then, missed if answered
# late or not yet answered. A join over the groups is a CROSS JOIN, which SQLite reads in
# the order written: with statistics (ANALYZE) it would otherwise scan the tickets first.
STATS_KINDS = (
    "WITH RECURSIVE departments (department) AS ("
    " SELECT MIN(department) FROM tickets"
    " UNION ALL SELECT (SELECT MIN(t.department) FROM tickets t"
    " WHERE t.department > d.department) FROM departments d WHERE d.department IS NOT NULL),"
    " kinds (department, priority) AS (SELECT department, priority FROM departments, ("
    + " UNION ALL ".join(f"SELECT '{p.value}' AS priority" for p in Priority)
    + ") WHERE department IS NOT NULL)"
)
_OF_KIND = "t.department = k.department AND t.priority = k.priority"
_OPENED_OF_KIND = f"FROM tickets t WHERE {_OF_KIND} AND t.created_at >= ?1"
STATS_OPENED = (
    f"{STATS_KINDS} SELECT k.department, k.priority,"
    f" (SELECT COUNT(*) {_OPENED_OF_KIND}) AS n,"
    " (SELECT COALESCE(SUM(t.first_response_at <= t.first_response_due_at), 0)"
    f" {_OPENED_OF_KIND}) AS met,"
    " (SELECT COALESCE(SUM(t.first_response_at IS NOT NULL OR t.first_response_due_at <= ?2),"
    f" 0) {_OPENED_OF_KIND}) AS due"
    " FROM kinds k"
)
STATS_SOLVED = (
    f"{STATS_KINDS} SELECT k.department, k.priority, (SELECT COUNT(*) FROM tickets t"
    f" WHERE {_OF_KIND} AND t.solved_at >= ?1) AS n FROM kinds k"
)
STATS_CLOSED = (
    f"{STATS_KINDS} SELECT k.department, k.priority, (SELECT COUNT(*) FROM tickets t"
    f" WHERE {_OF_KIND} AND t.closed_at >= ?1) AS n FROM kinds k"
)
# The period's durations of one priority, read off one covering index each (migration
# 0015). Ranking them in SQL (window functions, or ORDER BY ... OFFSET per rank) costs
# several times more than sorting the fetched integers (bench/storage_bench.py: 90 days
# of a 1M-ticket desk).
STATS_FIRST_RESPONSES = (
    "SELECT first_response_at - created_at AS wall, first_response_business AS business"
    " FROM tickets WHERE priority = ?2 AND first_response_at >= ?1"
)
STATS_RESOLUTIONS = (
    "SELECT resolved_at - created_at AS wall, resolution_business AS business"
    " FROM tickets WHERE priority = ?2 AND resolved_at >= ?1"
)
STATS_OPENED_PER_QUARTER = (
    f"{STATS_KINDS} SELECT t.created_at / 900 AS quarter, COUNT(*) AS n FROM kinds k"
    f" CROSS JOIN tickets t ON {_OF_KIND} AND t.created_at >= ?1 GROUP BY quarter"
)
STATS_SOLVED_PER_QUARTER = (
    f"{STATS_KINDS} SELECT t.solved_at / 900 AS quarter, COUNT(*) AS n FROM kinds k"
    f" CROSS JOIN tickets t ON {_OF_KIND} AND t.solved_at >= ?1 GROUP BY quarter"
)
STATS_RATINGS = (
    "SELECT COUNT(*) AS n, COALESCE(SUM(score), 0) AS total FROM ratings WHERE created_at >= ?"
)
STATS_BLOCKED = (
    "SELECT COUNT(DISTINCT customer_id) AS n FROM tickets WHERE customer_unreachable = 1"
)
# /export: the tickets in number order, a batch at a time (the number is the key to go on
# from, so a batch costs the same however far in it is).
EXPORT_BATCH = (
    "SELECT t.number, t.created_at, t.department, t.priority, t.status, t.subject,"
    " t.first_response_due_at, t.first_response_at, t.solved_at, t.closed_at,"
    " r.score, a.first_name AS assignee_first, a.last_name AS assignee_last, t.assignee_id"
    " FROM tickets t LEFT JOIN ratings r ON r.ticket_number = t.number"
    " LEFT JOIN users a ON a.id = t.assignee_id"
    " WHERE t.number > ? AND t.created_at >= ? ORDER BY t.number LIMIT ?"
)
EXPORT_MESSAGES = (
    "SELECT ticket_number, author, internal, body, created_at FROM ticket_messages"
    " WHERE ticket_number BETWEEN ? AND ? AND edit_of IS NULL ORDER BY ticket_number, id"
)
EXPIRED_DRAFTS = "SELECT user_id FROM drafts WHERE updated_at <= ?"
# The outbox's next items: each customer's oldest, and the agents' chat's next by lane
# (indexes of migration 0008).
OUTBOX_CUSTOMER_HEADS = (
    "SELECT * FROM outbox WHERE id IN (SELECT MIN(id) FROM outbox"
    " WHERE state = 'pending' AND audience = 'customer' GROUP BY chat_id)"
    " ORDER BY id LIMIT ?"
)
OUTBOX_ADMIN_NEXT = (
    "SELECT * FROM outbox WHERE state = 'pending' AND audience = 'admin' ORDER BY lane, id LIMIT 1"
)
# The agents' chat's pending items of one ticket after a given one, in its lane's order
# (to batch a flood of one customer's messages into one delivery).
OUTBOX_TICKET_NEXT = (
    "SELECT * FROM outbox WHERE audience = 'admin' AND state = 'pending' AND lane = ?"
    " AND id > ? AND ticket_number = ? ORDER BY id LIMIT ?"
)
RELAY_BY_ADMIN_MESSAGE = (
    "SELECT * FROM relayed_messages WHERE admin_chat_id = ? AND admin_message_id = ?"
)
RELAY_BY_CUSTOMER_MESSAGE = (
    "SELECT * FROM relayed_messages WHERE customer_chat_id = ? AND customer_message_id = ?"
    " ORDER BY id LIMIT 1"
)
RATING_COMMENT = "UPDATE ratings SET comment = ?, updated_at = ? WHERE ticket_number = ?"


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        username=row["username"],
        language_code=row["language_code"],
        chosen_locale=row["chosen_locale"],
        is_banned=bool(row["is_banned"]),
        ban_notified=bool(row["ban_notified"]),
    )


def _ticket(row: sqlite3.Row) -> Ticket:
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
        first_response_at=_opt_ts(row["first_response_at"]),
        assignee_id=row["assignee_id"],
        follow_up_of=row["follow_up_of"],
        admin_chat_id=row["admin_chat_id"],
        admin_thread_id=row["admin_thread_id"],
        admin_card_message_id=row["admin_card_message_id"],
        breach_announced_at=_opt_ts(row["breach_announced_at"]),
        status_changed_at=_opt_ts(row["status_changed_at"]),
        solve_reminder_at=_opt_ts(row["solve_reminder_at"]),
        customer_unreachable=bool(row["customer_unreachable"]),
    )


def _message(row: sqlite3.Row, attachments: Sequence[Attachment] = ()) -> TicketMessage:
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


def _attachment(row: sqlite3.Row) -> Attachment:
    return Attachment(
        kind=AttachmentKind(row["kind"]),
        file_id=row["file_id"],
        file_unique_id=row["file_unique_id"],
        file_size=row["file_size"],
        file_name=row["file_name"],
        mime_type=row["mime_type"],
        media_group_id=row["media_group_id"],
    )


# Users read lately are kept (most updates come from someone seen a moment ago, and every
# update reads its sender): a write through this repository replaces or drops the copy, a
# write by another process (`python -m bot forget`) is seen once the copy is this old.
USER_KEPT_SECONDS = 60.0
USERS_KEPT = 10_000


class UserRepo:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._kept: dict[int, tuple[float, User]] = {}
        # Counts writes begun and ended: a read that overlapped one is not kept, since it
        # may have read the row as it was before.
        self._writes = 0

    def _copy(self, user_id: int) -> User | None:
        kept = self._kept.get(user_id)
        if kept is None:
            return None
        at, user = kept
        if time.monotonic() - at > USER_KEPT_SECONDS:
            del self._kept[user_id]
            return None
        return user

    def _keep(self, user: User) -> User:
        if len(self._kept) >= USERS_KEPT:
            self._kept.clear()
        self._kept[user.id] = (time.monotonic(), user)
        return user

    def changing(self, user_id: int) -> None:
        """Drop the copy of a user whose row is being written (call before and after)."""
        self._writes += 1
        self._kept.pop(user_id, None)

    async def upsert(
        self,
        *,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        now: datetime,
    ) -> User:
        """Record what Telegram says about a user now, keeping their own choices.

        Most updates come from someone already known as they are: a read then, not a write.
        """
        known = await self.get(user_id)
        if known is not None and (
            known.first_name,
            known.last_name,
            known.username,
            known.language_code,
        ) == (first_name, last_name, username, language_code):
            return known
        self.changing(user_id)
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO users (id, first_name, last_name, username, language_code,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET first_name = excluded.first_name,"
                " last_name = excluded.last_name, username = excluded.username,"
                " language_code = excluded.language_code, updated_at = excluded.updated_at",
                (user_id, first_name, last_name, username, language_code, to_ts(now), to_ts(now)),
            )
            row = await tx.fetch_one("SELECT * FROM users WHERE id = ?", (user_id,))
        assert row is not None
        self.changing(user_id)
        # Read in the write's own transaction: no other write came between.
        return self._keep(_user(row))

    async def get(self, user_id: int) -> User | None:
        kept = self._copy(user_id)
        if kept is not None:
            return kept
        writes = self._writes
        row = await self._db.fetch_one("SELECT * FROM users WHERE id = ?", (user_id,))
        if row is None:
            return None
        user = _user(row)
        return self._keep(user) if writes == self._writes else user

    async def _write(self, user_id: int, sql: str, params: Params) -> int:
        self.changing(user_id)
        try:
            return await self._db.execute(sql, params)
        finally:
            self.changing(user_id)

    async def set_banned(
        self, user_id: int, banned: bool, now: datetime, *, change: DeskChange | None = None
    ) -> bool:
        """Ban or unban; False if the user is unknown. Unbanning resets the one-time notice.
        `change` goes to the desk's trail in the same transaction."""
        self.changing(user_id)
        try:
            async with self._db.transaction() as tx:
                count = await tx.execute(
                    "UPDATE users SET is_banned = ?, ban_notified = 0, updated_at = ? WHERE id = ?",
                    (int(banned), to_ts(now), user_id),
                )
                if count and change is not None:
                    await audit.record(tx, change, now)
        finally:
            self.changing(user_id)
        return count > 0

    async def set_reply_ticket(self, user_id: int, number: int | None, now: datetime) -> None:
        await self._db.execute(
            "UPDATE users SET reply_ticket = ?, reply_since = ? WHERE id = ?",
            (number, to_ts(now) if number is not None else None, user_id),
        )

    async def reply_ticket(self, user_id: int, *, newer_than: datetime | None = None) -> int | None:
        """The ticket the customer chose to reply to (if chosen after `newer_than`)."""
        row = await self._db.fetch_one(
            "SELECT reply_ticket, reply_since FROM users WHERE id = ?", (user_id,)
        )
        if row is None or row["reply_ticket"] is None:
            return None
        if newer_than is not None and (row["reply_since"] or 0) < to_ts(newer_than):
            return None
        return int(row["reply_ticket"])

    async def mark_ban_notified(self, user_id: int) -> bool:
        """Record that the ban was explained; True only for the first caller."""
        count = await self._write(
            user_id,
            "UPDATE users SET ban_notified = 1 WHERE id = ? AND ban_notified = 0",
            (user_id,),
        )
        return count > 0

    async def set_locale(self, user_id: int, locale: str, now: datetime) -> None:
        await self._write(
            user_id,
            "UPDATE users SET chosen_locale = ?, updated_at = ? WHERE id = ?",
            (locale, to_ts(now), user_id),
        )


class DraftRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, user_id: int) -> Draft | None:
        row = await self._db.fetch_one("SELECT data FROM drafts WHERE user_id = ?", (user_id,))
        return None if row is None else Draft.from_json(user_id, json.loads(row["data"]))

    async def save(self, draft: Draft, now: datetime) -> None:
        await self._db.execute(
            "INSERT INTO drafts (user_id, data, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET data = excluded.data,"
            " updated_at = excluded.updated_at",
            (draft.user_id, json.dumps(draft.to_json(), ensure_ascii=False), to_ts(now)),
        )

    async def delete(self, user_id: int) -> None:
        await self._db.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))

    async def expire(self, cutoff: datetime, now: datetime) -> list[int]:
        """Drop drafts untouched since `cutoff`; owe each customer a word. Their user ids."""
        async with self._db.transaction() as tx:
            rows = await tx.fetch_all(EXPIRED_DRAFTS, (to_ts(cutoff),))
            users = [int(r["user_id"]) for r in rows]
            for user_id in users:
                await tx.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))
                await enqueue(tx, OutboxKind.DRAFT_EXPIRED, Audience.CUSTOMER, now, chat_id=user_id)
        return users


class TicketRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        *,
        customer_id: int,
        department: str,
        subject: str,
        priority: Priority,
        locale: str,
        message: str,
        attachments: Sequence[Attachment],
        due_at: datetime,
        now: datetime,
        follow_up_of: int | None = None,
    ) -> Ticket:
        """Store a new ticket with its first message, attachments and `created` event.

        The customer's draft is removed in the same transaction, so a crash can leave
        either the draft or the ticket, never both and never neither.
        """
        ts = to_ts(now)
        async with self._db.transaction() as tx:
            await tx.settle()
            number = await tx.insert(
                "INSERT INTO tickets (customer_id, department, subject, priority, status, locale,"
                " created_at, updated_at, first_response_due_at, follow_up_of, status_changed_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    customer_id,
                    department,
                    subject,
                    priority.value,
                    Status.OPEN.value,
                    locale,
                    ts,
                    ts,
                    to_ts(due_at),
                    follow_up_of,
                    ts,
                ),
            )
            await self._add_message(
                tx,
                number,
                author=Author.CUSTOMER,
                author_id=customer_id,
                body=message,
                attachments=attachments,
                ts=ts,
            )
            await self._add_event(
                tx, number, "created", Author.CUSTOMER, customer_id, None, Status.OPEN.value, ts
            )
            await tx.execute("DELETE FROM drafts WHERE user_id = ?", (customer_id,))
            # The agents are owed the new ticket's card and the customer its receipt: in the
            # same transaction, so a kill right after it loses neither.
            await enqueue(
                tx,
                OutboxKind.NEW_TICKET,
                Audience.ADMIN,
                now,
                ticket_number=number,
                dedupe_key=f"{OutboxKind.NEW_TICKET}:{number}",
            )
            await enqueue(
                tx,
                OutboxKind.RECEIPT,
                Audience.CUSTOMER,
                now,
                chat_id=customer_id,
                ticket_number=number,
                dedupe_key=f"{OutboxKind.RECEIPT}:{number}",
            )
            row = await tx.fetch_one(TICKET_BY_NUMBER, (number,))
        assert row is not None
        return _ticket(row)

    @staticmethod
    async def _add_message(
        tx: Transaction,
        number: int,
        *,
        author: Author,
        author_id: int | None,
        body: str,
        attachments: Sequence[Attachment],
        ts: int,
        internal: bool = False,
        tg_chat_id: int | None = None,
        tg_message_id: int | None = None,
        edit_of: int | None = None,
    ) -> int:
        message_id = await tx.insert(
            "INSERT INTO ticket_messages (ticket_number, author, author_id, body, internal,"
            " tg_chat_id, tg_message_id, edit_of, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                number,
                author.value,
                author_id,
                body,
                int(internal),
                tg_chat_id,
                tg_message_id,
                edit_of,
                ts,
            ),
        )
        await tx.executemany(
            "INSERT INTO attachments (message_id, ticket_number, kind, file_id, file_unique_id,"
            " file_size, file_name, mime_type, media_group_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    message_id,
                    number,
                    a.kind.value,
                    a.file_id,
                    a.file_unique_id,
                    a.file_size,
                    a.file_name,
                    a.mime_type,
                    a.media_group_id,
                    ts,
                )
                for a in attachments
            ],
        )
        return message_id

    @staticmethod
    async def _add_event(
        tx: Transaction,
        number: int,
        kind: str,
        actor: Author,
        actor_id: int | None,
        from_value: str | None,
        to_value: str | None,
        ts: int,
    ) -> None:
        await tx.execute(
            "INSERT INTO ticket_events (ticket_number, kind, actor, actor_id, from_value,"
            " to_value, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (number, kind, actor.value, actor_id, from_value, to_value, ts),
        )

    async def get(self, number: int) -> Ticket | None:
        row = await self._db.fetch_one(TICKET_BY_NUMBER, (number,))
        return None if row is None else _ticket(row)

    async def for_customer(self, customer_id: int, *, limit: int, offset: int) -> list[Ticket]:
        rows = await self._db.fetch_all(TICKETS_FOR_CUSTOMER, (customer_id, limit, offset))
        return [_ticket(r) for r in rows]

    async def count_for_customer(self, customer_id: int) -> int:
        row = await self._db.fetch_one(COUNT_FOR_CUSTOMER, (customer_id,))
        return 0 if row is None else int(row["n"])

    async def messages(self, number: int, *, include_internal: bool) -> list[TicketMessage]:
        rows = await self._db.fetch_all(
            "SELECT * FROM ticket_messages WHERE ticket_number = ?"
            " AND (internal = 0 OR ?) ORDER BY id",
            (number, int(include_internal)),
        )
        files = await self._db.fetch_all(
            # A forgotten customer's files have no file id left: nothing to send.
            "SELECT * FROM attachments WHERE ticket_number = ? AND file_id != '' ORDER BY id",
            (number,),
        )
        by_message: dict[int, list[Attachment]] = {}
        for f in files:
            by_message.setdefault(f["message_id"], []).append(_attachment(f))
        return [_message(r, by_message.get(r["id"], ())) for r in rows]

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[TicketUnit]:
        """A transaction over tickets: read, decide, write, all or nothing.

        It settles the update being handled: the change and the record that the update
        was handled commit together, so a replay after a kill never makes it twice.
        """
        async with self._db.transaction() as tx:
            await tx.settle()
            yield TicketUnit(tx)

    async def by_thread(self, admin_chat_id: int, thread_id: int) -> Ticket | None:
        row = await self._db.fetch_one(TICKET_BY_THREAD, (admin_chat_id, thread_id))
        return None if row is None else _ticket(row)

    async def relay_by_admin_message(self, chat_id: int, message_id: int) -> Relay | None:
        row = await self._db.fetch_one(RELAY_BY_ADMIN_MESSAGE, (chat_id, message_id))
        return None if row is None else _relay(row)

    async def relay_by_customer_message(self, chat_id: int, message_id: int) -> Relay | None:
        row = await self._db.fetch_one(RELAY_BY_CUSTOMER_MESSAGE, (chat_id, message_id))
        return None if row is None else _relay(row)

    async def add_relay(self, relay: Relay, now: datetime) -> None:
        """Map a copy to its ticket's message (during a delivery: written with its outcome)."""
        await self._db.execute(
            "INSERT OR IGNORE INTO relayed_messages (ticket_number, ticket_message_id, kind,"
            " admin_chat_id, admin_message_id, customer_chat_id, customer_message_id,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                relay.ticket_number,
                relay.ticket_message_id,
                relay.kind.value,
                relay.admin_chat_id,
                relay.admin_message_id,
                relay.customer_chat_id,
                relay.customer_message_id,
                to_ts(now),
            ),
            deferrable=True,
        )

    async def rating_prompt_since(self, chat_id: int, cutoff: datetime) -> int | None:
        """The ticket of the newest rating-comment prompt sent to `chat_id` since `cutoff`."""
        row = await self._db.fetch_one(
            "SELECT ticket_number FROM relayed_messages WHERE customer_chat_id = ?"
            " AND kind = ? AND created_at >= ? ORDER BY id DESC LIMIT 1",
            (chat_id, RelayKind.RATING.value, to_ts(cutoff)),
        )
        return None if row is None else int(row["ticket_number"])

    async def rating_prompted_at(self, chat_id: int, number: int) -> datetime | None:
        row = await self._db.fetch_one(
            "SELECT MAX(created_at) AS at FROM relayed_messages WHERE customer_chat_id = ?"
            " AND ticket_number = ? AND kind = ?",
            (chat_id, number, RelayKind.RATING.value),
        )
        return None if row is None or row["at"] is None else from_ts(row["at"])

    async def customer_wrote_since(self, customer_id: int, since: datetime) -> bool:
        """Whether the customer added anything to any ticket after `since` (in seconds)."""
        row = await self._db.fetch_one(
            "SELECT 1 FROM ticket_messages WHERE author = ? AND author_id = ?"
            " AND created_at > ? LIMIT 1",
            (Author.CUSTOMER.value, customer_id, to_ts(since)),
        )
        return row is not None

    async def _tickets(self, sql: str, params: Params) -> list[Ticket]:
        return [_ticket(r) for r in await self._db.fetch_all(sql, params)]

    async def in_status_since(self, status: Status, cutoff: datetime) -> list[Ticket]:
        """Tickets in `status` that have not changed status since `cutoff`, longest first."""
        return await self._tickets(IN_STATUS_SINCE, (status.value, to_ts(cutoff)))

    async def awaiting_reminder(self, cutoff: datetime) -> list[Ticket]:
        """Pending tickets unchanged since `cutoff` whose customer has had no reminder."""
        return await self._tickets(AWAITING_REMINDER, (to_ts(cutoff),))

    async def open_for_customer(self, customer_id: int) -> list[Ticket]:
        return await self._tickets(OPEN_FOR_CUSTOMER, (customer_id,))

    async def unposted(self, admin_chat_id: int) -> list[Ticket]:
        """Live tickets that have no card in the bound admin chat yet."""
        return await self._tickets(UNPOSTED, (admin_chat_id,))

    async def move_admin_chat(self, old: int, new: int) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE tickets SET admin_chat_id = ? WHERE admin_chat_id = ?", (new, old)
            )
            await tx.execute(
                "UPDATE relayed_messages SET admin_chat_id = ? WHERE admin_chat_id = ?",
                (new, old),
            )

    async def queue(self, *, limit: int, offset: int) -> list[Ticket]:
        """Open and pending tickets: unanswered first, then by due time, most urgent first."""
        return await self._tickets(QUEUE, (limit, offset))

    async def count_queue(self) -> int:
        row = await self._db.fetch_one(COUNT_QUEUE)
        return 0 if row is None else int(row["n"])

    async def breached(self, now: datetime) -> list[Ticket]:
        """Open tickets past their first-response due time, not yet announced."""
        return await self._tickets(BREACHED, (to_ts(now),))

    async def mark_breach_announced(self, number: int, now: datetime) -> bool:
        count = await self._db.execute(
            "UPDATE tickets SET breach_announced_at = ? WHERE number = ?"
            " AND breach_announced_at IS NULL",
            (to_ts(now), number),
        )
        return count > 0

    async def set_location(
        self, number: int, *, chat_id: int, thread_id: int | None, card_message_id: int | None
    ) -> None:
        await self._db.execute(
            "UPDATE tickets SET admin_chat_id = ?, admin_thread_id = ?,"
            " admin_card_message_id = ? WHERE number = ?",
            (chat_id, thread_id, card_message_id, number),
        )

    async def message(self, message_id: int) -> TicketMessage | None:
        row = await self._db.fetch_one("SELECT * FROM ticket_messages WHERE id = ?", (message_id,))
        if row is None:
            return None
        files = await self._db.fetch_all(
            "SELECT * FROM attachments WHERE message_id = ? AND file_id != '' ORDER BY id",
            (message_id,),
        )
        return _message(row, [_attachment(f) for f in files])

    async def figures(self) -> Figures:
        """The desk's figures from the counts kept as tickets change (migration 0014) and
        the middle first response or two, read off their index."""
        # One snapshot, so the counts and the middle agree even while tickets change.
        async with self._db.snapshot() as tx:
            counts = await tx.fetch_all(TICKET_COUNTS)
            ratings = await tx.fetch_one(RATINGS_SUMMARY)
            assert ratings is not None
            by_status = dict.fromkeys(Status, 0)
            for r in counts:
                by_status[Status(r["status"])] += int(r["n"])
            answered = sum(int(r["n"]) for r in counts if r["answered"])
            met = sum(int(r["n"]) for r in counts if r["met"])
            middle: list[int] = []
            if answered:
                # The median of an even count is the mean of the two middle values.
                count = 2 - answered % 2
                rows = await tx.fetch_all(MIDDLE_FIRST_RESPONSES, (count, (answered - count) // 2))
                middle = [int(r["took"]) for r in rows]
        return Figures(
            by_status=by_status,
            answered=answered,
            met=met,
            median_first_response=(timedelta(seconds=median(middle)) if middle else None),
            ratings=int(ratings["n"]),
            rating_total=int(ratings["total"]),
        )

    async def desk_stats(
        self,
        since: datetime,
        until: datetime,
        tz: ZoneInfo,
        business_priorities: Collection[Priority] = (),
    ) -> DeskStats:
        """The period's figures (see `bot.domain.stats`), read in one snapshot.

        `business_priorities`: the priorities whose target counts business hours; their
        first responses are measured in business hours against it.
        """
        start = (to_ts(since),)
        async with self._db.snapshot() as tx:

            async def counts(sql: str) -> Counts:
                rows = await tx.fetch_all(sql, start)
                return Counts.of(
                    (r["department"], r["priority"], int(r["n"])) for r in rows if r["n"]
                )

            async def durations(sql: str) -> Durations:
                spans = Durations()
                for priority in Priority:
                    rows = await tx.fetch_all(sql, (start[0], priority.value))
                    spans.add(priority, [r[0] for r in rows], [r[1] for r in rows])
                return spans

            async def quarters(sql: str) -> dict[int, int]:
                return {int(r["quarter"]): int(r["n"]) for r in await tx.fetch_all(sql, start)}

            opened_rows = await tx.fetch_all(STATS_OPENED, (to_ts(since), to_ts(until)))
            opened_rows = [r for r in opened_rows if r["n"]]  # a group of none is no group
            opened = Counts.of((r["department"], r["priority"], int(r["n"])) for r in opened_rows)
            targets: dict[Priority, Compliance] = {}
            for r in opened_rows:
                if r["due"]:
                    key = Priority(r["priority"])
                    was = targets.get(key, Compliance())
                    targets[key] = Compliance(was.met + int(r["met"]), was.due + int(r["due"]))
            solved = await counts(STATS_SOLVED)
            closed = await counts(STATS_CLOSED)
            live = {
                Status(r["status"]): int(r["n"]) for r in await tx.fetch_all(COUNT_LIVE_BY_STATUS)
            }
            first = await durations(STATS_FIRST_RESPONSES)
            resolution = await durations(STATS_RESOLUTIONS)
            ratings = await tx.fetch_one(STATS_RATINGS, start)
            blocked = await tx.fetch_one(STATS_BLOCKED)
            opened_quarters = await quarters(STATS_OPENED_PER_QUARTER)
            solved_quarters = await quarters(STATS_SOLVED_PER_QUARTER)
        assert ratings is not None and blocked is not None
        by_priority = {
            p: first.spread(priority=p, business=p in business_priorities) for p in Priority
        }
        return DeskStats(
            since=since,
            until=until,
            days=round((until - since) / timedelta(days=1)),
            opened=opened,
            solved=solved,
            closed=closed,
            backlog={s: live.get(s, 0) for s in (Status.OPEN, Status.PENDING, Status.SOLVED)},
            first_response=first.spread(),
            first_response_business=first.spread(business=True),
            resolution=resolution.spread(),
            resolution_business=resolution.spread(business=True),
            first_response_by_priority=by_priority,
            targets=targets,
            ratings=int(ratings["n"]),
            rating_total=int(ratings["total"]),
            blocked_customers=int(blocked["n"]),
            days_counted=per_day(opened_quarters, solved_quarters, since, until, tz),
        )

    async def export_batches(
        self, since: datetime | None, *, full: bool, batch: int = 2000
    ) -> AsyncIterator[list[ExportRow]]:
        """The tickets created since `since` (all if None), `batch` at a time, in order."""
        after, start = 0, 0 if since is None else to_ts(since)
        while True:
            rows = await self._db.fetch_all(EXPORT_BATCH, (after, start, batch))
            if not rows:
                return
            messages: dict[int, list[ExportMessage]] = {}
            if full:
                for m in await self._db.fetch_all(
                    EXPORT_MESSAGES, (rows[0]["number"], rows[-1]["number"])
                ):
                    messages.setdefault(m["ticket_number"], []).append(
                        ExportMessage(
                            from_ts(m["created_at"]), m["author"], bool(m["internal"]), m["body"]
                        )
                    )
            yield [_export_row(r, messages.get(r["number"], ()), full) for r in rows]
            after = int(rows[-1]["number"])

    async def events(self, number: int) -> list[TicketEvent]:
        rows = await self._db.fetch_all(
            "SELECT * FROM ticket_events WHERE ticket_number = ? ORDER BY id", (number,)
        )
        return [
            TicketEvent(
                id=r["id"],
                ticket_number=r["ticket_number"],
                kind=r["kind"],
                actor=Author(r["actor"]),
                actor_id=r["actor_id"],
                from_value=r["from_value"],
                to_value=r["to_value"],
                created_at=from_ts(r["created_at"]),
            )
            for r in rows
        ]


@dataclass(frozen=True, slots=True)
class Figures:
    by_status: dict[Status, int]
    answered: int  # tickets with a first response
    met: int  # of those, answered within their target
    median_first_response: timedelta | None  # None while nothing is answered
    ratings: int
    rating_total: int  # the sum of the scores

    @property
    def average_rating(self) -> float | None:
        return self.rating_total / self.ratings if self.ratings else None


def _export_row(row: sqlite3.Row, messages: Sequence[ExportMessage], full: bool) -> ExportRow:
    assignee = None
    if row["assignee_id"] is not None:
        name = " ".join(p for p in (row["assignee_first"], row["assignee_last"]) if p)
        assignee = name or str(row["assignee_id"])
    return ExportRow(
        number=row["number"],
        created_at=from_ts(row["created_at"]),
        department=row["department"],
        priority=row["priority"],
        status=row["status"],
        first_response_due_at=from_ts(row["first_response_due_at"]),
        first_response_at=_opt_ts(row["first_response_at"]),
        solved_at=_opt_ts(row["solved_at"]),
        closed_at=_opt_ts(row["closed_at"]),
        rating=row["score"],
        assignee=assignee,
        subject=row["subject"] if full else "",
        messages=messages,
    )


def _relay(row: sqlite3.Row) -> Relay:
    return Relay(
        ticket_number=row["ticket_number"],
        kind=RelayKind(row["kind"]),
        ticket_message_id=row["ticket_message_id"],
        admin_chat_id=row["admin_chat_id"],
        admin_message_id=row["admin_message_id"],
        customer_chat_id=row["customer_chat_id"],
        customer_message_id=row["customer_message_id"],
    )


_TICKET_FIELDS = frozenset(
    {
        "status",
        "priority",
        "updated_at",
        "first_response_due_at",
        "first_response_at",
        "assignee_id",
        "admin_chat_id",
        "admin_thread_id",
        "admin_card_message_id",
        "breach_announced_at",
        "status_changed_at",
        "solve_reminder_at",
        "customer_unreachable",
        "solved_at",
        "closed_at",
        "resolved_at",
        "first_response_business",
        "resolution_business",
    }
)


class TicketUnit:
    """Reads and writes on tickets inside one transaction (see `TicketRepo.unit`)."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def get(self, number: int) -> Ticket | None:
        row = await self._tx.fetch_one(TICKET_BY_NUMBER, (number,))
        return None if row is None else _ticket(row)

    async def update(self, number: int, **fields: object) -> None:
        """Set ticket columns; datetimes are stored as Unix seconds, enums as their value."""
        unknown = set(fields) - _TICKET_FIELDS
        if unknown:
            raise ValueError(f"not a ticket field: {sorted(unknown)}")
        values = [
            to_ts(v) if isinstance(v, datetime) else getattr(v, "value", v) for v in fields.values()
        ]
        # Column names come from the fixed set above, never from input.
        assignments = ", ".join(f"{name} = ?" for name in fields)
        await self._tx.execute(
            f"UPDATE tickets SET {assignments} WHERE number = ?", (*values, number)
        )

    async def add_message(
        self,
        number: int,
        *,
        author: Author,
        author_id: int | None,
        body: str,
        now: datetime,
        attachments: Sequence[Attachment] = (),
        internal: bool = False,
        tg_chat_id: int | None = None,
        tg_message_id: int | None = None,
        edit_of: int | None = None,
    ) -> int:
        return await TicketRepo._add_message(
            self._tx,
            number,
            author=author,
            author_id=author_id,
            body=body,
            attachments=attachments,
            ts=to_ts(now),
            internal=internal,
            tg_chat_id=tg_chat_id,
            tg_message_id=tg_message_id,
            edit_of=edit_of,
        )

    async def add_event(
        self,
        number: int,
        kind: str,
        actor: Author,
        actor_id: int | None,
        from_value: str | None,
        to_value: str | None,
        now: datetime,
    ) -> None:
        await TicketRepo._add_event(
            self._tx, number, kind, actor, actor_id, from_value, to_value, to_ts(now)
        )

    async def enqueue(
        self,
        kind: OutboxKind,
        audience: Audience,
        *,
        now: datetime,
        chat_id: int | None = None,
        ticket_number: int | None = None,
        payload: dict[str, Any] | None = None,
        dedupe_key: str | None = None,
        not_before: datetime | None = None,
    ) -> None:
        """Owe someone a message, in this same transaction (see OutboxRepo); `not_before`
        holds it back until then."""
        await enqueue(
            self._tx, kind, audience, now, chat_id, ticket_number, payload, dedupe_key, not_before
        )

    async def rate(self, number: int, score: int, now: datetime) -> None:
        await self._tx.execute(
            "INSERT INTO ratings (ticket_number, score, created_at, updated_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (ticket_number) DO UPDATE SET"
            " score = excluded.score, updated_at = excluded.updated_at",
            (number, score, to_ts(now), to_ts(now)),
        )

    async def comment(self, number: int, comment: str, now: datetime) -> None:
        """Keep the customer's comment on the ticket's rating."""
        await self._tx.execute(RATING_COMMENT, (comment, to_ts(now), number))

    async def has_telegram_message(self, chat_id: int, message_id: int) -> bool:
        row = await self._tx.fetch_one(
            "SELECT 1 FROM ticket_messages WHERE tg_chat_id = ? AND tg_message_id = ?"
            " AND edit_of IS NULL",
            (chat_id, message_id),
        )
        return row is not None

    async def message_by_telegram(self, chat_id: int, message_id: int) -> TicketMessage | None:
        row = await self._tx.fetch_one(
            "SELECT * FROM ticket_messages WHERE tg_chat_id = ? AND tg_message_id = ?"
            " AND edit_of IS NULL",
            (chat_id, message_id),
        )
        return None if row is None else _message(row)

    async def latest_message(self, number: int) -> TicketMessage | None:
        """The ticket's newest message (edits left out)."""
        row = await self._tx.fetch_one(
            "SELECT * FROM ticket_messages WHERE ticket_number = ? AND edit_of IS NULL"
            " ORDER BY id DESC LIMIT 1",
            (number,),
        )
        return None if row is None else _message(row)

    async def append_to_message(self, message_id: int, text: str) -> None:
        await self._tx.execute(
            "UPDATE ticket_messages SET body = body || ? WHERE id = ?", (text, message_id)
        )

    async def held_until(self, dedupe_key: str) -> float | None:
        """When the pending outbox item with this key may go (None: no such item)."""
        row = await self._tx.fetch_one(
            "SELECT next_attempt_at FROM outbox WHERE dedupe_key = ? AND state = 'pending'",
            (dedupe_key,),
        )
        return None if row is None else float(row["next_attempt_at"])

    async def hold_until(self, dedupe_key: str, at: datetime) -> None:
        await self._tx.execute(
            "UPDATE outbox SET next_attempt_at = ? WHERE dedupe_key = ? AND state = 'pending'",
            (at.timestamp(), dedupe_key),
        )

    async def held(self, customer_id: int, choice_id: int) -> list[HeldMessage]:
        """The messages of one choice (one message, or an album), oldest first."""
        rows = await self._tx.fetch_all(
            "SELECT * FROM held_messages WHERE customer_id = ? AND (id = ? OR choice_id = ?)"
            " ORDER BY id",
            (customer_id, choice_id, choice_id),
        )
        return [_held(r) for r in rows]

    async def release_held(self, customer_id: int, choice_id: int) -> None:
        await self._tx.execute(
            "DELETE FROM held_messages WHERE customer_id = ? AND (id = ? OR choice_id = ?)",
            (customer_id, choice_id, choice_id),
        )


def _held(row: sqlite3.Row) -> HeldMessage:
    attachment = row["attachment"]
    return HeldMessage(
        id=row["id"],
        customer_id=row["customer_id"],
        tg_chat_id=row["tg_chat_id"],
        tg_message_id=row["tg_message_id"],
        body=row["body"],
        attachment=Attachment.from_json(json.loads(attachment)) if attachment else None,
        media_group_id=row["media_group_id"],
    )


class HeldMessageRepo:
    """Customers' messages waiting for them to pick the ticket they belong to."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def hold(
        self,
        *,
        customer_id: int,
        tg_chat_id: int,
        tg_message_id: int,
        body: str,
        attachment: Attachment | None,
        media_group_id: str | None,
        now: datetime,
    ) -> tuple[int, bool]:
        """Keep a message; return its choice id and whether that choice is new.

        The later messages of an album join the choice of its first one, so the customer is
        asked once per album.
        """
        async with self._db.transaction() as tx:
            again = await tx.fetch_one(
                "SELECT COALESCE(choice_id, id) AS choice FROM held_messages"
                " WHERE tg_chat_id = ? AND tg_message_id = ?",
                (tg_chat_id, tg_message_id),
            )
            if again is not None:  # the same update handed out again: asked already
                return int(again["choice"]), False
            choice_id: int | None = None
            if media_group_id is not None:
                row = await tx.fetch_one(
                    "SELECT COALESCE(choice_id, id) AS choice FROM held_messages"
                    " WHERE customer_id = ? AND media_group_id = ? ORDER BY id LIMIT 1",
                    (customer_id, media_group_id),
                )
                choice_id = None if row is None else int(row["choice"])
            held_id = await tx.insert(
                "INSERT INTO held_messages (customer_id, choice_id, tg_chat_id, tg_message_id,"
                " media_group_id, body, attachment, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    customer_id,
                    choice_id,
                    tg_chat_id,
                    tg_message_id,
                    media_group_id,
                    body,
                    None if attachment is None else json.dumps(attachment.to_json()),
                    to_ts(now),
                ),
            )
        if choice_id is None:
            return held_id, True
        return choice_id, False

    async def first_text(self, customer_id: int, choice_id: int) -> str | None:
        """The text (or caption) of a choice, for answering it from the FAQ instead."""
        rows = await self._db.fetch_all(
            "SELECT body FROM held_messages WHERE customer_id = ? AND (id = ? OR choice_id = ?)"
            " AND body != '' ORDER BY id LIMIT 1",
            (customer_id, choice_id, choice_id),
        )
        return str(rows[0]["body"]) if rows else None

    async def release(self, customer_id: int, choice_id: int) -> None:
        await self._db.execute(
            "DELETE FROM held_messages WHERE customer_id = ? AND (id = ? OR choice_id = ?)",
            (customer_id, choice_id, choice_id),
        )


class DeskSettingsRepo:
    """Desk-wide values changed at run time by operators."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, key: str) -> str | None:
        row = await self._db.fetch_one("SELECT value FROM desk_settings WHERE key = ?", (key,))
        return None if row is None else str(row["value"])

    async def set(
        self, key: str, value: str, now: datetime, *, change: DeskChange | None = None
    ) -> None:
        """Store `value`; `change` goes to the desk's trail in the same transaction."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO desk_settings (key, value, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
                " updated_at = excluded.updated_at",
                (key, value, to_ts(now)),
            )
            if change is not None:
                await audit.record(tx, change, now)


async def enqueue(
    tx: Transaction,
    kind: OutboxKind,
    audience: Audience,
    now: datetime,
    chat_id: int | None = None,
    ticket_number: int | None = None,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> None:
    # With a dedupe key, a second pending row of the same key is dropped: the first one
    # will deliver the latest state anyway (a card refresh, for example).
    lane = admin_lane(kind) if audience is Audience.ADMIN else 0
    tx.queued = True
    await tx.execute(
        "INSERT OR IGNORE INTO outbox (kind, audience, lane, chat_id, ticket_number, payload,"
        " dedupe_key, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            kind,
            audience.value,
            int(lane),
            chat_id,
            ticket_number,
            json.dumps(payload or {}, ensure_ascii=False),
            dedupe_key,
            (not_before or now).timestamp(),
            to_ts(now),
        ),
    )


def _outbox_item(r: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        id=r["id"],
        kind=r["kind"],
        audience=Audience(r["audience"]),
        chat_id=r["chat_id"],
        ticket_number=r["ticket_number"],
        payload=json.loads(r["payload"]),
        attempts=r["attempts"],
        next_attempt_at=r["next_attempt_at"],
    )


class OutboxRepo:
    """The durable queue of everything the bot owes anyone."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        kind: OutboxKind,
        audience: Audience,
        now: datetime,
        *,
        chat_id: int | None = None,
        ticket_number: int | None = None,
        payload: dict[str, Any] | None = None,
        dedupe_key: str | None = None,
    ) -> None:
        async with self._db.transaction(deferrable=True) as tx:
            await enqueue(tx, kind, audience, now, chat_id, ticket_number, payload, dedupe_key)

    async def pending(self, limit: int) -> list[OutboxItem]:
        """The head of every line, oldest first: each customer's oldest pending item (due or
        waiting for a retry) and the agents' chat's next one by lane.

        Only the head of each line can go next, so one chat's backlog never hides the other
        chats' items, and the agents' chat's backlog never holds up a customer.
        """
        rows = await self._db.fetch_all(OUTBOX_CUSTOMER_HEADS, (limit,))
        admin = await self._db.fetch_one(OUTBOX_ADMIN_NEXT)
        items = [_outbox_item(r) for r in rows]
        if admin is not None:
            items.append(_outbox_item(admin))
            items.sort(key=lambda item: item.id)
        return items

    async def pending_of_kinds(
        self, kinds: Iterable[OutboxKind], *, due_by: float, limit: int
    ) -> list[OutboxItem]:
        """The agents' chat's due items of these kinds, oldest first (to fold them)."""
        names = sorted(kinds)
        marks = ", ".join("?" * len(names))
        rows = await self._db.fetch_all(
            "SELECT * FROM outbox WHERE state = 'pending' AND audience = 'admin'"
            f" AND kind IN ({marks}) AND next_attempt_at <= ? ORDER BY lane, id LIMIT ?",
            (*names, due_by, limit),
        )
        return [_outbox_item(r) for r in rows]

    async def pending_after(
        self, item_id: int, *, lane: int, ticket_number: int, limit: int
    ) -> list[OutboxItem]:
        """The agents' chat's pending items of one ticket in `lane` after `item_id`, in
        order (due or not: the caller stops at the first it can't take)."""
        rows = await self._db.fetch_all(OUTBOX_TICKET_NEXT, (lane, item_id, ticket_number, limit))
        return [_outbox_item(r) for r in rows]

    async def done_many(self, item_ids: Sequence[int]) -> None:
        """Mark items delivered as part of another (a folded message)."""
        if not item_ids:
            return
        async with self._db.transaction(deferrable=True) as tx:
            await tx.executemany(
                "UPDATE outbox SET state = 'sent', done_at = ?, attempts = attempts + 1"
                " WHERE id = ? AND state = 'pending'",
                [(int(time.time()), item_id) for item_id in item_ids],
            )

    async def claim(self, item_id: int) -> None:
        """Release the item's dedupe key as its delivery starts."""
        await self._db.execute("UPDATE outbox SET dedupe_key = NULL WHERE id = ?", (item_id,))

    async def done(
        self,
        item_id: int,
        state: str = "sent",
        error: str | None = None,
        *,
        with_writes: Deferred | None = None,
    ) -> None:
        """Record the item's outcome, with what its delivery wrote (`Database.deferring`)."""
        async with self._db.transaction() as tx:
            if with_writes is not None:
                await tx.apply(with_writes)
            await tx.execute(
                "UPDATE outbox SET state = ?, last_error = ?, done_at = ?,"
                " attempts = attempts + 1 WHERE id = ?",
                (state, error, int(time.time()), item_id),
            )

    async def retry(
        self, item_id: int, at: float, error: str, *, with_writes: Deferred | None = None
    ) -> None:
        async with self._db.transaction() as tx:
            if with_writes is not None:
                await tx.apply(with_writes)
            await tx.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?,"
                " last_error = ? WHERE id = ?",
                (at, error, item_id),
            )

    async def counts(self) -> dict[str, int]:
        rows = await self._db.fetch_all("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
        return {r["state"]: int(r["n"]) for r in rows}


class ProcessedUpdates:
    """Update ids already handled, so a restart never runs one twice."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def seen(self, update_id: int) -> bool:
        row = await self._db.fetch_one(
            "SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,)
        )
        return row is not None

    async def newest(self) -> int:
        """The highest update id noted as handled, or 0."""
        row = await self._db.fetch_one("SELECT MAX(update_id) AS id FROM processed_updates")
        return 0 if row is None or row["id"] is None else int(row["id"])

    async def mark(self, update_id: int) -> None:
        """Note the update as handled, unless its change did so already (`Transaction.settle`).

        One statement: its inbox row is left to `Inbox.clear_handled` and the sweeper's
        retention, since the inbox is read without the handled ones anyway.
        """
        if update_settled():
            return
        await self._db.write_alone(
            "INSERT OR IGNORE INTO processed_updates (update_id, processed_at) VALUES (?, ?)",
            (update_id, int(time.time())),
        )


class Inbox:
    """Updates fetched but not yet handled (see migration 0006)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, updates: Sequence[dict[str, Any]]) -> None:
        now = int(time.time())
        async with self._db.transaction() as tx:
            await tx.executemany(
                "INSERT OR IGNORE INTO inbox (update_id, payload, received_at) VALUES (?, ?, ?)",
                [(u["update_id"], json.dumps(u, ensure_ascii=False), now) for u in updates],
            )

    async def unhandled(self) -> list[dict[str, Any]]:
        rows = await self._db.fetch_all(
            "SELECT payload FROM inbox WHERE update_id NOT IN"
            " (SELECT update_id FROM processed_updates) ORDER BY update_id"
        )
        return [json.loads(r["payload"]) for r in rows]

    async def handled(self, update_id: int) -> None:
        await self._db.execute("DELETE FROM inbox WHERE update_id = ?", (update_id,))

    async def clear_handled(self) -> None:
        """Drop every row whose update was handled (see `Retention.forget_handled_inbox`)."""
        while await Retention(self._db).forget_handled_inbox():
            pass


@dataclass(frozen=True, slots=True)
class QuarantinedUpdate:
    update_id: int
    error: str
    attempts: int
    quarantined_at: datetime


def _quarantined(row: sqlite3.Row) -> QuarantinedUpdate:
    return QuarantinedUpdate(
        row["update_id"], row["error"], row["attempts"], from_ts(row["quarantined_at"])
    )


_QUARANTINE_LIST = (
    "SELECT update_id, error, attempts, quarantined_at FROM quarantined_updates"
    " ORDER BY quarantined_at DESC, update_id DESC LIMIT ?"
)


class Quarantine:
    """Updates set aside because they could not be handled (see migration 0011)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, update_id: int, payload: Any, error: str, attempts: int) -> None:
        """Set the update aside and record it as handled, so it is confirmed and never replayed."""
        now = int(time.time())
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO quarantined_updates"
                " (update_id, payload, error, attempts, quarantined_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (update_id) DO UPDATE SET error = excluded.error,"
                " attempts = excluded.attempts, quarantined_at = excluded.quarantined_at",
                (update_id, json.dumps(payload, ensure_ascii=False), error, attempts, now),
            )
            await tx.execute(
                "INSERT OR IGNORE INTO processed_updates (update_id, processed_at) VALUES (?, ?)",
                (update_id, now),
            )
            await tx.execute("DELETE FROM inbox WHERE update_id = ?", (update_id,))

    async def latest(self, limit: int = 50) -> list[QuarantinedUpdate]:
        return [_quarantined(r) for r in await self._db.fetch_all(_QUARANTINE_LIST, (limit,))]


def read_quarantine(path: Path, limit: int = 50) -> list[QuarantinedUpdate] | None:
    """The quarantined updates in the file at `path`, read without changing anything.

    None when there is no database there yet; for `python -m bot check`, which must not
    create or migrate anything.
    """
    if not path.is_file():
        return None
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        known = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'quarantined_updates'"
        ).fetchone()
        if known is None:
            return []
        return [_quarantined(r) for r in conn.execute(_QUARANTINE_LIST, (limit,))]
    finally:
        conn.close()


class RatingRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def comment(self, number: int, comment: str, now: datetime) -> None:
        await self._db.execute(RATING_COMMENT, (comment, to_ts(now), number))

    async def get(self, number: int) -> Rating | None:
        row = await self._db.fetch_one("SELECT * FROM ratings WHERE ticket_number = ?", (number,))
        return None if row is None else Rating(row["ticket_number"], row["score"], row["comment"])

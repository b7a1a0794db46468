"""Section 4: the desk's queries on a real SQLite file with 10k and 1M tickets.

The schema is the project's own (``storage.Database.connect()`` runs the migrations); the
rows are bulk-inserted with plain sqlite3 (the bench's own SQL, for speed). Each query is
timed through the real repository method, and its SQL, caught with sqlite3's trace
callback, is shown with ``EXPLAIN QUERY PLAN``.

The data is shaped like a desk that has run for two years: most tickets closed long ago,
the live ones (open, pending, solved) recent, as the sweeper leaves them (breaches
announced, reminders sent, nothing left to auto-solve or auto-close). Twenty tickets a
customer, a rating for a third of the answered tickets, two delivered outbox rows a ticket
and a few hundred pending ones.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.stats import percentile
from bot.domain.models import Priority, Status
from bot.domain.outbox import OutboxKind
from storage import Database
from storage.engines import SqliteBackend
from storage.outbox import OutboxRepo
from storage.tickets import TicketRepo

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
JAKARTA = ZoneInfo("Asia/Jakarta")
ADMIN_CHAT = -1001234567890
HISTORY = timedelta(days=730)
AUTO_SOLVE_AFTER = timedelta(days=3)  # the defaults of bot.config.Settings
AUTO_CLOSE_AFTER = timedelta(days=7)
REMINDER_AT = 2 / 3  # handlers.sweeper.REMINDER_AT
BATCH = 50_000
PENDING_OUTBOX = 300


@dataclass(frozen=True)
class QueryResult:
    name: str
    size: int
    p50: float
    p99: float
    runs: int
    plans: list[tuple[str, list[str]]]  # (sql, plan lines) per statement


def _ticket_rows(count: int, customers: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    now = int(NOW.timestamp())
    span = int(HISTORY.total_seconds())
    departments = ("technical", "billing", "sales")
    priorities = ("low", "medium", "medium", "high", "critical")
    for number in range(1001, 1001 + count):
        roll = rng.random()
        if roll < 0.01:
            status, created = "open", now - rng.randint(0, 2 * 86400)
        elif roll < 0.02:
            status, created = "pending", now - rng.randint(0, 3 * 86400)
        elif roll < 0.025:
            status, created = "solved", now - rng.randint(0, 7 * 86400)
        else:
            status, created = "closed", now - rng.randint(8 * 86400, span)
        due = created + rng.choice((7200, 21600, 86400, 172800))
        answered = (
            None if status == "open" and rng.random() < 0.7 else created + rng.randint(600, 200_000)
        )
        changed = created if answered is None else answered
        breach = due if status == "open" and answered is None and due <= now else None
        # The figures' columns (migration 0012): solved a while after the answer, closed
        # AUTO_CLOSE_AFTER later; business time taken as a third of the wall clock.
        solved = changed + rng.randint(3600, 3 * 86400) if status in ("solved", "closed") else None
        closed = solved + 7 * 86400 if status == "closed" and solved is not None else None
        # The sweeper has reminded the customers of pending tickets past the reminder time.
        remind = changed + int(AUTO_SOLVE_AFTER.total_seconds() * REMINDER_AT)
        reminded = remind if status == "pending" and remind <= now else None
        yield (
            number,
            rng.randint(1, customers),
            departments[number % 3],
            f"Ticket subject {number}",
            priorities[number % 5],
            status,
            "en",
            created,
            changed,
            due,
            answered,
            ADMIN_CHAT,
            number,  # the card's message id: every ticket has its card
            breach,
            changed,
            solved,
            closed,
            solved,  # resolved when solved
            None if answered is None else (answered - created) // 3,
            None if solved is None else (solved - created) // 3,
            reminded,
        )


def seed(path: Path, tickets: int, customers: int) -> float:
    """Create the schema with the project's migrations, then bulk-insert; return seconds."""
    started = time.perf_counter()

    async def migrate() -> None:
        db = Database(path)
        await db.connect()
        await db.close()

    asyncio.run(migrate())
    rng = random.Random(8)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        # The counts' triggers (migration 0013) make SQLite keep a statement journal for
        # each row; in memory, with a cache that holds the indexes' pages, it costs little.
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-262144")  # 256 MB
        conn.execute("BEGIN")
        ts = int(NOW.timestamp())
        conn.executemany(
            "INSERT INTO users (id, first_name, language_code, created_at, updated_at)"
            " VALUES (?, ?, 'en', ?, ?)",
            ((user_id, f"Customer {user_id}", ts, ts) for user_id in range(1, customers + 1)),
        )
        rows = _ticket_rows(tickets, customers, rng)
        while batch := [row for _, row in zip(range(BATCH), rows, strict=False)]:
            conn.executemany(
                "INSERT INTO tickets (number, customer_id, department, subject, priority,"
                " status, locale, created_at, updated_at, first_response_due_at,"
                " first_response_at, admin_chat_id, admin_card_message_id,"
                " breach_announced_at, status_changed_at, solved_at, closed_at, resolved_at,"
                " first_response_business, resolution_business, solve_reminder_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                batch,
            )
            answered = [r for r in batch if r[10] is not None]
            conn.executemany(
                "INSERT INTO ratings (ticket_number, score, created_at, updated_at)"
                " VALUES (?, ?, ?, ?)",
                ((r[0], 1 + r[0] % 5, r[10], r[10]) for r in answered[::3]),
            )
            conn.executemany(
                "INSERT INTO outbox (kind, audience, chat_id, ticket_number, state,"
                " attempts, next_attempt_at, created_at, done_at)"
                " VALUES (?, ?, ?, ?, 'sent', 1, ?, ?, ?)",
                (
                    item
                    for r in batch
                    for item in (
                        (OutboxKind.NEW_TICKET, "admin", None, r[0], r[7], r[7], r[7]),
                        (OutboxKind.STATUS, "customer", r[1], r[0], r[8], r[8], r[8]),
                    )
                ),
            )
        conn.executemany(
            "INSERT INTO outbox (kind, audience, chat_id, ticket_number, state,"
            " next_attempt_at, created_at) VALUES ('reply', 'customer', ?, NULL, 'pending', ?, ?)",
            ((rng.randint(1, customers), ts, ts) for _ in range(PENDING_OUTBOX)),
        )
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return time.perf_counter() - started


def _plans(path: Path, statements: list[str]) -> list[tuple[str, list[str]]]:
    conn = sqlite3.connect(path)
    try:
        out = []
        for sql in dict.fromkeys(statements):  # each distinct statement once, in order
            rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
            out.append((sql, [str(row[-1]) for row in rows]))
        return out
    finally:
        conn.close()


Query = tuple[str, Callable[[], Awaitable[object]]]


def _queries(db: Database, size: int, customers: int) -> list[Query]:
    tickets, outbox = TicketRepo(db), OutboxRepo(db)
    rng = random.Random(13)

    async def queue() -> None:
        await tickets.queue(limit=10, offset=0)
        await tickets.count_queue()

    async def pending_scans() -> None:  # as handlers.sweeper runs them, one after the other
        await tickets.in_status_since(Status.PENDING, NOW - AUTO_SOLVE_AFTER)
        await tickets.awaiting_reminder(NOW - AUTO_SOLVE_AFTER * REMINDER_AT)

    return [
        (
            "/tickets (for_customer)",
            lambda: tickets.for_customer(rng.randint(1, customers), limit=5, offset=0),
        ),
        ("/queue (queue + count_queue)", queue),
        ("lookup by number (get)", lambda: tickets.get(rng.randint(1001, 1000 + size))),
        ("sweeper: breached", lambda: tickets.breached(NOW)),
        ("sweeper: auto-solve + reminder (pending)", pending_scans),
        (
            "sweeper: auto-close (solved since)",
            lambda: tickets.in_status_since(Status.SOLVED, NOW - AUTO_CLOSE_AFTER),
        ),
        ("sweeper: unposted cards", lambda: tickets.unposted(ADMIN_CHAT)),
        ("outbox: next items (pending)", lambda: outbox.pending(200)),
        ("/stats (figures)", tickets.figures),
        (
            "/stats 7d (desk_stats)",
            lambda: tickets.desk_stats(NOW - timedelta(days=7), NOW, JAKARTA, [Priority.LOW]),
        ),
        (
            "/stats 90d (desk_stats)",
            lambda: tickets.desk_stats(NOW - timedelta(days=90), NOW, JAKARTA, [Priority.LOW]),
        ),
    ]


async def _traced(db: Database, call: Callable[[], Awaitable[object]]) -> list[str]:
    """The SELECTs (and WITH ... SELECTs) one call sends, caught with sqlite3's trace callback."""
    statements: list[str] = []
    # The bench reads the SQL the repositories really send (a private door, on purpose).
    assert isinstance(db.backend, SqliteBackend)  # the bench's files are SQLite
    raw = db.backend._require()
    await raw.set_trace_callback(statements.append)
    await call()
    await raw.set_trace_callback(None)  # type: ignore[arg-type]  # sqlite3 takes None
    return [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]


async def measure(
    files: list[tuple[Path, int, int]], *, runs: int, budget: float
) -> dict[int, list[QueryResult]]:
    """Time each query ``runs`` times on each file (path, tickets, customers), fewer if it
    exceeds ``budget`` seconds on a file; by number of tickets.

    The files take turns, one call each, so a change in the machine's load (it is shared)
    falls on every size alike and the growth from one size to the next stays the query's.
    """
    dbs = [Database(path) for path, _, _ in files]
    for db in dbs:
        await db.connect()
    try:
        queries = [
            _queries(db, size, customers)
            for db, (_, size, customers) in zip(dbs, files, strict=True)
        ]
        results: dict[int, list[QueryResult]] = {size: [] for _, size, _ in files}
        for index in range(len(queries[0])):
            name = queries[0][index][0]
            calls = [each[index][1] for each in queries]
            traced = [await _traced(db, call) for db, call in zip(dbs, calls, strict=True)]
            timings: list[list[float]] = [[] for _ in files]
            spent = [0.0 for _ in files]
            for _ in range(runs):
                for i, call in enumerate(calls):
                    if spent[i] > budget:
                        continue
                    started = time.perf_counter()
                    await call()
                    took = time.perf_counter() - started
                    timings[i].append(took)
                    spent[i] += took
                if all(s > budget for s in spent):
                    break
            for (path, size, _), times, statements in zip(files, timings, traced, strict=True):
                p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
                assert p50 is not None and p99 is not None
                plans = _plans(path, statements)
                results[size].append(QueryResult(name, size, p50, p99, len(times), plans))
    finally:
        for db in dbs:
            await db.close()
    return results

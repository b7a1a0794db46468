"""Every query on a hot path is served by an index: no full scan of a large table, no sort.

The plans are read with EXPLAIN QUERY PLAN from a real migrated file holding tickets in
every state, without ANALYZE: the planner decides as it does for the bot, from the schema
alone. Each query is the very text the repositories run (their module constants).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from bot.domain.outbox import OutboxKind
from storage import Database, drafts, figures, outbox, retention, tickets, units
from tests.unit.seeding import add_ticket

pytestmark = pytest.mark.sqlite_only  # SQLite's own query plans (EXPLAIN QUERY PLAN)

ADMIN_CHAT = -1001234
# Tables kept small by design may be scanned: the inbox holds only updates not yet handled,
# and the counts of migration 0014 a dozen rows and five.
SMALL_TABLES = {"inbox", "ticket_counts", "rating_counts"}

# (query, parameters, the index that must serve it)
HOT_QUERIES: dict[str, tuple[str, tuple[Any, ...], str]] = {
    "lookup by number": (units.TICKET_BY_NUMBER, (1001,), "SEARCH tickets USING INTEGER"),
    "a customer's tickets": (tickets.TICKETS_FOR_CUSTOMER, (42, 5, 0), "tickets_by_customer"),
    "a customer's count": (tickets.COUNT_FOR_CUSTOMER, (42,), "tickets_by_customer"),
    "a customer's live tickets": (
        tickets.OPEN_FOR_CUSTOMER,
        (42,),
        "tickets_live_by_customer",
    ),
    "ticket by thread": (tickets.TICKET_BY_THREAD, (ADMIN_CHAT, 7), "tickets_by_thread"),
    "relay of an admin-chat message": (
        tickets.RELAY_BY_ADMIN_MESSAGE,
        (ADMIN_CHAT, 5),
        "relayed_by_admin_message",
    ),
    "relay of a customer's message": (
        tickets.RELAY_BY_CUSTOMER_MESSAGE,
        (42, 5),
        "relayed_by_customer_message",
    ),
    "/queue": (tickets.QUEUE, (10, 20), "tickets_queue"),
    "/queue count": (tickets.COUNT_QUEUE, (), "ticket_counts"),
    "breach scan": (tickets.BREACHED, (2_000_000,), "tickets_breach_due"),
    "auto-solve and auto-close scans": (
        tickets.IN_STATUS_SINCE,
        ("pending", 2_000_000),
        "tickets_by_status_since",
    ),
    "reminder scan": (tickets.AWAITING_REMINDER, (2_000_000,), "tickets_reminder_due"),
    "unposted tickets": (tickets.UNPOSTED, (ADMIN_CHAT,), "tickets_live_by_chat"),
    "stats: live by status": (figures.COUNT_LIVE_BY_STATUS, (), "ticket_counts"),
    "stats: median": (figures.MIDDLE_FIRST_RESPONSES, (2, 10), "tickets_first_response"),
    "idle drafts": (drafts.EXPIRED_DRAFTS, (2_000_000,), "drafts_by_updated"),
    "outbox: customers' next items": (
        outbox.OUTBOX_CUSTOMER_HEADS,
        (200,),
        "outbox_customer_heads",
    ),
    "outbox: the agents' chat's next item": (outbox.OUTBOX_ADMIN_NEXT, (), "outbox_admin_next"),
    "outbox: a ticket's next items (batching)": (
        outbox.OUTBOX_TICKET_NEXT,
        (1, 10, 1001, 49),
        "outbox_admin_next",
    ),
    "prune delivered outbox": (retention.FORGET_DELIVERED, (2_000_000, 1000), "outbox_due"),
    "prune update ids": (
        retention.FORGET_PROCESSED,
        (2_000_000, 1000),
        "processed_updates_by_time",
    ),
    "prune handled inbox": (
        retention.FORGET_HANDLED_INBOX,
        (1000,),
        "SEARCH processed_updates USING INTEGER PRIMARY KEY",
    ),
}

_FULL_SCAN = re.compile(r"^SCAN (\w+)$")


@pytest.fixture
async def stocked(db: Database) -> Database:
    """Tickets in every state, a rating, a draft, delivered outbox rows, handled updates."""
    number = 0
    for status in ("open", "pending", "solved", "closed"):
        for answered in (False, True):
            for chat in (None, ADMIN_CHAT):
                number = await add_ticket(
                    db,
                    status=status,
                    first_response_at=1_000_600 if answered else None,
                    admin_chat_id=chat,
                    admin_thread_id=None if chat is None else number,
                    admin_card_message_id=None if chat is None else 100 + number,
                )
    await db.execute(
        "INSERT INTO ratings (ticket_number, score, created_at, updated_at) VALUES (?, 5, 0, 0)",
        (number,),
    )
    await db.execute("INSERT INTO drafts (user_id, data, updated_at) VALUES (42, '{}', 0)")
    await db.execute(
        "INSERT INTO outbox (kind, audience, state, next_attempt_at, created_at, done_at)"
        " VALUES (?, 'admin', 'sent', 0, 0, 0)",
        (OutboxKind.CARD,),
    )
    await db.execute("INSERT INTO processed_updates (update_id, processed_at) VALUES (1, 0)")
    await db.execute("INSERT INTO inbox (update_id, payload, received_at) VALUES (1, '{}', 0)")
    return db


async def _plan(db: Database, sql: str, params: tuple[Any, ...]) -> list[str]:
    return [row["detail"] for row in await db.fetch_all(f"EXPLAIN QUERY PLAN {sql}", params)]


@pytest.mark.parametrize("name", HOT_QUERIES)
async def test_a_hot_query_uses_its_index_without_a_scan_or_a_sort(
    stocked: Database, name: str
) -> None:
    sql, params, index = HOT_QUERIES[name]
    plan = await _plan(stocked, sql, params)
    full_scans = [
        step for step in plan if (match := _FULL_SCAN.match(step)) and match[1] not in SMALL_TABLES
    ]
    assert full_scans == [], plan
    assert [step for step in plan if "TEMP B-TREE" in step] == [], plan
    assert any(index in step for step in plan), plan


# The counts read no ticket and no rating: only the few rows migration 0014 keeps.
COUNT_QUERIES: dict[str, tuple[str, str]] = {
    "/queue count": (tickets.COUNT_QUEUE, "ticket_counts"),
    "stats: tickets by status and first response": (figures.TICKET_COUNTS, "ticket_counts"),
    "stats: live by status": (figures.COUNT_LIVE_BY_STATUS, "ticket_counts"),
    "stats: ratings": (figures.RATINGS_SUMMARY, "rating_counts"),
}


@pytest.mark.parametrize("name", COUNT_QUERIES)
async def test_a_count_reads_only_the_kept_counts(stocked: Database, name: str) -> None:
    sql, table = COUNT_QUERIES[name]
    plan = await _plan(stocked, sql, ())
    reads = [step for step in plan if step.startswith(("SCAN", "SEARCH"))]
    assert reads and all(step.split()[1] == table for step in reads), plan


async def test_the_plan_check_catches_a_scan_and_a_sort(stocked: Database) -> None:
    """The checks above can fail: the old /queue sorted in a temporary B-tree."""
    plan = await _plan(
        stocked,
        "SELECT * FROM tickets WHERE status IN ('open', 'pending') ORDER BY status = 'pending',"
        " first_response_at IS NOT NULL, first_response_due_at, number LIMIT 10",
        (),
    )
    assert "USE TEMP B-TREE FOR ORDER BY" in plan
    plan = await _plan(stocked, "SELECT * FROM tickets WHERE subject = 'x'", ())
    assert plan == ["SCAN tickets"]


# /stats over a period: each query seeks its covering index to the period's start and reads
# no table row. Their GROUP BY sorts a temporary B-tree of a handful of groups (or of the
# period's quarter hours), which is allowed here, unlike a sort of the rows themselves. The
# counts by department and priority (STATS_KINDS) hop through the departments in the index
# and then read each group's range of an index led by department and priority: only the
# walk's own small tables (its departments, the priorities) are scanned.
KIND = "department=? AND priority=? AND "
PERIOD_QUERIES: dict[str, tuple[str, tuple[Any, ...], str]] = {
    "opened and targets": (
        figures.STATS_OPENED,
        (0, 2_000_000),
        f"tickets_opened_by_kind ({KIND}created_at>?)",
    ),
    "solved": (figures.STATS_SOLVED, (0,), f"tickets_solved_by_kind ({KIND}solved_at>?)"),
    "closed": (figures.STATS_CLOSED, (0,), f"tickets_closed_by_kind ({KIND}closed_at>?)"),
    "first responses": (
        figures.STATS_FIRST_RESPONSES,
        (0, "high"),
        "tickets_answered_by_priority (priority=? AND first_response_at>?)",
    ),
    "resolutions": (
        figures.STATS_RESOLUTIONS,
        (0, "high"),
        "tickets_resolved_by_priority (priority=? AND resolved_at>?)",
    ),
    "opened per quarter hour": (
        figures.STATS_OPENED_PER_QUARTER,
        (0,),
        f"tickets_opened_by_kind ({KIND}created_at>?)",
    ),
    "solved per quarter hour": (
        figures.STATS_SOLVED_PER_QUARTER,
        (0,),
        f"tickets_solved_by_kind ({KIND}solved_at>?)",
    ),
    "ratings": (figures.STATS_RATINGS, (0,), "ratings_by_time (created_at>?)"),
    "blocked customers": (figures.STATS_BLOCKED, (), "tickets_unreachable"),
}
# What the walk over the departments may scan: its own rows, never a table.
WALK_SCANS = {"SCAN d", "SCAN departments", "SCAN k", "SCAN priorities", "SCAN CONSTANT ROW"}


# What `ANALYZE` wrote for the bench's two-year desk of 1,000,000 tickets (the indexes the
# period queries read; migration 0015's as they stood there). With them, SQLite weighs its
# plans as for a large desk that has been analysed: a plain join over the department and
# priority groups was read tickets first (0.35 s at 1M; `CROSS JOIN` keeps the order).
LARGE_DESK_STATS = [
    ("tickets", "tickets_opened_by_kind", "1000000 333334 83334 1 1 1"),
    ("tickets", "tickets_solved_by_kind", "980021 326674 81669 1"),
    ("tickets", "tickets_closed_by_kind", "975006 325002 81251 1"),
    ("tickets", "tickets_answered_by_priority", "992966 248242 1 1 1"),
    ("tickets", "tickets_resolved_by_priority", "980021 245005 1 1 1"),
    ("tickets", "tickets_by_customer", "1000000 20 1"),
    ("tickets", "tickets_by_status_since", "1000000 250000 1"),
    ("ratings", "ratings_by_time", "330997 1 1"),
]


@pytest.fixture(params=["no statistics", "a large desk's statistics"])
async def planned(request: pytest.FixtureRequest, stocked: Database) -> Database:
    """The stocked file as the bot plans on it (no ANALYZE), and as if analysed at 1M."""
    if request.param != "no statistics":
        await stocked.execute("ANALYZE")
        await stocked.execute("DELETE FROM sqlite_stat1")
        for table, index, stat in LARGE_DESK_STATS:
            await stocked.execute("INSERT INTO sqlite_stat1 VALUES (?, ?, ?)", (table, index, stat))
        await stocked.execute("ANALYZE sqlite_schema")  # the planner reads them again
    return stocked


@pytest.mark.parametrize("name", PERIOD_QUERIES)
async def test_a_period_query_reads_only_its_covering_index(planned: Database, name: str) -> None:
    sql, params, index = PERIOD_QUERIES[name]
    plan = await _plan(planned, sql, params)
    reads = [
        step
        for step in plan
        if step.startswith(("SCAN", "SEARCH"))
        and step not in WALK_SCANS
        and not step.startswith("SCAN (subquery")
    ]
    # The walk finds each next department by a seek into the same index.
    walk = [step for step in reads if "(department>?)" in step or step.endswith("_by_kind")]
    counted = [step for step in reads if step not in walk]
    assert len(counted) >= 1 and all(index in step for step in counted), plan
    assert all("INDEX" in step for step in reads), plan
    assert [s for s in plan if "TEMP B-TREE FOR ORDER BY" in s] == [], plan

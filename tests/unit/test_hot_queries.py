"""What the rewritten hot queries return: the same tickets, in the same order, as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from statistics import median

from bot.compose import StoredDesk
from bot.domain.models import Status
from storage import Database
from tests.unit.seeding import add_ticket

ADMIN_CHAT = -1001234
T0 = 1_000_000  # a Unix second the tickets below are placed around


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def test_the_queue_lists_open_then_pending_unanswered_first_then_by_due_time(
    desk: StoredDesk, db: Database
) -> None:
    rows: list[tuple[str, int | None, int, int]] = []  # status, answered at, due, number
    for status in ("pending", "open", "solved", "closed"):
        for answered in (None, T0 + 60):
            for due in (T0 + 7200, T0 + 3600, T0 + 3600):
                number = await add_ticket(
                    db, status=status, first_response_at=answered, first_response_due_at=due
                )
                rows.append((status, answered, due, number))
    # The order the queue promised before it had an index: the original ORDER BY.
    expected = [
        number
        for status, answered, due, number in sorted(
            (r for r in rows if r[0] in ("open", "pending")),
            key=lambda r: (r[0] == "pending", r[1] is not None, r[2], r[3]),
        )
    ]
    first = await desk.tickets.queue(limit=5, offset=0)
    rest = await desk.tickets.queue(limit=50, offset=5)
    assert [t.number for t in first + rest] == expected
    assert await desk.tickets.count_queue() == len(expected)


async def test_unposted_means_live_and_without_a_card_in_the_bound_chat(
    desk: StoredDesk, db: Database
) -> None:
    never = await add_ticket(db)
    elsewhere_below = await add_ticket(db, admin_chat_id=ADMIN_CHAT - 5, admin_card_message_id=1)
    elsewhere_above = await add_ticket(db, admin_chat_id=ADMIN_CHAT + 5, admin_card_message_id=2)
    no_card = await add_ticket(db, status="pending", admin_chat_id=ADMIN_CHAT)
    await add_ticket(db, admin_chat_id=ADMIN_CHAT, admin_card_message_id=3)  # posted
    solved = await add_ticket(db, status="solved")
    await add_ticket(db, status="closed")  # not live
    unposted = await desk.tickets.unposted(ADMIN_CHAT)
    assert [t.number for t in unposted] == [
        never,
        elsewhere_below,
        elsewhere_above,
        no_card,
        solved,
    ]


async def test_the_breach_scan_returns_open_unanswered_unannounced_late_tickets(
    desk: StoredDesk, db: Database
) -> None:
    later = await add_ticket(db, first_response_due_at=T0 + 50)
    sooner = await add_ticket(db, first_response_due_at=T0 + 10)
    await add_ticket(db, first_response_due_at=T0 + 500)  # not due yet
    await add_ticket(db, first_response_due_at=T0, first_response_at=T0 + 5)  # answered
    await add_ticket(db, first_response_due_at=T0, breach_announced_at=T0 + 1)  # announced
    await add_ticket(db, status="pending", first_response_due_at=T0)
    breached = await desk.tickets.breached(at(T0 + 100))
    assert [t.number for t in breached] == [sooner, later]


async def test_the_clock_scans_read_the_longest_waiting_first(
    desk: StoredDesk, db: Database
) -> None:
    second = await add_ticket(db, status="pending", status_changed_at=T0 - 10)
    first = await add_ticket(db, status="pending", status_changed_at=T0 - 20)
    reminded = await add_ticket(
        db, status="pending", status_changed_at=T0 - 30, solve_reminder_at=T0 - 5
    )
    await add_ticket(db, status="pending", status_changed_at=T0 + 10)  # changed since
    await add_ticket(db, status="solved", status_changed_at=T0 - 40)
    waiting = await desk.tickets.in_status_since(Status.PENDING, at(T0))
    assert [t.number for t in waiting] == [reminded, first, second]
    unreminded = await desk.tickets.awaiting_reminder(at(T0))
    assert [t.number for t in unreminded] == [first, second]


async def test_figures_match_a_count_over_every_row(desk: StoredDesk, db: Database) -> None:
    assert (await desk.tickets.figures()).median_first_response is None
    took = [600, 60, 3600, 120, 60, 7200, 30]
    statuses = ["closed", "closed", "solved", "pending", "closed", "pending", "closed"]
    for seconds, status in zip(took, statuses, strict=True):
        await add_ticket(
            db,
            status=status,
            first_response_at=T0 + seconds,
            first_response_due_at=T0 + 1800,
        )
    await add_ticket(db)  # open, unanswered
    await add_ticket(db, status="closed")  # closed unanswered
    async with desk.tickets.unit() as unit:
        for number, score in ((1001, 5), (1002, 4), (1003, 4)):
            await unit.rate(number, score, at(T0))
    odd = await desk.tickets.figures()
    assert odd.by_status == {
        Status.OPEN: 1,
        Status.PENDING: 2,
        Status.SOLVED: 1,
        Status.CLOSED: 5,
    }
    assert (odd.answered, odd.met) == (7, 5)
    assert odd.median_first_response == timedelta(seconds=median(took))
    assert (odd.ratings, odd.average_rating) == (3, 13 / 3)
    # An even count: the mean of the two middle ones, as statistics.median gives it.
    await add_ticket(db, status="closed", first_response_at=T0 + 45)
    even = await desk.tickets.figures()
    assert even.median_first_response == timedelta(seconds=median([*took, 45]))
    assert even.answered == 8 and even.by_status[Status.CLOSED] == 6


KEPT_COUNTS = (
    "SELECT status, answered, met, n FROM ticket_counts WHERE n != 0 ORDER BY 1, 2, 3",
    "SELECT status, CASE WHEN first_response_at IS NOT NULL THEN 1 ELSE 0 END AS answered,"
    " CASE WHEN first_response_at <= first_response_due_at THEN 1 ELSE 0 END AS met,"
    " COUNT(*) AS n"
    " FROM tickets GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
)
KEPT_RATINGS = (
    "SELECT score, n FROM rating_counts WHERE n != 0 ORDER BY score",
    "SELECT score, COUNT(*) AS n FROM ratings GROUP BY score ORDER BY score",
)


async def _same(db: Database, pair: tuple[str, str]) -> list[tuple[object, ...]]:
    kept, counted = [[tuple(r) for r in await db.fetch_all(sql)] for sql in pair]
    assert kept == counted
    return kept


async def test_the_kept_counts_follow_every_change_of_a_ticket_and_a_rating(
    desk: StoredDesk, db: Database
) -> None:
    numbers = [await add_ticket(db, first_response_due_at=T0 + 600) for _ in range(6)]
    await add_ticket(db, status="closed", first_response_at=T0 + 60)
    assert await _same(db, KEPT_COUNTS)
    steps: list[dict[str, object]] = [
        {"first_response_at": at(T0 + 300)},  # answered in time
        {"first_response_at": at(T0 + 900)},  # answered late
        {"status": Status.PENDING, "first_response_at": at(T0 + 60)},
        {"status": Status.SOLVED},
        {"first_response_due_at": at(T0 + 1200)},  # a later target: the late one is met now
        {"status": Status.OPEN, "first_response_at": None},  # reopened, unanswered again
        {"status": Status.OPEN},  # no change
    ]
    for number, fields in zip([*numbers, *numbers], steps, strict=False):
        async with desk.tickets.unit() as unit:
            await unit.update(number, **fields)
        await _same(db, KEPT_COUNTS)
    async with desk.tickets.unit() as unit:
        await unit.update(numbers[1], first_response_due_at=at(T0 + 1200))
        await unit.update(numbers[2], status=Status.CLOSED)
    await db.execute("DELETE FROM tickets WHERE number = ?", (numbers[5],))
    assert len(await _same(db, KEPT_COUNTS)) >= 4
    async with desk.tickets.unit() as unit:
        for number, score in ((numbers[0], 5), (numbers[1], 3), (numbers[2], 5)):
            await unit.rate(number, score, at(T0))
        await unit.rate(numbers[0], 2, at(T0 + 10))  # changed
        await unit.rate(numbers[1], 3, at(T0 + 10))  # the same again
    assert await _same(db, KEPT_RATINGS) == [(2, 1), (3, 1), (5, 1)]
    await db.execute("DELETE FROM ratings WHERE ticket_number = ?", (numbers[2],))
    await _same(db, KEPT_RATINGS)
    assert await desk.tickets.count_queue() == len(await desk.tickets.queue(limit=50, offset=0))
    figures = await desk.tickets.figures()
    assert (figures.ratings, figures.rating_total) == (2, 5)
    row = await db.fetch_one(
        "SELECT COUNT(*) AS answered, SUM(CASE WHEN first_response_at <= first_response_due_at THEN 1 ELSE 0 END) AS met"
        " FROM tickets WHERE first_response_at IS NOT NULL"
    )
    assert row is not None and (figures.answered, figures.met) == (row["answered"], row["met"])

"""/stats figures on a seeded desk, against answers worked out by hand.

The week around Lebaran 2025 (Idul Fitri on Monday 31 March and Tuesday 1 April, Jakarta):
tickets are opened, answered, solved and closed through the desk itself on a moving clock,
so due times and business-hours durations come from the real calendar.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.compose import StoredDesk
from bot.config import Settings
from bot.domain.lifecycle import Action
from bot.domain.models import Author, Draft, Priority, Status
from bot.domain.stats import Compliance, DayCount, DeskStats, Spread, parse_period, spread_ranks
from bot.i18n import use_locale
from bot.stats_text import render_stats
from storage import Database
from tests.conftest import FakeClock

JAKARTA = ZoneInfo("Asia/Jakarta")
AGENT = 7
H = timedelta(hours=1)


def wib(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=JAKARTA).astimezone(UTC)


class Seeder:
    def __init__(self, desk: StoredDesk, clock: FakeClock) -> None:
        self.desk, self.clock = desk, clock
        self.customers = iter(range(100, 200))

    async def open(self, at: datetime, priority: Priority, department: str) -> tuple[int, int]:
        self.clock.now = at
        customer = next(self.customers)
        await self.desk.register_user(customer, f"Customer {customer}", None, None, "en")
        draft = Draft(
            user_id=customer,
            department=department,
            subject="A question",
            priority=priority,
            message="Please help.",
        )
        ticket = await self.desk.submit(draft, "en")
        return ticket.number, customer

    async def answer(self, at: datetime, number: int) -> None:
        self.clock.now = at
        await self.desk.service.agent_reply(number, AGENT, "On it")

    async def move(self, at: datetime, number: int, action: Action) -> None:
        self.clock.now = at
        await self.desk.service.apply(number, action, Author.AGENT, AGENT)


@pytest.fixture
async def lebaran_week(
    make_settings: Callable[..., Settings], db: Database
) -> tuple[StoredDesk, DeskStats]:
    clock = FakeClock(wib(2025, 3, 20, 9, 0))
    desk = StoredDesk(make_settings(), db, clock)
    seed = Seeder(desk, clock)
    # Before the period: answered and closed the week before, counted nowhere.
    t0, _ = await seed.open(wib(2025, 3, 20, 9, 0), Priority.HIGH, "technical")
    await seed.answer(wib(2025, 3, 20, 9, 5), t0)
    await seed.move(wib(2025, 3, 21, 9, 0), t0, Action.CLOSE)
    # T1 Low, Friday 17:00: due after 18 working hours, Lebaran skipped → Thursday 17:00.
    # Answered Wednesday 10:00: 113 h on the clock, 2 h of business time (Fri 1 h, Wed 1 h).
    t1, _ = await seed.open(wib(2025, 3, 28, 17, 0), Priority.LOW, "technical")
    # T2 Critical, Friday 17:00, answered 18:00 (1 h, 1 h business): met; solved at 19:00
    # (2 h, 1 h business), rated 5.
    t2, c2 = await seed.open(wib(2025, 3, 28, 17, 0), Priority.CRITICAL, "technical")
    await seed.answer(wib(2025, 3, 28, 18, 0), t2)
    await seed.move(wib(2025, 3, 28, 19, 0), t2, Action.SOLVE)
    # T3 High, Saturday 10:00, answered 20:00 (10 h, none of it business time): missed.
    t3, _ = await seed.open(wib(2025, 3, 29, 10, 0), Priority.HIGH, "billing")
    await seed.answer(wib(2025, 3, 29, 20, 0), t3)
    # T4 Medium, on Lebaran itself at 09:00, answered 12:00 (3 h, no business time): met.
    t4, c4 = await seed.open(wib(2025, 3, 31, 9, 0), Priority.MEDIUM, "sales")
    await seed.answer(wib(2025, 3, 31, 12, 0), t4)
    # T5 Low, on the second day of Lebaran: due Thursday 18:00, never answered: missed.
    t5, _ = await seed.open(wib(2025, 4, 1, 12, 0), Priority.LOW, "sales")
    await seed.answer(wib(2025, 4, 2, 10, 0), t1)
    # T4 solved Wednesday 09:30: 48 h 30 min on the clock, 30 min of business time.
    await seed.move(wib(2025, 4, 2, 9, 30), t4, Action.SOLVE)
    # T3 closed unsolved Thursday 12:00: 122 h; business time Wed 9 h + Thu 3 h = 12 h.
    await seed.move(wib(2025, 4, 3, 12, 0), t3, Action.CLOSE)
    # T6 Medium, Friday 09:00, unanswered and not yet due (Saturday 09:00): not counted.
    await seed.open(wib(2025, 4, 4, 9, 0), Priority.MEDIUM, "sales")
    clock.now = wib(2025, 4, 4, 9, 30)
    await desk.service.rate(t2, c2, 5)
    await desk.service.rate(t4, c4, 4)
    await desk.service.mark_unreachable(t5)
    clock.now = wib(2025, 4, 4, 10, 0)
    return desk, await desk.stats(7)


async def test_counts_by_department_and_priority(
    lebaran_week: tuple[StoredDesk, DeskStats],
) -> None:
    _, stats = lebaran_week
    assert stats.days == 7
    assert stats.opened.by_department == {"technical": 2, "billing": 1, "sales": 3}
    assert stats.opened.by_priority == {
        Priority.LOW: 2,
        Priority.CRITICAL: 1,
        Priority.HIGH: 1,
        Priority.MEDIUM: 2,
    }
    assert stats.solved.by_department == {"technical": 1, "sales": 1}
    assert stats.closed.by_priority == {Priority.HIGH: 1}
    assert stats.backlog == {Status.OPEN: 2, Status.PENDING: 1, Status.SOLVED: 2}


async def test_medians_and_percentiles(lebaran_week: tuple[StoredDesk, DeskStats]) -> None:
    _, stats = lebaran_week
    # First responses 1, 3, 10, 113 h: the median is between 3 and 10, the 90th the top.
    assert stats.first_response == Spread(4, 6.5 * H, 113 * H)
    # In business hours 0, 0, 1, 2 h.
    assert stats.first_response_business == Spread(4, 0.5 * H, 2 * H)
    # Resolutions 2 h, 48.5 h, 122 h; in business hours 30 min, 1 h, 12 h.
    assert stats.resolution == Spread(3, 48.5 * H, 122 * H)
    assert stats.resolution_business == Spread(3, 1 * H, 12 * H)
    # Per priority, in each target's own measure: Low counts business hours.
    assert stats.first_response_by_priority[Priority.LOW] == Spread(1, 2 * H, 2 * H)
    assert stats.first_response_by_priority[Priority.HIGH] == Spread(1, 10 * H, 10 * H)


async def test_target_compliance_across_business_hours_and_a_holiday(
    lebaran_week: tuple[StoredDesk, DeskStats],
) -> None:
    _, stats = lebaran_week
    assert stats.targets == {
        Priority.CRITICAL: Compliance(1, 1),
        Priority.HIGH: Compliance(0, 1),
        Priority.MEDIUM: Compliance(1, 1),  # the one not yet due is not counted
        Priority.LOW: Compliance(1, 2),  # met thanks to Lebaran; the other one is late
    }
    assert stats.targets_overall == Compliance(3, 5)


async def test_ratings_blocked_and_days(lebaran_week: tuple[StoredDesk, DeskStats]) -> None:
    _, stats = lebaran_week
    assert (stats.ratings, stats.average_rating, stats.blocked_customers) == (2, 4.5, 1)
    assert stats.days_counted == [
        DayCount(date(2025, 3, 28), 2, 1),
        DayCount(date(2025, 3, 29), 1, 0),
        DayCount(date(2025, 3, 30), 0, 0),
        DayCount(date(2025, 3, 31), 1, 0),
        DayCount(date(2025, 4, 1), 1, 0),
        DayCount(date(2025, 4, 2), 0, 1),
        DayCount(date(2025, 4, 3), 0, 0),
        DayCount(date(2025, 4, 4), 1, 0),
    ]


async def test_a_reopened_ticket_is_unresolved_again(
    lebaran_week: tuple[StoredDesk, DeskStats],
) -> None:
    desk, _ = lebaran_week
    await desk.service.apply(1003, Action.REOPEN, Author.AGENT, AGENT)  # T2
    stats = await desk.stats(7)
    assert stats.solved.total == 1
    assert stats.resolution.count == 2


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "en",
            ["median 6 hours 30 minutes, 90% within 4 days 17 hours", "3 of 5 (60%)", "4.5 of 5"],
        ),
        ("id", ["median 6 jam 30 menit", "3 dari 5 (60%)", "4,5 dari 5"]),
        ("sv", ["median 6 timmar 30 minuter", "3 av 5 (60\xa0%)", "4,5 av 5"]),
    ],
)
async def test_the_figures_are_written_in_the_operators_language(
    lebaran_week: tuple[StoredDesk, DeskStats], locale: str, expected: list[str]
) -> None:
    desk, stats = lebaran_week
    with use_locale(locale):
        text = render_stats(stats, desk.settings, markup=False)
    for part in expected:
        assert part in text


def test_spread_ranks_and_periods() -> None:
    assert spread_ranks(1) == (0, 0, 0)
    assert spread_ranks(4) == (1, 2, 3)
    assert spread_ranks(10) == (4, 5, 8)  # nearest rank: the 9th of 10
    assert spread_ranks(0) == ()
    assert [parse_period(a) for a in (None, "30d", "90", "1y")] == [7, 30, 90, None]

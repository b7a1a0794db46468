"""The desk's figures over a period, as numbers: what `/stats` and `python -m bot stats` say.

Percentiles are read off the sorted values by rank, so they are exact values that some
ticket really took: the median of an even count is the mean of the two middle values, and
the 90th percentile is the nearest-rank one (the value at rank ⌈0.9·n⌉, counting from 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import chain
from zoneinfo import ZoneInfo

from bot.domain.models import Priority, Status

# The periods an operator may ask for, in days; the first is the default.
PERIODS: dict[str, int] = {"7d": 7, "30d": 30, "90d": 90}
DEFAULT_PERIOD = "7d"
# Counts per day are stored per quarter hour (every time zone's offset is a multiple of
# 15 minutes), so a day in TIMEZONE is an exact sum of them.
QUARTER_HOUR = 900


def parse_period(arg: str | None, periods: Mapping[str, int] = PERIODS) -> int | None:
    """The days of a period argument ("30d", "30"), 7 days without one; None if unknown."""
    if arg is None:
        return PERIODS[DEFAULT_PERIOD]
    text = arg.strip().lower()
    if text.isdigit():
        text += "d"
    return periods.get(text)


def spread_ranks(count: int) -> tuple[int, ...]:
    """The 0-based ranks whose values give the median and the 90th percentile of `count`."""
    if count <= 0:
        return ()
    return ((count - 1) // 2, count // 2, (9 * count + 9) // 10 - 1)


@dataclass(frozen=True, slots=True)
class Spread:
    """How long something took across a period's tickets."""

    count: int = 0
    median: timedelta | None = None
    p90: timedelta | None = None

    @classmethod
    def from_ranks(cls, count: int, at_rank: Mapping[int, int]) -> Spread:
        """Build from the values (seconds) at `spread_ranks(count)`."""
        if count <= 0:
            return cls()
        low, high, p90 = spread_ranks(count)
        middle = (at_rank[low] + at_rank[high]) / 2
        return cls(count, timedelta(seconds=middle), timedelta(seconds=at_rank[p90]))


class Durations:
    """How long each of a period's tickets took (seconds), on the clock and in business
    hours (unknown for tickets from before business time was recorded), per priority.

    A 90-day period of a large desk holds a hundred thousand of them: each priority's are
    sorted once, as they are added, and the desk's spread merges those sorted runs.
    """

    def __init__(self) -> None:
        self._wall: dict[Priority, list[int]] = {}
        self._business: dict[Priority, list[int]] = {}

    def add(
        self, priority: Priority, on_clock: Iterable[int], in_hours: Iterable[int | None]
    ) -> None:
        """One priority's durations: on the clock, and in business hours (None: unknown)."""
        self._wall[priority] = sorted(on_clock)
        self._business[priority] = sorted(v for v in in_hours if v is not None)

    def spread(self, *, priority: Priority | None = None, business: bool = False) -> Spread:
        lists = self._business if business else self._wall
        if priority is None:
            # Sorted runs, one a priority: Python's sort merges them in about linear time.
            values = sorted(chain.from_iterable(lists.values()))
        else:
            values = lists.get(priority, [])
        return Spread.from_ranks(len(values), {r: values[r] for r in spread_ranks(len(values))})


@dataclass(frozen=True, slots=True)
class Compliance:
    """Response targets of one priority: met, of those whose due time has come."""

    met: int = 0
    due: int = 0  # answered, or unanswered past the due time

    @property
    def share(self) -> float | None:
        return self.met / self.due if self.due else None


@dataclass(frozen=True, slots=True)
class Counts:
    """Tickets opened, solved or closed in the period, by department and by priority."""

    by_department: dict[str, int] = field(default_factory=dict)
    by_priority: dict[Priority, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_department.values())

    @classmethod
    def of(cls, rows: Iterable[tuple[str, str, int]]) -> Counts:
        """From (department, priority, count) rows."""
        by_department: dict[str, int] = {}
        by_priority: dict[Priority, int] = {}
        for department, priority, n in rows:
            by_department[department] = by_department.get(department, 0) + n
            key = Priority(priority)
            by_priority[key] = by_priority.get(key, 0) + n
        return cls(by_department, by_priority)


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    opened: int
    solved: int


def per_day(
    opened: Mapping[int, int],
    solved: Mapping[int, int],
    since: datetime,
    until: datetime,
    tz: ZoneInfo,
) -> list[DayCount]:
    """Quarter-hour counts (keyed by Unix seconds // 900) summed per local day, every day
    from `since` to `until` present (a quiet day is a zero, not a gap in the chart)."""
    first, last = since.astimezone(tz).date(), until.astimezone(tz).date()
    days = {first + timedelta(days=n): [0, 0] for n in range((last - first).days + 1)}

    def add(counts: Mapping[int, int], slot: int) -> None:
        for quarter, n in counts.items():
            day = datetime.fromtimestamp(quarter * QUARTER_HOUR, tz).date()
            if day in days:
                days[day][slot] += n

    add(opened, 0)
    add(solved, 1)
    return [DayCount(day, o, s) for day, (o, s) in days.items()]


@dataclass(frozen=True, slots=True)
class DeskStats:
    """Everything `/stats` reports for the period from `since` to `until`."""

    since: datetime
    until: datetime
    days: int
    opened: Counts
    solved: Counts
    closed: Counts
    backlog: dict[Status, int]  # open, pending and solved now
    first_response: Spread
    first_response_business: Spread
    resolution: Spread
    resolution_business: Spread
    # Per priority, in the measure of its target (business hours for a business-day target).
    first_response_by_priority: dict[Priority, Spread]
    targets: dict[Priority, Compliance]
    ratings: int
    rating_total: int
    blocked_customers: int
    days_counted: list[DayCount]

    @property
    def average_rating(self) -> float | None:
        return self.rating_total / self.ratings if self.ratings else None

    @property
    def targets_overall(self) -> Compliance:
        return Compliance(
            sum(c.met for c in self.targets.values()), sum(c.due for c in self.targets.values())
        )

"""Response targets on the desk's calendar: when a ticket's first answer is due.

Critical, High and Medium run on the clock; Low counts business days, where one business
day is one working day of the configured business hours in `TIMEZONE`. A working day is a
weekday of `BUSINESS_HOURS` that is neither a public holiday of `HOLIDAYS` (the `holidays`
package's calendar for that country) nor one of `EXTRA_HOLIDAYS` (the company's own days
off). Arithmetic is done in UTC so that a daylight-saving change never stretches or
shrinks a working day.

Everything that counts working time (due times, and through them breach alerts, the
figures' business-hours durations, the FAQ's support-hours answer) asks one `WorkCalendar`.
"""

from __future__ import annotations

from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays as public_holidays

from bot.config import BusinessHours, ResponseTarget, Settings

# A year of calendar days is far more than any target or search needs; the bound guards
# the loops below against a calendar with no working day at all.
_SEARCH_DAYS = 366 * 2
NO_DAYS_OFF: frozenset[date] = frozenset()


def working_day_length(hours: BusinessHours) -> timedelta:
    day = datetime(2000, 1, 3, tzinfo=UTC).date()  # any date: only the wall clock matters
    return datetime.combine(day, hours.end) - datetime.combine(day, hours.start)


def _is_working_day(day: date, hours: BusinessHours, days_off: Container[date]) -> bool:
    return day.weekday() in hours.days and day not in days_off


def _windows(
    start: datetime, hours: BusinessHours, tz: ZoneInfo, days_off: Container[date]
) -> Iterator[tuple[datetime, datetime]]:
    """The working windows (opens, closes) in UTC from `start`'s local day on, in order."""
    local_day = start.astimezone(tz).date()
    for _ in range(_SEARCH_DAYS):
        if _is_working_day(local_day, hours, days_off):
            opens = datetime.combine(local_day, hours.start, tzinfo=tz).astimezone(UTC)
            closes = datetime.combine(local_day, hours.end, tzinfo=tz).astimezone(UTC)
            yield opens, closes
        local_day += timedelta(days=1)


def add_business_time(
    start: datetime,
    amount: timedelta,
    hours: BusinessHours,
    tz: ZoneInfo,
    days_off: Container[date] = NO_DAYS_OFF,
) -> datetime:
    """Move `amount` of working time forward from `start`, skipping nights and days off."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    remaining = amount
    cursor = start.astimezone(UTC)
    for opens, closes in _windows(cursor, hours, tz, days_off):
        begin = max(cursor, opens)
        if begin < closes:
            available = closes - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
    raise ValueError("business hours leave no working time")


def business_time_between(
    start: datetime,
    end: datetime,
    hours: BusinessHours,
    tz: ZoneInfo,
    days_off: Container[date] = NO_DAYS_OFF,
) -> timedelta:
    """How much working time lies between `start` and `end` (zero if `end` is earlier)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    total = timedelta(0)
    if end <= start:
        return total
    for opens, closes in _windows(start, hours, tz, days_off):
        if opens >= end:
            break
        overlap = min(closes, end) - max(opens, start)
        if overlap > timedelta(0):
            total += overlap
    return total


def first_response_due(
    created_at: datetime,
    target: ResponseTarget,
    hours: BusinessHours,
    tz: ZoneInfo,
    days_off: Container[date] = NO_DAYS_OFF,
) -> datetime:
    """The moment the first agent answer is due for a ticket created at `created_at`."""
    if not target.business_hours:
        return created_at + target.due
    # `due` is written in days ("2 business days"); each is one working day long.
    working = working_day_length(hours) * (target.due / timedelta(days=1))
    return add_business_time(created_at, working, hours, tz, days_off)


def is_within_business_hours(
    moment: datetime,
    hours: BusinessHours,
    tz: ZoneInfo,
    days_off: Container[date] = NO_DAYS_OFF,
) -> bool:
    local = moment.astimezone(tz)
    return (
        _is_working_day(local.date(), hours, days_off) and hours.start <= local.time() < hours.end
    )


@dataclass(frozen=True)
class DaysOff:
    """Public holidays of one country (or none) and the company's own days off.

    The `holidays` package computes a country's holidays per year on first use (movable
    feasts such as Lebaran follow the lunar calendar), so any year works.
    """

    country: str | None
    extra: frozenset[date] = frozenset()
    _public: public_holidays.HolidayBase | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, country: str | None, extra: frozenset[date] = frozenset()) -> DaysOff:
        public = public_holidays.country_holidays(country) if country else None
        return cls(country, extra, public)

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        return day in self.extra or (self._public is not None and day in self._public)

    def between(self, first: date, last: date) -> list[date]:
        """The days off from `first` to `last`, both included, in order."""
        found: list[date] = []
        day = first
        while day <= last:
            if day in self:
                found.append(day)
            day += timedelta(days=1)
        return found


@dataclass(frozen=True)
class WorkCalendar:
    """The desk's working time: business hours in its time zone, less its days off."""

    hours: BusinessHours
    tz: ZoneInfo
    days_off: DaysOff

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkCalendar:
        return cls(
            settings.business_hours,
            settings.tz,
            DaysOff.of(settings.holidays, frozenset(settings.extra_holidays)),
        )

    def is_working_day(self, day: date) -> bool:
        return _is_working_day(day, self.hours, self.days_off)

    def add(self, start: datetime, amount: timedelta) -> datetime:
        return add_business_time(start, amount, self.hours, self.tz, self.days_off)

    def between(self, start: datetime, end: datetime) -> timedelta:
        return business_time_between(start, end, self.hours, self.tz, self.days_off)

    def due(self, created_at: datetime, target: ResponseTarget) -> datetime:
        return first_response_due(created_at, target, self.hours, self.tz, self.days_off)

    def is_open(self, moment: datetime) -> bool:
        return is_within_business_hours(moment, self.hours, self.tz, self.days_off)

    def upcoming_days_off(self, today: date, *, within: timedelta) -> list[date]:
        """Holidays and company days off that fall on a working weekday, from `today` on."""
        last = today + timedelta(days=within.days)
        return [d for d in self.days_off.between(today, last) if d.weekday() in self.hours.days]

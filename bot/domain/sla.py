"""Response targets: when a ticket's first answer is due.

Critical, High and Medium run on the clock; Low counts business days, where one business
day is one working day of the configured business hours in `TIMEZONE`. Arithmetic is done
in UTC so that a daylight-saving change never stretches or shrinks a working day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import BusinessHours, ResponseTarget


def working_day_length(hours: BusinessHours) -> timedelta:
    day = datetime(2000, 1, 3, tzinfo=UTC).date()  # any date: only the wall clock matters
    return datetime.combine(day, hours.end) - datetime.combine(day, hours.start)


def add_business_time(
    start: datetime, amount: timedelta, hours: BusinessHours, tz: ZoneInfo
) -> datetime:
    """Move `amount` of working time forward from `start`, skipping nights and days off."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    remaining = amount
    cursor = start.astimezone(UTC)
    # A year of calendar days is far more than any target needs; the bound guards a loop.
    for _ in range(366 * 2):
        local_day = cursor.astimezone(tz).date()
        if local_day.weekday() in hours.days:
            opens = datetime.combine(local_day, hours.start, tzinfo=tz).astimezone(UTC)
            closes = datetime.combine(local_day, hours.end, tzinfo=tz).astimezone(UTC)
            begin = max(cursor, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        next_day = local_day + timedelta(days=1)
        cursor = datetime.combine(next_day, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    raise ValueError("business hours leave no working time")


def first_response_due(
    created_at: datetime, target: ResponseTarget, hours: BusinessHours, tz: ZoneInfo
) -> datetime:
    """The moment the first agent answer is due for a ticket created at `created_at`."""
    if not target.business_hours:
        return created_at + target.due
    # `due` is written in days ("2 business days"); each is one working day long.
    working = working_day_length(hours) * (target.due / timedelta(days=1))
    return add_business_time(created_at, working, hours, tz)


def is_within_business_hours(moment: datetime, hours: BusinessHours, tz: ZoneInfo) -> bool:
    local = moment.astimezone(tz)
    return local.weekday() in hours.days and hours.start <= local.time() < hours.end

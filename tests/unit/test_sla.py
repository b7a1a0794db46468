"""First-response due times across nights, weekends, time zones and daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import BusinessHours, ResponseTarget, Settings
from bot.domain.sla import add_business_time, first_response_due, is_within_business_hours

JAKARTA = ZoneInfo("Asia/Jakarta")
STOCKHOLM = ZoneInfo("Europe/Stockholm")
HOURS = BusinessHours()  # Mon–Fri 09:00–18:00


def local(tz: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def test_clock_targets_ignore_business_hours(settings: Settings) -> None:
    friday_night = local(JAKARTA, 2026, 11, 27, 23, 0)
    critical = settings.response_targets["critical"]
    high = settings.response_targets["high"]
    medium = settings.response_targets["medium"]
    assert first_response_due(friday_night, critical, HOURS, JAKARTA) == friday_night + timedelta(
        hours=2
    )
    assert first_response_due(friday_night, high, HOURS, JAKARTA) == friday_night + timedelta(
        hours=6
    )
    assert first_response_due(friday_night, medium, HOURS, JAKARTA) == friday_night + timedelta(
        hours=24
    )


@pytest.mark.parametrize(
    ("created", "due"),
    [
        # Monday 10:00 + 18 working hours: Monday 8 h, Tuesday 9 h, Wednesday 1 h → Wed 10:00.
        ((2026, 11, 23, 10, 0), (2026, 11, 25, 10, 0)),
        # Friday 17:00: 1 h on Friday, 9 h Monday, 8 h Tuesday → Tuesday 17:00.
        ((2026, 11, 27, 17, 0), (2026, 12, 1, 17, 0)),
        # Saturday: the clock starts Monday 09:00 → Tuesday 18:00.
        ((2026, 11, 28, 12, 0), (2026, 12, 1, 18, 0)),
        # Night before Monday: starts at 09:00 → Tuesday 18:00.
        ((2026, 11, 23, 3, 0), (2026, 11, 24, 18, 0)),
        # After hours on Monday: starts Tuesday 09:00 → Wednesday 18:00.
        ((2026, 11, 23, 19, 30), (2026, 11, 25, 18, 0)),
    ],
)
def test_low_counts_two_business_days(
    settings: Settings, created: tuple[int, ...], due: tuple[int, ...]
) -> None:
    low = settings.response_targets["low"]
    assert first_response_due(local(JAKARTA, *created), low, HOURS, JAKARTA) == local(JAKARTA, *due)


def test_business_time_is_measured_in_the_desk_time_zone() -> None:
    # 02:00 UTC on a Monday is 09:00 in Jakarta (open) but 03:00 in Stockholm (closed).
    moment = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert is_within_business_hours(moment, HOURS, JAKARTA)
    assert not is_within_business_hours(moment, HOURS, STOCKHOLM)
    one_hour = timedelta(hours=1)
    assert add_business_time(moment, one_hour, HOURS, JAKARTA) == moment + one_hour
    assert add_business_time(moment, one_hour, HOURS, STOCKHOLM) == local(
        STOCKHOLM, 2026, 11, 23, 10, 0
    )


def test_a_daylight_saving_change_does_not_stretch_a_working_day() -> None:
    # Sweden moves clocks forward on Sunday 29 March 2026; Monday is a normal 9-hour day.
    friday = local(STOCKHOLM, 2026, 3, 27, 17, 0)
    due = add_business_time(friday, timedelta(hours=5), HOURS, STOCKHOLM)
    assert due == local(STOCKHOLM, 2026, 3, 30, 13, 0)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 11, 0, tzinfo=UTC)


def test_custom_business_hours() -> None:
    hours = BusinessHours(days=[0, 1, 2, 3, 4, 5], start=time(8, 0), end=time(12, 0))
    target = ResponseTarget(lower=timedelta(days=1), due=timedelta(days=1), business_hours=True)
    saturday = local(JAKARTA, 2026, 11, 28, 11, 0)
    # One business day = 4 working hours: 1 h Saturday, 3 h Monday.
    assert first_response_due(saturday, target, hours, JAKARTA) == local(
        JAKARTA, 2026, 11, 30, 11, 0
    )


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_time(datetime(2026, 1, 1), timedelta(hours=1), HOURS, JAKARTA)

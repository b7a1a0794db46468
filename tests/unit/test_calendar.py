"""The desk's calendar: public holidays (HOLIDAYS) and company days off (EXTRA_HOLIDAYS)
are skipped by due times, breach alerts, business-hours durations and the FAQ alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.compose import StoredDesk
from bot.config import Settings, SettingsError, load_settings
from bot.domain.models import Draft, Priority
from bot.domain.sla import WorkCalendar
from bot.faq_text import days_off_note
from bot.i18n import use_locale
from storage import Database
from tests.conftest import TOKEN, FakeClock

JAKARTA = ZoneInfo("Asia/Jakarta")
# Christmas week 2025: the company closes from Christmas Eve to New Year's Eve; Christmas
# (25 December) and New Year's Day are public holidays in Indonesia anyway.
CHRISTMAS_WEEK = "2025-12-24,2025-12-26..2025-12-31"


def wib(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=JAKARTA)


@pytest.fixture
def calendar(make_settings: Callable[..., Settings]) -> WorkCalendar:
    return WorkCalendar.from_settings(make_settings(extra_holidays=CHRISTMAS_WEEK))


def test_lebaran_is_skipped_by_a_business_day_target(
    calendar: WorkCalendar, settings: Settings
) -> None:
    # Friday 28 March 2025, 10:00: 8 h that day; Monday 31 March and Tuesday 1 April are
    # Idul Fitri; Wednesday 9 h, Thursday 1 h → Thursday 3 April 10:00 (18 working hours).
    low = settings.response_targets["low"]
    assert calendar.due(wib(2025, 3, 28, 10, 0), low) == wib(2025, 4, 3, 10, 0)
    # Without the holidays the same ticket was due on Tuesday, in the middle of Lebaran.
    plain = WorkCalendar.from_settings(settings.model_copy(update={"holidays": None}))
    assert plain.due(wib(2025, 3, 28, 10, 0), low) == wib(2025, 4, 1, 10, 0)


def test_christmas_week_and_new_year_are_skipped(
    calendar: WorkCalendar, settings: Settings
) -> None:
    # Tuesday 23 December 2025, 17:00: 1 h; 24–31 December off (the company's days and
    # Christmas), 1 January public; Friday 2 January 9 h; Monday 5 January 8 h → 17:00.
    low = settings.response_targets["low"]
    assert calendar.due(wib(2025, 12, 23, 17, 0), low) == wib(2026, 1, 5, 17, 0)
    assert not calendar.is_working_day(date(2025, 12, 24))
    assert not calendar.is_working_day(date(2025, 12, 25))
    assert not calendar.is_working_day(date(2026, 1, 1))
    assert calendar.is_working_day(date(2026, 1, 2))
    assert not calendar.is_open(wib(2025, 12, 29, 10, 0))


def test_clock_targets_run_through_holidays(calendar: WorkCalendar, settings: Settings) -> None:
    created = wib(2025, 12, 25, 10, 0)
    assert calendar.due(created, settings.response_targets["high"]) == created + timedelta(hours=6)


def test_business_time_between_skips_holidays(calendar: WorkCalendar) -> None:
    # Friday 17:00 → Wednesday after Lebaran 10:00: 1 h on Friday, 1 h on Wednesday.
    assert calendar.between(wib(2025, 3, 28, 17, 0), wib(2025, 4, 2, 10, 0)) == timedelta(hours=2)
    # Across the whole Christmas week: 1 h on 23 December, 9 h on 2 January.
    assert calendar.between(wib(2025, 12, 23, 17, 0), wib(2026, 1, 3, 0, 0)) == timedelta(hours=10)
    assert calendar.between(wib(2025, 4, 2, 10, 0), wib(2025, 3, 28, 17, 0)) == timedelta(0)


async def test_due_time_and_breach_alert_follow_the_calendar(
    make_settings: Callable[..., Settings], db: Database
) -> None:
    clock = FakeClock(wib(2025, 3, 28, 10, 0).astimezone(UTC))
    desk = StoredDesk(make_settings(extra_holidays=CHRISTMAS_WEEK), db, clock)
    await desk.register_user(42, "Dewi", None, None, "id")
    draft = Draft(
        user_id=42,
        department="technical",
        subject="Tidak bisa masuk",
        priority=Priority.LOW,
        message="Sejak pagi saya tidak bisa masuk ke akun saya.",
    )
    ticket = await desk.submit(draft, "id")
    assert ticket.first_response_due_at == wib(2025, 4, 3, 10, 0)
    # Tuesday of Lebaran, the day the plain week would have called it late: no alert yet.
    assert await desk.tickets.breached(wib(2025, 4, 1, 12, 0)) == []
    late = await desk.tickets.breached(wib(2025, 4, 3, 10, 1))
    assert [t.number for t in late] == [ticket.number]


@pytest.mark.parametrize(
    ("locale", "country", "days"),
    [
        ("en", "Indonesia", "March 31, April 1, and April 18."),
        ("id", "Indonesia", "31 Maret, 1 April, dan 18 April."),
        ("sv", "Indonesien", "31 mars, 1 april och 18 april."),
    ],
)
def test_faq_names_the_coming_days_off(
    make_settings: Callable[..., Settings], locale: str, country: str, days: str
) -> None:
    settings = make_settings()
    calendar = WorkCalendar.from_settings(settings)
    # From 20 March 2025 the next 60 days hold Lebaran (31 March, 1 April), Good Friday,
    # Labour Day; the first three are named. Nyepi (29 March) is a Saturday, a day off anyway, so it is not named.
    with use_locale(locale):
        text = days_off_note(settings, calendar, date(2025, 3, 20), locale)
    assert country in text
    assert days in text
    assert "29" not in text


def test_faq_without_holidays_says_so(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(holidays="none")
    with use_locale("en"):
        text = days_off_note(
            settings, WorkCalendar.from_settings(settings), date(2025, 3, 20), "en"
        )
    assert text == "We work on public holidays too."


def test_extra_holidays_parse_dates_and_ranges(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(extra_holidays="2025-12-24, 2025-12-29..2025-12-31", holidays="SE")
    assert settings.holidays == "SE"
    assert settings.extra_holidays == [
        date(2025, 12, 24),
        date(2025, 12, 29),
        date(2025, 12, 30),
        date(2025, 12, 31),
    ]


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("holidays", "XX", "HOLIDAYS: 'XX' is not a country"),
        ("extra_holidays", "2025-13-01", "EXTRA_HOLIDAYS: '2025-13-01' is not a date"),
        ("extra_holidays", "2025-12-31..2025-12-24", "ends before it starts"),
    ],
)
def test_bad_calendar_settings_are_named(name: str, value: str, problem: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(_env_file=None, bot_token=TOKEN, **{name: value})
    assert problem in str(caught.value)

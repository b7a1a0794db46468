"""FAQ answers as the reader sees them: placeholders filled from the desk's settings.

Figures that the settings decide (business hours, response targets) are never written into
`faq.toml`, only placeholders for them, so an answer can't promise what the clocks in
`bot.domain.sla` don't keep. Every way an answer is shown (the `/faq` menu, answers to
free text, an agent's `/faq <key>`) goes through `render_answer`.

Placeholders, filled in the current locale:

- `{business_days}`: the working days, "Monday–Friday", "Senin–Jumat", "måndag–fredag";
- `{opening}`, `{closing}`: the daily window, as Babel formats a time in the locale;
- `{timezone}`: the zone's name, "Western Indonesia Time", "Waktu Indonesia Barat";
- `{targets}`: one bullet line per priority, most urgent first, with its response target;
- `{clock_note}`: which of those targets count business hours only;
- `{days_off}`: the public holidays and company days off the targets skip, with the next
  ones on a working weekday ("Coming up: 20 March and 21 March");
- `{auto_solve_after}`, `{auto_close_after}`: how long a ticket waits for the customer
  before it is solved, and a solved one before it is closed ("3 days").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton, format_time, get_day_names, get_timezone_name
from babel.lists import format_list

from bot.config import Settings
from bot.domain.faq import FaqEntry
from bot.domain.models import Priority
from bot.domain.sla import WorkCalendar
from bot.i18n import current_locale, format_duration, gettext, ngettext
from bot.texts import priority_label, priority_meaning, target_text

# Most urgent first, as a customer scans a list of promises.
_PRIORITY_ORDER: Final[tuple[Priority, ...]] = (
    Priority.CRITICAL,
    Priority.HIGH,
    Priority.MEDIUM,
    Priority.LOW,
)
_WEEK: Final = 7
# How far ahead the support-hours answer names the coming days off.
DAYS_OFF_AHEAD: Final = timedelta(days=60)
NEXT_DAYS_OFF: Final = 3  # more would make a list nobody reads


def render_answer(
    entry: FaqEntry, settings: Settings, *, in_ticket: bool = False, today: date | None = None
) -> str:
    """The entry's answer in the current locale, its placeholders filled from `settings`.

    `in_ticket`: the reader is already in a ticket (an agent sent the answer), so an
    entry's in-ticket variant is used where it has one. `today` (in `TIMEZONE`) decides
    which days off are coming; by default it is today.
    """
    return entry.text(in_ticket=in_ticket).format_map(_values(settings, today))


# Filled values per settings object, locale and day: Babel's formatting costs a millisecond
# or two per answer, and the settings never change while the bot runs (the coming days off
# do, once a day). The settings object is kept with its values, so its id can't be reused
# by another one; the calendar is kept too, as building one reads the holiday tables.
_FILLED: dict[tuple[int, str], tuple[Settings, date, dict[str, str]]] = {}
_CALENDARS: dict[int, tuple[Settings, WorkCalendar]] = {}


def _calendar(settings: Settings) -> WorkCalendar:
    cached = _CALENDARS.get(id(settings))
    if cached is None or cached[0] is not settings:
        cached = (settings, WorkCalendar.from_settings(settings))
        _CALENDARS[id(settings)] = cached
    return cached[1]


def _values(settings: Settings, today: date | None = None) -> dict[str, str]:
    locale = current_locale()
    today = today or datetime.now(settings.tz).date()
    key = (id(settings), locale)
    cached = _FILLED.get(key)
    if cached is None or cached[0] is not settings or cached[1] != today:
        cached = (settings, today, _fill(settings, locale, today))
        _FILLED[key] = cached
    return cached[2]


def _fill(settings: Settings, locale: str, today: date) -> dict[str, str]:
    hours = settings.business_hours
    return {
        "days_off": days_off_note(settings, _calendar(settings), today, locale),
        "business_days": business_days(hours.days, locale),
        "opening": _clock(hours.start, locale),
        "closing": _clock(hours.end, locale),
        "timezone": timezone_name(settings.tz, locale),
        "targets": _targets(settings),
        "clock_note": _clock_note(settings),
        "auto_solve_after": format_duration(settings.auto_solve_after, locale),
        "auto_close_after": format_duration(settings.auto_close_after, locale),
    }


def _clock(moment: time, locale: str) -> str:
    return str(format_time(moment, "short", locale=locale))


def business_days(days: Sequence[int], locale: str) -> str:
    """The working days in words: runs of three or more as a range ("Monday–Friday")."""
    names = get_day_names("wide", locale=locale)
    wanted = sorted(set(days))
    if len(wanted) == _WEEK:
        return gettext("every day")
    runs: list[list[int]] = []
    for day in wanted:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{names[run[0]]}–{names[run[-1]]}")
        else:
            parts.extend(str(names[day]) for day in run)
    return str(format_list(parts, locale=locale))


def timezone_name(tz: ZoneInfo, locale: str) -> str:
    """The zone's everyday name: "Western Indonesia Time", "centraleuropeisk tid"."""
    winter = datetime(2001, 1, 15, 12, tzinfo=UTC).astimezone(tz)
    summer = datetime(2001, 7, 15, 12, tzinfo=UTC).astimezone(tz)
    if winter.utcoffset() == summer.utcoffset():
        # No daylight saving: the specific name ("Western Indonesia Time") is the one
        # people use; the generic one would be a bare "GMT+07:00".
        return str(get_timezone_name(winter, "long", locale=locale))
    # With daylight saving the generic name ("Central European Time") covers the year.
    return str(get_timezone_name(winter, "long", zone_variant="generic", locale=locale))


def _targets(settings: Settings) -> str:
    return "\n".join(
        "• "
        + gettext("<b>{priority}</b> ({meaning}): first answer within {target}").format(
            priority=priority_label(priority),
            meaning=priority_meaning(priority),
            target=target_text(settings.response_targets[priority.value]),
        )
        for priority in _PRIORITY_ORDER
    )


def _clock_note(settings: Settings) -> str:
    office = [p for p in _PRIORITY_ORDER if settings.response_targets[p.value].business_hours]
    if not office:
        return gettext("Every response target runs around the clock, weekends included.")
    if len(office) == len(_PRIORITY_ORDER):
        return gettext("Every response target counts business hours only.")
    names = str(format_list([priority_label(p) for p in office], locale=current_locale()))
    return ngettext(
        "The target for {priorities} priority counts business hours only; the others run "
        "around the clock, weekends included.",
        "The targets for {priorities} priority count business hours only; the others run "
        "around the clock, weekends included.",
        len(office),
    ).format(priorities=names)


def days_off_note(settings: Settings, calendar: WorkCalendar, today: date, locale: str) -> str:
    """Which days off the targets skip, and the next ones that fall on a working weekday."""
    country = settings.holidays
    company = bool(settings.extra_holidays)
    if country is not None:
        name = Locale.parse(locale).territories.get(country, country)
        if company:
            note = gettext(
                "We are closed on public holidays in {country} and on our own days off."
            ).format(country=name)
        else:
            note = gettext("We are closed on public holidays in {country}.").format(country=name)
    elif company:
        note = gettext("We are closed on our own days off.")
    else:
        return gettext("We work on public holidays too.")
    coming = calendar.upcoming_days_off(today, within=DAYS_OFF_AHEAD)[:NEXT_DAYS_OFF]
    if not coming:
        return note
    days = [str(format_skeleton("MMMMd", day, locale=locale)) for day in coming]
    return (
        note
        + " "
        + ngettext("The next one: {days}.", "The next ones: {days}.", len(coming)).format(
            days=format_list(days, locale=locale)
        )
    )

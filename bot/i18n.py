"""Translations: the locale of the current update, gettext lookups and Babel formatting.

The current locale lives in a `ContextVar`, set once per update by the middleware and
explicitly (with `use_locale`) in jobs. `_()` is called at run time, never at import:
module-level text is marked with `N_()` and translated where it is shown.

Catalogs are compiled from the committed `.po` files in memory when the bot starts, so a
stale or missing `.mo` can never be served; a missing catalog stops start-up loudly.
"""

from __future__ import annotations

import io
from contextlib import AbstractContextManager
from contextvars import ContextVar, Token
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Final, Literal
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import (
    format_date,
    format_datetime,
    format_skeleton,
    format_timedelta,
    get_timezone_location,
)
from babel.dates import format_time as babel_format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

from bot.config import SUPPORTED_LOCALES

DOMAIN: Final = "messages"
LOCALES_DIR: Final = Path(__file__).resolve().parent.parent / "locales"

_current: ContextVar[str] = ContextVar("locale", default="en")
_catalogs: dict[str, Translations] = {}


class CatalogError(RuntimeError):
    """A message catalog is missing or broken."""


def load_catalogs(locales_dir: Path = LOCALES_DIR) -> dict[str, Translations]:
    """Compile every supported locale's `.po` into memory; fail if one is missing."""
    loaded: dict[str, Translations] = {}
    for code in SUPPORTED_LOCALES:
        po_path = locales_dir / code / "LC_MESSAGES" / f"{DOMAIN}.po"
        if not po_path.is_file():
            raise CatalogError(f"missing message catalog {po_path}")
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=code, domain=DOMAIN)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        loaded[code] = Translations(fp=buffer, domain=DOMAIN)
    _catalogs.clear()
    _catalogs.update(loaded)
    return loaded


def _translations(locale: str) -> Translations:
    if not _catalogs:
        load_catalogs()
    return _catalogs.get(locale) or _catalogs["en"]


def current_locale() -> str:
    return _current.get()


def set_locale(locale: str) -> None:
    """Make `locale` the language of everything said while handling this update."""
    _current.set(locale if locale in SUPPORTED_LOCALES else "en")


class _Speaking:
    """A plain context manager, not `@contextmanager`: a generator-based one sets the
    `__traceback__` of an exception passing through it, which fails on an exception that
    is a frozen dataclass (pywa's `WhatsAppError`)."""

    def __init__(self, locale: str) -> None:
        self._locale = locale if locale in SUPPORTED_LOCALES else "en"
        self._token: Token[str] | None = None

    def __enter__(self) -> None:
        self._token = _current.set(self._locale)

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _current.reset(self._token)


def use_locale(locale: str) -> AbstractContextManager[None]:
    """Speak `locale` inside the block (jobs and messages to someone other than the sender)."""
    return _Speaking(locale)


def gettext(message: str) -> str:
    return str(_translations(_current.get()).ugettext(message))


def ngettext(singular: str, plural: str, n: int) -> str:
    return str(_translations(_current.get()).ungettext(singular, plural, n))


def pgettext(context: str, message: str) -> str:
    return str(_translations(_current.get()).upgettext(context, message))


_ = gettext


def N_(message: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark `message` for extraction without translating it (translated where shown)."""
    return message


def negotiate_locale(language_code: str | None, default: str) -> str:
    """Pick `id`, `sv` or `en` for a Telegram `language_code` like `id`, `sv-SE` or `en-us`.

    Babel's `negotiate_locale` does not accept `-`, so both the full tag and its
    language part are tried; anything else (`ms`, `pt-br`, nothing) gets `default`.
    """
    if not language_code:
        return default
    code = language_code.strip().replace("-", "_")
    if not code:
        return default
    try:
        negotiated = Locale.negotiate([code, code.split("_")[0]], list(SUPPORTED_LOCALES), sep="_")
    except (UnknownLocaleError, ValueError):
        negotiated = None
    return str(negotiated.language) if negotiated is not None else default


def format_time(
    moment: datetime, tz: str, locale: str | None = None, *, now: datetime | None = None
) -> str:
    """Show a moment as the locale writes it: weekday, date, time and a readable zone.

    The year is left out when it is the current one, the time uses the locale's own
    separator (Indonesian writes 08.39), and the zone is the abbreviation the locale uses
    for it (WIB, WITA, WIT in Indonesian; CET in Swedish), else its city and UTC offset
    ("Jakarta time (UTC+7)"), never a bare "+0700".
    """
    loc = locale or current_locale()
    zone = ZoneInfo(tz)
    local = moment.astimezone(zone)
    this_year = (now or datetime.now(UTC)).astimezone(zone).year
    date = format_skeleton("MMMEd" if local.year == this_year else "yMMMEd", local, locale=loc)
    clock = babel_format_time(local, "short", tzinfo=zone, locale=loc)
    # The locale's own way of joining a date and a time ("{1}, {0}" in English).
    joined = str(Locale.parse(loc).datetime_formats["medium"])
    text = joined.replace("{1}", str(date)).replace("{0}", str(clock))
    return f"{text} {zone_label(local, zone, loc)}"


def format_day(day: date, locale: str | None = None) -> str:
    """A calendar day as the locale writes it ("1 Jan 2026", "1 jan. 2026")."""
    return str(format_date(day, "medium", locale=locale or current_locale()))


def zone_label(local: datetime, zone: ZoneInfo, locale: str) -> str:
    """The zone as a reader of `locale` knows it: "WIB", or "Jakarta time (UTC+7)"."""
    short = str(format_datetime(local, "z", tzinfo=zone, locale=locale))
    if short.isalpha():
        return short
    # The city comes from the IANA name (Babel localizes it where CLDR knows it).
    city = str(get_timezone_location(zone, locale=locale, return_city=True))
    with use_locale(locale):
        return gettext("{city} time ({offset})").format(city=city, offset=_utc_offset(local))


def _utc_offset(local: datetime) -> str:
    """ "UTC+7", "UTC+5:30", "UTC-3"."""
    offset = local.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def format_duration(delta: timedelta, locale: str | None = None) -> str:
    """Say how long `delta` is ("2 hours", "2 jam", "2 timmar")."""
    loc = locale or current_locale()
    return str(format_timedelta(delta, locale=loc, threshold=2))


_SpanUnit = Literal["day", "hour", "minute", "second"]
_SPAN_UNITS: Final[tuple[tuple[_SpanUnit, int], ...]] = (
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
    ("second", 1),
)


def format_span(delta: timedelta, locale: str | None = None) -> str:
    """A measured duration to the two largest units ("4 days 17 hours", "6 jam 30 menit"):
    figures need more than `format_duration`'s one rounded unit."""
    loc = locale or current_locale()
    rest = round(delta.total_seconds())
    parts: list[str] = []
    for unit, size in _SPAN_UNITS:
        count, rest = divmod(rest, size)
        if count and len(parts) < 2:
            parts.append(
                str(
                    format_timedelta(
                        timedelta(seconds=count * size),
                        granularity=unit,
                        threshold=10**9,
                        locale=loc,
                    )
                )
            )
        elif parts:
            break  # two units at most, and never a gap between them ("1 day 3 minutes")
    if not parts:
        return str(format_timedelta(timedelta(0), granularity="second", locale=loc))
    return " ".join(parts)


def format_number(value: float, *, decimals: int = 0, locale: str | None = None) -> str:
    """Write a number as the (current) locale does: 1,234.5 / 1.234,5 / 1 234,5."""
    loc = locale or current_locale()
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return str(format_decimal(value, format=pattern, locale=loc))


def format_share(ratio: float, locale: str | None = None) -> str:
    """Write a share (0.85) as the (current) locale writes a percentage: 85%, 85 %."""
    return str(format_percent(ratio, locale=locale or current_locale()))


# Each language is offered under its own name, the same whatever the current locale.
LANGUAGE_NAMES: Final[dict[str, str]] = {
    "id": "Bahasa Indonesia",
    "sv": "Svenska",
    "en": "English",
}


def language_name(locale: str) -> str:
    """The language's own name for itself ("Bahasa Indonesia", "Svenska", "English")."""
    return LANGUAGE_NAMES[locale]

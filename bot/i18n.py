"""Translations: the locale of the current update, gettext lookups and Babel formatting.

The current locale lives in a `ContextVar`, set once per update by the middleware and
explicitly (with `use_locale`) in jobs. `_()` is called at run time, never at import:
module-level text is marked with `N_()` and translated where it is shown.

Catalogs are compiled from the committed `.po` files in memory when the bot starts, so a
stale or missing `.mo` can never be served; a missing catalog stops start-up loudly.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime, format_timedelta
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


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Speak `locale` inside the block (jobs and messages to someone other than the sender)."""
    token = _current.set(locale if locale in SUPPORTED_LOCALES else "en")
    try:
        yield
    finally:
        _current.reset(token)


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


def format_time(moment: datetime, tz: str, locale: str | None = None) -> str:
    """Show a moment as a weekday, date and time in `tz` and the (current) locale."""
    loc = locale or current_locale()
    return str(format_datetime(moment, "EEE d MMM y, HH:mm z", tzinfo=ZoneInfo(tz), locale=loc))


def format_duration(delta: timedelta, locale: str | None = None) -> str:
    """Say how long `delta` is ("2 hours", "2 jam", "2 timmar")."""
    loc = locale or current_locale()
    return str(format_timedelta(delta, locale=loc, threshold=2))


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

"""Language negotiation, catalogs and localized formatting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import ResponseTarget, Settings
from bot.domain.models import Priority
from bot.i18n import (
    CatalogError,
    format_time,
    gettext,
    load_catalogs,
    negotiate_locale,
    ngettext,
    use_locale,
)
from bot.texts import priority_label, target_text


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("id", "id"),
        ("id-ID", "id"),
        ("in", "en"),
        ("sv", "sv"),
        ("sv-SE", "sv"),
        ("sv-FI", "sv"),
        ("en", "en"),
        ("en-us", "en"),
        ("en-GB", "en"),
        ("ms", "en"),
        ("pt-br", "en"),
        ("", "en"),
        (None, "en"),
        ("xx-yy-zz", "en"),
    ],
)
def test_language_code_negotiation(code: str | None, expected: str) -> None:
    assert negotiate_locale(code, "en") == expected


def test_unknown_language_falls_back_to_the_default() -> None:
    assert negotiate_locale("ms", "id") == "id"
    assert negotiate_locale(None, "sv") == "sv"


def test_missing_catalog_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="missing message catalog"):
        load_catalogs(tmp_path)
    load_catalogs()  # restore the real ones for the tests that follow


def test_texts_are_translated() -> None:
    load_catalogs()
    with use_locale("id"):
        assert priority_label(Priority.HIGH) != "High"
    with use_locale("sv"):
        assert priority_label(Priority.HIGH) != "High"
    with use_locale("en"):
        assert priority_label(Priority.HIGH) == "High"
    assert gettext("Low") == "Low"


def test_plural_forms() -> None:
    with use_locale("en"):
        assert (
            ngettext("%(n)d business day", "%(n)d business days", 1) % {"n": 1} == "1 business day"
        )
        assert (
            ngettext("%(n)d business day", "%(n)d business days", 2) % {"n": 2} == "2 business days"
        )


def test_targets_are_said_like_the_policy(settings: Settings) -> None:
    with use_locale("en"):
        assert target_text(settings.response_targets["critical"]) == "1–2 hours"
        assert target_text(settings.response_targets["high"]) == "4–6 hours"
        assert target_text(settings.response_targets["medium"]) == "24 hours"
        assert target_text(settings.response_targets["low"]) == "1–2 business days"
        same = ResponseTarget(lower=timedelta(hours=3), due=timedelta(hours=3))
        assert target_text(same) == "3 hours"


def test_times_are_shown_in_the_desk_zone_and_locale() -> None:
    moment = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    # Indonesian names its own zones and writes 15.00; no year when it is this year.
    assert format_time(moment, "Asia/Jakarta", "id", now=now) == "Sen, 23 Nov 15.00 WIB"
    assert format_time(moment, "Asia/Makassar", "id", now=now) == "Sen, 23 Nov 16.00 WITA"
    assert format_time(moment, "Asia/Jayapura", "id", now=now) == "Sen, 23 Nov 17.00 WIT"
    # Elsewhere the zone is its city and offset, in the reader's words.
    assert format_time(moment, "Asia/Jakarta", "en", now=now) == (
        "Mon, Nov 23, 3:00\u202fPM Jakarta time (UTC+7)"
    )
    assert format_time(moment, "Asia/Jakarta", "sv", now=now) == (
        "mån 23 nov. 15:00 Jakarta-tid (UTC+7)"
    )
    assert format_time(moment, "Asia/Kolkata", "id", now=now) == (
        "Sen, 23 Nov 13.30 waktu Kolkata (UTC+5:30)"
    )
    assert format_time(moment, "Europe/Stockholm", "sv", now=now) == "mån 23 nov. 09:00 CET"
    # Another year is named.
    later = datetime(2027, 1, 4, 2, 0, tzinfo=UTC)
    assert format_time(later, "Asia/Jakarta", "sv", now=now) == (
        "mån 4 jan. 2027 09:00 Jakarta-tid (UTC+7)"
    )

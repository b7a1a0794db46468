"""Every catalog is complete, compiles, and keeps the source's placeholders and markup."""

from __future__ import annotations

import re

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.config import SUPPORTED_LOCALES
from bot.i18n import LOCALES_DIR, load_catalogs

PLACEHOLDER = re.compile(r"%\([a-z_]+\)[ds]|\{[a-z_]+\}")
TAG = re.compile(r"</?[a-z]+[^>]*>")
COMMAND = re.compile(r"(?<![\w/])/[a-z]+\b")
PLURAL_FORMS = {"en": 2, "sv": 2, "id": 1}


def _catalog(locale: str) -> Catalog:
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


def _entries(locale: str) -> list[Message]:
    return [m for m in _catalog(locale) if m.id]


def _strings(message: Message) -> list[str]:
    # babel types an absent msgstr as None: it reads as empty, i.e. untranslated.
    string = message.string
    return list(string) if isinstance(string, tuple | list) else [string or ""]


def _ids(message: Message) -> list[str]:
    return list(message.id) if isinstance(message.id, tuple | list) else [message.id]


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_message_is_translated_and_none_is_fuzzy(locale: str) -> None:
    missing = [m.id for m in _entries(locale) if not all(s.strip() for s in _strings(m))]
    fuzzy = [m.id for m in _entries(locale) if m.fuzzy]
    assert missing == []
    assert fuzzy == []


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_catalogs_hold_the_same_messages_as_the_template(locale: str) -> None:
    with (LOCALES_DIR / "messages.pot").open("rb") as f:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in _entries(locale)}
    assert ids == template


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_plural_forms_are_right(locale: str) -> None:
    catalog = _catalog(locale)
    assert catalog.num_plurals == PLURAL_FORMS[locale]
    for message in _entries(locale):
        if message.pluralizable:
            assert len(_strings(message)) == PLURAL_FORMS[locale], message.id


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_translations_keep_placeholders_tags_and_commands(locale: str) -> None:
    for message in _entries(locale):
        source = " ".join(_ids(message))
        for translated in _strings(message):
            assert sorted(set(PLACEHOLDER.findall(translated))) == sorted(
                set(PLACEHOLDER.findall(source))
            ), message.id
            assert sorted(TAG.findall(translated)) == sorted(TAG.findall(_ids(message)[0])), (
                message.id
            )
            assert set(COMMAND.findall(translated)) == set(COMMAND.findall(source)), message.id


def test_catalogs_compile() -> None:
    loaded = load_catalogs()
    assert set(loaded) == set(SUPPORTED_LOCALES)

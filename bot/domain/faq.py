"""The FAQ: short answers to common questions, in every locale, and a forgiving search.

Entries live in `locales/<lang>/faq.toml`, one table per key, with the same keys in every
locale:

    [pending_order]
    title = "Paid, but my order is still pending"
    button = "Order still pending"
    keywords = ["pending", "not processed", ...]
    answer = \"\"\"Telegram HTML (<b>, <i>, &amp;)\"\"\"
    in_ticket = \"\"\"optional: the answer as an agent sends it inside a ticket\"\"\"

An answer may hold `{placeholders}` that the desk fills from its settings when it shows
the answer (see `bot.faq_text`), so that figures such as business hours can never
disagree with the clocks. `button` is the entry's short name on a button, at most
`BUTTON_LIMIT` characters: a phone shows no more of a full-width button, and the titles
run longer. `in_ticket` is for answers that tell the reader to open a
ticket: an agent's `/faq <key>` sends it to a customer who is already in one. Either every
locale has it for a key or none does.

How it is searched (`Faq.search`): see `bot.domain.faq_search`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bot.domain.faq_search import SearchIndex, tokenize

DEFAULT_LOCALES_DIR: Final = Path(__file__).resolve().parents[2] / "locales"
DEFAULT_LOCALES: Final = ("en", "id", "sv")
FILE_NAME: Final = "faq.toml"

_FIELDS: Final = ("title", "button", "keywords", "answer")
BUTTON_LIMIT: Final = 24
_OPTIONAL_FIELDS: Final = ("in_ticket",)
_KEY_RE: Final = re.compile(r"[a-z][a-z0-9_]*")


class FaqError(Exception):
    """The FAQ files are missing, malformed, or disagree with each other."""


@dataclass(frozen=True)
class FaqEntry:
    key: str
    title: str
    button: str  # the short name on a button (at most BUTTON_LIMIT characters)
    keywords: tuple[str, ...]
    answer: str
    in_ticket: str | None = None  # the answer as sent inside a ticket, when it differs

    def text(self, *, in_ticket: bool = False) -> str:
        """The answer with its placeholders unfilled: the in-ticket variant if asked and given."""
        return self.in_ticket if in_ticket and self.in_ticket is not None else self.answer


class Faq:
    """All entries of all locales, validated, with a search index per locale."""

    def __init__(self, entries: Mapping[str, Sequence[FaqEntry]]) -> None:
        if not entries:
            raise FaqError("no locales")
        locales = list(entries)
        self._locales = tuple(locales)
        self._keys = [entry.key for entry in entries[locales[0]]]
        self._entries: dict[str, dict[str, FaqEntry]] = {}
        for locale, items in entries.items():
            by_key = {entry.key: entry for entry in items}
            if len(by_key) != len(items):
                raise FaqError(f"{locale}: a key appears twice")
            self._entries[locale] = by_key
        _check_same_keys({loc: list(by_key) for loc, by_key in self._entries.items()})
        _check_same_keys(
            {
                loc: [key for key, entry in by_key.items() if entry.in_ticket is not None]
                for loc, by_key in self._entries.items()
            },
            what="FAQ in-ticket answers",
        )
        self._search = SearchIndex(self._keys, self._entries)

    @classmethod
    def load(
        cls,
        locales_dir: Path | None = None,
        locales: Sequence[str] = DEFAULT_LOCALES,
    ) -> Faq:
        """Read `<locales_dir>/<lang>/faq.toml` for every locale; FaqError on any problem."""
        locales_dir = locales_dir or DEFAULT_LOCALES_DIR
        if not locales:
            raise FaqError("no locales given")
        files = {}
        for locale in locales:
            path = locales_dir / locale / FILE_NAME
            files[locale] = (path, *_read_file(path))
        _check_files_agree(files)
        return cls({locale: entries for locale, (_path, entries, _lines) in files.items()})

    @property
    def locales(self) -> tuple[str, ...]:
        return self._locales

    def keys(self) -> list[str]:
        """Entry keys in the order of the first locale's file."""
        return list(self._keys)

    def entry(self, locale: str, key: str) -> FaqEntry | None:
        by_key = self._entries.get(locale)
        return None if by_key is None else by_key.get(key)

    def entries(self, locale: str) -> list[FaqEntry]:
        by_key = self._by_locale(locale)
        return [by_key[key] for key in self._keys]

    def search(self, locale: str, text: str, *, limit: int = 3) -> list[FaqEntry]:
        """The entries that best answer `text`, best first; [] when none fits well enough."""
        by_key = self._by_locale(locale)
        if limit <= 0:
            return []
        return [by_key[self._keys[pos]] for pos in self._search.best(locale, text, limit)]

    def scores(self, locale: str, text: str) -> dict[str, float]:
        """Every key's raw score for `text` (for tuning and tests); 0 for no match."""
        self._by_locale(locale)
        result = dict.fromkeys(self._keys, 0.0)
        for score, pos in self._search.score(locale, text):
            result[self._keys[pos]] = score
        return result

    # -- internals -------------------------------------------------------------------

    def _by_locale(self, locale: str) -> dict[str, FaqEntry]:
        by_key = self._entries.get(locale)
        if by_key is None:
            raise FaqError(f"unknown locale {locale!r}; known: {', '.join(self._locales)}")
        return by_key


_TOML_POSITION: Final = re.compile(r"\s*\(at line (\d+), column \d+\)$")
_TABLE_LINE: Final = re.compile(r"^\s*\[\s*([A-Za-z0-9_-]+)\s*\]")
_FIELD_LINE: Final = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")


@dataclass(frozen=True)
class _Lines:
    """Where each table and each of its fields starts in a file (1-based), for messages."""

    tables: dict[str, int]
    fields: dict[tuple[str, str], int]


def _find_lines(text: str) -> _Lines:
    """Find `[key]` and `field =` lines, skipping the inside of multi-line strings.

    tomllib reports no positions for parsed values, and a message that names the line
    saves the editor of a three-language FAQ a search.
    """
    tables: dict[str, int] = {}
    fields: dict[tuple[str, str], int] = {}
    table = ""
    in_string = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not in_string:
            if match := _TABLE_LINE.match(line):
                table = match.group(1)
                tables.setdefault(table, number)
            elif match := _FIELD_LINE.match(line):
                fields.setdefault((table, match.group(1)), number)
        # An odd number of triple quotes opens or closes a multi-line string.
        if (line.count('"""') + line.count("'''")) % 2:
            in_string = not in_string
    return _Lines(tables, fields)


def _read_file(path: Path) -> tuple[list[FaqEntry], _Lines]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise FaqError(f"{path}: file not found") from exc
    except OSError as exc:
        raise FaqError(f"{path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise FaqError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _TOML_POSITION.search(message)
        if position is None:
            raise FaqError(f"{path}: {message}") from exc
        where = f"{path}:{position.group(1)}"
        raise FaqError(f"{where}: {message[: position.start()]}") from exc
    if not data:
        raise FaqError(f"{path}: no entries")
    lines = _find_lines(text)
    return [_parse_entry(path, lines, key, value) for key, value in data.items()], lines


def _parse_entry(path: Path, lines: _Lines, key: str, value: object) -> FaqEntry:
    def where(field: str | None = None) -> str:
        line = lines.fields.get((key, field)) if field else None
        line = line or lines.tables.get(key)
        return f"{path}:{line}: [{key}]" if line else f"{path}: [{key}]"

    if not _KEY_RE.fullmatch(key):
        raise FaqError(f"{where()}: keys are lowercase snake_case")
    if not isinstance(value, dict):
        raise FaqError(f"{where()}: expected a table")
    missing = [field for field in _FIELDS if field not in value]
    if missing:
        raise FaqError(f"{where()}: missing {', '.join(missing)}")
    unknown = sorted(set(value) - set(_FIELDS) - set(_OPTIONAL_FIELDS))
    if unknown:
        raise FaqError(f"{where(unknown[0])}: unknown field {', '.join(unknown)}")
    title = value["title"]
    button = value["button"]
    answer = value["answer"]
    keywords = value["keywords"]
    in_ticket = value.get("in_ticket")
    texts = [("title", title), ("button", button), ("answer", answer)]
    if in_ticket is not None:
        texts.append(("in_ticket", in_ticket))
    for name, text in texts:
        if not isinstance(text, str) or not text.strip():
            raise FaqError(f"{where(name)}: {name} must be a non-empty string")
    if len(button.strip()) > BUTTON_LIMIT:
        raise FaqError(
            f"{where('button')}: button is {len(button.strip())} characters, "
            f"at most {BUTTON_LIMIT} fit a phone"
        )
    if not isinstance(keywords, list) or not keywords:
        raise FaqError(f"{where('keywords')}: keywords must be a non-empty list")
    if not all(isinstance(word, str) and word.strip() for word in keywords):
        raise FaqError(f"{where('keywords')}: keywords must all be non-empty strings")
    if not any(tokenize(word) for word in keywords):
        raise FaqError(f"{where('keywords')}: keywords are all stopwords, nothing to match")
    return FaqEntry(
        key=key,
        title=title.strip(),
        button=button.strip(),
        keywords=tuple(word.strip() for word in keywords),
        answer=answer.strip(),
        in_ticket=in_ticket.strip() if isinstance(in_ticket, str) else None,
    )


def _check_files_agree(files: Mapping[str, tuple[Path, list[FaqEntry], _Lines]]) -> None:
    """Name the file and line of every key one locale has and another lacks."""
    locales = list(files)
    ref_path, ref_entries, ref_lines = files[locales[0]]
    reference = {entry.key for entry in ref_entries}
    problems = []
    for locale in locales[1:]:
        path, entries, lines = files[locale]
        keys = {entry.key for entry in entries}
        for key in sorted(reference - keys):
            problems.append(f"{path}: lacks [{key}] ({ref_path}:{ref_lines.tables.get(key)})")
        for key in sorted(keys - reference):
            problems.append(f"{path}:{lines.tables.get(key)}: [{key}] is not in {ref_path}")
    if problems:
        raise FaqError("; ".join(problems))


def _check_same_keys(keys_by_locale: Mapping[str, list[str]], what: str = "FAQ keys") -> None:
    locales = list(keys_by_locale)
    reference = set(keys_by_locale[locales[0]])
    problems = []
    for locale in locales[1:]:
        keys = set(keys_by_locale[locale])
        missing = sorted(reference - keys)
        extra = sorted(keys - reference)
        if missing:
            problems.append(f"{locale} lacks {', '.join(missing)}")
        if extra:
            problems.append(f"{locale} has extra {', '.join(extra)}")
    if problems:
        raise FaqError(
            f"{what} differ between locales ({locales[0]} is the reference): " + "; ".join(problems)
        )

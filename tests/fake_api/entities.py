"""Telegram's HTML parse mode: validate markup and turn it into plain text plus entities.

Telegram (tdlib) parses ``parse_mode="HTML"`` itself and answers with the plain text and a list
of ``MessageEntity`` objects whose offsets and lengths are counted in UTF-16 code units.
Anything outside the small allowed subset is refused with "can't parse entities", which is
what a bot that forgets to ``html.escape()`` user input runs into in production.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

# Tag name -> entity type. ``span`` is only allowed as ``<span class="tg-spoiler">``.
_TAGS: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
# Telegram only knows these named entities; all numeric ones are fine.
_ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_START_TAG_RE = re.compile(
    r"<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s=>]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*>"
)
_ATTR_RE = re.compile(r"([^\s=>]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")


class HtmlError(ValueError):
    """The text is not valid Telegram HTML; ``str(exc)`` follows tdlib's wording."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets and limits."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    tag: str
    attrs: dict[str, str]
    offset: int  # UTF-16 offset in the plain text where the tag's content starts
    language: str | None = None  # set by <pre><code class="language-x">


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Return ``(plain_text, entities)`` for Telegram HTML, or raise :class:`HtmlError`."""
    out: list[str] = []
    length = 0  # UTF-16 length of ``out``
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "&":
            match = _ENTITY_RE.match(text, i)
            if match is None:
                # tdlib itself lets a stray '&' through as text, but a bot that sends one has
                # almost certainly forgotten to escape user input, so the fake refuses it.
                raise HtmlError(f"Unescaped '&' at byte offset {_byte_offset(text, i)}")
            piece = html.unescape(match.group(0))
            out.append(piece)
            length += utf16_len(piece)
            i = match.end()
            continue
        if char != "<":
            out.append(char)
            length += utf16_len(char)
            i += 1
            continue
        if text.startswith("</", i):
            end = text.find(">", i)
            if end < 0:
                raise HtmlError(f"Unclosed end tag at byte offset {_byte_offset(text, i)}")
            name = text[i + 2 : end].strip().lower()
            if not stack:
                raise HtmlError(
                    f'Unexpected end tag "{name}" at byte offset {_byte_offset(text, i)}'
                )
            top = stack.pop()
            if top.tag != name:
                raise HtmlError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, i)}, "
                    f'expected "</{top.tag}>", found "</{name}>"'
                )
            _close(top, stack, length, entities)
            i = end + 1
            continue
        match = _START_TAG_RE.match(text, i)
        if match is None:
            raise HtmlError(f"Unsupported start tag at byte offset {_byte_offset(text, i)}")
        name = match.group(1).lower()
        attrs = {
            m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
            for m in _ATTR_RE.finditer(match.group(2))
        }
        if name not in _TAGS or (name == "span" and attrs.get("class") != "tg-spoiler"):
            raise HtmlError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, i)}'
            )
        if name == "tg-emoji" and "emoji-id" not in attrs:
            raise HtmlError('Expected custom emoji identifier in "tg-emoji" tag')
        stack.append(_Open(name, attrs, length))
        i = match.end()
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close(top: _Open, stack: list[_Open], length: int, entities: list[dict[str, Any]]) -> None:
    """Turn a closed tag into an entity (Telegram drops empty ones)."""
    kind = _TAGS[top.tag]
    if kind == "code" and stack and stack[-1].tag == "pre":
        # <pre><code class="language-python"> is one "pre" entity with a language.
        css = top.attrs.get("class", "")
        if css.startswith("language-"):
            stack[-1].language = css.removeprefix("language-")
            return
    entity: dict[str, Any] = {"type": kind, "offset": top.offset, "length": length - top.offset}
    if kind == "text_link":
        url = top.attrs.get("href", "")
        if not url:
            return
        user_id = url.removeprefix("tg://user?id=")
        if url.startswith("tg://user?id=") and user_id.isdigit():
            user = {"id": int(user_id), "is_bot": False, "first_name": "User"}
            entity = {**entity, "type": "text_mention", "user": user}
        else:
            entity["url"] = url
    elif kind == "pre" and top.language:
        entity["language"] = top.language
    elif kind == "blockquote" and "expandable" in top.attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = top.attrs["emoji-id"]
    if entity["length"] > 0:
        entities.append(entity)

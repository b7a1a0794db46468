"""The desk's texts in WhatsApp's markup.

The catalogs' texts are written in Telegram's HTML subset (`<b>`, `<i>`, `<code>`,
escaped text); WhatsApp formats with `*bold*`, `_italic_` and ```` `code` ````. One
conversion keeps one catalog for both channels.
"""

from __future__ import annotations

import re
from html import unescape

_TAGS = (
    (re.compile(r"</?(b|strong)>"), "*"),
    (re.compile(r"</?(i|em)>"), "_"),
    (re.compile(r"</?code>"), "`"),
    (re.compile(r"</?pre>"), "```"),
)
_ANY_TAG = re.compile(r"<[^>]+>")
# Telegram's commands, as a WhatsApp customer types them (the same words work there).
_COMMAND = re.compile(r"(?<![\w/])/(new|tickets|cancel|start|help|faq|language)\b")


def whatsapp_text(html: str) -> str:
    """`html` (the catalogs' markup) as WhatsApp shows it."""
    text = html
    for pattern, mark in _TAGS:
        text = pattern.sub(mark, text)
    text = _ANY_TAG.sub("", text)
    text = _COMMAND.sub(r"*/\1*", text)
    return unescape(text)


def fit(text: str, limit: int) -> str:
    """`text` cut to `limit` characters (a button's title, a list row's description)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"

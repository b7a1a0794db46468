"""Fitting text into Telegram's limits, measured as Telegram measures them.

Telegram counts a message's length in UTF-16 code units of the text *after* HTML parsing
(4096 for a message, 1024 for a caption). So plain text is cut or split before it is
escaped, never the finished HTML (a cut could leave a tag open or an entity half done).
"""

from __future__ import annotations

from collections.abc import Iterator
from html import escape

MESSAGE_BUDGET = 3800  # of 4096: room for a header and a footer
CAPTION_BUDGET = 850  # of 1024
ELLIPSIS = "…"
# Telegram splits a long paste into messages of at most 4096 characters, sent at once. A
# text this long may be such a first part, and a text that follows within PASTE_WINDOW
# seconds is taken as its rest.
PASTE_PART = 4096 - 512  # UTF-16 code units, as Telegram counts
PASTE_WINDOW = 2.0


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def clip_plain(text: str, budget: int) -> str:
    """`text` cut to `budget` UTF-16 units, with an ellipsis when something was cut."""
    if utf16_len(text) <= budget:
        return text
    out: list[str] = []
    used = utf16_len(ELLIPSIS)
    for char in text:
        size = utf16_len(char)
        if used + size > budget:
            break
        out.append(char)
        used += size
    return "".join(out).rstrip() + ELLIPSIS


def clip_words(text: str, budget: int) -> str:
    """`text` cut to `budget` UTF-16 units at a word boundary, with an ellipsis when
    something was cut. A word so long that cutting before it would leave less than half
    the budget is cut inside, as `clip_plain` does."""
    if utf16_len(text) <= budget:
        return text
    head = clip_plain(text, budget)[: -len(ELLIPSIS)]
    if not text[len(head) :].startswith(" "):  # the cut fell inside a word
        cut = head.rfind(" ")
        if cut >= len(head) // 2:
            head = head[:cut]
    return head.rstrip(" ·,;:-–") + ELLIPSIS


def _pieces(text: str, budget: int) -> Iterator[str]:
    """Split at line breaks where possible, else at spaces, else anywhere."""
    rest = text
    while utf16_len(rest) > budget:
        head = clip_plain(rest, budget + 1)[:-1]  # the longest prefix that fits
        cut = max(head.rfind("\n"), head.rfind(" "))
        if cut < len(head) // 2:
            cut = len(head)
        yield rest[:cut].rstrip()
        rest = rest[cut:].lstrip()
    if rest:
        yield rest


def compose(header: str, body: str, footer: str = "", *, caption: bool = False) -> list[str]:
    """HTML parts for `header` (HTML), the plain `body` (escaped here) and `footer` (HTML).

    The first part fits a caption when `caption` is set, else a message; whatever is left
    of the body follows in further message-sized parts, so nothing is lost.
    """
    first_budget = (CAPTION_BUDGET if caption else MESSAGE_BUDGET) - utf16_len(header)
    body = body.strip()
    if not body:
        return [header + footer]
    first = next(_pieces(body, max(first_budget, 0)), "") if first_budget > 0 else ""
    rest_text = body[len(first) :].lstrip() if first else body
    parts = [header + ("\n\n" + escape(first) if first else "")]
    parts += [escape(piece) for piece in _pieces(rest_text, MESSAGE_BUDGET)] if rest_text else []
    parts[-1] += footer
    return parts

"""Callback data: a versioned prefix, an action and an optional argument (`nt1:dep:billing`).

Everything stays under Telegram's 64-byte limit, and anything that does not parse (an old
version, a forged payload) comes back as None so the caller can answer it politely.

Numbers in callback data and in command arguments (`/close 1001`, `/ban 123456`) are read by
one strict parser, `parse_id`: ASCII digits only and a sane bound. `str.isdigit` accepts
"²" and "١٢٣" (which `int` then refuses), and a 20-digit number overflows SQLite's integer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
# Telegram's ids fit in 52 bits (its own promise for user and chat ids); ticket numbers,
# message ids and pages are far smaller. Anything longer is forged, never ours.
MAX_ID = 2**53 - 1
_ASCII_NUMBER = re.compile(r"[0-9]{1,16}")


def parse_id(text: str | None) -> int | None:
    """A non-negative number written in ASCII digits within `MAX_ID`, else None.

    An optional leading "#" is allowed, as agents write ticket numbers ("#1001").
    """
    if text is None:
        return None
    text = text.removeprefix("#")
    if _ASCII_NUMBER.fullmatch(text) is None:
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def is_forged(data: str | None) -> bool:
    """Data no button of ours can carry: over 64 bytes, or a number that is not one of ours.

    The gate answers such a press before any feature reads it, so no parser ever meets it.
    """
    if data is None:
        return False
    if len(data.encode()) > MAX_BYTES or not data.isascii() or not data.isprintable():
        return True
    return any(field.isdigit() and parse_id(field) is None for field in data.split(":"))


@dataclass(frozen=True, slots=True)
class Callback:
    prefix: str
    action: str
    arg: str = ""

    def pack(self) -> str:
        data = (
            f"{self.prefix}:{self.action}:{self.arg}"
            if self.arg
            else f"{self.prefix}:{self.action}"
        )
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    @property
    def number(self) -> int | None:
        """The argument as a number (see `parse_id`), or None."""
        return parse_id(self.arg)


def unpack(data: str | None, prefix: str, actions: frozenset[str]) -> Callback | None:
    """Parse `data` for `prefix`; None if it is not ours, not this version, or unknown."""
    if not data:
        return None
    parts = data.split(":", 2)
    if len(parts) < 2 or parts[0] != prefix or parts[1] not in actions:
        return None
    return Callback(prefix=parts[0], action=parts[1], arg=parts[2] if len(parts) == 3 else "")


def pattern(prefix: str) -> str:
    """A regex for CallbackQueryHandler that takes every callback of this prefix."""
    return rf"^{prefix}:"

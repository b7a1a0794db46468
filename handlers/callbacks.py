"""Callback data: a versioned prefix, an action and an optional argument (`nt1:dep:billing`).

Everything stays under Telegram's 64-byte limit, and anything that does not parse (an old
version, a forged payload) comes back as None so the caller can answer it politely.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_BYTES = 64


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

"""Callback data: a versioned prefix, an action and an optional argument (`nt1:dep:billing`).

Every owner's prefix and actions are registered once, in `REGISTRY`; buttons are packed
and read back only through it, and a stale or forged press is answered by `stale`.

Everything stays under Telegram's 64-byte limit, and anything that does not parse (an old
version, a forged payload) comes back as None so the caller can answer it politely.

Numbers in callback data and in command arguments (`/close 1001`, `/ban 123456`) are read by
one strict parser, `parse_id`: ASCII digits only and a sane bound. `str.isdigit` accepts
"²" and "١٢٣" (which `int` then refuses), and a 20-digit number overflows SQLite's integer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.domain.intake import Choice
from bot.i18n import gettext as _

if TYPE_CHECKING:
    from telegram import CallbackQuery

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
    """One button's data, parsed: whose it is, what it does, and its argument."""

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

    def numbers(self, count: int) -> tuple[int, ...] | None:
        """The argument as exactly `count` numbers (packed as `Buttons.pack(action, a, b)`),
        or None."""
        values = tuple(parse_id(field) for field in self.arg.split(":"))
        if len(values) != count or any(value is None for value in values):
            return None
        return tuple(value for value in values if value is not None)


@dataclass(frozen=True, slots=True)
class Buttons:
    """One owner's buttons: the versioned prefix of their data and the actions they carry.

    Every button's data is packed by `pack` and read back by `unpack`, so a prefix and its
    actions are written in one place (`REGISTRY` below) and nowhere else.
    """

    prefix: str
    actions: frozenset[str]

    def pack(self, action: str, *args: str | int) -> str:
        """The data of a button doing `action` with these arguments (joined by ":")."""
        if action not in self.actions:
            raise ValueError(f"{action!r} is no action of {self.prefix!r}")
        return Callback(self.prefix, action, ":".join(str(arg) for arg in args)).pack()

    def unpack(self, data: str | None) -> Callback | None:
        """Parse `data`; None if it is not ours, not this version, or an unknown action."""
        if not data:
            return None
        parts = data.split(":", 2)
        if len(parts) < 2 or parts[0] != self.prefix or parts[1] not in self.actions:
            return None
        return Callback(self.prefix, parts[1], parts[2] if len(parts) == 3 else "")

    def pattern(self, *actions: str, bare: bool = False) -> str:
        """A regex for CallbackQueryHandler: every button of ours, or only these actions,
        followed by an argument (or, `bare`, by none)."""
        if not actions:
            return rf"^{re.escape(self.prefix)}:"
        unknown = set(actions) - self.actions
        if unknown:
            raise ValueError(f"{sorted(unknown)} are no actions of {self.prefix!r}")
        names = "|".join(re.escape(action) for action in actions)
        return rf"^{re.escape(self.prefix)}:({names})" + ("$" if bare else ":")

    def matches(self, data: str | None, *actions: str, bare: bool = False) -> bool:
        """Whether `data` is what `pattern` with the same arguments takes."""
        return re.match(self.pattern(*actions, bare=bare), data or "") is not None


REGISTRY: dict[str, Buttons] = {}


def _buttons(prefix: str, *actions: str) -> Buttons:
    if prefix in REGISTRY:
        raise ValueError(f"callback prefix {prefix!r} registered twice")
    REGISTRY[prefix] = buttons = Buttons(prefix, frozenset(actions))
    return buttons


# Every prefix and its actions, once. A prefix's version changes when its data does, so an
# old button's data is refused (answered as stale) instead of misread.
# The main menu (handlers/customers/start.py).
MENU = _buttons("m1", "new", "tickets", "faq", "lang")
LANGUAGE = _buttons("l1", "set")  # the language picker (handlers/customers/start.py)
# The new-ticket form's options (bot/domain/intake.py, drawn by handlers/customers/new_ticket).
FORM = _buttons("nt1", *(choice.value for choice in Choice))
TICKETS = _buttons(
    "tk1", "page", "open", "reply", "replydone", "close", "closeyes", "keep", "reopen", "follow"
)  # a customer's own tickets (handlers/customers/my_tickets.py)
# A customer's message that could go to several tickets (handlers/customers/customer_replies.py).
# to: deliver a held message to the ticket chosen; ask: answer a held message from the
# FAQ instead; askmsg: answer a message already added to a ticket from the FAQ.
REPLIES = _buttons("cr1", "to", "ask", "askmsg")
FAQ = _buttons("fq1", "show", "list")  # the FAQ (handlers/customers/faq.py)
# The stars (drawn by bot/channels/telegram/notices.py, read by handlers/customers/rating.py).
RATING = _buttons("rt1", "rate")
# A ticket's card in the agents' chat (drawn by bot/channels/telegram/cards.py, read by
# handlers/agents/cards.py).
CARD_BUTTONS = _buttons("ag1", "assign", "solve", "close", "reopen")
QUEUE = _buttons("q1", "page")  # the agents' /queue pages (handlers/agents/cards.py)
# The operators' buttons: confirm or keep a /forget, turn an /audit page (a ticket's, or
# the desk's own trail) (handlers/operators/data.py).
OPERATORS = _buttons("op1", "forget", "keep", "audit", "desk")


async def stale(query: CallbackQuery, *, alert: bool = False) -> None:
    """Answer a button whose data is old, not ours or names nothing (a ticket gone, another
    customer's): in a pop-up the presser must dismiss with `alert`, else a passing word."""
    await query.answer(_("This button is no longer valid."), show_alert=alert)

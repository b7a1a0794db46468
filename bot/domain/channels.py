"""Which channel a customer writes from, told by their desk id alone.

The desk keys a customer by one integer everywhere (tickets, drafts, the outbox). A
Telegram user's id is positive. A WhatsApp customer's is their number (`wa_id`, the digits
of the international number) negated: no lookup is needed to route what the desk owes
them, every store keeps working unchanged, and the number is never lost. No Telegram chat
a customer writes from is negative (groups are, but customers write in private chats).
"""

from __future__ import annotations

import re
from enum import StrEnum


class Channel(StrEnum):
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"


# The international prefixes whose language the desk speaks, longest first.
_PREFIX_LOCALES = (("62", "id"), ("46", "sv"))


def channel_of(customer_id: int) -> Channel:
    return Channel.WHATSAPP if customer_id < 0 else Channel.TELEGRAM


def whatsapp_customer_id(wa_id: str) -> int:
    """The desk's id of the customer with this WhatsApp number (digits, no `+`)."""
    digits = wa_id.lstrip("+")
    if not digits.isdigit() or not 6 <= len(digits) <= 15:
        raise ValueError(f"not a WhatsApp number: {wa_id!r}")
    return -int(digits)


def whatsapp_number(customer_id: int) -> str | None:
    """The WhatsApp number (digits) of a desk id, or None for a Telegram customer."""
    return str(-customer_id) if customer_id < 0 else None


def locale_for_number(wa_id: str) -> str | None:
    """The language a number's country suggests (+62 Indonesian, +46 Swedish), if any."""
    for prefix, locale in _PREFIX_LOCALES:
        if wa_id.startswith(prefix):
            return locale
    return None


def masked_number(wa_id: str) -> str:
    """A number as agents see it: `+62 812-****-5678` (country code, first three, last four)."""
    digits = re.sub(r"\D", "", wa_id)
    code_len = 2
    if digits.startswith(("1", "7")):
        code_len = 1
    code, rest = digits[:code_len], digits[code_len:]
    if len(rest) <= 7:
        return f"+{code} ***-{rest[-4:]}"
    return f"+{code} {rest[:3]}-****-{rest[-4:]}"

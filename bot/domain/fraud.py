"""The fraud guard: card numbers and one-time codes never travel in the clear.

A Luhn-valid run of 13 to 19 digits (spaces or dashes allowed between them) is a card
number: it is masked to its first 6 and last 4 digits before anything stores or relays
it. A short code next to words like "OTP" or "kode verifikasi" is taken for a one-time
code and masked whole. The caller tells the customer why.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MASK = "*"

# Digits with at most one space or dash between them, 13 to 19 digits long, not glued to
# other digits or letters (so an IBAN or a longer id is not cut into a "card").
_CARD_CANDIDATE = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w])")

# Words that introduce a one-time code, in the desk's three languages and the common
# English loan words Indonesian and Swedish speakers use.
_OTP_WORDS = (
    r"otp|one[- ]?time|passcode|verification code|security code|auth(?:entication)? code|"
    r"kode(?: verifikasi| keamanan| rahasia)?|kode otp|token|pin|"
    r"engångskod|engangskod|verifieringskod|säkerhetskod|sakerhetskod|bekräftelsekod|"
    r"bekraftelsekod|kod"
)
_OTP_NEAR_CODE = re.compile(
    rf"\b(?:{_OTP_WORDS})\b[^\d\n]{{0,24}}(?<!\d)(\d{{4,8}})(?!\d)"
    # Not the last digits a card's mask left (`411111******1111 and the OTP 5566`): the
    # code is the one after the word, which must not stay in the clear.
    rf"|(?<![\d*])(\d{{4,8}})(?!\d)[^\d\n]{{0,12}}\b(?:{_OTP_WORDS})\b",
    re.IGNORECASE,
)


# What the guard leaves of them, recognised again: a masked text guarded a second time (an
# update replayed from the inbox, which keeps it masked) is flagged as the first time.
_MASKED_CARD = re.compile(
    rf"(?<![\w*-])\d(?:[ -]?\d){{5}}(?:[ -]?\{MASK}){{3,9}}(?:[ -]?\d){{4}}(?![\w*])"
)
_OTP_NEAR_MASK = re.compile(
    rf"\b(?:{_OTP_WORDS})\b[^\d\n]{{0,24}}(?<![\d*])\{MASK}{{4,8}}(?![\d*])"
    rf"|(?<![\d*])\{MASK}{{4,8}}(?![\d*])[^\d\n]{{0,12}}\b(?:{_OTP_WORDS})\b",
    re.IGNORECASE,
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


@dataclass(frozen=True, slots=True)
class Guarded:
    """A text after the guard: what may be stored, and what was found in it."""

    text: str
    card_masked: bool = False
    otp_masked: bool = False

    @property
    def flagged(self) -> bool:
        return self.card_masked or self.otp_masked


def _mask_card(candidate: str) -> str:
    digits = [c for c in candidate if c.isdigit()]
    keep_until, keep_from = 6, len(digits) - 4
    out: list[str] = []
    index = 0
    for char in candidate:
        if char.isdigit():
            out.append(char if index < keep_until or index >= keep_from else MASK)
            index += 1
        else:
            out.append(char)
    return "".join(out)


def mask_cards(text: str) -> tuple[str, bool]:
    found = False

    def replace(match: re.Match[str]) -> str:
        nonlocal found
        candidate = match.group(0).rstrip(" -")
        tail = match.group(0)[len(candidate) :]
        digits = "".join(c for c in candidate if c.isdigit())
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            found = True
            return _mask_card(candidate) + tail
        return match.group(0)

    return _CARD_CANDIDATE.sub(replace, text), found


def mask_otps(text: str) -> tuple[str, bool]:
    found = False

    def replace(match: re.Match[str]) -> str:
        nonlocal found
        found = True
        code_group = 1 if match.group(1) else 2
        start, end = match.span(code_group)
        whole_start = match.start(0)
        segment = match.group(0)
        rel_start, rel_end = start - whole_start, end - whole_start
        return segment[:rel_start] + MASK * (rel_end - rel_start) + segment[rel_end:]

    return _OTP_NEAR_CODE.sub(replace, text), found


def guard(text: str) -> Guarded:
    """Mask card numbers and one-time codes in a customer's text."""
    # Telegram clients may send decomposed accents; compose them so the words match.
    composed = unicodedata.normalize("NFC", text)
    masked, card = mask_cards(composed)
    masked, otp = mask_otps(masked)
    card = card or _MASKED_CARD.search(composed) is not None
    otp = otp or _OTP_NEAR_MASK.search(composed) is not None
    return Guarded(text=masked, card_masked=card, otp_masked=otp)

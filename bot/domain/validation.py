"""Checks on what a customer types or uploads while writing a ticket."""

from __future__ import annotations

import fnmatch
import re
import unicodedata
from enum import StrEnum

from bot.domain.models import Attachment, AttachmentKind

SUBJECT_MIN_CHARS = 6
SUBJECT_MAX_CHARS = 120
MESSAGE_MIN_CHARS = 10

# Words that say nothing about the problem, in the desk's languages. A subject made only
# of these ("help", "tolong bantu", "hjälp snälla", "urgent!!") is refused as too vague.
_FILLER_WORDS = frozenset(
    (
        "help helpme please pls plz urgent asap question problem issue issues support hi hello "
        "hey admin cs thanks thank you me my i need a an the to with is it have has sir "
        "tolong bantu bantuan mohon minta segera halo hai pagi siang sore malam kak min gan "
        "masalah kendala pertanyaan tanya saya aku ada ya dong deh nih terima kasih makasih "
        "cepat penting darurat "
        "hjälp hjalp snälla snalla tack hej hallå hallo fråga fraga problemet jag har "
        "behöver behover akut brådskande bradskande något nagot med mitt min"
    ).split()
)


class SubjectProblem(StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    VAGUE = "vague"


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return re.findall(r"[^\W_]+", folded)


def check_subject(subject: str) -> SubjectProblem | None:
    """Say what is wrong with a subject, or None when it is short, specific and usable."""
    text = " ".join(subject.split())
    if len(text) > SUBJECT_MAX_CHARS:
        return SubjectProblem.TOO_LONG
    words = _words(text)
    meaningful = [w for w in words if w not in _FILLER_WORDS]
    if words and not meaningful:
        return SubjectProblem.VAGUE
    if len(text) < SUBJECT_MIN_CHARS or not words:
        return SubjectProblem.TOO_SHORT
    # A single word says too little ("Refund", "Invoice"): ask what about it.
    if len(words) == 1:
        return SubjectProblem.VAGUE
    return None


def normalise_subject(subject: str) -> str:
    return " ".join(subject.split())


class FileProblem(StrEnum):
    TOO_BIG = "too_big"
    BAD_TYPE = "bad_type"
    TOO_MANY = "too_many"


def check_attachment(
    attachment: Attachment,
    *,
    already: int,
    max_count: int,
    max_bytes: int,
    allowed_types: list[str],
) -> FileProblem | None:
    """Say why a file can't be attached, or None when it can."""
    if already >= max_count:
        return FileProblem.TOO_MANY
    return check_file_kind(attachment, max_bytes=max_bytes, allowed_types=allowed_types)


def check_file_kind(
    attachment: Attachment, *, max_bytes: int, allowed_types: list[str]
) -> FileProblem | None:
    """Say why a file's size or type is refused, wherever it reaches a ticket, or None."""
    if attachment.file_size is not None and attachment.file_size > max_bytes:
        return FileProblem.TOO_BIG
    if attachment.kind is AttachmentKind.DOCUMENT:
        mime = (attachment.mime_type or "").lower()
        if not any(fnmatch.fnmatchcase(mime, pattern.lower()) for pattern in allowed_types):
            return FileProblem.BAD_TYPE
    return None

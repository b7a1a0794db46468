"""What a customer types or uploads while writing a ticket."""

from __future__ import annotations

import pytest

from bot.domain.models import Attachment, AttachmentKind
from bot.domain.validation import FileProblem, SubjectProblem, check_attachment, check_subject


@pytest.mark.parametrize(
    "subject",
    [
        "help",
        "Help!!!",
        "tolong bantu",
        "Tolong Bantu",
        "hjälp",
        "hjälp snälla",
        "urgent problem",
        "masalah",
        "hi admin",
        "Refund",
        "pertanyaan",
    ],
)
def test_vague_subjects_are_refused(subject: str) -> None:
    assert check_subject(subject) is SubjectProblem.VAGUE


@pytest.mark.parametrize("subject", ["abc", "Login", "  x  "])
def test_short_subjects_are_refused(subject: str) -> None:
    assert check_subject(subject) is SubjectProblem.TOO_SHORT


def test_long_subjects_are_refused() -> None:
    assert check_subject("Error " * 30) is SubjectProblem.TOO_LONG


@pytest.mark.parametrize(
    "subject",
    [
        "Website error 500 on checkout",
        "Saldo tidak masuk setelah transfer",
        "Kan inte logga in i kundportalen",
        "Pulsa belum masuk",
        "Refund for order 123",
    ],
)
def test_specific_subjects_pass(subject: str) -> None:
    assert check_subject(subject) is None


def _doc(mime: str, size: int = 1000) -> Attachment:
    return Attachment(AttachmentKind.DOCUMENT, "f", "u", size, "x", mime)


ALLOWED = ["application/pdf", "image/*"]


def test_attachments() -> None:
    ok = {"already": 0, "max_count": 3, "max_bytes": 5000, "allowed_types": ALLOWED}
    assert check_attachment(_doc("application/pdf"), **ok) is None  # type: ignore[arg-type]
    assert check_attachment(_doc("image/heic"), **ok) is None  # type: ignore[arg-type]
    assert check_attachment(_doc("application/x-msdownload"), **ok) is FileProblem.BAD_TYPE  # type: ignore[arg-type]
    assert check_attachment(_doc("application/pdf", 6000), **ok) is FileProblem.TOO_BIG  # type: ignore[arg-type]
    full = {**ok, "already": 3}
    assert check_attachment(_doc("application/pdf"), **full) is FileProblem.TOO_MANY  # type: ignore[arg-type]
    photo = Attachment(AttachmentKind.PHOTO, "p", "pu", 100)
    assert check_attachment(photo, **ok) is None  # type: ignore[arg-type]

"""A customer opens a complete ticket in their own language, through the real Bot API."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.app import SupportApplication
from bot.domain.models import AttachmentKind, Author, Priority, Status
from bot.i18n import gettext, use_locale
from tests.fake_api import FakeTelegram
from tests.flows.conftest import Person

VAGUE_HINT = (
    "That subject is too short or too general for us to route. Say what is wrong and "
    "where, for example “Payment confirmed but top-up not received” or “Cannot log in "
    "to the client area”."
)


def t(locale: str, message: str) -> str:
    """What the customer should read: the catalog's translation in their locale."""
    with use_locale(locale):
        return gettext(message)


@dataclass(frozen=True)
class Case:
    language_code: str
    locale: str
    name: str
    subject: str
    vague: str
    message: str
    # A few words that must appear, so a catalog that silently fell back to English fails.
    native_words: tuple[str, ...]


CASES = [
    Case(
        "en-US",
        "en",
        "Alice",
        "Top-up paid but balance not updated",
        "help please",
        "I paid 150000 by bank transfer at 10:15 today; the app still shows the order as pending.",
        ("ticket", "Priority"),
    ),
    Case(
        "id-ID",
        "id",
        "Budi",
        "Saldo belum masuk setelah transfer",
        "tolong bantu",
        "Saya sudah transfer Rp150.000 jam 10.15 tadi, tapi status pesanan masih pending di aplikasi.",
        ("tiket", "Prioritas"),
    ),
    Case(
        "sv-SE",
        "sv",
        "Sven",
        "Betalningen gick igenom men saldot saknas",
        "hjälp",
        "Jag betalade 150 kr med kort kl 10.15 i dag men ordern står fortfarande som väntande.",
        ("ärende", "Prioritet"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.locale for c in CASES])
async def test_customer_opens_a_ticket_with_a_photo_and_a_document(
    fake: FakeTelegram, bot: SupportApplication, case: Case
) -> None:
    loc = case.locale
    person = Person(
        fake, fake.user(case.name, username=case.name.lower(), language_code=case.language_code)
    )

    menu = await person.says("/start", expect=case.name)
    assert menu.button_texts() == [
        t(loc, "📝 New ticket"),
        t(loc, "📂 My tickets"),
        t(loc, "❓ FAQ"),
        t(loc, "🌐 Language"),
    ]

    departments = await person.presses(
        menu, t(loc, "📝 New ticket"), expect=t(loc, "Which team should handle it?")
    )
    assert t(loc, "Billing & Payments") in departments.text
    assert (
        t(
            loc,
            "Money matters: payment confirmation, invoices, renewals, refunds, billing mistakes.",
        )
        in departments.text
    )
    assert departments.button_texts()[:3] == [
        t(loc, "Technical Support"),
        t(loc, "Billing & Payments"),
        t(loc, "Sales & Marketing"),
    ]

    subject_q = await person.presses(
        departments,
        t(loc, "Billing & Payments"),
        expect=t(loc, "Write a short, specific subject for your ticket."),
    )
    assert subject_q.button_texts() == [t(loc, "✖ Cancel")]
    # One message a step: the next question, showing the answer chosen.
    chosen = t(loc, "<b>Department:</b> {value}").format(value=t(loc, "Billing & Payments"))
    assert subject_q.text.startswith("✔️ " + chosen.replace("<b>", "").replace("</b>", ""))
    # The answered question keeps its buttons, but a second tap changes nothing.
    mark = len(fake.sent(person.id))
    query = fake.press(person.user, departments, button=t(loc, "Technical Support"))
    await fake.idle()
    assert [c.params.get("text") for c in fake.answers_to(query)] == [
        t(loc, "This button is no longer valid.")
    ]
    assert len(fake.sent(person.id)) == mark
    draft = await bot.bot_data.desk.drafts.get(person.id)
    assert draft is not None and draft.department == "billing"

    hint = await person.says(
        case.vague, expect=t(loc, "Write a short, specific subject for your ticket.")
    )
    assert hint.text.startswith(t(loc, VAGUE_HINT))

    priority_q = await person.says(case.subject, expect=t(loc, "How urgent is it?"))
    assert t(loc, "Please choose High or Critical only for real emergencies.") in priority_q.text
    high_button = next(b for b in priority_q.button_texts() if b.startswith(t(loc, "High")))
    assert "4–6" in high_button

    message_q = await person.presses(
        priority_q, high_button, expect=t(loc, "Now describe the problem in full. Please tell us:")
    )
    assert t(loc, "• the exact error text, copied and pasted if you can;") in message_q.text

    files_q = await person.says(
        case.message,
        expect=t(loc, "Press Done when you have sent them all, or Skip if you have none."),
    )
    assert files_q.button_texts() == [t(loc, "Skip"), t(loc, "✖ Cancel")]

    ack = await person.sends_photo(file_size=80_000)
    assert ack.button_texts() == [t(loc, "✅ Done"), t(loc, "✖ Cancel")]
    ack = await person.sends_document(file_name="bukti-transfer.pdf", file_size=150_000)
    assert "2" in ack.text

    review = await person.presses(
        ack, t(loc, "✅ Done"), expect=t(loc, "Please check your ticket before you send it.")
    )
    assert case.subject in review.text
    assert case.message in review.text
    assert "bukti-transfer.pdf" in review.text
    assert review.button_texts() == [t(loc, "📨 Submit"), t(loc, "✏️ Edit"), t(loc, "✖ Cancel")]

    receipt = await person.presses(review, t(loc, "📨 Submit"), expect="#1001")
    assert t(loc, "High") in receipt.text and "4–6" in receipt.text
    for word in case.native_words:
        assert word.lower() in (review.text + receipt.text).lower(), word

    desk = bot.bot_data.desk
    ticket = await desk.tickets.get(1001)
    assert ticket is not None
    assert (
        ticket.customer_id,
        ticket.department,
        ticket.subject,
        ticket.priority,
        ticket.status,
        ticket.locale,
    ) == (person.id, "billing", case.subject, Priority.HIGH, Status.OPEN, loc)
    [first] = await desk.tickets.messages(1001, include_internal=True)
    assert (first.author, first.author_id, first.body) == (Author.CUSTOMER, person.id, case.message)
    assert [(a.kind, a.file_name, a.mime_type) for a in first.attachments] == [
        (AttachmentKind.PHOTO, None, None),
        (AttachmentKind.DOCUMENT, "bukti-transfer.pdf", "application/pdf"),
    ]
    photo = first.attachments[0]
    assert photo.file_id in fake.files and photo.file_size == 80_000
    assert await desk.drafts.get(person.id) is None

"""The new-ticket form as a state machine, without Telegram: inputs in, outputs out, and
its state (the draft and its step) in the database, where another worker or a restart
finds it."""

from __future__ import annotations

from datetime import timedelta

from bot.compose import StoredDesk
from bot.domain.intake import (
    PASTE_WINDOW,
    Ask,
    Attached,
    Cancelled,
    Choice,
    FileRefused,
    FormInput,
    FormOutput,
    InputKind,
    Masked,
    NoticeKind,
    SameTicket,
    Stale,
    Step,
    Submitted,
)
from bot.domain.models import Attachment, AttachmentKind, Draft, Priority, Status
from bot.domain.validation import FileProblem
from storage import Database
from tests.conftest import FakeClock
from tests.unit.seeding import CUSTOMER, add_ticket

SUBJECT = "Payment confirmed but top-up not received"
MESSAGE = "I paid 50,000 IDR by bank transfer at 09:12 and the balance did not change."


def photo(n: int = 1, album: str | None = None) -> Attachment:
    return Attachment(
        kind=AttachmentKind.PHOTO,
        file_id=f"file-{n}",
        file_unique_id=f"unique-{n}",
        file_size=1000,
        media_group_id=album,
    )


def command(name: str) -> FormInput:
    return FormInput(InputKind.COMMAND, text=f"/{name}", command=name)


def only_ask(outputs: list[FormOutput] | None) -> Ask:
    assert outputs is not None
    asks = [output for output in outputs if isinstance(output, Ask)]
    assert len(asks) == 1, outputs
    return asks[0]


async def take(desk: StoredDesk, given: FormInput) -> list[FormOutput]:
    outputs = await desk.form.take(CUSTOMER, given, "en")
    assert outputs is not None, "the form was not open"
    return outputs


async def to_step(desk: StoredDesk, step: Step) -> None:
    """Walk a fresh form to `step` with good answers."""
    await desk.register_user(CUSTOMER, "Rina", None, None, "en")
    await desk.form.start(CUSTOMER)
    answers = [
        FormInput.chose(Choice.DEPARTMENT, "billing"),
        FormInput.typed(SUBJECT),
        FormInput.chose(Choice.PRIORITY, Priority.HIGH.value),
        FormInput.typed(MESSAGE),
        FormInput.chose(Choice.SKIP),
    ]
    order = [Step.SUBJECT, Step.PRIORITY, Step.MESSAGE, Step.ATTACHMENTS, Step.REVIEW]
    for answer, reached in zip(answers, order, strict=True):
        if (await desk.saved_draft(CUSTOMER)).step == step:  # type: ignore[union-attr]
            return
        assert only_ask(await take(desk, answer)).step is reached
    assert (await desk.saved_draft(CUSTOMER)).step == step  # type: ignore[union-attr]


async def test_a_customer_walks_the_form_to_a_ticket(desk: StoredDesk) -> None:
    await desk.register_user(CUSTOMER, "Rina", None, None, "en")
    assert await desk.form.take(CUSTOMER, FormInput.typed("hello"), "en") is None  # not open
    first = only_ask(await desk.form.start(CUSTOMER))
    assert first.step is Step.DEPARTMENT and first.notice is None
    ask = only_ask(await take(desk, FormInput.chose(Choice.DEPARTMENT, "billing")))
    assert (ask.step, ask.chosen) == (Step.SUBJECT, Step.DEPARTMENT)
    ask = only_ask(await take(desk, FormInput.typed(f"  {SUBJECT} ")))
    assert (ask.step, ask.chosen) == (Step.PRIORITY, None)
    ask = only_ask(await take(desk, FormInput.chose(Choice.PRIORITY, "high")))
    assert (ask.step, ask.chosen) == (Step.MESSAGE, Step.PRIORITY)
    assert only_ask(await take(desk, FormInput.typed(MESSAGE))).step is Step.ATTACHMENTS
    attached = await take(desk, FormInput.file(photo(), "the transfer receipt"))
    assert [type(o) for o in attached] == [Attached]
    ask = only_ask(await take(desk, FormInput.chose(Choice.DONE)))
    assert (ask.step, ask.chosen) == (Step.REVIEW, Step.ATTACHMENTS)
    done = await take(desk, FormInput.chose(Choice.SUBMIT))
    assert len(done) == 1 and isinstance(done[0], Submitted)
    ticket = done[0].ticket
    assert (ticket.department, ticket.subject, ticket.priority) == (
        "billing",
        SUBJECT,
        Priority.HIGH,
    )
    assert await desk.saved_draft(CUSTOMER) is None  # the form is over with its ticket
    messages = await desk.ticket_messages(ticket.number, include_internal=False)
    assert messages[0].body == f"{MESSAGE}\n\nthe transfer receipt"
    assert [a.file_unique_id for a in messages[0].attachments] == ["unique-1"]


async def test_the_form_state_is_the_databases_so_another_worker_continues_it(
    desk: StoredDesk, db: Database, clock: FakeClock
) -> None:
    await to_step(desk, Step.PRIORITY)
    other = StoredDesk(desk.settings, db, clock)  # another worker, or the bot after a restart
    ask = only_ask(await other.form.take(CUSTOMER, FormInput.chose(Choice.PRIORITY, "low"), "en"))
    assert ask.step is Step.MESSAGE
    assert (await desk.saved_draft(CUSTOMER)).step == Step.MESSAGE  # type: ignore[union-attr]


async def test_what_a_step_does_not_take_is_answered_with_its_question_again(
    desk: StoredDesk,
) -> None:
    await to_step(desk, Step.DEPARTMENT)
    cases = [
        (FormInput.typed("billing please"), NoticeKind.USE_THE_OPTIONS),
        (command("tickets"), NoticeKind.IN_THE_FORM),
        (FormInput(InputKind.OTHER), NoticeKind.CANT_USE),
    ]
    for given, notice in cases:
        ask = only_ask(await take(desk, given))
        assert (ask.step, ask.notice and ask.notice.kind) == (Step.DEPARTMENT, notice)
    # An old question's button, or another feature's: a word, and the step stays.
    assert await take(desk, FormInput.chose(Choice.SUBMIT)) == [Stale()]
    assert await take(desk, FormInput(InputKind.FOREIGN_CHOICE)) == [Stale()]
    # An unknown department is asked again.
    ask = only_ask(await take(desk, FormInput.chose(Choice.DEPARTMENT, "nonsense")))
    assert ask.step is Step.DEPARTMENT
    assert (await desk.saved_draft(CUSTOMER)).department is None  # type: ignore[union-attr]


async def test_a_vague_or_long_subject_and_a_short_message_are_asked_again(
    desk: StoredDesk,
) -> None:
    await to_step(desk, Step.SUBJECT)
    for text, kind in (
        ("help", NoticeKind.SUBJECT_VAGUE),
        ("x" * 200, NoticeKind.SUBJECT_TOO_LONG),
    ):
        ask = only_ask(await take(desk, FormInput.typed(text)))
        assert (ask.step, ask.notice and ask.notice.kind) == (Step.SUBJECT, kind)
    await take(desk, FormInput.typed(SUBJECT))
    await take(desk, FormInput.chose(Choice.PRIORITY, "medium"))
    ask = only_ask(await take(desk, FormInput.typed("broken")))
    assert (ask.step, ask.notice and ask.notice.kind) == (Step.MESSAGE, NoticeKind.DESCRIBE_MORE)
    too_long = "x" * (desk.max_text_length + 1)
    ask = only_ask(await take(desk, FormInput.typed(too_long)))
    assert ask.notice is not None and ask.notice.kind is NoticeKind.MESSAGE_TOO_LONG
    assert ask.notice.length == len(too_long)
    # A photo without words is kept, and the words are still asked for.
    ask = only_ask(await take(desk, FormInput.file(photo())))
    assert ask.notice is not None and ask.notice.kind is NoticeKind.DESCRIBE_THE_FILE
    draft = await desk.saved_draft(CUSTOMER)
    assert draft is not None and len(draft.attachments) == 1 and draft.message is None


async def test_a_file_the_policy_refuses_keeps_the_step_open(desk: StoredDesk) -> None:
    await to_step(desk, Step.ATTACHMENTS)
    huge = Attachment(
        kind=AttachmentKind.DOCUMENT,
        file_id="big",
        file_unique_id="big",
        file_size=desk.max_attachment_bytes + 1,
        file_name="dump.pdf",
        mime_type="application/pdf",
    )
    refused = await take(desk, FormInput.file(huge))
    assert len(refused) == 1 and isinstance(refused[0], FileRefused)
    assert refused[0].problem is FileProblem.TOO_BIG
    draft = await desk.saved_draft(CUSTOMER)
    assert draft is not None and draft.attachments == [] and draft.step == Step.ATTACHMENTS
    # Files of one album are kept one by one, each marked with its album.
    for n in (1, 2):
        out = await take(desk, FormInput.file(photo(n, album="album-7")))
        assert out == [Attached(out[0].draft, "album-7")]  # type: ignore[union-attr]
    again = await take(desk, FormInput.file(photo(2, album="album-7")))  # the same file twice
    assert isinstance(again[0], Attached) and len(again[0].draft.attachments) == 2


async def test_a_masked_card_number_is_said_before_the_next_question(desk: StoredDesk) -> None:
    await to_step(desk, Step.MESSAGE)
    out = await take(desk, FormInput.typed(f"{MESSAGE} My card is 4111 1111 1111 1111."))
    assert isinstance(out[0], Masked) and out[0].card and isinstance(out[1], Ask)
    draft = await desk.saved_draft(CUSTOMER)
    assert draft is not None and draft.message is not None
    assert "4111 1111 1111 1111" not in draft.message and "4111 11** **** 1111" in draft.message


async def test_a_similar_open_ticket_is_pointed_to(desk: StoredDesk, db: Database) -> None:
    await desk.register_user(CUSTOMER, "Rina", None, None, "en")
    number = await add_ticket(db, subject=SUBJECT)
    await to_step(desk, Step.SUBJECT)
    out = await take(desk, FormInput.typed(SUBJECT))
    assert isinstance(out[0], SameTicket) and out[0].ticket.number == number
    assert only_ask(out).step is Step.PRIORITY  # the customer may still go on


async def test_a_change_from_the_review_returns_to_the_review(desk: StoredDesk) -> None:
    await to_step(desk, Step.REVIEW)
    assert only_ask(await take(desk, FormInput.chose(Choice.EDIT))).step is Step.EDIT
    ask = only_ask(await take(desk, FormInput.chose(Choice.GOTO, Step.SUBJECT.value)))
    assert ask.step is Step.SUBJECT and ask.draft.editing
    ask = only_ask(await take(desk, FormInput.typed("Cannot log in to the client area")))
    assert ask.step is Step.REVIEW and not ask.draft.editing
    draft = await desk.saved_draft(CUSTOMER)
    assert draft is not None and draft.subject == "Cannot log in to the client area"


async def test_cancel_ends_the_form_at_any_step(desk: StoredDesk) -> None:
    await to_step(desk, Step.PRIORITY)
    assert await take(desk, command("cancel")) == [Cancelled()]
    assert await desk.saved_draft(CUSTOMER) is None
    assert await desk.form.take(CUSTOMER, FormInput.typed("anything"), "en") is None
    await desk.form.start(CUSTOMER)
    assert await take(desk, FormInput.chose(Choice.CANCEL)) == [Cancelled()]


async def test_an_input_replayed_after_a_kill_changes_nothing(desk: StoredDesk) -> None:
    """A kill after the subject's answer was saved (the step is priority now) but before
    the update was noted handled: the same text comes again, and fits no step. Whether the
    priority question went out before the kill is unknown: it is asked again, plainly."""
    await to_step(desk, Step.PRIORITY)
    replayed = FormInput(InputKind.TEXT, text=SUBJECT, replayed=True)
    ask = only_ask(await take(desk, replayed))
    assert (ask.step, ask.notice, ask.chosen) == (Step.PRIORITY, None, None)
    draft = await desk.saved_draft(CUSTOMER)
    assert draft is not None and draft.step == Step.PRIORITY and draft.subject == SUBJECT
    # A replayed tap of the department (the step before) likewise asks the open question.
    tap = FormInput(InputKind.CHOICE, choice=Choice.DEPARTMENT, arg="billing", replayed=True)
    assert only_ask(await take(desk, tap)) == Ask(Step.PRIORITY, ask.draft)
    # Not replayed, the same text is told what the step wants.
    ask = only_ask(await take(desk, FormInput.typed(SUBJECT)))
    assert ask.notice is not None and ask.notice.kind is NoticeKind.USE_THE_OPTIONS


async def test_the_rest_of_a_split_paste_joins_the_message(desk: StoredDesk) -> None:
    await to_step(desk, Step.MESSAGE)
    first = FormInput.typed(MESSAGE, sent_at=1000.0, may_continue=True)
    assert only_ask(await take(desk, first)).step is Step.ATTACHMENTS
    rest = FormInput.typed("and the rest of it", sent_at=1000.0 + PASTE_WINDOW / 2)
    ask = only_ask(await take(desk, rest))
    assert ask.notice is not None and ask.notice.kind is NoticeKind.PASTE_JOINED
    draft = await desk.saved_draft(CUSTOMER)
    assert draft is not None and draft.message == f"{MESSAGE}\nand the rest of it"
    late = FormInput.typed("later words", sent_at=1000.0 + 10 * PASTE_WINDOW)
    ask = only_ask(await take(desk, late))
    assert ask.notice is not None and ask.notice.kind is NoticeKind.USE_THE_OPTIONS


async def test_a_follow_up_starts_at_the_message_with_the_old_tickets_answers(
    desk: StoredDesk, db: Database
) -> None:
    await desk.register_user(CUSTOMER, "Rina", None, None, "en")
    closed = await add_ticket(db, status=Status.CLOSED.value, subject="Withdrawal pending")
    still_open = await add_ticket(db)
    theirs = await add_ticket(db, customer_id=CUSTOMER + 1, status=Status.CLOSED.value)
    assert await desk.form.follow_up(CUSTOMER, still_open) is None
    assert await desk.form.follow_up(CUSTOMER, theirs) is None
    ask = only_ask(await desk.form.follow_up(CUSTOMER, closed))
    assert ask.step is Step.MESSAGE and ask.notice is not None
    assert ask.notice.kind is NoticeKind.FOLLOW_UP and ask.notice.ref == f"#{closed}"
    draft = await desk.saved_draft(CUSTOMER)
    assert draft is not None and draft.follow_up_of == closed
    assert draft.subject == f"Follow-up to #{closed}: Withdrawal pending"


async def test_an_idle_form_is_over_when_the_sweeper_expires_its_draft(
    desk: StoredDesk, clock: FakeClock
) -> None:
    await to_step(desk, Step.SUBJECT)
    timeout = desk.settings.conversation_timeout
    clock.now += timeout + timedelta(seconds=1)
    assert await desk.expire_drafts(clock.now - timeout, clock.now) == [CUSTOMER]
    assert await desk.form.take(CUSTOMER, FormInput.typed(SUBJECT), "en") is None


async def test_a_draft_with_no_step_asks_its_first_missing_answer(desk: StoredDesk) -> None:
    """A draft written without its step (by an older version, or a kill between two
    writes) asks for what it lacks, never for a review of nothing."""
    await desk.register_user(CUSTOMER, "Rina", None, None, "en")
    await desk.save_draft(Draft(user_id=CUSTOMER, department="billing"))
    ask = only_ask(await take(desk, command("new")))
    assert ask.step is Step.SUBJECT
    # /new's own draft is written once, with its step.
    await desk.discard_draft(CUSTOMER)
    await desk.form.start(CUSTOMER)
    draft = await desk.saved_draft(CUSTOMER)
    assert draft is not None and draft.step == Step.DEPARTMENT

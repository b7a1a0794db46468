"""The new-ticket form as a channel-free state machine, its state in the database.

Department → subject → priority → message → attachments → review (and the edit menu). The
customer's draft is the form: it exists exactly while the form is open, and its `step` is
the question open now. Every answer is written into the draft, with the step it leads
to, before that step's question goes out, so a restart, another worker or another
channel continues exactly there. The idle timeout is the draft's stored time, which the
sweeper enforces (`Desk.expire_drafts`).

A channel turns what the customer did into a `FormInput` (a text, a file, a chosen
option, a command, anything else) and renders what `IntakeForm.take` returns: a list of
`FormOutput` items in the order they are to be shown (a warning about a masked card
number, a hint about a similar open ticket, then the next question, ...). Texts are the
channel's: an output names what to say, never how.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Protocol

from bot.domain.fraud import Guarded
from bot.domain.models import Attachment, Draft, Priority, Status, Ticket
from bot.domain.validation import (
    MESSAGE_MIN_CHARS,
    SUBJECT_MAX_CHARS,
    FileProblem,
    SubjectProblem,
    check_subject,
    normalise_subject,
)
from bot.i18n import gettext as _

# A text that follows a possible first part of a split paste within this many seconds is
# taken as its rest (the channel says which texts may be such a first part).
PASTE_WINDOW = 2.0
MAX_JOINED_MESSAGE = 4 * 4096  # a paste split into up to four parts


class Step(StrEnum):
    """The form's questions, as stored in `Draft.step`."""

    DEPARTMENT = "department"
    SUBJECT = "subject"
    PRIORITY = "priority"
    MESSAGE = "message"
    ATTACHMENTS = "attachments"
    REVIEW = "review"
    EDIT = "edit"  # the review's "change which step?" menu (not numbered)


STEPS = (
    Step.DEPARTMENT,
    Step.SUBJECT,
    Step.PRIORITY,
    Step.MESSAGE,
    Step.ATTACHMENTS,
    Step.REVIEW,
)


class Choice(StrEnum):
    """The options the form offers; a channel packs them into its buttons."""

    DEPARTMENT = "dep"  # with the department's key
    PRIORITY = "pri"  # with the priority's value
    DONE = "done"  # the attachments are complete
    SKIP = "skip"  # no attachments
    SUBMIT = "submit"
    EDIT = "edit"  # open the edit menu from the review
    GOTO = "goto"  # with the step to change (or the review, to go back)
    CANCEL = "cancel"


class InputKind(Enum):
    TEXT = "text"  # typed text that is no command
    FILE = "file"  # a photo or a document, perhaps with a caption
    CHOICE = "choice"  # one of the form's options (`Choice`)
    FOREIGN_CHOICE = "foreign_choice"  # a button that is not the form's, or no longer is
    COMMAND = "command"
    OTHER = "other"  # a sticker, a voice note, a location, ...


@dataclass(frozen=True, slots=True)
class FormInput:
    """What the customer did, in channel-free terms."""

    kind: InputKind
    text: str = ""  # the text, a file's caption, or the command as typed
    attachment: Attachment | None = None
    choice: Choice | None = None
    arg: str = ""  # the chosen option's argument
    command: str = ""  # the command's name, without "/" or "@bot"
    sent_at: float = 0.0  # when it was sent (Unix seconds)
    # The channel splits long texts: this one may be the first part of such a paste.
    may_continue: bool = False
    # Handled before a kill up to its next question, and now handled again (see `take`).
    replayed: bool = False

    @classmethod
    def typed(cls, text: str, *, sent_at: float = 0.0, may_continue: bool = False) -> FormInput:
        return cls(InputKind.TEXT, text=text, sent_at=sent_at, may_continue=may_continue)

    @classmethod
    def file(cls, attachment: Attachment, caption: str = "", *, sent_at: float = 0.0) -> FormInput:
        return cls(InputKind.FILE, text=caption, attachment=attachment, sent_at=sent_at)

    @classmethod
    def chose(cls, choice: Choice, arg: str = "") -> FormInput:
        return cls(InputKind.CHOICE, choice=choice, arg=arg)


# What the form says


class NoticeKind(Enum):
    SUBJECT_TOO_LONG = "subject_too_long"
    SUBJECT_VAGUE = "subject_vague"
    DESCRIBE_MORE = "describe_more"
    DESCRIBE_THE_FILE = "describe_the_file"  # a file came, the words are still missing
    MESSAGE_TOO_LONG = "message_too_long"  # `length`: the message's
    FILE_REFUSED = "file_refused"  # `problem`
    PASTE_JOINED = "paste_joined"
    STEP_MISSING = "step_missing"
    IN_THE_FORM = "in_the_form"  # a command while the form is open
    USE_THE_OPTIONS = "use_the_options"  # a text where an option is asked for
    ONLY_FILES = "only_files"  # something else at the attachments step
    CANT_USE = "cant_use"
    FOLLOW_UP = "follow_up"  # `ref`: the ticket continued


@dataclass(frozen=True, slots=True)
class Notice:
    kind: NoticeKind
    problem: FileProblem | None = None
    length: int = 0
    ref: str = ""


@dataclass(frozen=True, slots=True)
class Ask:
    """Ask `step`'s question, after a notice about the last answer or the answer chosen."""

    step: Step
    draft: Draft
    notice: Notice | None = None
    chosen: Step | None = None  # the step whose answer to show above the question


@dataclass(frozen=True, slots=True)
class Masked:
    """The guard masked a card number or a one-time code in what the customer wrote."""

    card: bool
    otp: bool


@dataclass(frozen=True, slots=True)
class SameTicket:
    """The customer has an open ticket about this already: point to it (they may go on)."""

    ticket: Ticket


@dataclass(frozen=True, slots=True)
class Attached:
    """A file joined the draft. Files of one album (`album`, its id) are acknowledged
    once, after the last: the channel delivers an album one file at a time."""

    draft: Draft
    album: str | None = None


@dataclass(frozen=True, slots=True)
class FileRefused:
    """A file at the attachments step broke the file policy; the step stays open."""

    problem: FileProblem
    draft: Draft


@dataclass(frozen=True, slots=True)
class Stale:
    """An option of an earlier question, or not the form's: no longer valid here."""


@dataclass(frozen=True, slots=True)
class Submitted:
    """The ticket exists; its receipt is owed in the outbox, in the ticket's transaction."""

    ticket: Ticket


@dataclass(frozen=True, slots=True)
class Cancelled:
    """The draft was discarded and the form is over."""


FormOutput = Ask | Masked | SameTicket | Attached | FileRefused | Stale | Submitted | Cancelled


class FormDesk(Protocol):
    """What the form needs of the desk (`bot.domain.desk.Desk` is one)."""

    @property
    def max_text_length(self) -> int: ...

    def department(self, key: str) -> object | None: ...
    def check_file(self, attachment: Attachment, draft: Draft) -> FileProblem | None: ...
    def guard_text(self, text: str) -> Guarded: ...
    async def saved_draft(self, user_id: int) -> Draft | None: ...
    async def save_draft(self, draft: Draft) -> None: ...
    async def discard_draft(self, user_id: int) -> None: ...
    async def similar_open_ticket(self, customer_id: int, subject: str) -> Ticket | None: ...
    async def ticket(self, number: int) -> Ticket | None: ...
    async def submit(self, draft: Draft, locale: str) -> Ticket: ...


# Which input each step takes (anything else goes to `_not_this_step`).
_TAKES: dict[Step, tuple[set[InputKind], set[Choice]]] = {
    Step.DEPARTMENT: (set(), {Choice.DEPARTMENT}),
    Step.SUBJECT: ({InputKind.TEXT}, set()),
    Step.PRIORITY: (set(), {Choice.PRIORITY}),
    Step.MESSAGE: ({InputKind.TEXT, InputKind.FILE}, set()),
    Step.ATTACHMENTS: ({InputKind.FILE}, {Choice.DONE, Choice.SKIP}),
    Step.REVIEW: (set(), {Choice.SUBMIT, Choice.EDIT}),
    Step.EDIT: (set(), {Choice.GOTO}),
}


def _takes(step: Step, given: FormInput) -> bool:
    kinds, choices = _TAKES[step]
    if given.kind is InputKind.CHOICE:
        return given.choice in choices
    return given.kind in kinds


@dataclass
class _Turn:
    """One input's handling: the draft as it changes, and what to say, in order."""

    draft: Draft
    out: list[FormOutput] = field(default_factory=list)


class IntakeForm:
    """The form's rules. Each call reads the draft, changes it, saves it, and says what to
    show; the caller renders that in its channel."""

    def __init__(self, desk: FormDesk) -> None:
        self.desk = desk

    async def start(self, user_id: int) -> list[FormOutput]:
        """A fresh draft (any earlier one is replaced), at the first question: written
        once, with its step, so a kill can't leave a draft that asks nothing."""
        return [await self._ask(Draft(user_id=user_id), Step.DEPARTMENT)]

    async def follow_up(self, user_id: int, number: int) -> list[FormOutput] | None:
        """A new ticket continuing the customer's solved or closed ticket `number`, at the
        message step (department, subject and priority are taken from it). None: there
        is no such ticket of theirs to follow up."""
        old = await self.desk.ticket(number)
        if (
            old is None
            or old.customer_id != user_id
            or old.status not in (Status.SOLVED, Status.CLOSED)
        ):
            return None
        prefix = _("Follow-up to {ref}: ").format(ref=old.ref)
        draft = Draft(
            user_id=user_id,
            department=old.department,
            subject=(prefix + old.subject)[:SUBJECT_MAX_CHARS],
            priority=old.priority,
            follow_up_of=old.number,
        )
        notice = Notice(NoticeKind.FOLLOW_UP, ref=old.ref)
        return [await self._ask(draft, Step.MESSAGE, notice)]

    async def take(self, user_id: int, given: FormInput, locale: str) -> list[FormOutput] | None:
        """Take what the customer did into their open form. None: no form is open, and
        the input is someone else's to handle.

        The draft's step decides what fits. A cancel always does. Something that fits no
        step is answered with the open question again, after a word on why; an input
        replayed after a kill was handled up to the question it led to (the draft is
        there already), so it changes nothing, and only that question is asked again.
        """
        draft = await self.desk.saved_draft(user_id)
        if draft is None:
            return None
        turn = _Turn(draft)
        step = Step(draft.step) if draft.step in set(Step) else _first_missing(draft)
        if (given.kind is InputKind.COMMAND and given.command == "cancel") or (
            given.choice is Choice.CANCEL
        ):
            await self.desk.discard_draft(user_id)
            return [Cancelled()]
        if _takes(step, given):
            await self._answer(turn, step, given, locale)
        else:
            await self._not_this_step(turn, step, given)
        return turn.out

    # The steps

    async def _answer(self, turn: _Turn, step: Step, given: FormInput, locale: str) -> None:
        draft = turn.draft
        if step is Step.DEPARTMENT:
            if self.desk.department(given.arg) is None:
                turn.out.append(await self._ask(draft, step))
                return
            draft.department = given.arg
            await self._advance(turn, step, chosen=True)
        elif step is Step.SUBJECT:
            await self._subject(turn, given)
        elif step is Step.PRIORITY:
            if given.arg not in set(Priority):
                turn.out.append(await self._ask(draft, step))
                return
            draft.priority = Priority(given.arg)
            await self._advance(turn, step, chosen=True)
        elif step is Step.MESSAGE:
            await self._message(turn, given)
        elif step is Step.ATTACHMENTS:
            if given.kind is InputKind.FILE:
                await self._file(turn, given)
            else:
                await self._advance(turn, step, chosen=True)
        elif step is Step.REVIEW:
            await self._review(turn, given, locale)
        else:  # the edit menu
            if given.arg not in STEPS:
                turn.out.append(await self._ask(draft, step))
                return
            draft.editing = given.arg != Step.REVIEW
            turn.out.append(await self._ask(draft, Step(given.arg)))

    async def _subject(self, turn: _Turn, given: FormInput) -> None:
        draft = turn.draft
        subject = normalise_subject(self._guarded(turn, given.text))
        problem = check_subject(subject)
        if problem is not None:
            kind = (
                NoticeKind.SUBJECT_TOO_LONG
                if problem is SubjectProblem.TOO_LONG
                else NoticeKind.SUBJECT_VAGUE
            )
            turn.out.append(await self._ask(draft, Step.SUBJECT, Notice(kind)))
            return
        draft.subject = subject
        if draft.follow_up_of is None and not draft.editing:
            same = await self.desk.similar_open_ticket(draft.user_id, subject)
            if same is not None:
                turn.out.append(SameTicket(same))
        await self._advance(turn, Step.SUBJECT)

    async def _message(self, turn: _Turn, given: FormInput) -> None:
        """Keep the description; a file with a caption counts as both message and file."""
        draft = turn.draft
        text = given.text
        if given.attachment is not None:
            problem = self.desk.check_file(given.attachment, draft)
            if problem is not None:
                notice = Notice(NoticeKind.FILE_REFUSED, problem=problem)
                turn.out.append(await self._ask(draft, Step.MESSAGE, notice))
                return
            _add_attachment(draft, given.attachment)
            await self.desk.save_draft(draft)
        if len(text.strip()) < MESSAGE_MIN_CHARS:
            kind = (
                NoticeKind.DESCRIBE_THE_FILE
                if given.attachment is not None
                else NoticeKind.DESCRIBE_MORE
            )
            turn.out.append(await self._ask(draft, Step.MESSAGE, Notice(kind)))
            return
        if len(text) > self.desk.max_text_length:
            notice = Notice(NoticeKind.MESSAGE_TOO_LONG, length=len(text))
            turn.out.append(await self._ask(draft, Step.MESSAGE, notice))
            return
        draft.message = self._guarded(turn, text.strip())
        # Perhaps the first part of a long paste: the rest may follow at once (`_join_paste`).
        draft.message_part_at = given.sent_at if given.may_continue else None
        await self._advance(turn, Step.MESSAGE)

    async def _file(self, turn: _Turn, given: FormInput) -> None:
        """Attach a photo or a document at the attachments step."""
        draft = turn.draft
        assert given.attachment is not None
        problem = self.desk.check_file(given.attachment, draft)
        if problem is not None:
            turn.out.append(FileRefused(problem, draft))
            return
        if given.text:
            caption = self._guarded(turn, given.text)
            # A caption is part of what the customer is telling us: keep it with the message.
            draft.message = f"{draft.message}\n\n{caption}" if draft.message else caption
        _add_attachment(draft, given.attachment)
        await self.desk.save_draft(draft)
        turn.out.append(Attached(draft, given.attachment.media_group_id))

    async def _review(self, turn: _Turn, given: FormInput, locale: str) -> None:
        draft = turn.draft
        if given.choice is Choice.EDIT:
            turn.out.append(await self._ask(draft, Step.EDIT))
            return
        if not draft.is_complete:
            # Only possible if the draft was lost under us: start the missing step again.
            missing = _first_missing(draft)
            notice = Notice(NoticeKind.STEP_MISSING)
            turn.out.append(await self._ask(draft, missing, notice))
            return
        # The receipt is owed in the ticket's own transaction (the outbox sends it at once):
        # a kill right after the ticket is stored can't lose it, nor a replay send it twice.
        turn.out.append(Submitted(await self.desk.submit(draft, locale)))

    # What no step takes

    async def _not_this_step(self, turn: _Turn, step: Step, given: FormInput) -> None:
        draft = turn.draft
        if given.replayed:
            # Handled before a kill up to its next question, and replayed into the step it
            # led to: its answer is in the draft, and whether that question went out before
            # the kill no one can tell. Ask it again, with no word about the input: once
            # more at worst, never a customer left without a question.
            turn.out.append(await self._ask(draft, step))
            return
        if step is not Step.MESSAGE and self._join_paste(turn, given):
            turn.out.append(await self._ask(draft, step, Notice(NoticeKind.PASTE_JOINED)))
            return
        if given.kind in (InputKind.CHOICE, InputKind.FOREIGN_CHOICE):
            # An option of an earlier question (they keep theirs): the open question is the
            # latest message, so a word is enough.
            turn.out.append(Stale())
            return
        if given.kind is InputKind.COMMAND or (
            given.kind is InputKind.TEXT and given.text.startswith("/")
        ):
            kind = NoticeKind.IN_THE_FORM
        elif given.kind is InputKind.TEXT:
            kind = NoticeKind.USE_THE_OPTIONS
        elif step is Step.ATTACHMENTS:
            kind = NoticeKind.ONLY_FILES
        else:
            kind = NoticeKind.CANT_USE
        turn.out.append(await self._ask(draft, step, Notice(kind)))

    def _join_paste(self, turn: _Turn, given: FormInput) -> bool:
        """Add a text that follows a long message at once to it: the channel split one paste."""
        draft = turn.draft
        if (
            given.kind is not InputKind.TEXT
            or given.text.startswith("/")
            or draft.message is None
            or draft.message_part_at is None
            or given.sent_at - draft.message_part_at > PASTE_WINDOW
        ):
            return False
        rest = self._guarded(turn, given.text.strip())
        if len(draft.message) + 1 + len(rest) > MAX_JOINED_MESSAGE:
            return False
        draft.message = f"{draft.message}\n{rest}"
        draft.message_part_at = given.sent_at if given.may_continue else None
        return True

    # Asking

    def _guarded(self, turn: _Turn, text: str) -> str:
        guarded = self.desk.guard_text(text)
        if guarded.flagged:
            turn.out.append(Masked(guarded.card_masked, guarded.otp_masked))
        return guarded.text

    async def _ask(self, draft: Draft, step: Step, notice: Notice | None = None) -> Ask:
        """Open `step`: saved with the draft first, so whatever happens next the draft
        knows which question is open."""
        draft.step = step.value
        await self.desk.save_draft(draft)
        return Ask(step, draft, notice)

    async def _advance(self, turn: _Turn, step: Step, *, chosen: bool = False) -> None:
        """On to the next step, or back to the review when one step was being changed."""
        draft = turn.draft
        if draft.editing:
            draft.editing = False
            next_step = Step.REVIEW
        else:
            next_step = STEPS[STEPS.index(step) + 1]
        draft.step = next_step.value
        await self.desk.save_draft(draft)
        turn.out.append(Ask(next_step, draft, chosen=step if chosen else None))


def _first_missing(draft: Draft) -> Step:
    """The first step the draft has no answer for (the review when it is complete)."""
    answers = (
        (Step.DEPARTMENT, draft.department),
        (Step.SUBJECT, draft.subject),
        (Step.PRIORITY, draft.priority),
        (Step.MESSAGE, draft.message),
    )
    return next((step for step, value in answers if not value), Step.REVIEW)


def _add_attachment(draft: Draft, attachment: Attachment) -> None:
    if all(a.file_unique_id != attachment.file_unique_id for a in draft.attachments):
        draft.attachments.append(attachment)

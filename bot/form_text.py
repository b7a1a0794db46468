"""The new-ticket form's words, for every channel: the review, the answer just chosen, the
notices about an answer and why a file was refused.

Texts are in the channels' shared markup, Telegram's HTML subset (`<b>`, `<i>`, escaped
text); a channel with other markup converts it (`bot/channels/whatsapp/markup.py`). The
buttons are each channel's own.
"""

from __future__ import annotations

from html import escape
from typing import Protocol

from bot.config import Department, ResponseTarget
from bot.domain.intake import STEPS, Notice, NoticeKind, Step
from bot.domain.models import Attachment, AttachmentKind, Draft, Priority, Ticket
from bot.domain.validation import SUBJECT_MAX_CHARS, FileProblem
from bot.fit import clip_plain
from bot.i18n import gettext as _
from bot.i18n import ngettext
from bot.texts import department_label, priority_label, target_text

REVIEW_BODY_BUDGET = 1500


class FormTextDesk(Protocol):
    """What the form's words need to know of the desk."""

    @property
    def max_attachment_bytes(self) -> int: ...
    @property
    def max_attachments(self) -> int: ...
    @property
    def max_text_length(self) -> int: ...
    def department(self, key: str) -> Department | None: ...
    def target(self, priority: Priority) -> ResponseTarget: ...


def step_title(step: Step) -> str:
    number = STEPS.index(step) + 1
    return _("New ticket · step {number} of {total}").format(number=number, total=len(STEPS))


def file_problem_text(desk: FormTextDesk, problem: FileProblem) -> str:
    """Why a file was refused, in the customer's words: the same reason everywhere."""
    if problem is FileProblem.TOO_BIG:
        return _("That file is too large: the limit is {size} MB per file.").format(
            size=desk.max_attachment_bytes // (1024 * 1024)
        )
    if problem is FileProblem.TOO_MANY:
        return ngettext(
            "You can attach at most %(count)d file.",
            "You can attach at most %(count)d files.",
            desk.max_attachments,
        ) % {"count": desk.max_attachments}
    return _(
        "I can't accept that type of file. Send a photo, a PDF, a text file, an office "
        "document or a ZIP archive."
    )


def attachment_name(attachment: Attachment) -> str:
    if attachment.kind is AttachmentKind.PHOTO:
        return _("photo")
    return attachment.file_name or _("document")


def review_text(desk: FormTextDesk, draft: Draft) -> str:
    dept = desk.department(draft.department or "")
    priority = draft.priority
    files = ", ".join(escape(attachment_name(a)) for a in draft.attachments) or _("none")
    priority_line = "—"
    if priority is not None:
        priority_line = _("{priority} (first answer within {target})").format(
            priority=priority_label(priority), target=target_text(desk.target(priority))
        )
    return "\n".join(
        [
            f"<b>{step_title(Step.REVIEW)}</b>",
            "",
            _("Please check your ticket before you send it."),
            "",
            _("<b>Department:</b> {value}").format(
                value=escape(department_label(dept)) if dept else "—"
            ),
            _("<b>Subject:</b> {value}").format(value=escape(draft.subject or "—")),
            _("<b>Priority:</b> {value}").format(value=priority_line),
            _("<b>Message:</b>\n{value}").format(
                # The whole message is kept; the review shows enough to recognise it.
                value=escape(
                    clip_plain(draft.message, REVIEW_BODY_BUDGET) if draft.message else "—"
                )
            ),
            _("<b>Attachments:</b> {value}").format(value=files),
        ]
    )


def chosen_text(desk: FormTextDesk, step: Step, draft: Draft) -> str:
    """The answer just chosen at `step`, shown above the next question."""
    if step is Step.DEPARTMENT:
        dept = desk.department(draft.department or "")
        return _("<b>Department:</b> {value}").format(
            value=escape(department_label(dept)) if dept else "—"
        )
    if step is Step.PRIORITY:
        value = priority_label(draft.priority) if draft.priority is not None else "—"
        return _("<b>Priority:</b> {value}").format(value=value)
    files = ", ".join(escape(attachment_name(a)) for a in draft.attachments) or _("none")
    return _("<b>Attachments:</b> {value}").format(value=files)


def notice_text(desk: FormTextDesk, notice: Notice) -> str:
    """What the form says about the last answer (or about the form) above a question."""
    kind = notice.kind
    if kind is NoticeKind.SUBJECT_TOO_LONG:
        return _("That subject is too long: please keep it to {limit} characters at most.").format(
            limit=SUBJECT_MAX_CHARS
        )
    if kind is NoticeKind.SUBJECT_VAGUE:
        return _(
            "That subject is too short or too general for us to route. Say what is wrong and "
            "where, for example “Payment confirmed but top-up not received” or “Cannot log in "
            "to the client area”."
        )
    if kind is NoticeKind.MESSAGE_TOO_LONG:
        return _(
            "That message is too long ({length} characters; the limit is {limit}). "
            "Please shorten it, or send the details as a document in the next step."
        ).format(length=notice.length, limit=desk.max_text_length)
    if kind is NoticeKind.FILE_REFUSED:
        assert notice.problem is not None
        return file_problem_text(desk, notice.problem)
    if kind is NoticeKind.FOLLOW_UP:
        return _(
            "A follow-up to {ref}: department, subject and priority are taken from it. "
            "You can change them in the review."
        ).format(ref=notice.ref)
    return {
        NoticeKind.DESCRIBE_MORE: _("Please describe the problem in a little more detail."),
        NoticeKind.DESCRIBE_THE_FILE: _("Got the file. Now please describe the problem in words."),
        NoticeKind.PASTE_JOINED: _("I added the rest of your long message to it."),
        NoticeKind.STEP_MISSING: _("One step is still missing."),
        NoticeKind.IN_THE_FORM: _(
            "You are in the middle of a new ticket. Carry on below, or send /cancel to stop."
        ),
        NoticeKind.USE_THE_OPTIONS: _(
            "That doesn't answer this step: please use the buttons below."
        ),
        NoticeKind.ONLY_FILES: _("I can only attach photos and documents."),
    }.get(kind, _("I can't use that here: please answer this step as asked below."))


def fraud_text(card: bool, otp: bool) -> str:
    """What the guard masked in the customer's words, and why."""
    parts = []
    if card:
        parts.append(
            _(
                "⚠️ Your message contained a full card number. For your safety I kept only "
                "the first 6 and last 4 digits. Never send a full card number in a chat."
            )
        )
    if otp:
        parts.append(
            _(
                "⚠️ Your message seems to contain a one-time code (OTP). I hid it. Never share "
                "an OTP with anyone: our team will never ask for it, or for your password."
            )
        )
    return "\n\n".join(parts)


def same_ticket_text(same: Ticket) -> str:
    return _(
        "You already have an open ticket about this: {ref} “{subject}”. It is "
        "best to continue there (/tickets). If this is a different problem, "
        "just carry on below."
    ).format(ref=same.ref, subject=escape(same.subject))


def attached_text(draft: Draft) -> str:
    count = len(draft.attachments)
    return ngettext(
        "Attached. You have %(count)d file so far: send more, or press Done.",
        "Attached. You have %(count)d files so far: send more, or press Done.",
        count,
    ) % {"count": count}


def cancelled_text() -> str:
    return _("Cancelled. Your draft was discarded and nothing was sent.")


def subject_question_text() -> str:
    return "\n".join(
        [
            f"<b>{step_title(Step.SUBJECT)}</b>",
            "",
            _("Write a short, specific subject for your ticket."),
            _("Good: “Error 500 on the checkout page since this morning”."),
            _("Too vague: “Please help”."),
        ]
    )


def message_question_text() -> str:
    return "\n".join(
        [
            f"<b>{step_title(Step.MESSAGE)}</b>",
            "",
            _("Now describe the problem in full. Please tell us:"),
            _("• what happened;"),
            _("• the steps you took just before it;"),
            _("• the exact error text, copied and pasted if you can;"),
            _("• when it happened."),
        ]
    )

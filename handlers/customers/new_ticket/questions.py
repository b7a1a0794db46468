"""The form's questions as Telegram shows them: each step's text and keyboard, the review,
the notices, and `show`, which sends one question (`bot.domain.intake.Ask`).

Each step is one message: its question after the answer just chosen or a notice about
the last one.
"""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.channels.telegram.context import SupportContext
from bot.domain.intake import STEPS, Ask, Choice, Notice, NoticeKind, Step
from bot.domain.models import Attachment, AttachmentKind, Draft, Priority
from bot.domain.validation import SUBJECT_MAX_CHARS
from bot.fit import clip_plain
from bot.i18n import gettext as _
from bot.i18n import ngettext
from bot.texts import (
    department_hint,
    department_label,
    priority_label,
    priority_meaning,
    target_text,
)
from handlers.callbacks import FORM
from handlers.media import file_problem_text

REVIEW_BODY_BUDGET = 1500


def _button(text: str, action: Choice, arg: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=FORM.pack(action, arg))


def _cancel_row() -> list[InlineKeyboardButton]:
    return [_button(_("✖ Cancel"), Choice.CANCEL)]


def _step_title(step: Step) -> str:
    number = STEPS.index(step) + 1
    return _("New ticket · step {number} of {total}").format(number=number, total=len(STEPS))


# The questions


def department_question(context: SupportContext) -> tuple[str, InlineKeyboardMarkup]:
    lines = [f"<b>{_step_title(Step.DEPARTMENT)}</b>", "", _("Which team should handle it?"), ""]
    rows = []
    for dept in context.desk.departments:
        label = department_label(dept)
        lines.append(f"<b>{escape(label)}</b>: {escape(department_hint(dept))}")
        rows.append([_button(label, Choice.DEPARTMENT, dept.key)])
    rows.append(_cancel_row())
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def subject_question() -> tuple[str, InlineKeyboardMarkup]:
    text = "\n".join(
        [
            f"<b>{_step_title(Step.SUBJECT)}</b>",
            "",
            _("Write a short, specific subject for your ticket."),
            _("Good: “Error 500 on the checkout page since this morning”."),
            _("Too vague: “Please help”."),
        ]
    )
    return text, InlineKeyboardMarkup([_cancel_row()])


def priority_question(context: SupportContext) -> tuple[str, InlineKeyboardMarkup]:
    lines = [f"<b>{_step_title(Step.PRIORITY)}</b>", "", _("How urgent is it?"), ""]
    rows = []
    for priority in (Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW):
        target = target_text(context.desk.target(priority))
        label = priority_label(priority)
        lines.append(
            _("<b>{priority}</b> ({meaning}): first answer within {target}").format(
                priority=label, meaning=priority_meaning(priority), target=target
            )
        )
        rows.append([_button(f"{label} · {target}", Choice.PRIORITY, priority.value)])
    lines += ["", _("Please choose High or Critical only for real emergencies.")]
    rows.append(_cancel_row())
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def message_question() -> tuple[str, InlineKeyboardMarkup]:
    text = "\n".join(
        [
            f"<b>{_step_title(Step.MESSAGE)}</b>",
            "",
            _("Now describe the problem in full. Please tell us:"),
            _("• what happened;"),
            _("• the steps you took just before it;"),
            _("• the exact error text, copied and pasted if you can;"),
            _("• when it happened."),
        ]
    )
    return text, InlineKeyboardMarkup([_cancel_row()])


def attachments_keyboard(draft: Draft) -> InlineKeyboardMarkup:
    first = (
        _button(_("✅ Done"), Choice.DONE) if draft.attachments else _button(_("Skip"), Choice.SKIP)
    )
    return InlineKeyboardMarkup([[first], _cancel_row()])


def attachments_question(context: SupportContext, draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    limit_mb = context.desk.max_attachment_bytes // (1024 * 1024)
    text = "\n".join(
        [
            f"<b>{_step_title(Step.ATTACHMENTS)}</b>",
            "",
            _(
                "Send screenshots, transfer receipts or other files that help: photos or "
                "documents, several at once if you like."
            ),
            ngettext(
                "Up to %(count)d file of at most %(size)d MB.",
                "Up to %(count)d files of at most %(size)d MB each.",
                context.desk.max_attachments,
            )
            % {"count": context.desk.max_attachments, "size": limit_mb},
            _("Press Done when you have sent them all, or Skip if you have none."),
        ]
    )
    return text, attachments_keyboard(draft)


def attachment_name(attachment: Attachment) -> str:
    if attachment.kind is AttachmentKind.PHOTO:
        return _("photo")
    return attachment.file_name or _("document")


def review_text(context: SupportContext, draft: Draft) -> str:
    dept = context.desk.department(draft.department or "")
    priority = draft.priority
    files = ", ".join(escape(attachment_name(a)) for a in draft.attachments) or _("none")
    priority_line = "—"
    if priority is not None:
        priority_line = _("{priority} (first answer within {target})").format(
            priority=priority_label(priority), target=target_text(context.desk.target(priority))
        )
    return "\n".join(
        [
            f"<b>{_step_title(Step.REVIEW)}</b>",
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


def review_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [_button(_("📨 Submit"), Choice.SUBMIT)],
            [_button(_("✏️ Edit"), Choice.EDIT), _button(_("✖ Cancel"), Choice.CANCEL)],
        ]
    )


def edit_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                _button(_("Department"), Choice.GOTO, Step.DEPARTMENT),
                _button(_("Subject"), Choice.GOTO, Step.SUBJECT),
            ],
            [
                _button(_("Priority"), Choice.GOTO, Step.PRIORITY),
                _button(_("Message"), Choice.GOTO, Step.MESSAGE),
            ],
            [_button(_("Attachments"), Choice.GOTO, Step.ATTACHMENTS)],
            [_button(_("« Back to the review"), Choice.GOTO, Step.REVIEW)],
        ]
    )


def chosen_text(context: SupportContext, step: Step, draft: Draft) -> str:
    """The answer just chosen at `step`, shown above the next question."""
    if step is Step.DEPARTMENT:
        dept = context.desk.department(draft.department or "")
        return _("<b>Department:</b> {value}").format(
            value=escape(department_label(dept)) if dept else "—"
        )
    if step is Step.PRIORITY:
        value = priority_label(draft.priority) if draft.priority is not None else "—"
        return _("<b>Priority:</b> {value}").format(value=value)
    files = ", ".join(escape(attachment_name(a)) for a in draft.attachments) or _("none")
    return _("<b>Attachments:</b> {value}").format(value=files)


def notice_text(context: SupportContext, notice: Notice) -> str:
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
        ).format(length=notice.length, limit=context.desk.max_text_length)
    if kind is NoticeKind.FILE_REFUSED:
        assert notice.problem is not None
        return file_problem_text(context, notice.problem)
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


def question(context: SupportContext, step: Step, draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    """`step`'s question and its keyboard."""
    if step is Step.DEPARTMENT:
        return department_question(context)
    if step is Step.SUBJECT:
        return subject_question()
    if step is Step.PRIORITY:
        return priority_question(context)
    if step is Step.MESSAGE:
        return message_question()
    if step is Step.ATTACHMENTS:
        return attachments_question(context, draft)
    if step is Step.EDIT:
        return _("What would you like to change?"), edit_keyboard()
    return review_text(context, draft), review_keyboard()


async def show(context: SupportContext, chat_id: int, ask: Ask) -> None:
    """Send the question of `ask.step` (the draft is saved at that step already).

    One message a step: the question, after the answer just chosen or a notice about the
    last one. The prompt answered keeps its buttons: taking them off would be a second
    message to the chat, whose pace Telegram holds to about one a second, and a tap on an
    old button is answered as no longer valid.
    """
    text, keyboard = question(context, ask.step, ask.draft)
    if ask.notice is not None:
        text = f"{notice_text(context, ask.notice)}\n\n{text}"
    if ask.chosen is not None:
        text = f"✔️ {chosen_text(context, ask.chosen, ask.draft)}\n\n{text}"
    await context.bot.send_message(chat_id, text, reply_markup=keyboard)

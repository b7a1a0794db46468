"""The form's questions: each step's text and keyboard, the review, and asking them.

Each step is one message, its question after the answer just chosen or a notice about
the last one (`ask`); `advance` moves to the next step, or back to the review when editing.
"""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ConversationHandler

from bot.channels.telegram.context import SupportContext
from bot.domain.models import Attachment, AttachmentKind, Draft, Priority
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

END = ConversationHandler.END
DEPARTMENT, SUBJECT, PRIORITY, MESSAGE, ATTACHMENTS, REVIEW, EDIT = (
    "department",
    "subject",
    "priority",
    "message",
    "attachments",
    "review",
    "edit",
)
STEPS = (DEPARTMENT, SUBJECT, PRIORITY, MESSAGE, ATTACHMENTS, REVIEW)

REVIEW_BODY_BUDGET = 1500


def _button(text: str, action: str, arg: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=FORM.pack(action, arg))


def _cancel_row() -> list[InlineKeyboardButton]:
    return [_button(_("✖ Cancel"), "cancel")]


def _step_title(step: str) -> str:
    number = STEPS.index(step) + 1
    return _("New ticket · step {number} of {total}").format(number=number, total=len(STEPS))


# The questions


def department_question(context: SupportContext) -> tuple[str, InlineKeyboardMarkup]:
    lines = [f"<b>{_step_title(DEPARTMENT)}</b>", "", _("Which team should handle it?"), ""]
    rows = []
    for dept in context.desk.departments:
        label = department_label(dept)
        lines.append(f"<b>{escape(label)}</b>: {escape(department_hint(dept))}")
        rows.append([_button(label, "dep", dept.key)])
    rows.append(_cancel_row())
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def subject_question() -> tuple[str, InlineKeyboardMarkup]:
    text = "\n".join(
        [
            f"<b>{_step_title(SUBJECT)}</b>",
            "",
            _("Write a short, specific subject for your ticket."),
            _("Good: “Error 500 on the checkout page since this morning”."),
            _("Too vague: “Please help”."),
        ]
    )
    return text, InlineKeyboardMarkup([_cancel_row()])


def priority_question(context: SupportContext) -> tuple[str, InlineKeyboardMarkup]:
    lines = [f"<b>{_step_title(PRIORITY)}</b>", "", _("How urgent is it?"), ""]
    rows = []
    for priority in (Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW):
        target = target_text(context.desk.target(priority))
        label = priority_label(priority)
        lines.append(
            _("<b>{priority}</b> ({meaning}): first answer within {target}").format(
                priority=label, meaning=priority_meaning(priority), target=target
            )
        )
        rows.append([_button(f"{label} · {target}", "pri", priority.value)])
    lines += ["", _("Please choose High or Critical only for real emergencies.")]
    rows.append(_cancel_row())
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def message_question() -> tuple[str, InlineKeyboardMarkup]:
    text = "\n".join(
        [
            f"<b>{_step_title(MESSAGE)}</b>",
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
    first = _button(_("✅ Done"), "done") if draft.attachments else _button(_("Skip"), "skip")
    return InlineKeyboardMarkup([[first], _cancel_row()])


def attachments_question(context: SupportContext, draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    limit_mb = context.desk.max_attachment_bytes // (1024 * 1024)
    text = "\n".join(
        [
            f"<b>{_step_title(ATTACHMENTS)}</b>",
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
            f"<b>{_step_title(REVIEW)}</b>",
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
            [_button(_("📨 Submit"), "submit")],
            [_button(_("✏️ Edit"), "edit"), _button(_("✖ Cancel"), "cancel")],
        ]
    )


def edit_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [_button(_("Department"), "goto", DEPARTMENT), _button(_("Subject"), "goto", SUBJECT)],
            [_button(_("Priority"), "goto", PRIORITY), _button(_("Message"), "goto", MESSAGE)],
            [_button(_("Attachments"), "goto", ATTACHMENTS)],
            [_button(_("« Back to the review"), "goto", REVIEW)],
        ]
    )


async def ask(
    update: Update,
    context: SupportContext,
    step: str,
    draft: Draft,
    notice: str | None = None,
    *,
    chosen: str | None = None,
) -> str:
    """Send the question for `step` and return `step` as the state.

    One message a step: the question, after the answer just chosen (`chosen`) or a notice
    about the last one. The prompt answered keeps its buttons: taking them off would be a
    second message to the chat, whose pace Telegram holds to about one a second, and a tap
    on an old button is answered as no longer valid (see `edges.still_here`).

    The step is saved with the draft first, so whatever happens next the draft knows
    which question is open.
    """
    assert update.effective_chat is not None
    draft.step = step
    await context.desk.save_draft(draft)
    if step == DEPARTMENT:
        text, keyboard = department_question(context)
    elif step == SUBJECT:
        text, keyboard = subject_question()
    elif step == PRIORITY:
        text, keyboard = priority_question(context)
    elif step == MESSAGE:
        text, keyboard = message_question()
    elif step == ATTACHMENTS:
        text, keyboard = attachments_question(context, draft)
    elif step == EDIT:
        text, keyboard = _("What would you like to change?"), edit_keyboard()
    else:
        text, keyboard = review_text(context, draft), review_keyboard()
    if notice:
        text = f"{notice}\n\n{text}"
    if chosen:
        text = f"✔️ {chosen}\n\n{text}"
    await context.bot.send_message(update.effective_chat.id, text, reply_markup=keyboard)
    return step


async def advance(
    update: Update, context: SupportContext, draft: Draft, step: str, chosen: str | None = None
) -> str:
    """Save the draft and move on: to the next step, or back to the review when editing."""
    if draft.editing:
        draft.editing = False
        next_step = REVIEW
    else:
        next_step = STEPS[STEPS.index(step) + 1]
    return await ask(update, context, next_step, draft, chosen=chosen)

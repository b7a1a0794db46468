"""The form's questions as Telegram shows them: each step's text and keyboard, the review,
the notices, and `show`, which sends one question (`bot.domain.intake.Ask`).

Each step is one message: its question after the answer just chosen or a notice about
the last one.
"""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.channels.telegram.context import SupportContext
from bot.domain.intake import Ask, Choice, Step
from bot.domain.models import Draft, Priority
from bot.form_text import (
    chosen_text,
    message_question_text,
    notice_text,
    review_text,
    step_title,
    subject_question_text,
)
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


def _button(text: str, action: Choice, arg: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=FORM.pack(action, arg))


def _cancel_row() -> list[InlineKeyboardButton]:
    return [_button(_("✖ Cancel"), Choice.CANCEL)]


# The questions


def department_question(context: SupportContext) -> tuple[str, InlineKeyboardMarkup]:
    lines = [f"<b>{step_title(Step.DEPARTMENT)}</b>", "", _("Which team should handle it?"), ""]
    rows = []
    for dept in context.desk.departments:
        label = department_label(dept)
        lines.append(f"<b>{escape(label)}</b>: {escape(department_hint(dept))}")
        rows.append([_button(label, Choice.DEPARTMENT, dept.key)])
    rows.append(_cancel_row())
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def subject_question() -> tuple[str, InlineKeyboardMarkup]:
    return subject_question_text(), InlineKeyboardMarkup([_cancel_row()])


def priority_question(context: SupportContext) -> tuple[str, InlineKeyboardMarkup]:
    lines = [f"<b>{step_title(Step.PRIORITY)}</b>", "", _("How urgent is it?"), ""]
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
    return message_question_text(), InlineKeyboardMarkup([_cancel_row()])


def attachments_keyboard(draft: Draft) -> InlineKeyboardMarkup:
    first = (
        _button(_("✅ Done"), Choice.DONE) if draft.attachments else _button(_("Skip"), Choice.SKIP)
    )
    return InlineKeyboardMarkup([[first], _cancel_row()])


def attachments_question(context: SupportContext, draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    limit_mb = context.desk.max_attachment_bytes // (1024 * 1024)
    text = "\n".join(
        [
            f"<b>{step_title(Step.ATTACHMENTS)}</b>",
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
    return review_text(context.desk, draft), review_keyboard()


async def show(context: SupportContext, chat_id: int, ask: Ask) -> None:
    """Send the question of `ask.step` (the draft is saved at that step already).

    One message a step: the question, after the answer just chosen or a notice about the
    last one. The prompt answered keeps its buttons: taking them off would be a second
    message to the chat, whose pace Telegram holds to about one a second, and a tap on an
    old button is answered as no longer valid.
    """
    text, keyboard = question(context, ask.step, ask.draft)
    if ask.notice is not None:
        text = f"{notice_text(context.desk, ask.notice)}\n\n{text}"
    if ask.chosen is not None:
        text = f"✔️ {chosen_text(context.desk, ask.chosen, ask.draft)}\n\n{text}"
    await context.bot.send_message(chat_id, text, reply_markup=keyboard)

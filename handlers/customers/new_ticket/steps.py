"""`/new`: the new-ticket form, as one persistent `ConversationHandler`.

Department → subject → priority → message → attachments → review. Every answer is saved
in the customer's draft before the next question, and the conversation state is persisted
in the same database, so a restart continues where the customer was.
"""

from __future__ import annotations

import contextlib
import logging
from html import escape
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.context import SupportApp, SupportContext
from bot.domain.models import (
    Attachment,
    AttachmentKind,
    Draft,
    Priority,
    Status,
)
from bot.domain.validation import (
    MESSAGE_MIN_CHARS,
    SUBJECT_MAX_CHARS,
    SubjectProblem,
    check_subject,
    normalise_subject,
)
from bot.fit import PASTE_PART, PASTE_WINDOW, clip_plain, utf16_len
from bot.i18n import gettext as _
from bot.i18n import ngettext, use_locale
from bot.texts import (
    department_hint,
    department_label,
    priority_label,
    priority_meaning,
    target_text,
)
from handlers.callbacks import FORM, MENU, TICKETS, Callback, stale
from handlers.customers.customer_replies import customer_reply
from handlers.keyboards import main_menu
from handlers.media import ALBUM_ACK_DELAY, attachment_of, file_problem_text, fraud_notice

log = logging.getLogger(__name__)

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
MAX_JOINED_MESSAGE = 4 * 4096  # a paste Telegram split into up to four parts


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


def _attachments_keyboard(draft: Draft) -> InlineKeyboardMarkup:
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
    return text, _attachments_keyboard(draft)


def _attachment_name(attachment: Attachment) -> str:
    if attachment.kind is AttachmentKind.PHOTO:
        return _("photo")
    return attachment.file_name or _("document")


def review_text(context: SupportContext, draft: Draft) -> str:
    dept = context.desk.department(draft.department or "")
    priority = draft.priority
    files = ", ".join(escape(_attachment_name(a)) for a in draft.attachments) or _("none")
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
    on an old button is answered as no longer valid (see `still_here`).

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


async def _guarded(update: Update, context: SupportContext, text: str) -> str:
    guarded = context.desk.guard_text(text)
    if guarded.flagged:
        await fraud_notice(update, guarded.card_masked, guarded.otp_masked)
    return guarded.text


async def _current_draft(update: Update, context: SupportContext) -> Draft | None:
    """The customer's saved draft; None if it has expired (the form is then over).

    A form can outlive its draft only across a restart (PTB's timeout is not restored):
    the sweeper discarded the draft and told the customer. What they send now is handled
    as if no form were open.
    """
    user = context.require_user()
    draft = await context.desk.drafts.get(user.id)
    if draft is not None:
        return draft
    query = update.callback_query
    message = update.effective_message
    if query is not None:
        with contextlib.suppress(TelegramError):  # it may have been answered already
            await stale(query)
    elif message is not None and (message.text or "").startswith("/"):
        await message.reply_text(
            _("That form had expired and is closed now. Please send your command again.")
        )
    elif message is not None:
        await customer_reply(update, context)
    return None


# Entry


async def new_ticket(update: Update, context: SupportContext) -> str:
    """Start a fresh draft and ask for the department."""
    user = context.require_user()
    if update.callback_query is not None:
        await update.callback_query.answer()
    draft = await context.desk.start_draft(user.id)
    return await ask(update, context, DEPARTMENT, draft)


async def follow_up(update: Update, context: SupportContext) -> str | int:
    """Start a new ticket that continues a solved or closed one of the customer's."""
    query = update.callback_query
    assert query is not None
    user = context.require_user()
    callback = TICKETS.unpack(query.data)
    number = callback.number if callback is not None and callback.action == "follow" else None
    old = None if number is None else await context.desk.tickets.get(number)
    if (
        old is None
        or old.customer_id != user.id
        or old.status
        not in (
            Status.SOLVED,
            Status.CLOSED,
        )
    ):
        await stale(query, alert=True)
        return END
    await query.answer()
    prefix = _("Follow-up to {ref}: ").format(ref=old.ref)
    draft = Draft(
        user_id=user.id,
        department=old.department,
        subject=(prefix + old.subject)[:SUBJECT_MAX_CHARS],
        priority=old.priority,
        follow_up_of=old.number,
    )
    notice = _(
        "A follow-up to {ref}: department, subject and priority are taken from it. "
        "You can change them in the review."
    ).format(ref=old.ref)
    return await ask(update, context, MESSAGE, draft, notice)


# Steps


async def _callback(update: Update) -> Callback | None:
    query = update.callback_query
    assert query is not None
    callback = FORM.unpack(query.data)
    if callback is None:
        await stale(query, alert=True)
    return callback


async def department_chosen(update: Update, context: SupportContext) -> str | int:
    """Keep the department and ask for the subject."""
    callback = await _callback(update)
    draft = await _current_draft(update, context)
    if draft is None:
        return END
    if (
        callback is None
        or callback.action != "dep"
        or context.desk.department(callback.arg) is None
    ):
        return await ask(update, context, DEPARTMENT, draft)
    assert update.callback_query is not None
    await update.callback_query.answer()
    draft.department = callback.arg
    dept = context.desk.department(callback.arg)
    chosen = _("<b>Department:</b> {value}").format(
        value=escape(department_label(dept)) if dept else "—"
    )
    return await advance(update, context, draft, DEPARTMENT, chosen)


async def subject_given(update: Update, context: SupportContext) -> str | int:
    """Keep a specific subject; ask again with a hint when it is vague, short or long."""
    assert update.effective_message is not None and update.effective_message.text is not None
    draft = await _current_draft(update, context)
    if draft is None:
        return END
    subject = normalise_subject(await _guarded(update, context, update.effective_message.text))
    problem = check_subject(subject)
    if problem is SubjectProblem.TOO_LONG:
        notice = _(
            "That subject is too long: please keep it to {limit} characters at most."
        ).format(limit=SUBJECT_MAX_CHARS)
        return await ask(update, context, SUBJECT, draft, notice)
    if problem is not None:
        notice = _(
            "That subject is too short or too general for us to route. Say what is wrong and "
            "where, for example “Payment confirmed but top-up not received” or “Cannot log in "
            "to the client area”."
        )
        return await ask(update, context, SUBJECT, draft, notice)
    draft.subject = subject
    if draft.follow_up_of is None and not draft.editing:
        same = await context.desk.similar_open_ticket(draft.user_id, subject)
        if same is not None:
            # Point to the ticket already open about this; the customer may still go on.
            await update.effective_message.reply_text(
                _(
                    "You already have an open ticket about this: {ref} “{subject}”. It is "
                    "best to continue there (/tickets). If this is a different problem, "
                    "just carry on below."
                ).format(ref=same.ref, subject=escape(same.subject)),
                reply_markup=InlineKeyboardMarkup(
                    [
                        [
                            InlineKeyboardButton(
                                _("Open {ref}").format(ref=same.ref),
                                callback_data=TICKETS.pack("open", same.number),
                            )
                        ]
                    ]
                ),
            )
    return await advance(update, context, draft, SUBJECT)


async def priority_chosen(update: Update, context: SupportContext) -> str | int:
    """Keep the priority and ask for the message."""
    callback = await _callback(update)
    draft = await _current_draft(update, context)
    if draft is None:
        return END
    if callback is None or callback.action != "pri" or callback.arg not in set(Priority):
        return await ask(update, context, PRIORITY, draft)
    assert update.callback_query is not None
    await update.callback_query.answer()
    draft.priority = Priority(callback.arg)
    chosen = _("<b>Priority:</b> {value}").format(value=priority_label(draft.priority))
    return await advance(update, context, draft, PRIORITY, chosen)


async def message_given(update: Update, context: SupportContext) -> str | int:
    """Keep the description; a file with a caption counts as both message and attachment."""
    message = update.effective_message
    assert message is not None
    draft = await _current_draft(update, context)
    if draft is None:
        return END
    text = message.text or message.caption or ""
    attachment = attachment_of(message)
    if attachment is not None:
        problem = context.desk.check_file(attachment, draft)
        if problem is not None:
            return await ask(update, context, MESSAGE, draft, file_problem_text(context, problem))
        _add_attachment(draft, attachment)
        await context.desk.save_draft(draft)
    if len(text.strip()) < MESSAGE_MIN_CHARS:
        if attachment is not None:
            notice = _("Got the file. Now please describe the problem in words.")
        else:
            notice = _("Please describe the problem in a little more detail.")
        return await ask(update, context, MESSAGE, draft, notice)
    if len(text) > context.desk.max_text_length:
        notice = _(
            "That message is too long ({length} characters; the limit is {limit}). "
            "Please shorten it, or send the details as a document in the next step."
        ).format(length=len(text), limit=context.desk.max_text_length)
        return await ask(update, context, MESSAGE, draft, notice)
    draft.message = await _guarded(update, context, text.strip())
    # Perhaps the first part of a long paste: the rest may follow at once (see still_here).
    draft.message_part_at = message.date.timestamp() if utf16_len(text) >= PASTE_PART else None
    return await advance(update, context, draft, MESSAGE)


async def _join_paste(update: Update, context: SupportContext, draft: Draft) -> bool:
    """Add a text that follows a long message at once to it: Telegram split one paste."""
    message = update.effective_message
    if (
        message is None
        or message.text is None
        or message.text.startswith("/")
        or draft.message is None
        or draft.message_part_at is None
        or message.date.timestamp() - draft.message_part_at > PASTE_WINDOW
    ):
        return False
    rest = await _guarded(update, context, message.text.strip())
    if len(draft.message) + 1 + len(rest) > MAX_JOINED_MESSAGE:
        return False
    draft.message = f"{draft.message}\n{rest}"
    draft.message_part_at = message.date.timestamp() if utf16_len(rest) >= PASTE_PART else None
    return True


def _add_attachment(draft: Draft, attachment: Attachment) -> None:
    if all(a.file_unique_id != attachment.file_unique_id for a in draft.attachments):
        draft.attachments.append(attachment)


async def file_received(update: Update, context: SupportContext) -> str | int:
    """Attach a photo or document; albums get one acknowledgement when they are complete."""
    message = update.effective_message
    assert message is not None
    draft = await _current_draft(update, context)
    if draft is None:
        return END
    attachment = attachment_of(message)
    assert attachment is not None
    problem = context.desk.check_file(attachment, draft)
    if problem is not None:
        await message.reply_text(
            file_problem_text(context, problem), reply_markup=_attachments_keyboard(draft)
        )
        return ATTACHMENTS
    if message.caption:
        caption = await _guarded(update, context, message.caption)
        # A caption is part of what the customer is telling us: keep it with the message.
        draft.message = f"{draft.message}\n\n{caption}" if draft.message else caption
    _add_attachment(draft, attachment)
    await context.desk.save_draft(draft)
    if attachment.media_group_id is not None and context.job_queue is not None:
        # Telegram delivers an album as one update per file: answer once, after the last.
        name = f"album-ack:{message.chat_id}:{attachment.media_group_id}"
        for job in context.job_queue.get_jobs_by_name(name):
            job.schedule_removal()
        context.job_queue.run_once(
            _album_ack,  # type: ignore[arg-type]  # PTB types jobs with the base context
            ALBUM_ACK_DELAY,
            chat_id=message.chat_id,
            user_id=draft.user_id,
            name=name,
            data=context.locale,
        )
        return ATTACHMENTS
    await message.reply_text(_attached_text(draft), reply_markup=_attachments_keyboard(draft))
    return ATTACHMENTS


def _attached_text(draft: Draft) -> str:
    count = len(draft.attachments)
    return ngettext(
        "Attached. You have %(count)d file so far: send more, or press Done.",
        "Attached. You have %(count)d files so far: send more, or press Done.",
        count,
    ) % {"count": count}


async def _album_ack(context: SupportContext) -> None:
    job = context.job
    assert job is not None and job.chat_id is not None and job.user_id is not None
    with use_locale(str(job.data)):
        draft = await context.desk.draft(job.user_id)
        await context.bot.send_message(
            job.chat_id, _attached_text(draft), reply_markup=_attachments_keyboard(draft)
        )


async def attachments_done(update: Update, context: SupportContext) -> str | int:
    """Finish the attachments step (Done or Skip)."""
    callback = await _callback(update)
    draft = await _current_draft(update, context)
    if draft is None:
        return END
    if callback is None or callback.action not in {"done", "skip"}:
        return await ask(update, context, ATTACHMENTS, draft)
    assert update.callback_query is not None
    await update.callback_query.answer()
    files = ", ".join(escape(_attachment_name(a)) for a in draft.attachments) or _("none")
    chosen = _("<b>Attachments:</b> {value}").format(value=files)
    return await advance(update, context, draft, ATTACHMENTS, chosen)


async def review_action(update: Update, context: SupportContext) -> str | int:
    """Submit the ticket, or go to the edit menu."""
    callback = await _callback(update)
    draft = await _current_draft(update, context)
    if draft is None:
        return END
    query = update.callback_query
    assert query is not None
    if callback is None or callback.action not in {"submit", "edit"}:
        return await ask(update, context, REVIEW, draft)
    await query.answer()
    if callback.action == "edit":
        return await ask(update, context, EDIT, draft)
    if not draft.is_complete:
        # Only possible if the draft was lost under us: start the missing step again.
        missing = next(
            step
            for step, value in (
                (DEPARTMENT, draft.department),
                (SUBJECT, draft.subject),
                (PRIORITY, draft.priority),
                (MESSAGE, draft.message),
            )
            if not value
        )
        return await ask(update, context, missing, draft, _("One step is still missing."))
    # The receipt is owed in the ticket's own transaction (the outbox sends it at once):
    # a kill right after the ticket is stored can't lose it, nor a replay send it twice.
    await context.desk.submit(draft, context.locale)
    return END


async def edit_choice(update: Update, context: SupportContext) -> str | int:
    """Jump to the step the customer wants to change."""
    callback = await _callback(update)
    draft = await _current_draft(update, context)
    if draft is None:
        return END
    if callback is None or callback.action != "goto" or callback.arg not in STEPS:
        return await ask(update, context, EDIT, draft)
    assert update.callback_query is not None
    await update.callback_query.answer()
    draft.editing = callback.arg != REVIEW
    return await ask(update, context, callback.arg, draft)


# Ways out and wrong input


async def cancel(update: Update, context: SupportContext) -> int:
    """Drop the draft and leave the form."""
    user = context.require_user()
    await context.desk.discard_draft(user.id)
    if update.callback_query is not None:
        await update.callback_query.answer()
    assert update.effective_chat is not None
    await context.bot.send_message(
        update.effective_chat.id,
        _("Cancelled. Your draft was discarded and nothing was sent."),
        reply_markup=main_menu(),
    )
    return END


async def still_here(update: Update, context: SupportContext) -> str | int:
    """Answer anything the current step can't use, and ask its question again.

    The draft, written before each question is sent, is the truth about the step: an
    answer that fits the draft's step is handled as that step's answer, so nothing is
    asked twice. A message replayed after a kill into the state it had led to changes
    nothing (a tap on an old button changes nothing anyway).
    """
    draft = await _current_draft(update, context)
    if draft is None:
        return END
    step = draft.step if draft.step in (*STEPS, EDIT) else REVIEW
    if update.update_id in context.bot_data.replayed and update.callback_query is None:
        # Handled before a kill up to its next question, and replayed into the state it
        # led to (see bot.app.after_update): its answer was sent, and it is in the draft.
        return step
    if step != MESSAGE and await _join_paste(update, context, draft):
        joined = _("I added the rest of your long message to it.")
        return await ask(update, context, step, draft, joined)
    for handler in STEP_HANDLERS[step]:
        check = handler.check_update(update)
        if check is not None and check is not False:
            result: str | int = await handler.callback(update, context)
            return result
    query = update.callback_query
    if query is not None:
        # A button of an earlier question (they keep their buttons, see `ask`): the current
        # question is the latest message, so a word is enough.
        await stale(query)
        return step
    if update.effective_message is not None and update.effective_message.text is not None:
        if update.effective_message.text.startswith("/"):
            notice = _(
                "You are in the middle of a new ticket. Carry on below, or send /cancel to stop."
            )
        else:
            notice = _("That doesn't answer this step: please use the buttons below.")
    else:
        notice = {
            ATTACHMENTS: _("I can only attach photos and documents."),
        }.get(step, _("I can't use that here: please answer this step as asked below."))
    return await ask(update, context, step, draft, notice)


_TEXT = filters.TEXT & ~filters.COMMAND
_FILES = filters.PHOTO | filters.Document.ALL
STEP_HANDLERS: dict[object, list[BaseHandler[Update, Any, Any]]] = {
    DEPARTMENT: [CallbackQueryHandler(department_chosen, pattern=FORM.pattern("dep"))],
    SUBJECT: [MessageHandler(_TEXT, subject_given)],
    PRIORITY: [CallbackQueryHandler(priority_chosen, pattern=FORM.pattern("pri"))],
    MESSAGE: [MessageHandler(_TEXT | _FILES, message_given)],
    ATTACHMENTS: [
        MessageHandler(_FILES, file_received),
        CallbackQueryHandler(attachments_done, pattern=FORM.pattern("done", "skip", bare=True)),
    ],
    REVIEW: [
        CallbackQueryHandler(review_action, pattern=FORM.pattern("submit", "edit", bare=True))
    ],
    EDIT: [CallbackQueryHandler(edit_choice, pattern=FORM.pattern("goto"))],
}


def build() -> ConversationHandler[SupportContext]:
    """The `/new` conversation, persistent, per chat and user.

    No `conversation_timeout`: PTB keeps a job (holding the update and its context) per
    open form for it, and loses it at a restart. The draft's stored time is the deadline
    instead, which the sweeper enforces (handlers/sweeper.py).
    """
    cb = FORM.pattern()
    return ConversationHandler(
        entry_points=[
            CommandHandler("new", new_ticket, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(new_ticket, pattern=MENU.pattern("new", bare=True)),
            CallbackQueryHandler(follow_up, pattern=TICKETS.pattern("follow")),
        ],
        states={
            **STEP_HANDLERS,
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=FORM.pattern("cancel", bare=True)),
            CallbackQueryHandler(still_here, pattern=cb),
            CallbackQueryHandler(still_here),
            MessageHandler(filters.ALL & ~filters.UpdateType.EDITED, still_here),
        ],
        name="new_ticket",
        persistent=True,
        per_chat=True,
        per_user=True,
        per_message=False,
        allow_reentry=False,
    )


def register(application: SupportApp) -> None:
    application.add_handler(build())

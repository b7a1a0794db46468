"""The form's steps: what each step takes from the customer, kept in their draft.

Department → subject → priority → message → attachments → review (and the edit menu).
Every answer is saved in the customer's draft before the next question (`questions.ask`).
`STEP_HANDLERS` maps each step to the handlers that take its answer.
"""

from __future__ import annotations

import contextlib
import logging
from html import escape
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot.channels.telegram.context import SupportContext
from bot.domain.models import Attachment, Draft, Priority
from bot.domain.validation import (
    MESSAGE_MIN_CHARS,
    SUBJECT_MAX_CHARS,
    SubjectProblem,
    check_subject,
    normalise_subject,
)
from bot.fit import PASTE_PART, PASTE_WINDOW, utf16_len
from bot.i18n import gettext as _
from bot.i18n import ngettext, use_locale
from bot.texts import department_label, priority_label
from handlers.callbacks import FORM, TICKETS, Callback, stale
from handlers.customers.customer_replies import customer_reply
from handlers.customers.new_ticket.questions import (
    ATTACHMENTS,
    DEPARTMENT,
    EDIT,
    END,
    MESSAGE,
    PRIORITY,
    REVIEW,
    STEPS,
    SUBJECT,
    advance,
    ask,
    attachment_name,
    attachments_keyboard,
)
from handlers.media import ALBUM_ACK_DELAY, attachment_of, file_problem_text, fraud_notice

log = logging.getLogger(__name__)

MAX_JOINED_MESSAGE = 4 * 4096  # a paste Telegram split into up to four parts


async def _guarded(update: Update, context: SupportContext, text: str) -> str:
    guarded = context.desk.guard_text(text)
    if guarded.flagged:
        await fraud_notice(update, guarded.card_masked, guarded.otp_masked)
    return guarded.text


async def current_draft(update: Update, context: SupportContext) -> Draft | None:
    """The customer's saved draft; None if it has expired (the form is then over).

    A form can outlive its draft only across a restart (PTB's timeout is not restored):
    the sweeper discarded the draft and told the customer. What they send now is handled
    as if no form were open.
    """
    user = context.require_user()
    draft = await context.desk.saved_draft(user.id)
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
    draft = await current_draft(update, context)
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
    draft = await current_draft(update, context)
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
    draft = await current_draft(update, context)
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
    draft = await current_draft(update, context)
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
    # Perhaps the first part of a long paste: the rest may follow at once (see edges.still_here).
    draft.message_part_at = message.date.timestamp() if utf16_len(text) >= PASTE_PART else None
    return await advance(update, context, draft, MESSAGE)


async def join_paste(update: Update, context: SupportContext, draft: Draft) -> bool:
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
    draft = await current_draft(update, context)
    if draft is None:
        return END
    attachment = attachment_of(message)
    assert attachment is not None
    problem = context.desk.check_file(attachment, draft)
    if problem is not None:
        await message.reply_text(
            file_problem_text(context, problem), reply_markup=attachments_keyboard(draft)
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
    await message.reply_text(_attached_text(draft), reply_markup=attachments_keyboard(draft))
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
            job.chat_id, _attached_text(draft), reply_markup=attachments_keyboard(draft)
        )


async def attachments_done(update: Update, context: SupportContext) -> str | int:
    """Finish the attachments step (Done or Skip)."""
    callback = await _callback(update)
    draft = await current_draft(update, context)
    if draft is None:
        return END
    if callback is None or callback.action not in {"done", "skip"}:
        return await ask(update, context, ATTACHMENTS, draft)
    assert update.callback_query is not None
    await update.callback_query.answer()
    files = ", ".join(escape(attachment_name(a)) for a in draft.attachments) or _("none")
    chosen = _("<b>Attachments:</b> {value}").format(value=files)
    return await advance(update, context, draft, ATTACHMENTS, chosen)


async def review_action(update: Update, context: SupportContext) -> str | int:
    """Submit the ticket, or go to the edit menu."""
    callback = await _callback(update)
    draft = await current_draft(update, context)
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
    draft = await current_draft(update, context)
    if draft is None:
        return END
    if callback is None or callback.action != "goto" or callback.arg not in STEPS:
        return await ask(update, context, EDIT, draft)
    assert update.callback_query is not None
    await update.callback_query.answer()
    draft.editing = callback.arg != REVIEW
    return await ask(update, context, callback.arg, draft)


# Ways out and wrong input


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

"""The form's edges: the ways in (`/new`, the menu's New ticket, Follow-up), the way out
(`/cancel`), and whatever the open step can't use (`still_here`)."""

from __future__ import annotations

from telegram import Update

from bot.channels.telegram.context import SupportContext
from bot.domain.models import Draft, Status
from bot.domain.validation import SUBJECT_MAX_CHARS
from bot.i18n import gettext as _
from handlers.callbacks import TICKETS, stale
from handlers.customers.new_ticket.questions import (
    ATTACHMENTS,
    DEPARTMENT,
    EDIT,
    END,
    MESSAGE,
    REVIEW,
    STEPS,
    ask,
)
from handlers.customers.new_ticket.steps import STEP_HANDLERS, current_draft, join_paste
from handlers.keyboards import main_menu

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
    old = None if number is None else await context.desk.ticket(number)
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
    draft = await current_draft(update, context)
    if draft is None:
        return END
    step = draft.step if draft.step in (*STEPS, EDIT) else REVIEW
    if update.update_id in context.bot_data.replayed and update.callback_query is None:
        # Handled before a kill up to its next question, and replayed into the state it
        # led to (see bot.app.after_update): its answer was sent, and it is in the draft.
        return step
    if step != MESSAGE and await join_paste(update, context, draft):
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

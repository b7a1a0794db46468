"""The customers' data and the trails, for an operator: /forget (anonymize a customer, after
a confirmation), /audit (a ticket's trail, or the desk's own), and the operators' buttons
that confirm a /forget or turn an /audit page."""

from __future__ import annotations

import contextlib
import html
from collections.abc import Callable
from datetime import date

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.channels.telegram.context import SupportContext
from bot.config import SUPPORTED_LOCALES
from bot.domain.audit import REPLY, DeskAction, DeskActor, DeskEvent, ticket_trail
from bot.domain.export import EXPORT_PERIODS
from bot.domain.models import Author, Priority, Status
from bot.i18n import N_, format_day, format_number, format_time, ngettext
from bot.i18n import gettext as _
from bot.texts import agent_status_label, forgotten_texts, language_in_text, priority_label
from handlers.answers import answer_agent
from handlers.callbacks import OPERATORS, parse_id, stale
from handlers.operators.common import answer, in_staff_chat

# The actions of the operators' buttons (callbacks.OPERATORS): confirm or keep a /forget,
# turn an /audit page (a ticket's, or the desk's own trail).
FORGET, KEEP, AUDIT, DESK_AUDIT = "forget", "keep", "audit", "desk"
AUDIT_PAGE = 10  # events a page: a page stays well within one message


async def _show(
    update: Update,
    context: SupportContext,
    text: str,
    keyboard: InlineKeyboardMarkup | None = None,
) -> None:
    """Show `text` in place of the pressed button's message (the agents' chat: outbox)."""
    query = update.callback_query
    assert query is not None and query.message is not None
    chat_id = query.message.chat.id
    if query.message.chat.type == Chat.PRIVATE:
        await context.bot.edit_message_text(
            text, chat_id=chat_id, message_id=query.message.message_id, reply_markup=keyboard
        )
    else:
        await context.desk.answer_agent(
            chat_id,
            text,
            keyboard=keyboard.to_dict() if keyboard is not None else None,
            edit_message_id=query.message.message_id,
        )


async def _reply(
    update: Update, context: SupportContext, text: str, keyboard: InlineKeyboardMarkup
) -> None:
    message = update.effective_message
    assert message is not None
    if message.chat.type == Chat.PRIVATE:
        await message.reply_text(text, reply_markup=keyboard)
    else:
        await answer_agent(context, message, text, keyboard=keyboard)


def _forget_usage() -> str:
    return _("Give the customer's user id: /forget 123456789.")


async def forget(update: Update, context: SupportContext) -> None:
    """Ask to confirm anonymizing a customer (/forget <user id>)."""
    if not await in_staff_chat(update, context):
        return
    args = context.args or []
    if len(args) != 1 or not args[0].isdigit():
        await answer(update, context, _forget_usage())
        return
    user_id = int(args[0])
    customer = await context.desk.user(user_id)
    if customer is None:
        await answer(update, context, _("No customer has the user id {id}.").format(id=user_id))
        return
    count = await context.desk.customer_ticket_count(user_id)
    question = ngettext(
        "Forget {name} (user id {id}, %(count)s ticket)? Their name, username and the text "
        "of every message are replaced and their files dropped; the ticket and the figures "
        "stay. This can't be undone.",
        "Forget {name} (user id {id}, %(count)s tickets)? Their name, username and the text "
        "of every message are replaced and their files dropped; the tickets and the figures "
        "stay. This can't be undone.",
        count,
    ) % {"count": format_number(count)}
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    _("Forget them"), callback_data=OPERATORS.pack(FORGET, user_id)
                ),
                InlineKeyboardButton(_("Keep"), callback_data=OPERATORS.pack(KEEP, user_id)),
            ]
        ]
    )
    text = question.format(name=html.escape(customer.display_name), id=user_id)
    await _reply(update, context, text, keyboard)


async def _operator_pressed(update: Update, context: SupportContext) -> bool:
    query = update.callback_query
    assert query is not None
    user = update.effective_user
    if user is None or not context.desk.is_operator(user.id) or query.message is None:
        await query.answer(_("Only operators can do that."), show_alert=True)
        return False
    return True


async def operator_pressed(update: Update, context: SupportContext) -> None:
    """Confirm or keep a /forget, or turn an /audit page."""
    query = update.callback_query
    assert query is not None
    callback = OPERATORS.unpack(query.data)
    if callback is None:
        await stale(query, alert=True)
        return
    if not await _operator_pressed(update, context):
        return
    if callback.action == DESK_AUDIT:
        if callback.number is None:
            await stale(query, alert=True)
            return
        await query.answer()
        text, keyboard = await _desk_audit_page(context, callback.number)
        await _show(update, context, text, keyboard)
        return
    if callback.action == AUDIT:
        number, _sep, page = callback.arg.partition(".")
        if not number.isdigit() or not page.isdigit():
            await stale(query, alert=True)
            return
        await query.answer()
        text, keyboard = await _audit_page(context, int(number), int(page))
        await _show(update, context, text, keyboard)
        return
    if not callback.arg.isdigit():
        await stale(query, alert=True)
        return
    user_id = int(callback.arg)
    if callback.action == KEEP:
        await query.answer()
        await _show(update, context, _("Nothing was changed."))
        return
    marker, name = forgotten_texts()
    assert update.effective_user is not None
    done = await context.desk.forget(user_id, update.effective_user.id, marker=marker, name=name)
    await query.answer()
    if done is None:
        await _show(update, context, _("No customer has the user id {id}.").format(id=user_id))
        return
    await _show(
        update,
        context,
        ngettext(
            "Customer %(id)s is forgotten: %(count)s ticket kept without their texts. "
            "They are told, if they can still be reached.",
            "Customer %(id)s is forgotten: %(count)s tickets kept without their texts. "
            "They are told, if they can still be reached.",
            len(done.tickets),
        )
        % {"id": user_id, "count": format_number(len(done.tickets))},
    )


def _audit_usage() -> str:
    return _(
        "Give a ticket's number for its trail (/audit 1001), or nothing for the desk's own "
        "trail: bans, languages, the agents' chat, forgotten customers, exports."
    )


_EVENT_TEXTS = {
    "created": N_("opened the ticket"),
    "first_response": N_("answered for the first time"),
    REPLY: N_("answered the customer"),
    "note": N_("added an internal note"),
    "edit": N_("edited a message"),
    "unreachable": N_("found the customer unreachable (the bot is blocked)"),
    "forgotten": N_("forgot the customer at their request"),
}


async def _who(context: SupportContext, actor: Author, actor_id: int | None) -> str:
    if actor is Author.CUSTOMER:
        return _("the customer")
    if actor is Author.SYSTEM or actor_id is None:
        return _("the desk")
    user = await context.desk.user(actor_id)
    return f"{user.display_name} ({actor_id})" if user is not None else str(actor_id)


def _what(kind: str, after: str | None) -> str:
    """The event in words; an unknown kind (a newer bot's) by its name."""
    if kind == "status" and after is not None and after in set(Status):
        return _("changed the status to {status}").format(status=agent_status_label(Status(after)))
    if kind == "priority" and after is not None and after in set(Priority):
        return _("changed the priority to {priority}").format(
            priority=priority_label(Priority(after))
        )
    if kind == "assignee":
        return _("assigned the ticket to {agent}").format(agent=after or "—")
    if kind == "rating":
        return _("rated it {score} of 5").format(score=after or "—")
    known = _EVENT_TEXTS.get(kind)
    return _(known) if known else kind


async def _audit_page(
    context: SupportContext, number: int, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    events = ticket_trail(
        await context.desk.trail(number),
        await context.desk.ticket_messages(number, include_internal=False),
    )
    if not events:
        return _("There is no ticket #{number}.").format(number=number), None
    pages = -(-len(events) // AUDIT_PAGE)
    page = min(max(page, 0), pages - 1)
    shown = events[page * AUDIT_PAGE : (page + 1) * AUDIT_PAGE]
    tz = context.desk.timezone
    lines = [
        "<b>"
        + html.escape(
            _("Ticket #{number}: its trail, page {page} of {pages}").format(
                number=number, page=page + 1, pages=pages
            )
        )
        + "</b>"
    ]
    for event in shown:
        who = await _who(context, event.actor, event.actor_id)
        what = _what(event.kind, event.to_value)
        lines.append(html.escape(f"{format_time(event.created_at, tz)} · {who}: {what}"))
    keyboard = _turn_pages(page, pages, lambda to: OPERATORS.pack(AUDIT, f"{number}.{to}"))
    return "\n".join(lines), keyboard


def _turn_pages(page: int, pages: int, data: Callable[[int], str]) -> InlineKeyboardMarkup | None:
    """‹ Earlier and Later › where there is such a page; None on a trail's only page."""
    buttons = []
    if page > 0:
        buttons.append(InlineKeyboardButton(_("‹ Earlier"), callback_data=data(page - 1)))
    if page < pages - 1:
        buttons.append(InlineKeyboardButton(_("Later ›"), callback_data=data(page + 1)))
    return InlineKeyboardMarkup([buttons]) if buttons else None


async def _customer(context: SupportContext, user_id: str | None) -> str:
    """A customer of the desk's trail by name and id (the trail keeps the id only)."""
    number = parse_id(user_id)
    if number is None:
        return user_id or "—"
    return await _who(context, Author.AGENT, number)


def _language(code: str | None) -> str:
    return language_in_text(code) if code in SUPPORTED_LOCALES else code or "—"


async def _desk_who(context: SupportContext, event: DeskEvent) -> str:
    if event.actor is DeskActor.COMMAND_LINE:
        return _("the command line on the server")
    return await _who(
        context, Author.AGENT if event.actor is DeskActor.AGENT else Author.SYSTEM, event.actor_id
    )


def _export_what(after: str | None) -> str:
    period, _sep, full = (after or "").partition(" ")
    if period == "since":  # on the server: `python -m bot export --since YYYY-MM-DD`
        day, _sep, full = full.partition(" ")
        with contextlib.suppress(ValueError):
            day = format_day(date.fromisoformat(day))
        if full:
            return _("exported the tickets opened since {day}, with their messages").format(day=day)
        return _("exported the tickets opened since {day}").format(day=day)
    days = EXPORT_PERIODS.get(period)
    if days is None:
        if full:
            return _("exported every ticket, with their messages")
        return _("exported every ticket")
    if full:
        text = ngettext(
            "exported the tickets of the last %(days)s day, with their messages",
            "exported the tickets of the last %(days)s days, with their messages",
            days,
        )
    else:
        text = ngettext(
            "exported the tickets of the last %(days)s day",
            "exported the tickets of the last %(days)s days",
            days,
        )
    return text % {"days": format_number(days)}


async def _desk_what(context: SupportContext, event: DeskEvent) -> str:
    """A desk-wide event in words; an unknown kind (a newer bot's) by its name."""
    before, after = event.from_value, event.to_value
    match event.kind:
        case DeskAction.BAN:
            return _("banned the customer {customer}").format(
                customer=await _customer(context, after)
            )
        case DeskAction.UNBAN:
            return _("lifted the ban on the customer {customer}").format(
                customer=await _customer(context, after)
            )
        case DeskAction.FORGET:
            return _("forgot the customer {customer} at their request").format(
                customer=await _customer(context, after)
            )
        case DeskAction.DEFAULT_LOCALE:
            return _(
                "set the language for customers whose own we don't speak to {language} "
                "(it was {before})"
            ).format(language=_language(after), before=_language(before))
        case DeskAction.ADMIN_LOCALE:
            return _("set the agents' chat's language to {language} (it was {before})").format(
                language=_language(after), before=_language(before)
            )
        case DeskAction.BIND if before is None or before == after:
            return _("made the chat {chat} the agents' chat").format(chat=after)
        case DeskAction.BIND:
            return _("made the chat {chat} the agents' chat in place of {old}").format(
                chat=after, old=before
            )
        case DeskAction.EXPORT:
            return _export_what(after)
    return event.kind


async def _desk_audit_page(
    context: SupportContext, page: int | None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """A page of the desk's own trail, oldest first; None: the last page, the newest."""
    events, page, pages = await context.desk.desk_trail_page(page, AUDIT_PAGE)
    if not events:
        return _("Nothing has been recorded for the desk yet."), None
    tz = context.desk.timezone
    title = _("The desk's trail, page {page} of {pages}").format(
        page=format_number(page + 1), pages=format_number(pages)
    )
    lines = [f"<b>{html.escape(title)}</b>"]
    for event in events:
        who = await _desk_who(context, event)
        what = await _desk_what(context, event)
        lines.append(html.escape(f"{format_time(event.created_at, tz)} · {who}: {what}"))
    keyboard = _turn_pages(page, pages, lambda to: OPERATORS.pack(DESK_AUDIT, to))
    return "\n".join(lines), keyboard


async def audit(update: Update, context: SupportContext) -> None:
    """Show a ticket's full trail of events, who and when, paged (/audit <number>); without
    a number, the desk's own trail, from its newest page."""
    if not await in_staff_chat(update, context):
        return
    args = context.args or []
    number = parse_id(args[0]) if len(args) == 1 else None
    if args and number is None:
        await answer(update, context, _audit_usage())
        return
    if number is None:
        text, keyboard = await _desk_audit_page(context, None)
    else:
        text, keyboard = await _audit_page(context, number, 0)
    message = update.effective_message
    assert message is not None
    if keyboard is None:
        await answer(update, context, text)
    else:
        await _reply(update, context, text, keyboard)

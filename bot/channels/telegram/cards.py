"""A ticket's card in the agents' chat: its text and its buttons.

The relay (bot/channels/telegram/relay.py) posts and edits the card; /ticket shows it again
(handlers/agents/commands.py). Both render it in the admin chat's locale.
"""

from __future__ import annotations

from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.compose import StoredDesk
from bot.domain.channels import masked_number, whatsapp_number
from bot.domain.models import Status, Ticket, User
from bot.fit import clip_plain
from bot.i18n import format_duration, format_time, language_name
from bot.i18n import gettext as _
from bot.texts import agent_status_label, department_label, priority_label, whatsapp_status_label
from handlers.callbacks import CARD_BUTTONS

CARD_BODY_BUDGET = 2500  # of the customer's first message, on the card (all of it is stored)


async def card_text(desk: StoredDesk, ticket: Ticket, customer: User | None) -> str:
    """The card's text, in the current locale (the caller sets the admin chat's)."""
    dept = desk.department(ticket.department)
    messages = await desk.ticket_messages(ticket.number, include_internal=False)
    first = next((m for m in messages if m.edit_of is None), None)
    who = escape(customer.display_name) if customer else str(ticket.customer_id)
    if customer and customer.username:
        who += f" (@{escape(customer.username)})"
    number = whatsapp_number(ticket.customer_id)
    if number is not None:
        who += " · " + _("WhatsApp {number}").format(number=masked_number(number))
    assignee = "—"
    if ticket.assignee_id is not None:
        agent = await desk.user(ticket.assignee_id)
        assignee = escape(agent.display_name) if agent else str(ticket.assignee_id)
    zone = desk.timezone
    due, answered = ticket.first_response_due_at, ticket.first_response_at
    # Once answered, the due time is history: say when the answer came, and if in time.
    if answered is None:
        first_answer = _("<b>First answer due:</b> {when}").format(when=format_time(due, zone))
    elif answered <= due:
        first_answer = _("<b>First answer:</b> {when}, in time").format(
            when=format_time(answered, zone)
        )
    else:
        first_answer = _("<b>First answer:</b> {when}, {late} late").format(
            when=format_time(answered, zone), late=format_duration(answered - due)
        )
    lines = [
        _("🎫 <b>Ticket {ref}</b> · {status}").format(
            ref=ticket.ref, status=agent_status_label(ticket.status)
        ),
        _("<b>Department:</b> {value}").format(
            value=escape(department_label(dept)) if dept else escape(ticket.department)
        ),
        _("<b>Priority:</b> {value}").format(value=priority_label(ticket.priority)),
        first_answer,
        _("<b>Customer:</b> {who} · {language}").format(
            who=who, language=language_name(ticket.locale)
        ),
        _("<b>Assignee:</b> {value}").format(value=assignee),
    ]
    if ticket.follow_up_of is not None:
        lines.append(_("<b>Follow-up of:</b> #{number}").format(number=ticket.follow_up_of))
    rating = await desk.rating(ticket.number)
    if rating is not None:
        line = _("<b>Rating:</b> {stars} ({score}/5)").format(
            stars="★" * rating.score + "☆" * (5 - rating.score), score=rating.score
        )
        if rating.comment:
            line += f" · “{escape(rating.comment)}”"
        lines.append(line)
    if number is not None:
        delivery = await desk.whatsapp_delivery(ticket.number)
        if delivery is not None:
            status, error = delivery
            line = _("<b>WhatsApp:</b> {status}").format(status=whatsapp_status_label(status))
            lines.append(line + (f" ({escape(error)})" if error else ""))
    if ticket.customer_unreachable:
        lines.append(_("⚠️ <b>Undeliverable:</b> the customer has blocked the bot."))
    lines += ["", f"<b>{escape(ticket.subject)}</b>"]
    if first is not None:
        lines.append(escape(clip_plain(first.body, CARD_BODY_BUDGET)))
    return "\n".join(lines)


def card_keyboard(ticket: Ticket) -> InlineKeyboardMarkup | None:
    """The card's buttons for the ticket's status: none once it is closed."""
    n = ticket.number
    if ticket.status is Status.CLOSED:
        return None
    if ticket.status is Status.SOLVED:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        _("↩️ Reopen"), callback_data=CARD_BUTTONS.pack("reopen", n)
                    ),
                    InlineKeyboardButton(
                        _("🔒 Close"), callback_data=CARD_BUTTONS.pack("close", n)
                    ),
                ]
            ]
        )
    rows = [
        [
            InlineKeyboardButton(_("✅ Solve"), callback_data=CARD_BUTTONS.pack("solve", n)),
            InlineKeyboardButton(_("🔒 Close"), callback_data=CARD_BUTTONS.pack("close", n)),
        ]
    ]
    if ticket.assignee_id is None:
        # Taken is taken: the card names the assignee, and /assign still reassigns.
        rows.insert(
            0,
            [InlineKeyboardButton(_("🙋 Take it"), callback_data=CARD_BUTTONS.pack("assign", n))],
        )
    return InlineKeyboardMarkup(rows)

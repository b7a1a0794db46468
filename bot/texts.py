"""Localized names of the desk's values: departments, priorities, statuses, targets.

The msgids are marked with `N_()` here and translated when shown, in the current locale.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape

from bot.config import BUILTIN_DEPARTMENTS, Department, ResponseTarget
from bot.domain.lifecycle import Action
from bot.domain.models import Priority, Status, Ticket
from bot.i18n import N_, current_locale, format_duration, format_time, gettext, ngettext

_DEPARTMENT_LABELS = {
    "technical": N_("Technical Support"),
    "billing": N_("Billing & Payments"),
    "sales": N_("Sales & Marketing"),
}
_DEPARTMENT_HINTS = {
    "technical": N_(
        "Anything technical: a website error, email not working, a server down, "
        "configuration questions."
    ),
    "billing": N_(
        "Money matters: payment confirmation, invoices, renewals, refunds, billing mistakes."
    ),
    "sales": N_(
        "Before you buy: plan details, custom quotes, upgrades or downgrades, partnerships."
    ),
}
_PRIORITY_LABELS = {
    Priority.LOW: N_("Low"),
    Priority.MEDIUM: N_("Medium"),
    Priority.HIGH: N_("High"),
    Priority.CRITICAL: N_("Critical"),
}
_PRIORITY_MEANING = {
    Priority.LOW: N_("a request for information"),
    Priority.MEDIUM: N_("a minor bug or a question about a feature"),
    Priority.HIGH: N_("a main function is disrupted"),
    Priority.CRITICAL: N_("the service is unavailable"),
}
_STATUS_LABELS = {
    Status.OPEN: N_("Open"),
    Status.PENDING: N_("Waiting for your reply"),
    Status.SOLVED: N_("Solved"),
    Status.CLOSED: N_("Closed"),
}


def department_label(dept: Department) -> str:
    if dept.key in BUILTIN_DEPARTMENTS:
        return gettext(_DEPARTMENT_LABELS[dept.key])
    return dept.labels.get(current_locale()) or dept.labels.get("en") or dept.key


def department_hint(dept: Department) -> str:
    if dept.key in BUILTIN_DEPARTMENTS:
        return gettext(_DEPARTMENT_HINTS[dept.key])
    return dept.hints.get(current_locale(), "")


def priority_label(priority: Priority) -> str:
    return gettext(_PRIORITY_LABELS[priority])


def priority_meaning(priority: Priority) -> str:
    return gettext(_PRIORITY_MEANING[priority])


# A language as named inside a sentence of the current locale: "svenska" and "bahasa
# Indonesia" are written so mid-sentence, unlike the self-names on the language buttons.
_LANGUAGE_IN_TEXT = {
    "en": N_("English"),
    "id": N_("Indonesian"),
    "sv": N_("Swedish"),
}


def language_in_text(locale: str) -> str:
    """The language's name for use in a sentence of the current locale ("svenska")."""
    return gettext(_LANGUAGE_IN_TEXT[locale])


_AGENT_STATUS_LABELS = {
    Status.OPEN: N_("Open"),
    Status.PENDING: N_("Waiting for the customer"),
    Status.SOLVED: N_("Solved"),
    Status.CLOSED: N_("Closed"),
}


def agent_signature(team_name: str | None, agent_name: str | None) -> str:
    """Who an agent's message is from, as the customer reads it wherever it is shown.

    `TEAM_NAME` when it is set, else the agent's first name, else the team in general.
    """
    return team_name or agent_name or gettext("Support team")


def status_label(status: Status) -> str:
    """The status as the customer reads it ("Waiting for your reply")."""
    return gettext(_STATUS_LABELS[status])


def agent_status_label(status: Status) -> str:
    """The status as the agents read it ("Waiting for the customer")."""
    return gettext(_AGENT_STATUS_LABELS[status])


def _whole_units(delta: timedelta) -> tuple[int, str] | None:
    """(n, unit) when `delta` is a whole number of days or hours, else None."""
    seconds = int(delta.total_seconds())
    if seconds % 86400 == 0:
        return seconds // 86400, "days"
    if seconds % 3600 == 0:
        return seconds // 3600, "hours"
    return None


def target_text(target: ResponseTarget) -> str:
    """Say a response target the way the support policy does: "4–6 hours", "1–2 business days"."""
    if target.business_hours:
        low = max(1, round(target.lower / timedelta(days=1)))
        high = max(low, round(target.due / timedelta(days=1)))
        if low == high:
            return ngettext("%(n)d business day", "%(n)d business days", high) % {"n": high}
        return ngettext("%(low)d–%(high)d business day", "%(low)d–%(high)d business days", high) % {
            "low": low,
            "high": high,
        }
    low_units, high_units = _whole_units(target.lower), _whole_units(target.due)
    if target.lower == target.due or low_units is None or high_units is None:
        return format_duration(target.due)
    if high_units[1] == "hours" or low_units[1] != high_units[1]:
        lo, hi = int(target.lower / timedelta(hours=1)), int(target.due / timedelta(hours=1))
        return ngettext("%(low)d–%(high)d hour", "%(low)d–%(high)d hours", hi) % {
            "low": lo,
            "high": hi,
        }
    return ngettext("%(low)d–%(high)d day", "%(low)d–%(high)d days", high_units[0]) % {
        "low": low_units[0],
        "high": high_units[0],
    }


def forgotten_texts() -> tuple[str, str]:
    """What replaces a forgotten customer's texts and their name, in the current locale."""
    return gettext("(removed at the customer's request)"), gettext("Forgotten customer")


def receipt_text(
    ticket: Ticket, dept: Department | None, target: ResponseTarget, timezone: str
) -> str:
    """What a customer is told once their ticket is stored: its number and what to expect."""
    return "\n".join(
        [
            gettext("✅ Thank you! Your ticket <b>{ref}</b> has been received.").format(
                ref=ticket.ref
            ),
            "",
            gettext("<b>Department:</b> {value}").format(
                value=escape(department_label(dept)) if dept else ticket.department
            ),
            gettext(
                "<b>Priority:</b> {priority}: we aim to answer within {target}, by {due}."
            ).format(
                priority=priority_label(ticket.priority),
                target=target_text(target),
                due=format_time(ticket.first_response_due_at, timezone),
            ),
            "",
            gettext(
                "Every answer from our team will arrive in this chat, marked {ref}. "
                "Please keep this problem in this ticket rather than opening a new one."
            ).format(ref=ticket.ref),
        ]
    )


def welcome_text(first_name: str) -> str:
    return gettext(
        "Hello, {name}! This is the support desk.\n\n"
        "Open a ticket and our team will answer you right here. "
        "You can follow your tickets in this chat at any time."
    ).format(name=escape(first_name))


def help_text() -> str:
    return gettext(
        "<b>How this desk works</b>\n\n"
        "/new: open a ticket (department, subject, priority, message, files)\n"
        "/tickets: your tickets and their status\n"
        "/faq: answers to common questions\n"
        "/language: change the language\n"
        "/cancel: stop what you are doing\n\n"
        "Every answer from our team arrives here, with the ticket number. "
        "Please keep one problem in one ticket instead of opening a new one.\n\n"
        "We will never ask for your password or a one-time code (OTP)."
    )


def cap_lines(limit: int, active: Sequence[Ticket]) -> list[str]:
    """Why no new ticket can be opened: the cap, and the tickets that reach it."""
    lines = [
        ngettext(
            "You already have %(count)d open ticket, the most one customer can have at "
            "once. Please continue in it, or close it if you no longer need it:",
            "You already have %(count)d open tickets, the most one customer can have at "
            "once. Please continue in one of them, or close one you no longer need:",
            limit,
        )
        % {"count": limit},
        "",
    ]
    lines += [
        f"<b>{ticket.ref}</b> {escape(ticket.subject)} · {status_label(ticket.status)}"
        for ticket in active
    ]
    return lines


def signed(ticket: Ticket, name: str) -> str:
    """The header of an agent's message to a customer."""
    return gettext("💬 <b>{ref}</b> · {name}").format(ref=ticket.ref, name=escape(name))


def status_notice(ticket: Ticket, status: Status, action: str | None) -> str:
    """What a customer is told when their ticket's status changes."""
    if action == Action.AUTO_SOLVE.value:
        text = gettext(
            "ℹ️ We haven't heard from you, so your ticket <b>{ref}</b> is now marked as "
            "solved. If you still need help, just reply to this message."
        ).format(ref=ticket.ref)
    elif action == Action.AUTO_CLOSE.value:
        text = gettext(
            "ℹ️ Your ticket <b>{ref}</b> is now closed. To continue, open a follow-up from /tickets."
        ).format(ref=ticket.ref)
    else:
        text = gettext("ℹ️ Your ticket <b>{ref}</b> is now: {status}.").format(
            ref=ticket.ref, status=status_label(status)
        )
        if status is Status.SOLVED:
            text += "\n" + gettext(
                "If something is still wrong, reply to this message and the ticket opens again."
            )
        elif status is Status.CLOSED:
            text += "\n" + gettext("To continue, open a follow-up from /tickets.")
    return text


def solve_reminder_text(ticket: Ticket, solve_at: datetime, timezone: str) -> str:
    """The reminder before a ticket waiting for the customer is marked solved."""
    return gettext(
        "⏳ We are waiting for your reply on ticket <b>{ref}</b>. If we don't hear from "
        "you by {when}, we will mark it as solved. Reply to this message to keep it open."
    ).format(ref=ticket.ref, when=format_time(solve_at, timezone))


def draft_expired_text() -> str:
    """What a customer is told when the sweeper closed their idle form."""
    return gettext(
        "Your new ticket was left idle for a long time, so I closed the form. "
        "Nothing was sent. Start again with /new whenever you are ready."
    )


def forgotten_text() -> str:
    """What a customer is told once their data was anonymized at their request."""
    return gettext(
        "As you asked, we have removed your name and the texts of your messages "
        "from our support desk. Your ticket numbers remain, without their "
        "content. If you write to us again, we will keep what you send then."
    )


_WHATSAPP_STATUSES = {
    "accepted": N_("accepted"),
    "sent": N_("sent"),
    "delivered": N_("delivered"),
    "read": N_("read"),
    "failed": N_("failed"),
}


def whatsapp_status_label(status: str) -> str:
    """Where the last message to a WhatsApp customer got, as the agents read it."""
    label = _WHATSAPP_STATUSES.get(status)
    return gettext(label) if label is not None else status


def slow_down_text(ticket: Ticket | None) -> str:
    """A customer over the flood limit is told once, and kept quietly after."""
    if ticket is None:
        return gettext(
            "You are sending messages faster than I can answer them. Please wait a minute "
            "before you send more."
        )
    return gettext(
        "You are sending messages faster than I can answer them. I'll keep what you send "
        "on your ticket {ref} without answering each message; our team reads it all. "
        "Please wait a minute before you send more."
    ).format(ref=ticket.ref)

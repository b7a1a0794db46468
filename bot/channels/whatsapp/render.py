"""The desk's questions and menus in WhatsApp's shapes (`bot/channels/whatsapp/shapes.py`).

The texts are the catalogs' (the same as on Telegram, `bot/form_text.py`, `bot/texts.py`);
only the options differ: the departments as reply buttons, the priorities and the review's
"change which step" as a list. An option's id says what it is:

- `f:<choice>:<arg>`: the form's (`bot.domain.intake.Choice`);
- `m:<item>`: the main menu (new, tickets, faq, lang);
- `t:<n>` a ticket to show, `c:<n>` close it, `o:<n>` reopen it, `u:<n>` a follow-up;
- `r:<n>:<score>` a rating, `q:<key>` an FAQ answer, `l:<locale>` a language.
"""

from __future__ import annotations

from html import escape

from bot.channels.whatsapp.shapes import BUTTONS_AT_MOST, ROWS_AT_MOST, Reply, Row
from bot.compose import StoredDesk
from bot.config import SUPPORTED_LOCALES
from bot.domain.intake import STEPS, Ask, Choice, Step
from bot.domain.models import Draft, Priority, Status, Ticket
from bot.form_text import (
    chosen_text,
    message_question_text,
    notice_text,
    review_text,
    step_title,
    subject_question_text,
)
from bot.i18n import gettext as _
from bot.i18n import language_name
from bot.texts import (
    department_hint,
    department_label,
    priority_label,
    priority_meaning,
    status_label,
    target_text,
)

PRIORITIES = (Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW)


def form_id(choice: Choice, arg: str = "") -> str:
    return f"f:{choice.value}:{arg}"


def _cancel() -> Row:
    return Row(form_id(Choice.CANCEL), _("✖ Cancel"))


def main_menu(html: str) -> Reply:
    return Reply(
        html,
        buttons=(
            Row("m:new", _("📝 New ticket")),
            Row("m:tickets", _("📂 My tickets")),
            Row("m:faq", _("❓ FAQ")),
        ),
    )


def question(desk: StoredDesk, ask: Ask) -> Reply:
    """One step's question, after the answer just chosen or a notice about the last one."""
    reply = _question(desk, ask.step, ask.draft)
    head = []
    if ask.chosen is not None:
        head.append(f"✔️ {chosen_text(desk, ask.chosen, ask.draft)}")
    if ask.notice is not None:
        head.append(notice_text(desk, ask.notice))
    if not head:
        return reply
    return Reply(
        "\n\n".join([*head, reply.html]),
        buttons=reply.buttons,
        rows=reply.rows,
        list_button=reply.list_button,
    )


def _question(desk: StoredDesk, step: Step, draft: Draft) -> Reply:
    title = f"<b>{step_title(step)}</b>" if step in STEPS else ""
    if step is Step.DEPARTMENT:
        lines = [title, "", _("Which team should handle it?"), ""]
        options = []
        for dept in desk.departments:
            label = department_label(dept)
            lines.append(f"<b>{escape(label)}</b>: {escape(department_hint(dept))}")
            options.append(Row(form_id(Choice.DEPARTMENT, dept.key), label))
        text = "\n".join(lines)
        if len(options) <= BUTTONS_AT_MOST:
            return Reply(text, buttons=tuple(options))
        rows = (*options[: ROWS_AT_MOST - 1], _cancel())
        return Reply(text, rows=rows, list_button=_("Which team should handle it?"))
    if step is Step.PRIORITY:
        choices = []
        for priority in PRIORITIES:
            target = target_text(desk.target(priority))
            choices.append(
                Row(
                    form_id(Choice.PRIORITY, priority.value),
                    priority_label(priority),
                    f"{priority_meaning(priority)} · {target}",
                )
            )
        text = "\n".join(
            [
                title,
                "",
                _("How urgent is it?"),
                "",
                _("Please choose High or Critical only for real emergencies."),
            ]
        )
        return Reply(text, rows=(*choices, _cancel()), list_button=_("How urgent is it?"))
    if step is Step.SUBJECT:
        return Reply(subject_question_text(), buttons=(_cancel(),))
    if step is Step.MESSAGE:
        return Reply(message_question_text(), buttons=(_cancel(),))
    if step is Step.ATTACHMENTS:
        text = "\n".join(
            [
                title,
                "",
                _(
                    "Send screenshots, transfer receipts or other files that help: photos or "
                    "documents, several at once if you like."
                ),
                _("Press Done when you have sent them all, or Skip if you have none."),
            ]
        )
        return Reply(text, buttons=attachments_buttons(draft))
    if step is Step.EDIT:
        rows = (
            Row(form_id(Choice.GOTO, Step.DEPARTMENT), _("Department")),
            Row(form_id(Choice.GOTO, Step.SUBJECT), _("Subject")),
            Row(form_id(Choice.GOTO, Step.PRIORITY), _("Priority")),
            Row(form_id(Choice.GOTO, Step.MESSAGE), _("Message")),
            Row(form_id(Choice.GOTO, Step.ATTACHMENTS), _("Attachments")),
            Row(form_id(Choice.GOTO, Step.REVIEW), _("« Back to the review")),
        )
        return Reply(_("What would you like to change?"), rows=rows, list_button=_("✏️ Edit"))
    return Reply(
        review_text(desk, draft),
        buttons=(
            Row(form_id(Choice.SUBMIT), _("📨 Submit")),
            Row(form_id(Choice.EDIT), _("✏️ Edit")),
            _cancel(),
        ),
    )


def attachments_buttons(draft: Draft) -> tuple[Row, ...]:
    first = (
        Row(form_id(Choice.DONE), _("✅ Done"))
        if draft.attachments
        else Row(form_id(Choice.SKIP), _("Skip"))
    )
    return (first, _cancel())


def tickets_list(tickets: list[Ticket], html: str = "") -> Reply:
    """The customer's tickets, newest first, as a list to pick one from."""
    if not tickets:
        return main_menu(_("You have no tickets yet. Open one with /new."))
    rows = tuple(
        Row(f"t:{t.number}", f"{t.ref} {t.subject}", status_label(t.status))
        for t in tickets[:ROWS_AT_MOST]
    )
    return Reply(html or _("📂 My tickets"), rows=rows, list_button=_("📂 My tickets"))


def ticket_view(ticket: Ticket) -> Reply:
    """One ticket and what the customer can do with it (writing a message answers it)."""
    text = "\n".join(
        [
            _("<b>Ticket {ref}</b> · {status}").format(
                ref=ticket.ref, status=status_label(ticket.status)
            ),
            f"<b>{escape(ticket.subject)}</b>",
        ]
    )
    n = ticket.number
    if ticket.status is Status.CLOSED:
        buttons: tuple[Row, ...] = (Row(f"u:{n}", _("➕ Follow-up")),)
    elif ticket.status is Status.SOLVED:
        buttons = (Row(f"o:{n}", _("🔓 Reopen")), Row(f"u:{n}", _("➕ Follow-up")))
    else:
        buttons = (Row(f"c:{n}", _("🔒 Close")),)
    return Reply(text, buttons=(*buttons, Row("m:tickets", _("« My tickets"))), ticket_number=n)


def rating_rows(number: int) -> tuple[Row, ...]:
    return tuple(Row(f"r:{number}:{score}", "★" * score) for score in range(5, 0, -1))


def languages() -> Reply:
    rows = tuple(Row(f"l:{code}", language_name(code)) for code in SUPPORTED_LOCALES)
    return Reply(_("Choose your language:"), buttons=rows[:BUTTONS_AT_MOST])

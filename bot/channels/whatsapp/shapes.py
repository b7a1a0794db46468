"""What the desk sends a WhatsApp customer, in the Cloud API's shapes, and their sending.

Three shapes cover the desk: a text, a text with up to three reply buttons, and a text
with a list (up to ten rows). Their limits are the Cloud API's; every title is fitted to
them here, so no text of any language can make a message the API refuses.
"""

from __future__ import annotations

from dataclasses import dataclass

from pywa.types.callback import Button, Section, SectionList, SectionRow
from pywa_async.client import WhatsApp

from bot.channels.whatsapp.markup import fit, whatsapp_text

TEXT_LIMIT = 4096
BODY_LIMIT = 1024  # of an interactive message
BUTTONS_AT_MOST = 3
BUTTON_TITLE = 20
ROWS_AT_MOST = 10
ROW_TITLE = 24
ROW_DESCRIPTION = 72
LIST_BUTTON = 20
SECTION_TITLE = 24


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    title: str
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """One message: `html` (the catalogs' markup), with buttons or a list, or neither."""

    html: str
    buttons: tuple[Row, ...] = ()
    rows: tuple[Row, ...] = ()
    list_button: str = ""
    context: str | None = None  # the wamid this answers, shown quoted
    ticket_number: int | None = None  # recorded with the wamid, for replies quoting it


async def send(wa: WhatsApp, to: str, reply: Reply) -> str:
    """Send one reply; the wamid the Cloud API gave it. Raises what pywa raised."""
    text = whatsapp_text(reply.html)
    if reply.buttons or reply.rows:
        if len(text) > BODY_LIMIT:
            # The words first, as a text of their own; the options under the last line.
            head, _, tail = text[:TEXT_LIMIT].rpartition("\n\n")
            if head:
                await wa.send_message(to, head, reply_to_message_id=reply.context)
            text = fit(tail or text, BODY_LIMIT)
        if reply.buttons:
            buttons = [
                Button(title=fit(b.title, BUTTON_TITLE), callback_data=b.id)
                for b in reply.buttons[:BUTTONS_AT_MOST]
            ]
            sent = await wa.send_message(
                to, text, buttons=buttons, reply_to_message_id=reply.context
            )
        else:
            rows = [
                SectionRow(
                    title=fit(r.title, ROW_TITLE),
                    callback_data=r.id,
                    description=fit(r.description, ROW_DESCRIPTION) if r.description else None,
                )
                for r in reply.rows[:ROWS_AT_MOST]
            ]
            title = fit(reply.list_button, LIST_BUTTON)
            options = SectionList(
                button_title=title,
                sections=[Section(title=fit(reply.list_button, SECTION_TITLE), rows=rows)],
            )
            sent = await wa.send_message(
                to, text, buttons=options, reply_to_message_id=reply.context
            )
        return str(sent.id)
    sent = await wa.send_message(to, fit(text, TEXT_LIMIT), reply_to_message_id=reply.context)
    return str(sent.id)

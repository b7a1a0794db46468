"""A WhatsApp customer's message, handled: the form, their tickets, the FAQ, the menu.

Each stored message (`storage.whatsapp.WhatsAppStore`) is turned into domain input and
given to the desk; what the desk answers is rendered in WhatsApp's shapes
(`render.py`) and sent at once. What the desk owes later (the receipt, agents' replies,
status changes) goes through the outbox's WhatsApp lane (`sender.py`).

A message is handled as the desk update with id `-row` (`InboundMessage.update_id`): the
change it causes records it as handled in the same transaction, so a kill before or after
leaves it handled once. A message whose handling only asked a question is asked again
after a kill, which the form takes as a replay (`bot.domain.intake`).
"""

from __future__ import annotations

import logging
import mimetypes
import time
from dataclasses import dataclass, replace
from typing import Any

import httpx
from pywa.errors import WhatsAppError
from pywa_async.client import WhatsApp

from bot.channels.whatsapp import render
from bot.channels.whatsapp.shapes import Reply, Row, send
from bot.compose import StoredDesk
from bot.config import SUPPORTED_LOCALES
from bot.domain.channels import locale_for_number, whatsapp_customer_id
from bot.domain.flood import Verdict
from bot.domain.intake import (
    Ask,
    Attached,
    Cancelled,
    Choice,
    FileRefused,
    FormInput,
    FormOutput,
    InputKind,
    Masked,
    Notice,
    NoticeKind,
    SameTicket,
    Stale,
)
from bot.domain.lifecycle import Action, IllegalTransitionError
from bot.domain.models import Attachment, AttachmentKind, Status, User
from bot.domain.ticket_core import TicketNotFoundError
from bot.faq_text import render_answer
from bot.form_text import (
    attached_text,
    cancelled_text,
    file_problem_text,
    fraud_text,
    notice_text,
    same_ticket_text,
)
from bot.i18n import gettext as _
from bot.i18n import language_name, use_locale
from bot.texts import cap_lines, slow_down_text, status_label, welcome_text
from storage.files import KeptFiles
from storage.whatsapp import InboundMessage, WhatsAppStore

log = logging.getLogger(__name__)

COMMANDS = ("new", "tickets", "cancel", "start", "help", "faq", "language", "menu")


@dataclass(frozen=True, slots=True)
class Said:
    """What a WhatsApp message is, before the desk sees it."""

    input: FormInput
    option: str = ""  # the id of the button or row chosen, if one was
    context: str | None = None  # the wamid of the desk's message it answers


class WhatsAppCustomers:
    """Handles the customers' messages, one at a time per customer (the caller's order)."""

    def __init__(
        self, desk: StoredDesk, store: WhatsAppStore, wa: WhatsApp, kept: KeptFiles
    ) -> None:
        self.desk = desk
        self.store = store
        self.wa = wa
        self.kept = kept

    async def handle(self, message: InboundMessage, *, replayed: bool = False) -> None:
        """Handle one message; `replayed`: it was stored before the last stop and may have
        been handled up to its next question (the form then only asks that again)."""
        desk = self.desk
        customer_id = whatsapp_customer_id(message.wa_id)
        payload = message.payload
        user = await desk.register_user(
            customer_id,
            str(payload.get("profile_name") or "") or f"+{message.wa_id}",
            None,
            None,
            locale_for_number(message.wa_id),
        )
        if user.is_banned:
            log.info("Ignored a WhatsApp message from banned customer %s", customer_id)
            return
        locale = await desk.locale_for(user)
        with use_locale(locale):
            said = await self._said(payload)
            if replayed:
                said = replace(said, input=replace(said.input, replayed=True))
            await self._route(message, user, locale, said)

    async def _said(self, payload: dict[str, Any]) -> Said:
        sent_at = float(payload.get("timestamp") or 0)
        context = (payload.get("context") or {}).get("id")
        kind = payload.get("type")
        if kind == "text":
            text = str((payload.get("text") or {}).get("body") or "")
            stripped = text.strip()
            if stripped.startswith("/"):
                name = stripped[1:].split()[0].lower() if len(stripped) > 1 else ""
                return Said(FormInput(InputKind.COMMAND, text=text, command=name), context=context)
            return Said(FormInput.typed(text, sent_at=sent_at), context=context)
        if kind == "interactive":
            interactive = payload.get("interactive") or {}
            chosen = interactive.get("button_reply") or interactive.get("list_reply") or {}
            option = str(chosen.get("id") or "")
            if option.startswith("f:"):
                _f, choice, arg = [*option.split(":", 2), "", ""][:3]
                try:
                    return Said(FormInput.chose(Choice(choice), arg), option, context)
                except IllegalTransitionError:
                    pass
            return Said(FormInput(InputKind.FOREIGN_CHOICE), option, context)
        if kind == "button":  # a quick-reply button of a template
            text = str((payload.get("button") or {}).get("text") or "")
            return Said(FormInput.typed(text, sent_at=sent_at), context=context)
        if kind in ("image", "document"):
            media = payload.get(kind) or {}
            attachment = await self._download(kind, media)
            caption = str(media.get("caption") or "")
            if attachment is None:
                return Said(FormInput(InputKind.OTHER, sent_at=sent_at), context=context)
            return Said(FormInput.file(attachment, caption, sent_at=sent_at), context=context)
        return Said(FormInput(InputKind.OTHER, sent_at=sent_at), context=context)

    async def _download(self, kind: str, media: dict[str, Any]) -> Attachment | None:
        """Fetch a customer's file while its media id lives, and keep it (`KeptFiles`)."""
        media_id = str(media.get("id") or "")
        mime = str(media.get("mime_type") or "")
        try:
            url = await self.wa.get_media_url(media_id)
            data = await self.wa.get_media_bytes(url.url)
        except (WhatsAppError, httpx.HTTPError) as exc:  # expired or bad: the customer is told
            log.warning("Could not download WhatsApp media %s: %s", media_id, exc)
            return None
        suffix = mimetypes.guess_extension(mime.split(";")[0].strip()) or ""
        file_id = self.kept.keep(data, suffix)
        return Attachment(
            kind=AttachmentKind.PHOTO if kind == "image" else AttachmentKind.DOCUMENT,
            file_id=file_id,
            file_unique_id=media_id,
            file_size=len(data),
            file_name=media.get("filename") or None,
            mime_type=mime or None,
        )

    # What the message is for

    async def _route(self, message: InboundMessage, user: User, locale: str, said: Said) -> None:
        desk = self.desk
        to = message.wa_id
        given = said.input
        if given.kind is InputKind.COMMAND and given.command not in ("cancel", *COMMANDS):
            given = FormInput.typed(given.text)
        outputs = await desk.form.take(user.id, given, locale)
        if outputs is not None:
            if given.kind is InputKind.FOREIGN_CHOICE and said.option.startswith("m:"):
                notice = Notice(NoticeKind.IN_THE_FORM)
                await self._send(to, Reply(notice_text(desk, notice)))
            await self._render(to, outputs)
            return
        if given.kind is InputKind.COMMAND:
            await self._command(to, user, given.command)
        elif said.option:
            await self._option(to, user, locale, said.option)
        elif given.kind in (InputKind.TEXT, InputKind.FILE):
            await self._to_ticket_or_faq(message, user, said)
        else:
            await self._send(to, render.main_menu(_("I can only attach photos and documents.")))

    async def _command(self, to: str, user: User, command: str) -> None:
        if command == "new":
            await self._new(to, user)
        elif command == "tickets":
            await self._tickets(to, user)
        elif command == "faq":
            await self._faq(to, user)
        elif command == "language":
            await self._send(to, render.languages())
        elif command == "cancel":
            await self._send(to, render.main_menu(_("There is nothing to cancel.")))
        else:
            await self._send(to, render.main_menu(welcome_text(user.first_name)))

    async def _new(self, to: str, user: User) -> None:
        active = await self.desk.open_ticket_cap(user.id)
        if active:
            lines = cap_lines(self.desk.settings.max_open_tickets, active)
            await self._send(to, render.tickets_list(active, "\n".join(lines)))
            return
        await self._render(to, await self.desk.form.start(user.id))

    async def _tickets(self, to: str, user: User) -> None:
        tickets = await self.desk.customer_tickets_page(user.id, limit=10, offset=0)
        await self._send(to, render.tickets_list(tickets))

    async def _faq(self, to: str, user: User) -> None:
        locale = await self.desk.locale_for(user)
        entries = self.desk.faq.entries(locale)
        rows = tuple(Row(f"q:{e.key}", e.button) for e in entries[:9])
        rows = (*rows, Row("m:new", _("📝 Open a ticket")))
        await self._send(
            to,
            Reply(
                _("<b>Frequently asked questions</b>\nChoose a topic:"),
                rows=rows,
                list_button=_("❓ FAQ"),
            ),
        )

    async def _option(self, to: str, user: User, locale: str, option: str) -> None:
        desk = self.desk
        head, _sep, rest = option.partition(":")
        if head == "m":
            await self._command(to, user, {"lang": "language"}.get(rest, rest))
            return
        if head == "q":
            entry = desk.faq.entry(locale, rest)
            if entry is None:
                await self._faq(to, user)
                return
            text = f"<b>{entry.title}</b>\n\n{render_answer(entry, desk.settings)}"
            await self._send(to, render.main_menu(text))
            return
        if head == "l" and rest in SUPPORTED_LOCALES:
            await desk.choose_locale(user.id, rest)
            with use_locale(rest):
                await self._send(
                    to,
                    render.main_menu(
                        _("Done: I will speak {language} with you from now on.").format(
                            language=language_name(rest)
                        )
                    ),
                )
            return
        number_text, _sep, arg = rest.partition(":")
        if not number_text.isdigit():
            await self._send(to, render.main_menu(_("This button is no longer valid.")))
            return
        number = int(number_text)
        try:
            await self._ticket_option(to, user, head, number, arg)
        except TicketNotFoundError:
            await self._send(to, render.main_menu(_("This button is no longer valid.")))

    async def _ticket_option(self, to: str, user: User, head: str, number: int, arg: str) -> None:
        desk = self.desk
        ticket = await desk.ticket(number)
        if ticket is None or ticket.customer_id != user.id:
            raise TicketNotFoundError(number)
        if head == "t":
            await self._send(to, render.ticket_view(ticket))
        elif head in ("c", "o"):
            action = Action.CLOSE if head == "c" else Action.REOPEN
            try:
                change = await desk.service.customer_action(number, user.id, action)
            except IllegalTransitionError:
                text = _("Ticket {ref} is {status}: that is not possible now.")
                await self._send(
                    to, Reply(text.format(ref=ticket.ref, status=status_label(ticket.status)))
                )
                return
            await self._send(to, render.ticket_view(change.after))
        elif head == "u":
            outputs = await desk.form.follow_up(user.id, number)
            if outputs is None:
                raise TicketNotFoundError(number)
            await self._render(to, outputs)
        elif head == "r" and arg.isdigit() and 1 <= int(arg) <= 5:
            if await desk.rating(number) is None:
                await desk.service.rate(number, user.id, int(arg))
            await self._send(to, Reply(_("Thank you for your feedback!")))
        else:
            raise TicketNotFoundError(number)

    async def _to_ticket_or_faq(self, message: InboundMessage, user: User, said: Said) -> None:
        """A text or a file outside the form: to the ticket it answers (the one of the
        message it quotes, else the latest active), else an FAQ answer or the menu."""
        desk = self.desk
        to = message.wa_id
        given = said.input
        number = None
        if said.context:
            sent = await self.store.sent_message(said.context)
            number = sent[0] if sent else None
        active = await desk.active_tickets(user.id)
        if number is None and active:
            number = active[0].number
        if number is not None:
            ticket = await desk.ticket(number)
            if ticket is not None and ticket.status is Status.CLOSED:
                await self._send(
                    to,
                    render.ticket_view(ticket),
                )
                return
            if given.attachment is not None:
                problem = desk.check_ticket_file(given.attachment)
                if problem is not None:
                    text = _("{reason} It was not added to your ticket.").format(
                        reason=file_problem_text(desk, problem)
                    )
                    await self._send(to, Reply(text))
                    return
            guarded = desk.guard_text(given.text)
            if guarded.card_masked or guarded.otp_masked:
                await self._send(to, Reply(fraud_text(guarded.card_masked, guarded.otp_masked)))
            attachments = [given.attachment] if given.attachment is not None else []
            change = await desk.service.customer_reply(number, user.id, guarded.text, attachments)
            # Over the flood limit the message is kept all the same, and answered once.
            verdict = desk.flood.admit(user.id, time.monotonic())
            if verdict is Verdict.ALLOW:
                text = _("✅ Added to your ticket {ref}.").format(ref=change.after.ref)
                await self._send(to, Reply(text, ticket_number=number))
            elif verdict is Verdict.WARN:
                await self._send(to, Reply(slow_down_text(change.after), ticket_number=number))
            return
        verdict = desk.flood.admit(user.id, time.monotonic())
        if verdict is not Verdict.ALLOW:
            if verdict is Verdict.WARN:
                await self._send(to, Reply(slow_down_text(None)))
            return
        if given.kind is InputKind.TEXT:
            found = desk.faq.search(await desk.locale_for(user), given.text, limit=1)
            if found:
                best = found[0]
                text = (
                    _("This may help:")
                    + f"\n\n<b>{best.title}</b>\n\n{render_answer(best, desk.settings)}\n\n"
                    + _("Not what you need? Open a ticket.")
                )
                await self._send(to, render.main_menu(text))
                return
        await self._send(to, render.main_menu(welcome_text(user.first_name)))

    # Saying it

    async def _render(self, to: str, outputs: list[FormOutput]) -> None:
        desk = self.desk
        for output in outputs:
            if isinstance(output, Ask):
                await self._send(to, render.question(desk, output))
            elif isinstance(output, Masked):
                await self._send(to, Reply(fraud_text(output.card, output.otp)))
            elif isinstance(output, SameTicket):
                await self._send(to, Reply(same_ticket_text(output.ticket)))
            elif isinstance(output, Attached):
                await self._send(
                    to,
                    Reply(
                        attached_text(output.draft),
                        buttons=render.attachments_buttons(output.draft),
                    ),
                )
            elif isinstance(output, FileRefused):
                await self._send(
                    to,
                    Reply(
                        file_problem_text(desk, output.problem),
                        buttons=render.attachments_buttons(output.draft),
                    ),
                )
            elif isinstance(output, Stale):
                await self._send(to, Reply(_("This button is no longer valid.")))
            elif isinstance(output, Cancelled):
                await self._send(to, render.main_menu(cancelled_text()))
            # Submitted: the receipt is owed in the outbox, with the ticket.

    async def _send(self, to: str, reply: Reply) -> None:
        wamid = await send(self.wa, to, reply)
        await self.store.record_sent(wamid, to, reply.ticket_number)

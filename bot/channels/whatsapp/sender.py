"""The outbox's WhatsApp lane: what the desk owes WhatsApp customers, delivered.

Items are the desk's own (`OutboxKind`), owed in the change's transaction exactly as for
a Telegram customer; `storage.outbox.enqueue` puts a WhatsApp customer's in this lane.
Each customer's items go oldest first, one at a time; the lane keeps the Cloud API's
pace (`WHATSAPP_RATE` messages a second from the number, at most one a second to one
customer) and retries what the API throttles or loses.

Outside the 24-hour customer-service window a free-form message is refused (131047).
The desk then sends the approved template `WHATSAPP_TEMPLATE_UPDATE` (the ticket's
number and status, in the customer's language) and the item waits; the customer's next
message opens the window and wakes it (`WhatsAppStore.receive`), and the full text
follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

import httpx
from pywa.errors import (
    MessageUndeliverable,
    ReEngagementMessage,
    ThrottlingError,
    WhatsAppError,
)
from pywa_async.client import WhatsApp
from pywa_async.types.templates import TemplateLanguage

from bot.channels.whatsapp.render import rating_rows
from bot.channels.whatsapp.shapes import Reply, send
from bot.compose import StoredDesk
from bot.domain.channels import whatsapp_number
from bot.domain.models import Attachment, AttachmentKind, OutboxItem, RelayKind, Status, Ticket
from bot.domain.outbox import OutboxKind
from bot.i18n import gettext as _
from bot.i18n import use_locale
from bot.texts import (
    agent_signature,
    draft_expired_text,
    forgotten_text,
    receipt_text,
    signed,
    solve_reminder_text,
    status_label,
    status_notice,
)
from storage import storage_fault
from storage.files import KeptFiles
from storage.whatsapp import WINDOW_CLOSED, WhatsAppStore

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
WAIT_FOR_WINDOW = timedelta(days=7)  # then the template is sent again
PER_CUSTOMER = 1.0  # seconds between two messages to one customer
MAX_BACKOFF = 300.0
BATCH = 100
CAPTION_LIMIT = 1024

TelegramFile = Callable[[str], Awaitable[bytes]]
# The outbox item the current task delivers (what its messages' wamids are recorded with).
_delivering: ContextVar[int | None] = ContextVar("whatsapp_delivering", default=None)


class WhatsAppSender:
    def __init__(
        self,
        desk: StoredDesk,
        store: WhatsAppStore,
        wa: WhatsApp,
        kept: KeptFiles,
        *,
        rate: float,
        telegram_file: TelegramFile | None = None,
    ) -> None:
        self.desk = desk
        self.store = store
        self.wa = wa
        self.kept = kept
        self.spacing = 1.0 / rate
        self.telegram_file = telegram_file
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._busy: set[int] = set()
        self._next_ok: dict[int, float] = {}
        self._next_start = 0.0
        self._deliveries: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="whatsapp-sender")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._deliveries:
            await asyncio.gather(*self._deliveries, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            try:
                wait = await self._round()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the lane outlives one bad round
                log.error("The WhatsApp sender failed a round: %s", exc)
                wait = 5.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            self._wake.clear()

    async def _round(self) -> float:
        now = time.time()
        soonest = 1.0
        for item in await self.store.pending(BATCH):
            chat = int(item.chat_id or 0)
            if chat in self._busy:
                continue
            if item.next_attempt_at > now:
                soonest = min(soonest, item.next_attempt_at - now)
                continue
            tick = time.monotonic()
            ready = self._next_ok.get(chat, 0.0)
            if ready > tick:
                soonest = min(soonest, ready - tick)
                continue
            slot = max(self._next_start, tick)
            self._next_start = slot + self.spacing
            self._busy.add(chat)
            task = asyncio.create_task(self._deliver(item, chat, at=slot))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)
        return max(soonest, 0.01)

    async def _deliver(self, item: OutboxItem, chat: int, *, at: float) -> None:
        try:
            delay = at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await self._attempt(item)
        except Exception as exc:
            log.error("WhatsApp outbox item %s (%s) failed: %s", item.id, item.kind, exc)
            log.debug("The traceback", exc_info=exc)
            if storage_fault(exc) is None:
                # A bug must not lose the message, nor spin on it: kept, tried later.
                with contextlib.suppress(Exception):
                    delay = min(MAX_BACKOFF, 2.0 ** min(item.attempts + 3, 9))
                    await self.desk.retry_delivery(item.id, time.time() + delay, repr(exc))
        finally:
            self._busy.discard(chat)
            self._next_ok[chat] = time.monotonic() + PER_CUSTOMER
            self.wake()

    async def _attempt(self, item: OutboxItem) -> None:
        _delivering.set(item.id)  # each delivery is its own task: its own context
        desk = self.desk
        to = whatsapp_number(int(item.chat_id or 0))
        if to is None:
            await desk.delivery_done(item.id, "failed", "not a WhatsApp customer")
            return
        try:
            if await self._window_closed(to):
                await self._template(item, to)
                return
            await self._render(item, to)
        except ReEngagementMessage:
            await self._template(item, to)
        except MessageUndeliverable as exc:
            await desk.delivery_done(item.id, "blocked", _why(exc))
            if item.ticket_number is not None:
                await desk.service.mark_unreachable(item.ticket_number)
        except (ThrottlingError, httpx.HTTPError) as exc:
            await self._retry(item, exc)
        except WhatsAppError as exc:
            if exc.is_transient or exc.code in (131000, 131016, 1, 2):
                await self._retry(item, exc)
            else:
                log.error("WhatsApp refused outbox item %s (%s): %s", item.id, item.kind, exc)
                await desk.delivery_done(item.id, "failed", _why(exc))
        else:
            await desk.delivery_done(item.id)

    async def _retry(self, item: OutboxItem, exc: Exception) -> None:
        delay = min(MAX_BACKOFF, 2.0 ** min(item.attempts + 1, 9))
        log.warning("WhatsApp outbox item %s: %s; retrying in %.0f s", item.id, _why(exc), delay)
        await self.desk.retry_delivery(item.id, time.time() + delay, _why(exc))

    async def _window_closed(self, to: str) -> bool:
        last = await self.store.last_inbound(to)
        return last is None or time.time() - last > WINDOW.total_seconds()

    async def _template(self, item: OutboxItem, to: str) -> None:
        """Outside the window: the approved template now, the item when the customer writes."""
        desk = self.desk
        settings = desk.settings
        ticket = await desk.ticket(item.ticket_number) if item.ticket_number else None
        locale = await self._locale(int(item.chat_id or 0))
        with use_locale(locale):
            ref = ticket.ref if ticket is not None else ""
            status = status_label(ticket.status) if ticket is not None else ""
        code = settings.whatsapp_template_languages.get(locale, locale)
        sent = await self.wa.send_template(
            to,
            name=settings.whatsapp_template_update,
            language=TemplateLanguage(code),
            params=[
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": ref}, {"type": "text", "text": status}],
                }
            ],
        )
        await self.store.record_sent(str(sent.id), to, item.ticket_number, outbox_id=item.id)
        log.info("WhatsApp customer %s is outside the 24-hour window: template sent", to[-4:])
        await desk.retry_delivery(
            item.id, time.time() + WAIT_FOR_WINDOW.total_seconds(), WINDOW_CLOSED
        )

    async def _locale(self, customer_id: int) -> str:
        customer = await self.desk.user(customer_id)
        return await self.desk.locale_for(customer) if customer else "en"

    async def _render(self, item: OutboxItem, to: str) -> None:
        desk = self.desk
        locale = await self._locale(int(item.chat_id or 0))
        with use_locale(locale):
            if item.kind == OutboxKind.DRAFT_EXPIRED:
                await self._send(to, Reply(draft_expired_text()))
                return
            if item.kind == OutboxKind.FORGOTTEN:
                await self._send(to, Reply(forgotten_text()))
                return
            ticket = await desk.ticket(item.ticket_number) if item.ticket_number else None
            if ticket is None:
                log.warning("WhatsApp outbox item %s (%s) has no ticket", item.id, item.kind)
                return
            await self._ticket_item(item, to, ticket)

    async def _ticket_item(self, item: OutboxItem, to: str, ticket: Ticket) -> None:
        desk = self.desk
        n = ticket.number
        kind = item.kind
        if kind == OutboxKind.RECEIPT:
            text = receipt_text(
                ticket,
                desk.department(ticket.department),
                desk.target(ticket.priority),
                desk.timezone,
            )
            await self._send(to, Reply(text, ticket_number=n))
        elif kind in (OutboxKind.AGENT_REPLY, OutboxKind.AGENT_EDIT):
            key = "message_id" if kind == OutboxKind.AGENT_REPLY else "edit_id"
            message = await desk.ticket_message(int(item.payload[key]))
            if message is None:
                return
            agent = await desk.user(message.author_id) if message.author_id else None
            name = str(item.payload.get("agent_name") or (agent.first_name if agent else ""))
            header = signed(ticket, agent_signature(desk.settings.team_name, name))
            text = f"{header}\n\n{message.body}"
            if kind == OutboxKind.AGENT_EDIT:
                text += "\n\n<i>" + _("(edited)") + "</i>"
            await self._send(to, Reply(text, ticket_number=n))
            for attachment in message.attachments:
                await self._send_file(to, attachment, n)
        elif kind == OutboxKind.STATUS:
            status = Status(item.payload["status"])
            text = status_notice(ticket, status, item.payload.get("action"))
            if status is Status.SOLVED and await desk.rating(n) is None:
                text += "\n\n" + _("How did we do? Rate our help:")
                reply = Reply(text, rows=rating_rows(n), list_button="★★★★★", ticket_number=n)
                await self._send(to, reply)
            else:
                await self._send(to, Reply(text, ticket_number=n))
        elif kind == OutboxKind.SOLVE_REMINDER:
            solve_at = datetime.fromtimestamp(float(item.payload["solve_at"]), tz=UTC)
            text = solve_reminder_text(ticket, solve_at, desk.timezone)
            await self._send(to, Reply(text, ticket_number=n))
        elif kind == OutboxKind.TEXT_PART and item.payload.get("kind") == RelayKind.TO_CUSTOMER:
            await self._send(to, Reply(str(item.payload["text"]), ticket_number=n))
        else:
            log.info("WhatsApp outbox item %s: nothing to send for %s", item.id, kind)

    async def _send_file(self, to: str, attachment: Attachment, number: int) -> None:
        """An agent's file: from the desk's own files, or fetched from Telegram."""
        file_id = attachment.file_id
        path = self.kept.path(file_id)
        if path is not None:
            data = path.read_bytes()
        elif self.telegram_file is not None:
            data = await self.telegram_file(file_id)
        else:
            return
        name, mime = attachment.file_name, attachment.mime_type
        if attachment.kind is AttachmentKind.PHOTO:
            sent = await self.wa.send_image(to, image=data, mime_type=mime or "image/jpeg")
        else:
            sent = await self.wa.send_document(
                to,
                document=data,
                filename=name or "file",
                mime_type=mime or "application/octet-stream",
            )
        await self.store.record_sent(str(sent.id), to, number, outbox_id=_delivering.get())

    async def _send(self, to: str, reply: Reply) -> None:
        wamid = await send(self.wa, to, reply)  # fitted to the Cloud API's limits there
        await self.store.record_sent(wamid, to, reply.ticket_number, outbox_id=_delivering.get())


def _why(exc: Exception) -> str:
    if isinstance(exc, WhatsAppError):
        return f"{exc.code}: {exc.message}"
    return f"{type(exc).__name__}: {exc}"

"""The WhatsApp channel, whole: its webhook server, its inbound worker and its sender.

Started and stopped with the Telegram application (`bot/app.py`), in the same process and
on the same event loop. The webhook listens on `WEBHOOK_LISTEN:WEBHOOK_PORT` at
`/whatsapp` (with Telegram in webhook mode too, Telegram's own server takes the next port:
see the README).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict

from aiohttp import web

from bot.channels.whatsapp.client import build_client
from bot.channels.whatsapp.customer import WhatsAppCustomers
from bot.channels.whatsapp.sender import TelegramFile, WhatsAppSender
from bot.channels.whatsapp.webhook import WhatsAppWebhook
from bot.compose import StoredDesk
from bot.logcontext import note_update
from storage import handling_update, storage_fault
from storage.whatsapp import InboundMessage

log = logging.getLogger(__name__)

# Failures that are not the database's: after this many, a message is set aside.
MAX_ATTEMPTS = 3
# A status webhook's failure that means the customer can't be reached on WhatsApp, and
# those worth another try (throughput, pair rate, a server error, a sending failure).
UNDELIVERABLE = ("131026",)
RECOVERABLE = ("130429", "131056", "131000", "131016", "131049", "131053")
RETRY_AFTER = 30.0  # seconds


class WhatsAppChannel:
    def __init__(
        self,
        desk: StoredDesk,
        *,
        listen: str,
        port: int,
        telegram_file: TelegramFile | None = None,
    ) -> None:
        settings = desk.settings
        assert settings.whatsapp_app_secret is not None
        assert settings.whatsapp_verify_token is not None
        self.desk = desk
        self.store = desk.whatsapp
        self.wa = build_client(settings)
        self.customers = WhatsAppCustomers(desk, self.store, self.wa, desk.kept_files)
        self.sender = WhatsAppSender(
            desk,
            self.store,
            self.wa,
            desk.kept_files,
            rate=settings.whatsapp_rate,
            telegram_file=telegram_file,
        )
        self.webhook = WhatsAppWebhook(
            self.store,
            app_secret=settings.whatsapp_app_secret.get_secret_value(),
            verify_token=settings.whatsapp_verify_token.get_secret_value(),
            on_messages=self.wake,
            on_status=self.status,
        )
        self.listen = listen
        self.port = port
        self._wake = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._worker: asyncio.Task[None] | None = None
        self._failures: dict[int, int] = defaultdict(int)
        self.retry_after = RETRY_AFTER
        # Messages stored before this start may have been handled half-way before a kill.
        self._replay_through: int | None = None

    async def start(self) -> None:
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.add_routes(self.webhook.routes())
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen, self.port)
        await site.start()
        self._worker = asyncio.create_task(self._work(), name="whatsapp-inbound")
        self.sender.start()
        self.wake()
        log.info("WhatsApp webhook listening on %s:%s/whatsapp", self.listen, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        await self.sender.stop()
        await self.wa.api._session.aclose()

    def wake(self) -> None:
        """New messages are stored (a customer's window may have opened: the sender too)."""
        self._wake.set()
        self.sender.wake()

    async def status(self, wamid: str, status: str, error: str | None, at: int) -> None:
        """A status webhook: recorded, shown on the card; a failure acted on."""
        if not await self.store.record_status(wamid, status, error, at or int(time.time())):
            return
        sent = await self.store.sent_message(wamid)
        number = sent[0] if sent else None
        if number is None:
            return
        failed = error if status == "failed" and error is not None else ""
        if failed.startswith(UNDELIVERABLE):
            await self.desk.service.mark_unreachable(number)
        elif failed.startswith(RECOVERABLE) and await self.store.deliver_again(
            wamid, failed, time.time() + self.retry_after
        ):
            log.warning("WhatsApp failed message %s (%s): sending it again", wamid, failed)
            self.sender.wake()
        await self.desk.owe_card(number, self.desk.clock())

    # The inbound worker: each customer's messages in order, customers side by side

    async def _work(self) -> None:
        while True:
            self._wake.clear()
            try:
                batch = await self.store.unhandled()
                if self._replay_through is None:
                    self._replay_through = max((m.id for m in batch), default=0)
            except Exception as exc:  # noqa: BLE001 - the database is down: wait, try again
                log.error("Could not read WhatsApp's inbox: %s", exc)
                batch = []
                await asyncio.sleep(2.0)
            if batch:
                lines: dict[str, list[InboundMessage]] = defaultdict(list)
                for message in batch:
                    lines[message.wa_id].append(message)
                await asyncio.gather(*(self._line(line) for line in lines.values()))
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=5.0)

    async def _line(self, messages: list[InboundMessage]) -> None:
        for message in messages:
            if not await self._one(message):
                return  # the rest of this customer's line waits for it

    async def _one(self, message: InboundMessage) -> bool:
        """Handle one message; False if it must be tried again later (kept in order)."""
        desk = self.desk
        update_id = message.update_id
        note_update(update_id)
        try:
            if not await desk.handled_before(update_id):
                replayed = message.id <= (self._replay_through or 0)
                with handling_update(update_id):
                    await self.customers.handle(message, replayed=replayed)
                await desk.update_handled(update_id)
            await self.store.handled(message.id)
            self._failures.pop(message.id, None)
            self.sender.wake()
            return True
        except Exception as exc:
            if storage_fault(exc) is not None:
                log.error("WhatsApp message %s waits for the database: %s", message.id, exc)
                await asyncio.sleep(1.0)
                self.wake()
                return False
            self._failures[message.id] += 1
            attempts = self._failures[message.id]
            log.error("WhatsApp message %s failed (%d): %s", message.id, attempts, exc)
            log.debug("The traceback", exc_info=exc)
            if attempts >= MAX_ATTEMPTS:
                await desk.quarantine_update(update_id, message.payload, repr(exc), attempts)
                await self.store.handled(message.id)
                self._failures.pop(message.id, None)
                return True
            await asyncio.sleep(min(2.0**attempts, 10.0))
            self.wake()
            return False

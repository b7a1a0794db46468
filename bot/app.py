"""The composition root: build the Application, open storage in post_init, close it after."""

from __future__ import annotations

import logging
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    ContextTypes,
    Defaults,
    TypeHandler,
)
from telegram.request import HTTPXRequest

import handlers
from bot.channels.telegram.claims import Claimer
from bot.channels.telegram.context import BotData, SupportContext
from bot.channels.telegram.dispatcher import Dispatcher
from bot.channels.telegram.faults import StorageHealth
from bot.channels.telegram.notify import Notifier
from bot.channels.telegram.ratelimit import TELEGRAM, DeskRateLimiter, TelegramLimits
from bot.channels.telegram.relay import AdminRelay
from bot.channels.telegram.telegram_bot import DeskBot, masked
from bot.channels.telegram.updates import InboxQueue, PerChatUpdateProcessor, line_name
from bot.channels.whatsapp.channel import WhatsAppChannel
from bot.compose import StoredDesk, open_database
from bot.config import Settings
from bot.domain.desk import Clock, utc_now
from bot.i18n import load_catalogs
from handlers import groups, sweeper
from handlers.commands import publish_commands
from storage import storage_fault

log = logging.getLogger(__name__)

SupportApplication = Application[Any, SupportContext, Any, Any, BotData, Any]


async def after_update(update: Update, context: SupportContext) -> None:
    """Finish an update: note it done (the outbox's sender is woken by the database when
    the update queued something).

    What the update changed is in the database already, a form's step with it (the draft
    is written before its question goes out), so a kill before this replays the update
    into the state it led to, where it changes nothing (`bot.domain.intake`). An update
    whose change must never happen twice (a ticket, a message, a status) was recorded as
    handled already, in that change's own transaction.
    """
    await context.desk.update_handled(update.update_id)


async def skip_processed(update: Update, context: SupportContext) -> None:
    """Drop an update that was already handled before a restart."""
    if await context.desk.handled_before(update.update_id):
        log.info("Update %s was already handled; skipped", update.update_id)
        await context.desk.inbox.handled(update.update_id)
        raise ApplicationHandlerStop


async def on_startup(application: SupportApplication) -> None:
    """Open the database and publish the command menus."""
    desk = application.bot_data.desk
    await desk.db.connect()
    # Updates fetched before a kill but never handled go first, in their order.
    await desk.inbox.clear_handled()
    claimer = application.bot_data.claimer
    for payload in [] if claimer is not None else await desk.inbox.unhandled():
        log.info("Handling update %s fetched before the last stop", payload.get("update_id"))
        application.bot_data.replayed.add(int(payload["update_id"]))
        update = Update.de_json(payload, application.bot)
        queue = application.update_queue
        if isinstance(queue, InboxQueue):
            await queue.hand_over(update)  # in the inbox already
        else:
            await queue.put(update)
    await publish_commands(application.bot, desk)
    application.bot_data.health.bot = application.bot
    application.bot_data.dispatcher.start(application.bot)
    if claimer is not None:
        claimer.start()  # several workers: this one handles the lines it claims
    if application.bot_data.whatsapp is not None:
        await application.bot_data.whatsapp.start()
    log.info("Support desk started as @%s", application.bot.username)


async def on_stop(application: SupportApplication) -> None:
    """Let the outbox finish what it is sending while the bot can still send it."""
    await application.bot_data.dispatcher.stop()
    if application.bot_data.claimer is not None:
        await application.bot_data.claimer.stop()
    if application.bot_data.whatsapp is not None:
        await application.bot_data.whatsapp.stop()
    await application.bot_data.desk.give_up_lead()


async def on_shutdown(application: SupportApplication) -> None:
    await application.bot_data.dispatcher.stop()  # in case start-up failed half-way
    await application.bot_data.health.drain()
    await application.bot_data.desk.db.close()
    log.info("Support desk stopped")


def _add_fault_handling(application: SupportApplication, bot: DeskBot) -> None:
    """Storage faults, poison updates and unreadable ones (handlers/errors.py,
    bot/channels/telegram/faults.py)."""
    desk = application.bot_data.desk
    health = StorageHealth(desk, wake_outbox=lambda: application.bot_data.dispatcher.wake())
    application.bot_data.health = health
    application.bot_data.failures = {}
    application.bot_data.replayed = set()
    queue = application.update_queue
    assert isinstance(queue, InboxQueue)
    if desk.leadership.shared:
        _share_inbox(application, queue)
        # The queue writes each update with its line: the batches are not written again.
        bot.keep_fetched_in(None, quarantine=desk.quarantine.add, health=health)
        return
    bot.keep_fetched_in(desk.inbox.add, quarantine=desk.quarantine.add, health=health)
    if desk.settings.webhook_url:

        async def keep(update: Update) -> None:
            # As a fetched batch: a full disk must not keep the customer from an answer.
            try:
                await desk.inbox.add([masked(update.to_dict())])
            except Exception as exc:
                if storage_fault(exc) is None:
                    raise  # not a storage fault: Telegram is not answered 200, it retries
                health.failed(exc, f"keeping update {update.update_id} in the inbox")
            else:
                health.ok()

        queue.keep_in(keep)


def _share_inbox(application: SupportApplication, queue: InboxQueue) -> None:
    """Several workers on one PostgreSQL desk (bot/channels/telegram/claims.py): a received
    update is only written to the shared inbox with its line; this worker handles the lines
    its claimer claims, whoever received them."""
    desk = application.bot_data.desk
    claimer = Claimer(
        desk,
        hand_over=queue.hand_over,
        read=lambda payload: Update.de_json(payload, application.bot),
        replayed=application.bot_data.replayed,
    )
    application.bot_data.claimer = claimer

    async def receive(update: Update) -> None:
        # Not stored, not answered: Telegram is not told 200 and sends it again.
        if await desk.receive_update(masked(update.to_dict()), line_name(update)):
            claimer.wake()

    queue.keep_in(receive, shared=True)
    processor = application.update_processor
    assert isinstance(processor, PerChatUpdateProcessor)
    processor.on_done = claimer.done


def build_application(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    limits: TelegramLimits | None = TELEGRAM,
) -> SupportApplication:
    """Build the whole bot from its settings. Nothing is opened until it starts.

    `limits` is the pace the bot keeps: Telegram's, unless a test server allows more;
    None leaves the rate limiter out (only the benchmark does that, to measure its cost).
    """
    load_catalogs()
    db = open_database(settings)
    desk = StoredDesk(settings, db, clock)
    token = settings.bot_token.get_secret_value()
    root = settings.telegram_api_url
    timeout = settings.telegram_timeout.total_seconds()
    bot = DeskBot(
        token,
        base_url=f"{root}/bot",
        base_file_url=f"{root}/file/bot",
        defaults=Defaults(
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
            tzinfo=settings.tz,
        ),
        # As ApplicationBuilder would make them: a pool for the handlers and the outbox,
        # one connection for long polling (which waits longer than any other request).
        request=HTTPXRequest(
            connection_pool_size=256,
            read_timeout=timeout,
            write_timeout=timeout,
            connect_timeout=timeout,
        ),
        get_updates_request=HTTPXRequest(connection_pool_size=1, connect_timeout=timeout),
        rate_limiter=(
            DeskRateLimiter(limits, shared=desk.send_budgets) if limits is not None else None
        ),
    )
    application: SupportApplication = (
        ApplicationBuilder()
        .bot(bot)
        # In webhook mode an update is in the inbox before Telegram is answered 200.
        .update_queue(InboxQueue())
        .context_types(ContextTypes(context=SupportContext, bot_data=BotData))
        # Every chat at once, each chat's own updates in order (bot/channels/telegram/updates.py).
        .concurrent_updates(PerChatUpdateProcessor())
        .post_init(on_startup)
        .post_stop(on_stop)
        .post_shutdown(on_shutdown)
        .build()
    )
    desk.faq  # noqa: B018 - read now: a broken FAQ file stops start-up, not a customer's question
    application.bot_data.desk = desk
    relay = AdminRelay(desk)
    application.bot_data.relay = relay
    _add_fault_handling(application, bot)
    limiter = bot.rate_limiter
    application.bot_data.dispatcher = Dispatcher(
        desk,
        Notifier(desk, relay),
        health=application.bot_data.health,
        room=limiter.room_in if isinstance(limiter, DeskRateLimiter) else None,
    )
    application.bot_data.whatsapp = (
        _whatsapp(settings, desk, bot) if settings.whatsapp_enabled else None
    )
    handlers.register(application)
    sweeper.schedule(application, settings.sweep_interval.total_seconds())
    application.add_handler(TypeHandler(Update, skip_processed), group=groups.SKIP_HANDLED)
    application.add_handler(TypeHandler(Update, after_update), group=groups.AFTER)
    return application


def _whatsapp(settings: Settings, desk: StoredDesk, bot: DeskBot) -> WhatsAppChannel:
    """The WhatsApp channel on the webhook's address; with Telegram's webhook there too,
    on the next port (Telegram's server takes WEBHOOK_PORT)."""

    async def telegram_file(file_id: str) -> bytes:
        # An agent's file, fetched from Telegram for a WhatsApp customer.
        return bytes(await (await bot.get_file(file_id)).download_as_bytearray())

    port = settings.webhook_port + (1 if settings.webhook_url else 0)
    return WhatsAppChannel(
        desk, listen=settings.webhook_listen, port=port, telegram_file=telegram_file
    )

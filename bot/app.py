"""The composition root: build the Application, open storage in post_init, close it after."""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand, BotCommandScopeAllPrivateChats, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    TypeHandler,
)

import handlers
from bot.config import SUPPORTED_LOCALES, Settings
from bot.context import BotData, SupportContext
from bot.domain.desk import Clock, Desk, utc_now
from bot.i18n import N_, gettext, load_catalogs, use_locale
from bot.relay import AdminRelay
from handlers import sweeper
from storage import Database
from storage.persistence import SQLitePersistence

log = logging.getLogger(__name__)

SupportApplication = Application[Any, SupportContext, Any, Any, BotData, Any]

# The customer's command menu, set per language with setMyCommands.
CUSTOMER_COMMANDS = (
    ("new", N_("Open a new ticket")),
    ("tickets", N_("Your tickets and their status")),
    ("language", N_("Change the language")),
    ("help", N_("How this desk works")),
    ("cancel", N_("Stop what you are doing")),
)


async def flush_persistence(update: Update, context: SupportContext) -> None:
    """Write conversation states now, not at the next batch, so a kill loses no step."""
    await context.application.update_persistence()


async def on_startup(application: SupportApplication) -> None:
    """Open the database and publish the command menus."""
    desk = application.bot_data.desk
    await desk.db.connect()
    await publish_commands(application)
    log.info("Support desk started as @%s", application.bot.username)


async def on_shutdown(application: SupportApplication) -> None:
    await application.bot_data.desk.db.close()
    log.info("Support desk stopped")


async def publish_commands(application: SupportApplication) -> None:
    """Set the command menu in every language; the default one for everyone else."""
    scope = BotCommandScopeAllPrivateChats()
    default = await application.bot_data.desk.default_locale()
    try:
        for code in (*SUPPORTED_LOCALES, None):
            with use_locale(code or default):
                commands = [BotCommand(name, gettext(text)) for name, text in CUSTOMER_COMMANDS]
            await application.bot.set_my_commands(commands, scope=scope, language_code=code)
    except TelegramError as exc:
        # A menu is a convenience: the desk works without it, so don't refuse to start.
        log.warning("Could not set the command menus: %s", exc)


def build_application(
    settings: Settings, *, clock: Clock = utc_now, persistence_interval: float = 5.0
) -> SupportApplication:
    """Build the whole bot from its settings. Nothing is opened until it starts."""
    load_catalogs()
    db = Database(settings.database_path)
    token = settings.bot_token.get_secret_value()
    root = settings.telegram_api_url
    application: SupportApplication = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                tzinfo=settings.tz,
            )
        )
        .context_types(ContextTypes(context=SupportContext, bot_data=BotData))
        .persistence(SQLitePersistence(db, update_interval=persistence_interval))
        .rate_limiter(AIORateLimiter())
        # Conversations need one update at a time per chat; PTB's default is sequential.
        .concurrent_updates(False)
        .post_init(on_startup)
        .post_shutdown(on_shutdown)
        .build()
    )
    desk = Desk(settings, db, clock)
    application.bot_data.desk = desk
    application.bot_data.relay = AdminRelay(desk)
    handlers.register(
        application, conversation_timeout=settings.conversation_timeout.total_seconds() or None
    )
    sweeper.schedule(application, settings.sweep_interval.total_seconds())
    application.add_handler(TypeHandler(Update, flush_persistence), group=99)
    return application

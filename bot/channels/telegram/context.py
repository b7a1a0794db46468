"""Typed access to the desk from every handler: `context.desk`, `context.user`, `context.locale`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.domain.models import User

if TYPE_CHECKING:
    from bot.channels.telegram.claims import Claimer
    from bot.channels.telegram.dispatcher import Dispatcher
    from bot.channels.telegram.faults import StorageHealth
    from bot.channels.telegram.relay import AdminRelay
    from bot.channels.whatsapp.channel import WhatsAppChannel
    from bot.compose import StoredDesk


# The application as the handlers' modules see it (its type parameters do not matter there).
SupportApp = Application[Any, Any, Any, Any, Any, Any]


class BotData:
    """What the application shares with every handler. Rebuilt at start-up, never persisted."""

    desk: StoredDesk
    relay: AdminRelay
    dispatcher: Dispatcher
    health: StorageHealth  # the database's state at run time (bot/channels/telegram/faults.py)
    failures: dict[int, int]  # update id -> failed runs, until handled or quarantined
    replayed: set[int]  # updates fetched before the last stop, handled again at start-up
    whatsapp: WhatsAppChannel | None = None  # the second channel, when it is set up
    claimer: Claimer | None = None  # several workers on PostgreSQL: the lines it claims


class SupportContext(CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]):
    """PTB's context, with the desk's services as properties instead of string keys."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        # Filled by the middleware (handlers/middleware.py) for updates that have a user.
        self.user: User | None = None
        self.locale: str = "en"

    @property
    def desk(self) -> StoredDesk:
        return self.bot_data.desk

    @property
    def relay(self) -> AdminRelay:
        return self.bot_data.relay

    def require_user(self) -> User:
        if self.user is None:
            raise RuntimeError("the middleware did not run for this update")
        return self.user

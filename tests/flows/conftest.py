"""Flow tests: the real Application, long-polling a fake Bot API over HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from telegram import Update

from bot.app import SupportApplication, build_application
from bot.channels.telegram.ratelimit import TelegramLimits
from bot.config import Settings
from tests.conftest import TOKEN, FakeClock
from tests.fake_api import FakeTelegram, FakeUser, SentMessage


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as server:
        yield server


@pytest.fixture
def bot_settings(fake: FakeTelegram, make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(telegram_api_url=fake.url)


# The pace the bot keeps against a fake that enforces no limits: Telegram's overall and
# group budgets, but no per-customer pacing, so a test can walk a form at machine speed.
# Tests that switch the fake's limits on run the bot with Telegram's own (TELEGRAM).
UNPACED = TelegramLimits(private_burst=1000, private_per_second=1000.0)
# No pacing at all, the agents' chat included: for suites that post many cards and answers
# there quickly (bad input, authorization) against a fake that enforces no limits.
FREE = TelegramLimits(
    private_burst=1000, private_per_second=1000.0, group_limit=100_000, group_period=1.0
)


@asynccontextmanager
async def running(
    settings: Settings,
    *,
    clock: FakeClock | None = None,
    limits: TelegramLimits = UNPACED,
    **kwargs: Any,
) -> AsyncIterator[SupportApplication]:
    """Run the bot as `run_polling` would, and shut it down the same way."""
    application = (
        build_application(settings, clock=clock, limits=limits, **kwargs)
        if clock
        else build_application(settings, limits=limits, **kwargs)
    )
    await application.initialize()
    assert application.post_init is not None
    await application.post_init(application)
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=0.0, timeout=1, allowed_updates=Update.ALL_TYPES
    )
    await application.start()
    try:
        yield application
    finally:
        if application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        assert application.post_stop is not None
        await application.post_stop(application)
        await application.shutdown()
        assert application.post_shutdown is not None
        await application.post_shutdown(application)


@pytest.fixture
async def bot(bot_settings: Settings) -> AsyncIterator[SupportApplication]:
    async with running(bot_settings) as application:
        yield application


class Person:
    """A customer in their private chat: act, then read what the bot answered."""

    def __init__(self, fake: FakeTelegram, user: FakeUser) -> None:
        self.fake = fake
        self.user = user

    @property
    def id(self) -> int:
        return self.user.id

    def _mark(self) -> int:
        return len(self.fake.sent(self.user.id))

    async def _reply(
        self, mark: int, contains: str | None, count: int = 1, timeout: float = 5.0
    ) -> SentMessage:
        return await self.fake.wait_for(
            self.user.id,
            (lambda m: contains in m.text) if contains else None,
            since=mark,
            count=count,
            timeout=timeout,
        )

    async def says(self, text: str, expect: str | None = None, timeout: float = 5.0) -> SentMessage:
        mark = self._mark()
        self.user.send(text)
        return await self._reply(mark, expect, timeout=timeout)

    async def presses(
        self, message: SentMessage, button: str, expect: str | None = None, timeout: float = 5.0
    ) -> SentMessage:
        mark = self._mark()
        self.fake.press(self.user, message, button=button)
        return await self._reply(mark, expect, timeout=timeout)

    async def sends_photo(self, expect: str | None = None, **kwargs: Any) -> SentMessage:
        mark = self._mark()
        self.user.send_photo(**kwargs)
        return await self._reply(mark, expect)

    async def sends_document(self, expect: str | None = None, **kwargs: Any) -> SentMessage:
        mark = self._mark()
        self.user.send_document(**kwargs)
        return await self._reply(mark, expect)

    async def sends(self, action: Callable[[], object], expect: str | None = None) -> SentMessage:
        mark = self._mark()
        action()
        return await self._reply(mark, expect)

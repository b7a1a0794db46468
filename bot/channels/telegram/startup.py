"""Reaching Telegram before the bot runs: one line per state, and never the token.

PTB's own start-up turns an unreachable server into pages of traceback, and a rejected
token into an exception whose message quotes the token. Here `getMe` is called first: a
rejected token is fatal (nothing will fix it but a new token), an unreachable server is
retried with a growing delay until it answers or the operator stops the bot. The log says
so once when the state changes (down, a different reason, up again), not at each attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from datetime import timedelta

from telegram import Bot
from telegram.error import InvalidToken, RetryAfter, TelegramError, TimedOut
from telegram.request import HTTPXRequest

from bot.config import Settings

log = logging.getLogger(__name__)

FIRST_DELAY = 5.0
MAX_DELAY = 60.0


class TokenRejectedError(Exception):
    """Telegram answered 401 Unauthorized or 404 Not Found to `getMe`."""

    def __init__(self) -> None:
        super().__init__("BOT_TOKEN was rejected by Telegram")


def short_reason(exc: TelegramError) -> str:
    """Say in a few words why a request failed ("connection refused", "timed out")."""
    if isinstance(exc, TimedOut):
        return "timed out"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, socket.gaierror) and cause.strerror:
            return cause.strerror.lower()
        if isinstance(cause, OSError) and cause.errno:
            return os.strerror(cause.errno).lower()
        cause = cause.__cause__ or cause.__context__
    return str(exc).removeprefix("httpx.")


def _seconds(delay: float) -> str:
    return f"{delay:g} s"


async def wait_for_telegram(
    settings: Settings,
    stop: asyncio.Event,
    *,
    first_delay: float = FIRST_DELAY,
    max_delay: float = MAX_DELAY,
) -> bool:
    """Call `getMe` until Telegram answers: True then, False if `stop` was set first.

    Raises TokenRejectedError when the server refuses the token.
    """
    url = settings.telegram_api_url
    timeout = settings.telegram_timeout.total_seconds()
    request = HTTPXRequest(connect_timeout=timeout, read_timeout=timeout)
    bot = Bot(settings.bot_token.get_secret_value(), base_url=f"{url}/bot", request=request)
    delay = first_delay
    reported: str | None = None
    try:
        while not stop.is_set():
            try:
                await bot.get_me()
            except InvalidToken:
                # PTB's message quotes the token: it is dropped here, never shown.
                raise TokenRejectedError from None
            except RetryAfter as exc:
                retry = exc.retry_after
                seconds = retry.total_seconds() if isinstance(retry, timedelta) else float(retry)
                reason, wait = "too many requests", max(delay, seconds)
            except TelegramError as exc:
                reason, wait = short_reason(exc), delay
                delay = min(delay * 2, max_delay)
            else:
                if reported is not None:
                    log.info("Reached TELEGRAM_API_URL %s", url)
                return True
            if reason != reported:
                log.warning(
                    "cannot reach TELEGRAM_API_URL %s: %s; retrying in %s",
                    url,
                    reason,
                    _seconds(wait),
                )
                reported = reason
            else:
                log.debug("Still cannot reach %s: %s; next try in %s", url, reason, _seconds(wait))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
        return False
    finally:
        # Not bot.shutdown(): that skips a bot whose getMe never succeeded.
        await request.shutdown()

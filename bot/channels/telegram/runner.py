"""Running the Application until SIGINT or SIGTERM, and stopping it in order.

PTB's `run_polling` turns a stop signal into `SystemExit` raised wherever the loop happens
to be. During its own start-up (`getMe`, `deleteWebhook`) that abandons a task holding the
updater's lock, and the shutdown that follows waits for that lock forever, after a
traceback. Here a signal only sets an event: a start-up still under way is cancelled (its
locks released), and the shutdown is PTB's own sequence, in PTB's order:

1. the updater stops fetching (its last `getUpdates` confirms what was fetched);
2. the application finishes every update in hand, and the jobs running;
3. `post_stop`: the outbox dispatcher finishes the item in flight
   (bot/channels/telegram/dispatcher.py);
4. shutdown and `post_shutdown`: the database is closed.

Updates fetched but not finished are in the inbox, so the next start resumes there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# How often a worker of several looks whether it is the one to poll (storage.leader).
ELECTION_EVERY = 1.0
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """Set `stop` on SIGINT or SIGTERM while inside the block (in the running loop)."""
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    try:
        yield
    finally:
        for sig in STOP_SIGNALS:
            loop.remove_signal_handler(sig)


async def serve(
    application: AnyApplication,
    stop: asyncio.Event,
    *,
    webhook: dict[str, Any] | None = None,
    polling_failed: Callable[[TelegramError], None] | None = None,
    elected: Callable[[], Awaitable[bool]] | None = None,
) -> None:
    """Start the bot, run it until `stop` is set, then stop it in order.

    With `webhook` (Updater.start_webhook's options) it serves a webhook, else it polls;
    `polling_failed` is PTB's error callback for `getUpdates`. With `elected` (several
    workers) only the worker it names polls, taking over when another stops. An exception
    of the start-up (a database that can't be opened, say) is raised after the shutdown.
    """
    polls: list[asyncio.Task[None]] = []
    starting = asyncio.create_task(_start(application, webhook, polling_failed, elected, polls))
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            starting.result()
            await stopping
        else:
            log.info("Stopping during start-up")
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting
    finally:
        stopping.cancel()
        for task in polls:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await _shutdown(application)


async def _start(
    application: AnyApplication,
    webhook: dict[str, Any] | None,
    polling_failed: Callable[[TelegramError], None] | None,
    elected: Callable[[], Awaitable[bool]] | None,
    polls: list[asyncio.Task[None]],
) -> None:
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    updater = application.updater
    assert updater is not None
    if webhook is not None:
        await updater.start_webhook(allowed_updates=Update.ALL_TYPES, **webhook)
    elif elected is None:
        await updater.start_polling(allowed_updates=Update.ALL_TYPES, error_callback=polling_failed)
    else:
        polls.append(asyncio.create_task(_poll_while_elected(application, elected, polling_failed)))
    await application.start()


async def _poll_while_elected(
    application: AnyApplication,
    elected: Callable[[], Awaitable[bool]],
    polling_failed: Callable[[TelegramError], None] | None,
) -> None:
    """Poll while this worker is the elected one; Telegram allows one poller a bot."""
    updater = application.updater
    assert updater is not None
    while True:
        try:
            chosen = await elected()
            if chosen and not updater.running:
                log.info("This worker fetches the updates (getUpdates)")
                await updater.start_polling(
                    allowed_updates=Update.ALL_TYPES, error_callback=polling_failed
                )
            elif not chosen and updater.running:
                log.info("Another worker fetches the updates now")
                await updater.stop()
        except Exception as exc:  # noqa: BLE001 - the election goes on
            log.warning("Fetching updates could not be started or stopped: %s", exc)
        await asyncio.sleep(ELECTION_EVERY)


async def _shutdown(application: AnyApplication) -> None:
    updater = application.updater
    if updater is not None and updater.running:
        await updater.stop()
    if application.running:
        await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)

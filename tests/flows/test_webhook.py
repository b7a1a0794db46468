"""Webhook mode: Telegram is told where to post, and only posts with the secret count."""

from __future__ import annotations

import socket
from collections.abc import Callable

import aiohttp
from telegram import Update

from bot.__main__ import webhook_options
from bot.app import build_application
from bot.config import Settings
from tests.fake_api import FakeTelegram


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_webhook_mode_receives_updates_with_the_secret_only(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    port = _free_port()
    settings = make_settings(
        telegram_api_url=fake.url,
        webhook_url="https://desk.example.com",
        webhook_secret="s3cret-Token",
        webhook_listen="127.0.0.1",
        webhook_port=port,
    )
    application = build_application(settings)
    await application.initialize()
    assert application.post_init is not None and application.updater is not None
    await application.post_init(application)
    await application.updater.start_webhook(
        allowed_updates=Update.ALL_TYPES, **webhook_options(settings)
    )
    await application.start()
    try:
        call = await fake.wait_for_call("setWebhook", since=0)
        assert call.params["url"] == "https://desk.example.com/telegram"
        assert call.params["secret_token"] == "s3cret-Token"
        user = fake.user("Webby")
        user.send("/start")  # build a real update, then post it ourselves as Telegram would
        update = fake.last_update
        fake.drop_updates()
        url = f"http://127.0.0.1:{port}/telegram"
        async with aiohttp.ClientSession() as http:
            async with http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}
            ) as refused:
                assert refused.status == 403
            async with http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret-Token"}
            ) as accepted:
                assert accepted.status == 200
        hello = await fake.wait_for(user.id, since=0)
        assert hello.text.startswith("Hello, Webby!")
        assert len(fake.sent(user.id)) == 1
    finally:
        await application.updater.stop()
        await application.stop()
        assert application.post_stop is not None
        await application.post_stop(application)
        await application.shutdown()
        assert application.post_shutdown is not None
        await application.post_shutdown(application)


async def test_an_update_answered_200_is_in_the_inbox_before_it_is_handled(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    port = _free_port()
    settings = make_settings(
        telegram_api_url=fake.url,
        webhook_url="https://desk.example.com",
        webhook_listen="127.0.0.1",
        webhook_port=port,
    )
    application = build_application(settings)
    await application.initialize()
    assert application.post_init is not None and application.updater is not None
    await application.post_init(application)
    await application.updater.start_webhook(
        allowed_updates=Update.ALL_TYPES, **webhook_options(settings)
    )
    await application.start()
    desk = application.bot_data.desk
    try:
        user = fake.user("Wulan")
        user.send("/start")
        update = fake.last_update
        fake.drop_updates()
        # The answer stalls in Telegram: the update is still being handled after the 200.
        fake.delay_next("sendMessage", 2.0)
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"http://127.0.0.1:{port}/telegram", json=update) as accepted,
        ):
            assert accepted.status == 200
        kept = await desk.inbox.unhandled()
        assert [u["update_id"] for u in kept] == [update["update_id"]]
        assert kept[0]["message"]["text"] == "/start"
        hello = await fake.wait_for(user.id, since=0)
        assert hello.text.startswith("Hello, Wulan!")
        await fake.idle()
        assert await desk.inbox.unhandled() == []  # handled: gone from the inbox
    finally:
        await application.updater.stop()
        await application.stop()
        assert application.post_stop is not None
        await application.post_stop(application)
        await application.shutdown()
        assert application.post_shutdown is not None
        await application.post_shutdown(application)

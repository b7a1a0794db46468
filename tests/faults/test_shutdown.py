"""SIGTERM stops `python -m bot` in order, even in the middle of PTB's own start-up, and
the next start resumes exactly where it stopped."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.conftest import TOKEN
from tests.fake_api import FakeTelegram
from tests.faults.process import bot_process

WAIT = 30.0


async def _asked(fake: FakeTelegram, method: str) -> None:
    """Wait until the bot has sent a `method` request (answered or not)."""
    for _ in range(int(WAIT / 0.05)):
        if any(call.method == method for call in fake.calls):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {method} request within {WAIT} s")


async def test_sigterm_while_the_webhook_is_being_deleted(tmp_path: Path) -> None:
    async with FakeTelegram(token=TOKEN) as fake:
        fake.delay_next("deleteWebhook", WAIT * 2)  # Telegram does not answer
        async with bot_process(tmp_path, fake.url, tmp_path / "support.db") as bot:
            await _asked(fake, "deleteWebhook")
            bot.process.send_signal(signal.SIGTERM)
            code = await bot.ends()
    assert code == 0, bot.output
    assert "Traceback" not in bot.output
    assert any("Stopping during start-up" in line for line in bot.lines), bot.output
    assert bot.lines[-1].endswith("Support desk stopped")
    assert fake.calls_to("getUpdates") == []


async def test_sigterm_lets_the_update_in_hand_finish_and_the_next_start_resumes(
    tmp_path: Path,
) -> None:
    database = tmp_path / "support.db"
    async with FakeTelegram(token=TOKEN) as fake:
        alice = fake.user("Alice")
        async with bot_process(tmp_path, fake.url, database) as bot:
            await bot.line_with("Support desk started")
            # The answer to /start takes a while: SIGTERM arrives while it is in hand.
            fake.delay_next("sendMessage", 1.0)
            alice.send("/start")
            await fake.wait_for_call("sendMessage", since=0, timeout=WAIT)
            bot.process.send_signal(signal.SIGTERM)
            code = await bot.ends()
        assert code == 0, bot.output
        assert "Traceback" not in bot.output
        answers = fake.sent(alice)
        assert len(answers) == 1  # the greeting went out before the process ended
        assert bot.lines[-1].endswith("Support desk stopped")

        # The next start neither answers /start again nor misses what came meanwhile.
        alice.send("/help")
        async with bot_process(tmp_path, fake.url, database) as again:
            await again.line_with("Support desk started")
            await fake.wait_for(alice.id, since=1, timeout=WAIT)
            again.process.send_signal(signal.SIGTERM)
            assert await again.ends() == 0
        assert len(fake.sent(alice)) == 2
        assert "Traceback" not in again.output

"""Start-up against Telegram: a rejected token and an unreachable server, one line each."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bot.channels.telegram.startup import wait_for_telegram
from bot.config import Settings
from tests.conftest import TOKEN
from tests.fake_api import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
WAIT = 30.0  # the bound of every wait below; none is expected to take this long


def closed_port() -> int:
    """A port nothing listens on (bound for a moment, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Bot:
    """`python -m bot` in a subprocess, its log read line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    async def line_with(self, text: str) -> str:
        async def read() -> str:
            assert self.process.stderr is not None
            while True:
                raw = await self.process.stderr.readline()
                if not raw:
                    raise AssertionError(f"the bot ended without {text!r}: {self.lines}")
                line = raw.decode().rstrip("\n")
                self.lines.append(line)
                if text in line:
                    return line

        try:
            return await asyncio.wait_for(read(), WAIT)
        except TimeoutError:
            raise AssertionError(f"no {text!r} within {WAIT} s: {self.lines}") from None

    async def ends(self) -> int:
        assert self.process.stderr is not None

        async def read_to_the_end() -> None:
            assert self.process.stderr is not None
            async for raw in self.process.stderr:
                self.lines.append(raw.decode().rstrip("\n"))

        try:
            await asyncio.wait_for(read_to_the_end(), WAIT)
        except TimeoutError:
            raise AssertionError(f"the bot still runs after {WAIT} s: {self.lines}") from None
        return await asyncio.wait_for(self.process.wait(), WAIT)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)


@asynccontextmanager
async def bot_process(tmp_path: Path, api_url: str) -> AsyncIterator[Bot]:
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--env-file",
        str(env_file),
        cwd=ROOT,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": api_url,
            "DATABASE_PATH": str(tmp_path / "support.db"),
        },
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        yield Bot(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_rejected_token_is_one_line_without_the_token(tmp_path: Path) -> None:
    # The fake knows another token, so it answers getMe 401 Unauthorized, as Telegram does.
    async with (
        FakeTelegram(token="654321:SOME-other_token") as fake,
        bot_process(tmp_path, fake.url) as bot,
    ):
        code = await bot.ends()
    assert code == 2
    assert bot.lines == ["error: BOT_TOKEN was rejected by Telegram"]
    assert fake.calls[0].status == 401


async def test_an_unreachable_server_is_retried_until_it_answers(tmp_path: Path) -> None:
    port = closed_port()
    url = f"http://127.0.0.1:{port}"
    async with bot_process(tmp_path, url) as bot:
        down = await bot.line_with("cannot reach")
        assert down.endswith(
            f"cannot reach TELEGRAM_API_URL {url}: connection refused; retrying in 5 s"
        )
        async with FakeTelegram(token=TOKEN, port=port) as fake:
            await bot.line_with("Support desk started")
            # Stop it once it polls (PTB cannot stop cleanly in the middle of its own start-up).
            await fake.wait_for_call("getUpdates", since=0, timeout=WAIT)
            bot.process.send_signal(signal.SIGTERM)
            code = await bot.ends()
    assert code == 0
    assert "Traceback" not in bot.output
    assert TOKEN not in bot.output
    assert sum("cannot reach" in line for line in bot.lines) == 1


async def test_a_stop_signal_ends_the_wait_cleanly(tmp_path: Path) -> None:
    async with bot_process(tmp_path, f"http://127.0.0.1:{closed_port()}") as bot:
        await bot.line_with("cannot reach")
        bot.process.send_signal(signal.SIGINT)
        code = await bot.ends()
    assert code == 0
    assert "Traceback" not in bot.output
    assert bot.lines[-1].endswith("Stopped before Telegram could be reached")


class Attempts(logging.Handler):
    """Counts the wait's records and wakes the test after `enough` of them."""

    def __init__(self, enough: int) -> None:
        super().__init__(logging.DEBUG)
        self.enough = enough
        self.records: list[logging.LogRecord] = []
        self.retried = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        if len(self.records) >= self.enough:
            self.retried.set()


async def test_the_wait_logs_a_state_once_however_many_attempts(
    make_settings: Callable[..., Settings],
) -> None:
    port = closed_port()
    settings = make_settings(telegram_api_url=f"http://127.0.0.1:{port}")
    url = settings.telegram_api_url
    logger = logging.getLogger("bot.channels.telegram.startup")
    attempts = Attempts(enough=4)
    logger.addHandler(attempts)
    level = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        waiting = asyncio.create_task(
            wait_for_telegram(settings, asyncio.Event(), first_delay=0.01, max_delay=0.05)
        )
        await asyncio.wait_for(attempts.retried.wait(), WAIT)
        async with FakeTelegram(token=TOKEN, port=port):
            assert await asyncio.wait_for(waiting, WAIT) is True
    finally:
        logger.removeHandler(attempts)
        logger.setLevel(level)
    warnings = [r.getMessage() for r in attempts.records if r.levelno == logging.WARNING]
    assert warnings == [
        f"cannot reach TELEGRAM_API_URL {url}: connection refused; retrying in 0.01 s"
    ]
    assert attempts.records[-1].getMessage() == f"Reached TELEGRAM_API_URL {url}"

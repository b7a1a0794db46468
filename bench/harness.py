"""The bench's plumbing: a timing fake Bot API, the bot under test as a child process.

The fake (tests/fake_api) runs in the bench process on 127.0.0.1; the bot runs as its own
process, so its CPU time and memory can be read from /proc without the bench's own work
mixed in. Every wait is bounded and every child is killed on the way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.fake_api import FakeTelegram, SentMessage
from tests.fake_api.objects import JSON

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
TOKEN = "123456:BENCH-token_abcdef"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

_children: set[subprocess.Popen[bytes]] = set()
# Where the children's logs are copied when they stop (run.py --logs); None: not kept.
LOGS: list[Path] = []


class TimingFake(FakeTelegram):
    """The fake Bot API, noting when every bot message arrived and waking per-chat waiters.

    The stock ``wait_for`` wakes every waiter on every change, which costs O(waiters) per
    message: with thousands of customers waiting the bench would measure itself.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(token=TOKEN, **kwargs)
        self.arrived: dict[int, list[tuple[float, SentMessage]]] = {}
        self._chat_events: dict[int, asyncio.Event] = {}

    def record_sent(self, message: JSON, method: str, params: JSON) -> SentMessage:
        sent = super().record_sent(message, method, params)
        self.arrived.setdefault(sent.chat_id, []).append((time.monotonic(), sent))
        event = self._chat_events.pop(sent.chat_id, None)
        if event is not None:
            event.set()
        return sent

    def count(self, chat_id: int) -> int:
        return len(self.arrived.get(chat_id, ()))

    async def next_message(
        self,
        chat_id: int,
        since: int,
        predicate: Callable[[SentMessage], bool] | None = None,
        *,
        timeout: float,
    ) -> tuple[int, float, SentMessage] | None:
        """The first message to ``chat_id`` from index ``since`` that matches, or None."""
        deadline = time.monotonic() + timeout
        index = since
        while True:
            arrived = self.arrived.get(chat_id, [])
            while index < len(arrived):
                at, sent = arrived[index]
                index += 1
                if predicate is None or predicate(sent):
                    return index, at, sent
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            event = self._chat_events.setdefault(chat_id, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    def api_calls(self) -> int:
        """Bot API requests so far, long polls left out."""
        return sum(1 for c in self.calls if c.method.lower() != "getupdates")


class BotProcess:
    """The bot under test, started as ``argv`` with ``env`` and watched through /proc."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], workdir: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    async def start(self, fake: FakeTelegram, timeout: float = 60.0) -> None:
        """Start it and wait until it long-polls the fake (its start-up is done)."""
        mark = len(fake.calls)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "PTB_TIMEDELTA": "1",
            **self.env,
        }
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(  # noqa: ASYNC220 - a long-lived child, not awaited
                self.argv,
                cwd=self.workdir,  # no .env of the developer's is read
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _children.add(self._proc)
        deadline = time.monotonic() + timeout
        while not any(c.method == "getUpdates" for c in fake.calls[mark:]):
            if self._proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} did not start in {timeout} s:\n{self.log_tail()}")
            await asyncio.sleep(0.05)

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the process (all its threads) so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def rss_mb(self) -> float:
        pages = int(Path(f"/proc/{self.pid}/statm").read_text().split()[1])
        return pages * PAGE / 2**20

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def errors(self) -> int:
        """Lines the bot logged at ERROR or worse (a traceback counts once)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return 0
        return sum(1 for line in text.splitlines() if " ERROR " in line or " CRITICAL " in line)

    async def stop(self, grace: float = 3.0) -> None:
        """SIGTERM, then SIGKILL to the whole session after ``grace`` seconds."""
        proc = self._proc
        if proc is None:
            return
        if LOGS:
            with contextlib.suppress(OSError):
                shutil.copyfile(self.log_path, LOGS[0] / self.log_path.name)
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + grace
            while proc.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110 - a child process has no event to wait on
                await asyncio.sleep(0.05)
        _kill(proc)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)
    _children.discard(proc)


def kill_all() -> None:
    """Kill every child still running (called on any exit of the bench)."""
    for proc in list(_children):
        _kill(proc)


def desk_env(fake: FakeTelegram, workdir: Path, **extra: str) -> dict[str, str]:
    return {
        "BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": fake.url,
        "DATABASE_PATH": str(workdir / "support.db"),
        "LOG_LEVEL": "WARNING",
        # The bench's customers are a load, not abuse: flood control would leave their
        # texts unanswered on purpose (it is tested in tests/flows/test_limits.py).
        "CUSTOMER_RATE_LIMIT": "1000",
        **extra,
    }


def desk_argv(*, limiter: bool) -> list[str]:
    """`python -m bot` (with PTB's rate limiter), or the bench launcher without it.

    With `BENCH_PROFILE` set to a folder, the bot runs under cProfile and leaves its
    profile there (`desk-<pid>.prof`) when it stops: slower, so for finding, not figures.
    """
    python = [PYTHON]
    profile = os.environ.get("BENCH_PROFILE")
    if profile:
        python += ["-m", "cProfile", "-o", f"{profile}/desk-{os.getpid()}.prof"]
    return [*python, "-m", "bot"] if limiter else [*python, str(ROOT / "bench" / "desk_bot.py")]


def echo_argv() -> list[str]:
    return [PYTHON, str(ROOT / "bench" / "echo_bot.py")]


def chunks(total: int, size: int) -> Iterator[range]:
    for start in range(0, total, size):
        yield range(start, min(total, start + size))

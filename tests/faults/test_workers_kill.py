"""Several `python -m bot` workers on one PostgreSQL desk, killed with SIGKILL.

- Two workers polling: only the leader fetches the updates; SIGKILL it, and the other
  takes the lead (and the polling) within seconds, nothing lost or answered twice.
- Three workers in webhook mode behind a round-robin balancer (the test's own), one of
  them SIGKILLed every few seconds and started again while customers open tickets and
  write to them and an agent answers (tests/faults/test_kills.py's customers): every
  ticket a customer got a number for exists once, every message reaches the other side
  once (outside the window the Bot API leaves open) and the lead passes from worker to
  worker. The fake enforces Telegram's limits and never has to refuse a message: the
  workers share Telegram's budget through the database (storage/budget.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from tests.conftest import TOKEN
from tests.fake_api import FakeTelegram
from tests.faults.process import bot_process
from tests.faults.test_kills import (
    CUSTOMERS,
    DRAIN_TIMEOUT,
    WINDOW,
    Customer,
    Kill,
    agent_token,
    customer_token,
    first_send_at,
    occurrences,
)
from tests.figures import record
from tests.unit.test_startup import ROOT

pytestmark = pytest.mark.one_backend  # PostgreSQL only: the workers' database is below

WAIT = 20.0


async def test_the_leader_is_killed_and_the_other_worker_polls_on(
    tmp_path: Path, pg_url: str
) -> None:
    async with FakeTelegram(token=TOKEN) as fake:
        first_dir, second_dir = tmp_path / "a", tmp_path / "b"
        first_dir.mkdir()
        second_dir.mkdir()
        env = {"DATABASE_URL": pg_url, "LOG_LEVEL": "INFO"}
        customers = [fake.user(f"Customer {i}") for i in range(4)]
        async with bot_process(first_dir, fake.url, first_dir / "support.db", **env) as a:
            await a.line_with("This worker fetches the updates")
            async with bot_process(second_dir, fake.url, second_dir / "support.db", **env) as b:
                await b.line_with("Support desk started")
                for customer in customers:
                    customer.send("/start")
                for customer in customers:
                    await fake.wait_for(customer.id, since=0, timeout=WAIT)
                # Killed between updates: a kill between an answer and its "handled" mark
                # would send that answer once more, the window tests/faults/test_kills.py
                # counts apart.
                await fake.idle()
                await asyncio.sleep(0.5)
                a.process.send_signal(signal.SIGKILL)
                await a.process.wait()
                # PostgreSQL ends the dead worker's session, and its lock with it.
                await b.line_with("This worker fetches the updates")
                for customer in customers:
                    customer.send("/help")
                for customer in customers:
                    await fake.wait_for(customer.id, since=1, timeout=WAIT)
                await fake.idle()
                await asyncio.sleep(1.0)  # anything answered twice would be in by now
                b.process.send_signal(signal.SIGTERM)
                assert await b.ends() == 0, b.output
        for customer in customers:
            assert len(fake.sent(customer)) == 2, [m.text[:40] for m in fake.sent(customer)]
        assert "Traceback" not in b.output
        assert "This worker leads" in b.output


WORKERS = 3
SECRET = "balancer-s3cret"
KILL_EVERY = 3.0  # seconds between kills while the customers and the agent are at work


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Worker:
    """One `python -m bot` in webhook mode on its own port, restarted after each kill."""

    env: dict[str, str]
    port: int
    log: Path
    lives: int = 0
    process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.lives += 1
        with self.log.open("ab") as err:
            err.write(f"--- life {self.lives}\n".encode())
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "--env-file",
                os.devnull,
                cwd=ROOT,
                env={**self.env, "WEBHOOK_PORT": str(self.port)},
                stdout=asyncio.subprocess.DEVNULL,
                stderr=err,
            )

    async def kill(self) -> float:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        at = time.monotonic()
        await self.process.wait()
        return at

    async def started(self, timeout: float = 30.0) -> bool:
        """Whether this life finished its start-up (a SIGTERM before it ends the process
        as Python's default does)."""
        marker = f"--- life {self.lives}\n"
        for _ in range(int(timeout / 0.1)):
            life = self.log.read_text(errors="replace").rsplit(marker, 1)[-1]
            if "Support desk started" in life:
                return True
            await asyncio.sleep(0.1)
        return False

    async def stop(self) -> int:
        assert self.process is not None
        assert await self.started(), self.log.read_text(errors="replace")[-2000:]
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 30)


async def _balance(fake: FakeTelegram, workers: list[Worker]) -> None:
    """A round-robin load balancer in front of the workers: Telegram's updates are posted
    to the next worker in turn; one that refuses or is down (killed) is skipped, and an
    update no worker took is posted again, as Telegram retries a webhook."""
    turn = 0
    waiting: list[dict[str, object]] = []
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        while True:
            waiting += fake.pending_updates
            fake.drop_updates()  # no await in between: nothing is queued meanwhile
            while waiting:
                posted = False
                for _ in range(len(workers)):
                    worker = workers[turn % len(workers)]
                    turn += 1
                    url = f"http://127.0.0.1:{worker.port}/telegram"
                    with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                        async with http.post(url, json=waiting[0], headers=headers) as answer:
                            posted = answer.status == 200
                    if posted:
                        break
                if not posted:
                    break  # every worker down for the moment: again in a while
                waiting.pop(0)
            await asyncio.sleep(0.02)


async def test_three_workers_behind_a_balancer_lose_nothing_while_one_is_killed_again_and_again(
    tmp_path: Path, pg_url: str
) -> None:
    async with FakeTelegram(token=TOKEN, limits=True) as fake:
        agent = fake.user("Agent Sari", language_code="en")
        group = fake.group("Agents", members=[agent])
        customers = [
            Customer(fake, fake.user(f"Customer {i}", language_code="en"), group, agent)
            for i in range(CUSTOMERS)
        ]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": fake.url,
            "DATABASE_PATH": str(tmp_path / "files" / "support.db"),
            "DATABASE_URL": pg_url,
            "ADMIN_CHAT_ID": str(group.id),
            "CUSTOMER_RATE_LIMIT": "1000",
            "WEBHOOK_URL": "https://desk.example.com",
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_SECRET": SECRET,
            "PTB_TIMEDELTA": "1",
            "LOG_LEVEL": "INFO",
        }
        workers = [Worker(env, _free_port(), tmp_path / f"worker-{i}.log") for i in range(WORKERS)]
        for worker in workers:
            await worker.start()
        balancer = asyncio.create_task(_balance(fake, workers))
        kills: list[Kill] = []
        work = asyncio.gather(*(customer.work() for customer in customers))
        try:
            turn = 0
            while not work.done():
                await asyncio.wait({work}, timeout=KILL_EVERY)
                if work.done():
                    break
                worker = workers[turn % WORKERS]
                turn += 1
                kills.append(Kill(await worker.kill(), f"worker {turn % WORKERS}"))
                await worker.start()
            work.result()  # a customer stuck on a step is a loss: it fails here

            def delivered() -> bool:
                return all(
                    occurrences(fake.sent(group.id), customer_token(n)) >= 1
                    and occurrences(fake.sent(c.user.id), agent_token(n)) >= 1
                    for c in customers
                    for n in c.numbers
                )

            assert await fake.wait_until(delivered, DRAIN_TIMEOUT), "not all delivered"
            await fake.idle(timeout=30)
            codes = [await worker.stop() for worker in workers]
        finally:
            balancer.cancel()
            if not work.done():
                work.cancel()
                with contextlib.suppress(BaseException):
                    await work
            for worker in workers:
                if worker.process is not None and worker.process.returncode is None:
                    worker.process.kill()
                    await worker.process.wait()
        logs = [worker.log.read_text(errors="replace") for worker in workers]
        assert codes == [0] * WORKERS, [log[-2000:] for log in logs]
        assert not any("Traceback" in log for log in logs), [log[-3000:] for log in logs]

        # Every ticket a customer got a number for exists once, and no other.
        conn = await asyncpg.connect(pg_url)
        try:
            rows = await conn.fetch("SELECT number, customer_id FROM tickets")
        finally:
            await conn.close()
        for customer in customers:
            stored = sorted(r["number"] for r in rows if r["customer_id"] == customer.user.id)
            assert stored == sorted(customer.numbers), customer.user.first_name
        # Every reply reached its side once (a copy only where a kill came within the
        # window the Bot API leaves open), and Telegram never refused a message.
        doubled = []
        for customer in customers:
            for number in customer.numbers:
                for chat, token in (
                    (group.id, customer_token(number)),
                    (customer.user.id, agent_token(number)),
                ):
                    count = occurrences(fake.sent(chat), token)
                    assert count >= 1, f"{token} lost"
                    at = first_send_at(fake, token)
                    near = at is not None and any(abs(k.at - at) <= WINDOW for k in kills)
                    if count > 1 and not near:
                        doubled.append(token)
        assert doubled == []
        # Telegram's limits held for the desk as a whole: the workers share the budget
        # (storage/budget.py), whichever of them answers a chat or leads the outbox.
        refused = [c for c in fake.calls if c.status == 429]
        assert refused == [], [(c.method, c.params.get("chat_id")) for c in refused]
        # The lead passed on: more than one life of the workers led the desk.
        leading = sum(log.count("This worker leads") for log in logs)
        assert len(kills) >= WORKERS and leading >= 2, (len(kills), leading)
        record(
            "workers",
            kills=len(kills),
            tickets=sum(len(c.numbers) for c in customers),
            leads=leading,
            refused_429=len(refused),
            sends=sum(1 for c in fake.calls if c.method.startswith("send")),
        )

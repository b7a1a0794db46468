"""Two `python -m bot` workers polling one PostgreSQL desk: only the leader fetches the
updates; SIGKILL it, and the other takes the lead (and the polling) within seconds, with
nothing the customers sent lost or answered twice."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from tests.conftest import TOKEN
from tests.fake_api import FakeTelegram
from tests.faults.process import bot_process

pytestmark = pytest.mark.sqlite_only  # PostgreSQL only: the workers' database is below

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

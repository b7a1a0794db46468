"""WhatsApp across kills: `python -m bot` is SIGKILLed right after it answered a webhook 200
(the message stored, not yet handled) or a moment later (while handling it), and
restarted; every other run ends in a SIGKILL too, once its message is handled and its copy
delivered. Every message must end on its ticket exactly once, and reach the agents once:
a second copy there is allowed only in the Bot API's own window (a kill within half a
second of Telegram taking the first copy, before the bot could write it down), as in
tests/faults/test_kills.py."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import TOKEN
from tests.fake_api import FakeTelegram
from tests.fake_graph import FakeGraph
from tests.faults.process import bot_process

CUSTOMERS = ["6281200000001", "6281200000002", "46700000003"]
TEXTS = 6
KILL_EVERY = 2  # about one message in two is followed by a kill
WINDOW = 0.5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _listening(graph: FakeGraph, timeout: float = 30.0) -> None:
    """Wait until the bot's webhook answers (its start-up is done)."""
    url = graph.webhook_url
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession() as session:
        while loop.time() < deadline:
            try:
                async with session.get(
                    url, params={"hub.mode": "subscribe", "hub.verify_token": graph.verify_token}
                ) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("the bot's WhatsApp webhook did not come up")


async def _until(done: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Wait until `done()` holds; `what` is said if it never does."""
    for _ in range(int(timeout / 0.05)):
        if done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(what)


async def _wait_for(graph: FakeGraph, wa_id: str, text: str) -> None:
    await _until(
        lambda: any(text in t for t in graph.texts_to(wa_id)),
        f"{wa_id} never got {text!r}: {graph.texts_to(wa_id)[-3:]}",
    )


def _copies_owed(text: str, messages: list[Any], outbox: list[Any]) -> list[Any]:
    """The outbox rows that owe the agents a copy of the ticket messages saying `text`."""
    ids = {message_id for message_id, body in messages if body == text}
    return [row[:4] for row in outbox if json.loads(row[4]).get("message_id") in ids]


async def _answered(graph: FakeGraph, wa_id: str, answers: int) -> None:
    """Wait until the bot answered the customer's latest message (it was handled)."""
    await _until(
        lambda: len(graph.sent_to(wa_id)) > answers,
        f"{wa_id} got no answer: {graph.texts_to(wa_id)[-3:]}",
    )


def _owed(database: Path) -> int:
    """The agents' copies of customer messages the bot has not written down as sent."""
    with sqlite3.connect(database) as conn:
        (owed,) = conn.execute(
            "SELECT count(*) FROM outbox WHERE state = 'pending' AND kind = ?",
            ("customer_message",),
        ).fetchone()
    return int(owed)


async def _delivered(fake: FakeTelegram, group_id: int, database: Path, text: str) -> None:
    """Wait until `text` reached the agents and the bot wrote down every copy it owes."""
    await _until(
        lambda: any(text in m.text for m in fake.sent(group_id)) and _owed(database) == 0,
        f"the agents' copy of {text!r} was not delivered and written down",
    )


async def test_kills_around_a_webhook_lose_nothing_and_double_nothing(tmp_path: Path) -> None:
    rng = random.Random(13)
    async with FakeTelegram(token=TOKEN) as fake, FakeGraph() as graph:
        agent = fake.user("Agnes", language_code="en")
        group = fake.group("Support agents", forum=True, members=[agent])
        port = _free_port()
        graph.webhook_url = f"http://127.0.0.1:{port}/whatsapp"
        env = {
            "ADMIN_CHAT_ID": str(group.id),
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(port),
            "WHATSAPP_TOKEN": graph.token,
            "WHATSAPP_PHONE_NUMBER_ID": graph.phone_id,
            "WHATSAPP_APP_SECRET": graph.app_secret,
            "WHATSAPP_VERIFY_TOKEN": graph.verify_token,
            "WHATSAPP_API_URL": graph.url,
            "CUSTOMER_RATE_LIMIT": "1000",
        }
        database = tmp_path / "desk.db"
        sudden = 0  # kills while a message is being handled
        kills: list[float] = []  # when each kill came (the fake's calls' clock), all of them
        # Each customer writes `TEXTS` messages; none has a ticket, so the first one opens
        # none: they go through the form first, undisturbed, then write under kills.
        async with bot_process(tmp_path, fake.url, database, **env):
            await _listening(graph)
            for wa_id in CUSTOMERS:
                steps = [
                    ("text", "/new"),
                    ("button", "f:dep:billing"),
                    ("text", "Saldo top-up belum masuk"),
                    ("row", "f:pri:medium"),
                    ("text", "Saya top-up 50.000 tadi pagi dan saldonya belum bertambah."),
                    ("button", "f:skip"),
                    ("button", "f:submit"),
                ]
                for kind, value in steps:
                    mark = len(graph.sent_to(wa_id))
                    if kind == "text":
                        await graph.send_text(wa_id, value)
                    elif kind == "button":
                        await graph.tap_button(wa_id, value, value)
                    else:
                        await graph.pick_row(wa_id, value, value)
                    for _ in range(600):
                        if len(graph.sent_to(wa_id)) > mark:
                            break
                        await asyncio.sleep(0.05)
                await _wait_for(graph, wa_id, "#")

        for i in range(TEXTS):
            for wa_id in CUSTOMERS:
                text = f"catatan {wa_id[-1]}-{i}"
                async with bot_process(tmp_path, fake.url, database, **env) as bot:
                    await _listening(graph)
                    answers = len(graph.sent_to(wa_id))
                    _wamid, status = await graph.send_text(wa_id, text)
                    assert status == 200
                    if rng.randrange(KILL_EVERY) == 0:
                        await asyncio.sleep(rng.choice([0.0, 0.0, 0.01, 0.03]))
                        sudden += 1
                    else:
                        # Left alone until the message is handled and its copy delivered
                        # and written down: then the kill that ends every run hits nothing.
                        await _answered(graph, wa_id, answers)
                        await _delivered(fake, group.id, database, text)
                    # Every run ends in a kill, and each counts for the window below.
                    bot.process.kill()
                    kills.append(time.monotonic())
                    await bot.process.wait()

        # One bot, undisturbed, until everything owed is delivered.
        async with bot_process(tmp_path, fake.url, database, **env):
            await _listening(graph)
            expected = {f"catatan {w[-1]}-{i}" for w in CUSTOMERS for i in range(TEXTS)}
            for _ in range(600):
                relayed = [m.text for m in fake.sent(group.id) if "catatan" in m.text]
                if all(any(e in r for r in relayed) for e in expected):
                    break
                await asyncio.sleep(0.1)
            await fake.idle()

        assert sudden >= 3
        with sqlite3.connect(database) as conn:
            messages = list(conn.execute("SELECT id, body FROM ticket_messages"))
            outbox = list(conn.execute("SELECT id, kind, state, done_at, payload FROM outbox"))
        bodies = [body for _id, body in messages]
        relayed = [m.text for m in fake.sent(group.id) if "catatan" in m.text]
        for text in expected:
            # Each reached the agents once (a batch may carry several in one message).
            copies = sum(r.count(text) for r in relayed)
            assert copies >= 1, f"{text} never reached the agents"
            if copies > 1:
                at = [
                    c.at
                    for c in fake.calls
                    if c.ok and isinstance(c.result, dict) and text in str(c.result.get("text"))
                ]
                near = [round(k - at[0], 2) for k in kills if abs(k - at[0]) < 5]
                assert any(abs(k - at[0]) <= WINDOW for k in kills), (
                    f"{text} doubled: copies at {[round(t - at[0], 2) for t in at]} after the "
                    f"first, kills near it at {near}; {bodies.count(text)} on the ticket; "
                    f"outbox: {_copies_owed(text, messages, outbox)}"
                )
        for text in expected:
            assert bodies.count(text) == 1, text

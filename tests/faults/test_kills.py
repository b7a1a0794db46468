"""Exactly once across kills: `python -m bot` is SIGKILLed again and again while customers
open tickets and write to them and agents answer, and everything is counted afterwards.

The kills come at random moments, during start-up, right after the bot fetched a batch of
updates (before it handled them) and right after Telegram accepted one of its messages
(before it could write that down: the one window the Bot API leaves open, see the
README's *Exactly once*). At the end one bot runs undisturbed until everything owed is
delivered, and is stopped with SIGTERM.

Counted: every customer's tickets (one per submit), one receipt per ticket, one card per
ticket, every customer reply in the agents' chat once and every agent reply in the
customer's chat once. A duplicate counts as in the window only if a kill came within
half a second of Telegram taking its first copy (before it too: a request sent just before
the kill still arrives); any other is a failure, as is any loss. `KILLS=200 pytest tests/faults/test_kills.py -s` runs a longer round.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import TOKEN
from tests.fake_api import FakeChat, FakeTelegram, FakeUser, SentMessage
from tests.figures import record
from tests.flows.forms import question, tr
from tests.unit.test_startup import ROOT

KILLS = int(os.environ.get("KILLS", "50"))
CUSTOMERS = int(os.environ.get("KILL_CUSTOMERS", "6"))
TICKETS_EACH = int(os.environ.get("KILL_TICKETS_EACH", "2"))
STEP_TIMEOUT = 60.0  # a step's answer may wait for a few restarts
# The agents' chat is paced at Telegram's 20 messages a minute: a longer round (more
# customers) needs longer, `KILL_DRAIN` seconds.
DRAIN_TIMEOUT = float(os.environ.get("KILL_DRAIN", "420"))
# While there is work, the kills come in this turn (most right after fetches and sends);
# KILL_MIX=random draws them at random instead.
RANDOM_MIX = os.environ.get("KILL_MIX") == "random"
BUSY_MODES = ["after_fetch", "after_send", "random", "after_send", "after_fetch", "startup"]
# Seconds around the moment Telegram took a message in which a kill may double it: after
# (the bot had no time to write it down), and before, as a request the bot had sent before
# it died still arrives, and the fake, on the test's own event loop, may only read it once
# the kill is done.
WINDOW = 0.5

# The first words of a new ticket's receipt.
RECEIVED = tr("✅ Thank you! Your ticket <b>{ref}</b> has been received.").split("<b>")[0]
SUBJECTS = [
    "Invoice {n} charged twice",
    "Top-up {n} paid but balance not updated",
]


@dataclass
class Kill:
    at: float
    mode: str


@dataclass
class Run:
    fake: FakeTelegram
    env: dict[str, str]
    log: Path
    kills: list[Kill] = field(default_factory=list)
    process: asyncio.subprocess.Process | None = None

    async def start(self) -> float:
        with self.log.open("ab") as err:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "--env-file",
                os.devnull,
                cwd=ROOT,
                env=self.env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=err,
            )
        return time.monotonic()

    async def polling(self, since: int, timeout: float) -> bool:
        """Wait until the new process asks for updates (it has started): the request, not
        its answer, which a quiet long poll holds for ten seconds."""
        return await self.fake.wait_until(
            lambda: any(call.method == "getUpdates" for call in self.fake.calls[since:]),
            timeout,
        )

    async def kill(self, mode: str) -> None:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            self.kills.append(Kill(time.monotonic(), mode))
        await self.process.wait()

    async def one_life(self, rng: random.Random, *, busy: bool) -> None:
        """Start the bot and kill it in one of the ways: while the customers and the agent
        are at work, at random, in start-up, right after a fetch or right after a send
        (in turn, most of them right after a fetch or a send); once they are done,
        at random and in start-up while the rest is delivered."""
        if busy and not RANDOM_MIX:
            mode = BUSY_MODES[len(self.kills) % len(BUSY_MODES)]
        elif busy:
            mode = rng.choice(["startup", "random", "random", "after_fetch", "after_send"])
        else:
            mode = rng.choice(["startup", "random"])
        mark = len(self.fake.calls)
        await self.start()
        if mode == "startup":
            await asyncio.sleep(rng.uniform(0.2, 1.2))
            await self.kill(mode)
            return
        if not await self.polling(mark, 20.0):
            await self.kill("late start")
            return
        if mode == "random":
            await asyncio.sleep(rng.uniform(0.1, 1.5))
        else:
            since = len(self.fake.calls)
            method = "getUpdates" if mode == "after_fetch" else "sendMessage"

            def wanted(call: object) -> bool:
                result = getattr(call, "result", None)
                status = getattr(call, "status", None)
                return status == 200 and bool(result)

            with contextlib.suppress(AssertionError):
                await self.fake.wait_for_call(method, wanted, since=since, timeout=3.0)
        await self.kill(mode)

    async def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 30)


@dataclass
class Customer:
    fake: FakeTelegram
    user: FakeUser
    group: FakeChat
    agent: FakeUser
    numbers: list[int] = field(default_factory=list)

    def _mark(self) -> int:
        return len(self.fake.sent(self.user.id))

    async def _answer(self, mark: int, contains: str) -> SentMessage:
        return await self.fake.wait_for(
            self.user.id, lambda m: self._is_answer(m, contains), since=mark, timeout=STEP_TIMEOUT
        )

    def _is_answer(self, message: SentMessage, contains: str) -> bool:
        """The answer awaited; not a second copy of an earlier ticket's receipt that a kill
        in the window sent again while this step waited."""
        if contains not in message.text:
            return False
        return contains != RECEIVED or receipt_number(message) not in self.numbers

    async def says(self, text: str, expect: str) -> SentMessage:
        mark = self._mark()
        self.user.send(text)
        return await self._answer(mark, expect)

    async def presses(self, message: SentMessage, button: str, expect: str) -> SentMessage:
        mark = self._mark()
        self.fake.press(self.user, message, button=button)
        return await self._answer(mark, expect)

    async def open_ticket(self, index: int) -> int:
        subject = SUBJECTS[index % len(SUBJECTS)].format(n=f"{self.user.id % 1000}-{index}")
        current = await self.says("/new", question("department"))
        current = await self.presses(current, tr("Billing & Payments"), question("subject"))
        current = await self.says(subject, question("priority"))
        medium = next(b for b in current.button_texts() if b.startswith(tr("Medium")))
        current = await self.presses(current, medium, question("message"))
        current = await self.says(
            f"Paid on 20 November at 10:15 for order {index}, nothing arrived since.",
            question("attachments"),
        )
        current = await self.presses(current, tr("Skip"), question("review"))
        receipt = await self.presses(current, tr("📨 Submit"), RECEIVED)
        number = receipt_number(receipt)
        self.numbers.append(number)
        # The customer adds a line to the ticket by replying to its receipt.
        self.user.send(customer_token(number), reply_to=receipt.message_id)
        return number

    async def agent_answers(self, number: int) -> None:
        card = await self.fake.wait_for(
            self.group.id,
            lambda m: m.text.startswith(f"🎫 Ticket #{number} "),
            since=0,
            timeout=DRAIN_TIMEOUT,
        )
        self.group.send(self.agent, agent_token(number), reply_to=card.message_id)

    async def work(self) -> None:
        agents: list[asyncio.Task[None]] = []
        for index in range(TICKETS_EACH):
            number = await self.open_ticket(index)
            agents.append(asyncio.create_task(self.agent_answers(number)))
        await asyncio.gather(*agents)


def receipt_number(receipt: SentMessage) -> int:
    return int(receipt.text.split("#", 1)[1].split()[0].rstrip("."))


def customer_token(number: int) -> str:
    return f"customer-line-{number}-x"


def agent_token(number: int) -> str:
    return f"agent-line-{number}-x"


def occurrences(messages: list[SentMessage], token: str) -> int:
    return sum(m.text.count(token) for m in messages)


def sends_at(fake: FakeTelegram, token: str) -> list[float]:
    """When Telegram accepted each message whose text (as the chat shows it, without the
    HTML) holds `token`."""
    return [
        call.at
        for call in fake.calls
        if call.method == "sendMessage"
        and call.ok
        and isinstance(call.result, dict)
        and token in str(call.result.get("text", ""))
    ]


def first_send_at(fake: FakeTelegram, token: str) -> float | None:
    return next(iter(sends_at(fake, token)), None)


async def test_kills_lose_nothing_and_double_nothing(fake: FakeTelegram, tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("KILL_SEED", "20261202")))
    agent = fake.user("Agent Sari", language_code="en")
    group = fake.group("Agents", members=[agent])
    customers = [
        Customer(fake, fake.user(f"Customer {i}", language_code="en"), group, agent)
        for i in range(CUSTOMERS)
    ]
    database = tmp_path / "desk.db"
    run = Run(
        fake,
        {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": fake.url,
            "DATABASE_PATH": str(database),
            "ADMIN_CHAT_ID": str(group.id),
            "CUSTOMER_RATE_LIMIT": "1000",
            "PTB_TIMEDELTA": "1",
            "LOG_LEVEL": os.environ.get("KILL_LOG_LEVEL", "INFO"),
        },
        tmp_path / "bot.log",
    )
    began = time.monotonic()
    work = asyncio.gather(*(customer.work() for customer in customers))
    try:
        while len(run.kills) < KILLS or not work.done():
            if work.done() and work.exception() is not None:
                break
            await run.one_life(rng, busy=not work.done())
        if work.done():
            work.result()  # a customer stuck on a step is a loss: it fails here
        else:
            raise AssertionError("the workload did not finish")
        # One last life, undisturbed, until everything owed is delivered.
        mark = len(fake.calls)
        await run.start()
        assert await run.polling(mark, 30.0), "the last bot did not start"

        def group_sent() -> list[SentMessage]:
            return fake.sent(group.id)

        def delivered() -> bool:
            return all(
                occurrences(group_sent(), customer_token(n)) >= 1
                and occurrences(fake.sent(c.user.id), agent_token(n)) >= 1
                for c in customers
                for n in c.numbers
            )

        if not await fake.wait_until(delivered, DRAIN_TIMEOUT):
            # Late is not lost: say which it is.
            with sqlite3.connect(database) as peek:
                pending = peek.execute(
                    "SELECT COUNT(*) FROM outbox WHERE state = 'pending'"
                ).fetchone()[0]
            assert pending == 0, f"not delivered within {DRAIN_TIMEOUT:.0f} s: {pending} owed"
        await fake.idle(timeout=30)
        code = await run.stop()
    finally:
        if not work.done():
            work.cancel()
            with contextlib.suppress(BaseException):
                await work
        if run.process is not None and run.process.returncode is None:
            run.process.kill()
            await run.process.wait()
    log = run.log.read_text(errors="replace")
    assert code == 0, log[-3000:]
    assert "Traceback" not in log, log[-3000:]

    conn = sqlite3.connect(database)
    stored = Counter(row[0] for row in conn.execute("SELECT customer_id FROM tickets"))
    conn.close()
    lost: list[str] = []
    doubled: list[str] = []
    in_window: list[str] = []

    def judge(what: str, count: int, token: str | None = None) -> None:
        if count == 0:
            lost.append(what)
        elif count > 1:
            at = first_send_at(fake, token) if token else None
            if at is not None and any(abs(kill.at - at) <= WINDOW for kill in run.kills):
                in_window.append(what)
            else:
                # Enough to tell what happened from the failure alone: when each copy was
                # accepted and which kills came near the first, relative to the start.
                copies = [round(t - began, 2) for t in sends_at(fake, token)] if token else []
                near = [
                    f"{kill.mode} at {kill.at - began:.2f}"
                    for kill in run.kills
                    if copies and abs(kill.at - began - copies[0]) < 5
                ]
                doubled.append(f"{what}: copies at {copies}, kills near the first: {near}")

    for customer in customers:
        if stored[customer.user.id] != TICKETS_EACH:
            (lost if stored[customer.user.id] < TICKETS_EACH else doubled).append(
                f"tickets of {customer.user.first_name}: {stored[customer.user.id]}"
            )
        own = fake.sent(customer.user.id)
        for number in customer.numbers:
            receipts = [m for m in own if m.text.startswith(f"{RECEIVED}#{number} ")]
            judge(f"receipt of #{number}", len(receipts), f"{RECEIVED}#{number} ")
            cards = [m for m in group_sent() if m.text.startswith(f"🎫 Ticket #{number} ")]
            judge(f"card of #{number}", len(cards), f"Ticket #{number} ")
            judge(
                f"customer line of #{number}",
                occurrences(group_sent(), customer_token(number)),
                customer_token(number),
            )
            judge(
                f"agent line of #{number}",
                occurrences(own, agent_token(number)),
                agent_token(number),
            )
    modes = Counter(kill.mode.replace(" ", "_") for kill in run.kills)
    record(
        "kills",
        survived=len(run.kills),
        **{f"at_{mode}": count for mode, count in sorted(modes.items())},
        tickets=sum(stored.values()),
        lost=len(lost),
        duplicated=len(doubled),
        duplicated_in_window=len(in_window),
        seconds=round(time.monotonic() - began),
    )
    assert len(run.kills) >= KILLS
    assert not lost, lost
    assert not doubled, doubled

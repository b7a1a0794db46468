"""Sections 1, 2, 3 and 5: the bot as a child process, driven through the fake Bot API."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import TOKEN, BotProcess, TimingFake, desk_argv, desk_env, echo_argv
from bot.compose import StoredDesk, open_database
from bot.config import Settings
from bot.domain.models import Draft, Priority
from tests.fake_api import FakeUser, SentMessage

TEXTS = (
    "how do I reset my password",
    "my payment went through but the order is still pending",
    "can I get a refund for my last invoice",
    "the app crashes when I upload a photo",
    "what are your opening hours",
)


async def _answers(
    fake: TimingFake, chat_id: int, since: int, count: int, deadline: float
) -> list[float]:
    """Arrival times of the next ``count`` messages to ``chat_id`` (fewer at the deadline)."""
    times: list[float] = []
    index = since
    while len(times) < count:
        found = await fake.next_message(chat_id, index, timeout=deadline - time.monotonic())
        if found is None:
            break
        index, at, _ = found
        times.append(at)
    return times


@dataclass
class Exchange:
    """Texts posted and answered: one latency per answered text."""

    posted: int = 0
    latencies: list[float] = field(default_factory=list)
    first_post: float = 0.0
    last_answer: float = 0.0

    @property
    def missing(self) -> int:
        return self.posted - len(self.latencies)

    @property
    def rate(self) -> float | None:
        span = self.last_answer - self.first_post
        return len(self.latencies) / span if self.latencies and span > 0 else None


async def _collect(
    fake: TimingFake, posts: dict[int, list[float]], marks: dict[int, int], timeout: float
) -> Exchange:
    """Pair each chat's k-th answer with its k-th text (the bots answer in order)."""
    deadline = time.monotonic() + timeout
    result = Exchange(posted=sum(len(p) for p in posts.values()))
    result.first_post = min((p[0] for p in posts.values() if p), default=time.monotonic())
    answers = await asyncio.gather(
        *(_answers(fake, chat, marks[chat], len(sent), deadline) for chat, sent in posts.items())
    )
    for (_, sent), arrived in zip(posts.items(), answers, strict=True):
        result.latencies += [a - p for p, a in zip(sent, arrived, strict=False)]
        if arrived:
            result.last_answer = max(result.last_answer, arrived[-1])
    return result


async def flood(fake: TimingFake, users: list[FakeUser], texts: int, timeout: float) -> Exchange:
    """Every customer sends ``texts`` texts at once."""
    marks = {u.id: fake.count(u.id) for u in users}
    posts: dict[int, list[float]] = {u.id: [] for u in users}
    for k in range(texts):
        for user in users:
            user.send(TEXTS[k % len(TEXTS)])
            posts[user.id].append(time.monotonic())
    return await _collect(fake, posts, marks, timeout)


async def paced(
    fake: TimingFake, users: list[FakeUser], interval: float, seconds: float, timeout: float
) -> Exchange:
    """Each customer sends a text every ``interval`` s for ``seconds``, spread evenly."""
    marks = {u.id: fake.count(u.id) for u in users}
    posts: dict[int, list[float]] = {u.id: [] for u in users}
    start = time.monotonic()
    schedule = sorted(
        (start + i * interval / len(users) + k * interval, i)
        for i in range(len(users))
        for k in range(max(1, int(seconds / interval)))
    )
    for at, i in schedule:
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        users[i].send(TEXTS[len(posts[users[i].id]) % len(TEXTS)])
        posts[users[i].id].append(time.monotonic())
    return await _collect(fake, posts, marks, timeout)


# -- section 1: framework floor vs the desk ----------------------------------------------------
@dataclass
class FloorRun:
    bot: str  # "desk" or "floor"
    limiter: bool
    flood: Exchange
    paced: Exchange
    cpu_per_update: float | None
    paced_throttled: int
    errors: int


async def floor_run(
    bot: str,
    *,
    limiter: bool,
    customers: int,
    texts: int,
    paced_seconds: float,
    database_url: str | None = None,
) -> FloorRun:
    """A flood of texts, then a steady pace with Telegram's limits on; the desk on SQLite,
    or on PostgreSQL at `database_url`."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{bot}-") as tmp:
        workdir = Path(tmp)
        async with TimingFake() as fake:
            if bot == "desk":
                env = desk_env(fake, workdir)
                if database_url is not None:
                    env["DATABASE_URL"] = database_url
                name = f"desk-{'pg' if database_url else 'sqlite'}-{limiter}"
                proc = BotProcess(name, desk_argv(limiter=limiter), env, workdir)
            else:
                env = {
                    "BOT_TOKEN": TOKEN,
                    "TELEGRAM_API_URL": fake.url,
                    "RATE_LIMITER": "1" if limiter else "0",
                }
                proc = BotProcess(f"echo-{limiter}", echo_argv(), env, workdir)
            try:
                await proc.start(fake)
                users = [fake.user(f"Customer {i}") for i in range(customers)]
                await flood(fake, users, 1, timeout=30)  # warm-up: first contact, caches
                cpu = proc.cpu_seconds()
                flooded = await flood(fake, users, texts, timeout=120 + texts * customers / 10)
                cpu = proc.cpu_seconds() - cpu
                await asyncio.sleep(1.5)  # let every private chat's bucket refill
                fake.limits = True
                throttled = len(fake.throttled)
                pace = await paced(fake, users, 1.5, paced_seconds, timeout=60)
                per_update = cpu / len(flooded.latencies) if flooded.latencies else None
                return FloorRun(
                    bot,
                    limiter,
                    flooded,
                    pace,
                    per_update,
                    len(fake.throttled) - throttled,
                    proc.errors(),
                )
            finally:
                await proc.stop()


# -- section 2: full intake through the /new form ----------------------------------------------
QUESTION = {
    "department": "Which team should handle it?",
    "subject": "Write a short, specific subject for your ticket.",
    "priority": "How urgent is it?",
    "message": "Now describe the problem in full.",
    "attachments": "Press Done when you have sent them all, or Skip if you have none.",
    "review": "Please check your ticket before you send it.",
}
RECEIPT = re.compile(r"#\d{4,}")
# A step unanswered this long is taken as lost (a customer would give up or send it again).
STEP_TIMEOUT = 30.0
STEP_NAMES = ("/new", "department", "subject", "priority", "message", "photo", "done", "submit")


def _has(text: str) -> Callable[[SentMessage], bool]:
    return lambda m: text in m.text


def _button(message: SentMessage, prefix: str) -> str:
    return next(b for b in message.button_texts() if b.startswith(prefix))


@dataclass
class IntakeRun:
    customers: int
    finished: int
    seconds: float
    api_calls: int
    throttled: int
    steps: dict[str, list[float]]
    errors: int

    @property
    def all_steps(self) -> list[float]:
        return [t for times in self.steps.values() for t in times]


async def _open_ticket(
    fake: TimingFake,
    user: FakeUser,
    n: int,
    *,
    think: float,
    step_timeout: float,
    deadline: float,
    steps: dict[str, list[float]],
) -> float | None:
    """Walk one customer through /new; the time the receipt arrived, or None."""
    index = fake.count(user.id)
    current: SentMessage | None = None

    def act(name: str) -> None:
        assert current is not None or name == "/new"
        if name == "/new":
            user.send("/new")
        elif name == "department":
            fake.press(user, current, button="Billing & Payments")  # type: ignore[arg-type]
        elif name == "subject":
            user.send(f"Invoice 2026-{n} charged twice")
        elif name == "priority":
            assert current is not None
            fake.press(user, current, button=_button(current, "Medium"))
        elif name == "message":
            user.send(f"I was charged twice for invoice 2026-{n} on 20 November, order {n}.")
        elif name == "photo":
            user.send_photo(file_size=80_000)
        elif name == "done":
            fake.press(user, current, button="✅ Done")  # type: ignore[arg-type]
        else:
            fake.press(user, current, button="📨 Submit")  # type: ignore[arg-type]

    expected: dict[str, Callable[[SentMessage], bool]] = {
        "/new": _has(QUESTION["department"]),
        "department": _has(QUESTION["subject"]),
        "subject": _has(QUESTION["priority"]),
        "priority": _has(QUESTION["message"]),
        "message": _has(QUESTION["attachments"]),
        "photo": lambda m: "✅ Done" in m.button_texts(),
        "done": _has(QUESTION["review"]),
        "submit": lambda m: RECEIPT.search(m.text) is not None,
    }
    at = 0.0
    for step, name in enumerate(STEP_NAMES):
        if step and think:
            await asyncio.sleep(think)
        posted = time.monotonic()
        try:
            act(name)
        except AssertionError:  # the button is gone: the bot moved elsewhere
            return None
        wait = min(step_timeout, deadline - time.monotonic())
        found = await fake.next_message(user.id, index, expected[name], timeout=wait)
        if found is None:
            return None
        index, at, current = found
        steps[name].append(at - posted)
    return at


async def intake_run(
    customers: int,
    *,
    think: float,
    stagger: float,
    deadline_s: float,
    label: str,
    database_url: str | None = None,
) -> IntakeRun:
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        workdir = Path(tmp)
        async with TimingFake(limits=True) as fake:
            env = desk_env(fake, workdir)
            if database_url is not None:
                env["DATABASE_URL"] = database_url
            proc = BotProcess(f"intake-{label}", desk_argv(limiter=True), env, workdir)
            try:
                await proc.start(fake)
                users = [fake.user(f"Customer {i}") for i in range(customers)]
                steps: dict[str, list[float]] = {name: [] for name in STEP_NAMES}
                calls, throttled = fake.api_calls(), len(fake.throttled)
                start = time.monotonic()
                deadline = start + deadline_s

                async def one(i: int, user: FakeUser) -> float | None:
                    await asyncio.sleep(i * stagger / customers)
                    return await _open_ticket(
                        fake,
                        user,
                        1000 + i,
                        think=think,
                        step_timeout=min(STEP_TIMEOUT, deadline_s),
                        deadline=deadline,
                        steps=steps,
                    )

                done = await asyncio.gather(*(one(i, u) for i, u in enumerate(users)))
                receipts = [t for t in done if t is not None]
                seconds = (max(receipts) - start) if receipts else time.monotonic() - start
                return IntakeRun(
                    customers,
                    len(receipts),
                    seconds,
                    fake.api_calls() - calls,
                    len(fake.throttled) - throttled,
                    steps,
                    proc.errors(),
                )
            finally:
                await proc.stop()


# -- section 3: busy agents' chat ----------------------------------------------------------------
@dataclass
class AgentsRun:
    tickets: int
    notified: int
    duplicated: int
    lost: int
    first_notice: float | None
    last_notice: float | None
    notices_per_s: float | None
    customer_messages_per_s: float | None  # every message to a customer while notices went
    customer_latencies: list[float]
    customer_missing: int
    drained_after: float | None
    closes_after: float | None  # when every /close had been handled (polled each second)
    closes_done: int
    pending_updates: int
    pending_outbox: int
    projected_drain: float | None
    admin_messages: int
    throttled: int
    errors: int
    cap: float


async def _seed_tickets(
    settings: Settings, fake: TimingFake, owners: list[FakeUser], group_id: int
) -> list[int]:
    """Open the tickets with the domain API, each with its card already in the admin chat."""
    db = open_database(settings)
    await db.connect()
    try:
        desk = StoredDesk(settings, db)
        numbers = []
        group = fake.chat(group_id)
        for i, owner in enumerate(owners):
            await desk.register_user(owner.id, owner.first_name, None, None, "en")
            ticket = await desk.submit(
                Draft(
                    user_id=owner.id,
                    department="billing",
                    subject=f"Order {i} not delivered",
                    priority=Priority.MEDIUM,
                    message=f"My order {i} has not arrived.",
                ),
                "en",
            )
            card = fake.build_message(
                group, dict(fake.bot_user), {"text": f"Ticket #{ticket.number} (seeded card)"}
            )
            fake.record_sent(card, "sendMessage", {})
            await desk.tickets.set_location(
                ticket.number,
                chat_id=group_id,
                thread_id=None,
                card_message_id=int(card["message_id"]),
            )
            numbers.append(ticket.number)
        # The seeded cards are posted already: the agents owe nothing at the start.
        for _ in range(len(owners) + 1):
            items = await desk.outbox.pending(1000)
            if not items:
                break
            for item in items:
                await desk.outbox.done(item.id)
        return numbers
    finally:
        await db.close()


# A customer talking to the bot writes about every ten seconds: 50 of them send 5 texts a
# second, which leaves Telegram's 30 a second room for the close notices.
TEXTER_INTERVAL = 10.0


async def agents_run(
    tickets: int, texters: int, *, cap: float, texter_interval: float = TEXTER_INTERVAL
) -> AgentsRun:
    with tempfile.TemporaryDirectory(prefix="bench-agents-") as tmp:
        workdir = Path(tmp)
        async with TimingFake(limits=True) as fake:
            agent = fake.user("Agnes")
            group = fake.group("Support agents", members=[agent])
            env = desk_env(fake, workdir, ADMIN_CHAT_ID=str(group.id))
            values = {
                "bot_token": TOKEN,
                "database_path": workdir / "support.db",
                "admin_chat_id": group.id,
            }
            settings = Settings(_env_file=None, **values)  # type: ignore[arg-type]
            owners = [fake.user(f"Owner {i}") for i in range(tickets)]
            numbers = await _seed_tickets(settings, fake, owners, group.id)
            owner_of = dict(zip(numbers, owners, strict=True))
            proc = BotProcess("agents", desk_argv(limiter=True), env, workdir)
            db_path = settings.database_path
            try:
                await proc.start(fake)
                await asyncio.sleep(2.0)  # start-up traffic (menus) out of the way
                users = [fake.user(f"Texter {i}") for i in range(texters)]
                await flood(fake, users, 1, timeout=30)  # first contact before the burst
                marks = {u.id: fake.count(u.id) for u in owners}
                ledger_mark = len(fake.rate.delivered)
                throttled = len(fake.throttled)
                start = time.monotonic()
                for number in numbers:
                    group.send(agent, f"/close {number}")
                texting = asyncio.create_task(paced(fake, users, texter_interval, cap, timeout=30))
                drained_after = closes_after = None
                while time.monotonic() - start < cap:
                    await asyncio.sleep(1.0)
                    state = await read_state(db_path)
                    if closes_after is None and len(state.closed) == len(numbers):
                        closes_after = time.monotonic() - start
                    notified = sum(
                        1 for n in numbers if _close_notices(fake, owner_of[n], n, marks) >= 1
                    )
                    if (
                        len(state.closed) == len(numbers)
                        and notified == len(numbers)
                        and not fake.pending_updates
                        and state.pending == 0
                    ):
                        drained_after = time.monotonic() - start
                        break
                elapsed = time.monotonic() - start
                texted = await texting
                counts = [_close_notices(fake, owner_of[n], n, marks) for n in numbers]
                notice_times = sorted(
                    at for n in numbers for at in _close_notice_times(fake, owner_of[n], n, marks)
                )
                admin = sum(
                    d.count for d in fake.rate.delivered[ledger_mark:] if d.chat_id == group.id
                )
                state = await read_state(db_path)
                closed, outbox_pending = len(state.closed), state.pending
                pending_updates = len(fake.pending_updates)
                # Closed but never told, with nothing left in the outbox that could still tell.
                lost = sum(
                    1
                    for n, c in zip(numbers, counts, strict=True)
                    if c == 0 and n in state.closed and n not in state.customer_pending
                )
                projected = None
                if drained_after is None and closed:
                    remaining = (len(numbers) - closed) * (admin / closed) + outbox_pending
                    projected = elapsed + remaining / (admin / elapsed) if admin else None
                span = (notice_times[-1] - notice_times[0]) if len(notice_times) > 1 else 0
                to_customers = sum(
                    d.count
                    for d in fake.rate.delivered[ledger_mark:]
                    if d.chat_id is not None
                    and d.chat_id > 0
                    and span
                    and notice_times[0] <= d.at <= notice_times[-1]
                )
                return AgentsRun(
                    tickets=len(numbers),
                    notified=sum(1 for c in counts if c >= 1),
                    duplicated=sum(1 for c in counts if c > 1),
                    lost=lost,
                    first_notice=(notice_times[0] - start) if notice_times else None,
                    last_notice=(notice_times[-1] - start) if notice_times else None,
                    notices_per_s=(len(notice_times) - 1) / span if span else None,
                    customer_messages_per_s=to_customers / span if span else None,
                    customer_latencies=texted.latencies,
                    customer_missing=texted.missing,
                    drained_after=drained_after,
                    closes_after=closes_after,
                    closes_done=closed,
                    pending_updates=pending_updates,
                    pending_outbox=outbox_pending,
                    projected_drain=projected,
                    admin_messages=admin,
                    throttled=len(fake.throttled) - throttled,
                    errors=proc.errors(),
                    cap=cap,
                )
            finally:
                await proc.stop()


@dataclass(frozen=True)
class DeskState:
    """What the bot's database holds now (read with the bench's own SQL, read-only)."""

    closed: set[int]
    pending: int  # outbox items not yet delivered
    customer_pending: set[int]  # tickets with a customer item not yet delivered
    customer_failed: int  # customer items given up (failed or blocked)


def _read_state(path: Path) -> DeskState:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        closed = {r[0] for r in conn.execute("SELECT number FROM tickets WHERE status = 'closed'")}
        rows = conn.execute("SELECT audience, ticket_number, state FROM outbox").fetchall()
    finally:
        conn.close()
    return DeskState(
        closed=closed,
        pending=sum(1 for _, _, state in rows if state == "pending"),
        customer_pending={t for a, t, state in rows if a == "customer" and state == "pending"},
        customer_failed=sum(
            1 for a, _, state in rows if a == "customer" and state in ("failed", "blocked")
        ),
    )


async def read_state(path: Path) -> DeskState:
    return await asyncio.to_thread(_read_state, path)


def _close_notice_times(
    fake: TimingFake, owner: FakeUser, number: int, marks: dict[int, int]
) -> list[float]:
    return [
        at
        for at, m in fake.arrived.get(owner.id, [])[marks[owner.id] :]
        if f"#{number}" in m.text and "closed" in m.text.lower()
    ]


def _close_notices(fake: TimingFake, owner: FakeUser, number: int, marks: dict[int, int]) -> int:
    return len(_close_notice_times(fake, owner, number, marks))


# -- section 5: memory ---------------------------------------------------------------------------
@dataclass
class MemoryRun:
    idle_mb: float
    drafts_mb: float
    drafts: int
    held: int
    seconds: float


async def memory_run(customers: int, batch: int = 500) -> MemoryRun:
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        workdir = Path(tmp)
        async with TimingFake() as fake:
            proc = BotProcess("memory", desk_argv(limiter=False), desk_env(fake, workdir), workdir)
            try:
                await proc.start(fake)
                await asyncio.sleep(3.0)
                idle = proc.rss_mb()
                start = time.monotonic()
                held = 0
                for first in range(0, customers, batch):
                    users = [
                        fake.user(f"Drafter {i}")
                        for i in range(first, min(customers, first + batch))
                    ]
                    questions = await _all(
                        fake, users, lambda u: u.send("/new"), QUESTION["department"]
                    )
                    pressed = [u for u in users if u.id in questions]

                    def department(
                        user: FakeUser, asked: dict[int, SentMessage] = questions
                    ) -> str:
                        return fake.press(user, asked[user.id], button="Billing & Payments")

                    answered = await _all(fake, pressed, department, QUESTION["subject"])
                    held += len(answered)
                seconds = time.monotonic() - start
                await asyncio.sleep(3.0)  # let the persistence write and the GC settle
                return MemoryRun(idle, proc.rss_mb(), customers, held, seconds)
            finally:
                await proc.stop()


async def _all(
    fake: TimingFake,
    users: list[FakeUser],
    action: Callable[[FakeUser], object],
    expect: str,
    timeout: float = 120.0,
) -> dict[int, SentMessage]:
    marks = {u.id: fake.count(u.id) for u in users}
    for user in users:
        action(user)
    deadline = time.monotonic() + timeout
    found = await asyncio.gather(
        *(
            fake.next_message(
                u.id, marks[u.id], _has(expect), timeout=max(0.0, deadline - time.monotonic())
            )
            for u in users
        )
    )
    return {u.id: f[2] for u, f in zip(users, found, strict=True) if f is not None}

"""Two workers, one PostgreSQL desk (bot/channels/telegram/claims.py, storage/leader.py).

The updates reach the two workers in turn, as a load balancer would post Telegram's
webhooks to them. Customers walk the whole form at once: each chat's updates go to
whichever worker claims its line, one at a time and in order, so every customer gets one
ticket, each update is handled by exactly one worker, and both workers take part. Then the
leader stops: the other leads, and answers what comes next.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from telegram import Update

from bot.app import SupportApplication, build_application
from bot.config import Settings
from bot.domain.models import Status
from tests.fake_api import FakeTelegram
from tests.flows.conftest import UNPACED, Person
from tests.flows.forms import tr, walk_to

pytestmark = pytest.mark.one_backend  # PostgreSQL only: the workers' database is below

CUSTOMERS = 8
PARTS = 5


async def _bodies_once(app: SupportApplication, number: int, count: int) -> list[str]:
    """The ticket's message bodies once it has `count` of them (waiting up to 15 s)."""
    for _ in range(300):
        messages = await app.bot_data.desk.tickets.messages(number, include_internal=True)
        if len(messages) >= count:
            return [m.body for m in messages]
        await asyncio.sleep(0.05)
    raise AssertionError(f"#{number} has {len(messages)} messages, not {count}")


@asynccontextmanager
async def claiming_only(settings: Settings) -> AsyncIterator[SupportApplication]:
    """A worker that fetches nothing: it handles the lines it claims."""
    application = build_application(settings, limits=UNPACED)
    await application.initialize()
    assert application.post_init is not None
    await application.post_init(application)
    await application.start()
    try:
        yield application
    finally:
        await application.stop()
        assert application.post_stop is not None
        await application.post_stop(application)
        await application.shutdown()
        assert application.post_shutdown is not None
        await application.post_shutdown(application)


def _count_handled(application: SupportApplication, into: list[int]) -> None:
    processor = application.update_processor
    done: Callable[[int], Awaitable[None]] | None = processor.on_done  # type: ignore[attr-defined]
    assert done is not None

    async def counted(update_id: int) -> None:
        into.append(update_id)
        await done(update_id)

    processor.on_done = counted  # type: ignore[attr-defined]


async def _balance(fake: FakeTelegram, workers: list[SupportApplication]) -> None:
    """Post each update Telegram has for the bot to the next worker in turn."""
    turn = 0
    while True:
        pending = fake.pending_updates
        fake.drop_updates()  # no await in between: nothing is queued meanwhile
        for raw in pending:
            worker = workers[turn % len(workers)]
            turn += 1
            await worker.update_queue.put(Update.de_json(raw, worker.bot))
        await asyncio.sleep(0.01)


async def test_two_workers_share_the_chats_and_each_update_is_handled_once(
    fake: FakeTelegram, make_settings: Callable[..., Settings], pg_url: str
) -> None:
    agent = fake.user("Agnes")
    group = fake.group("Agents", members=[agent])
    settings = make_settings(telegram_api_url=fake.url, admin_chat_id=group.id, database_url=pg_url)
    handled_a: list[int] = []
    handled_b: list[int] = []
    async with claiming_only(settings) as a, claiming_only(settings) as b:
        _count_handled(a, handled_a)
        _count_handled(b, handled_b)
        balancer = asyncio.create_task(_balance(fake, [a, b]))
        people = [Person(fake, fake.user(f"Customer {i}")) for i in range(CUSTOMERS)]

        async def file_ticket(person: Person) -> str:
            review = await walk_to(person, "review", timeout=15)
            receipt = await person.presses(review, tr("📨 Submit"), expect="#", timeout=15)
            return receipt.text

        try:
            receipts = await asyncio.gather(*(file_ticket(p) for p in people))
            numbers = [
                await a.bot_data.desk.tickets.for_customer(p.id, limit=5, offset=0) for p in people
            ]
            # Then each sends five messages at once: they reach the workers in turn, and
            # must still join their ticket in the order they were sent.
            for person in people:
                for part in range(PARTS):
                    person.user.send(f"part {part} from {person.user.first_name}")
            bodies = [await _bodies_once(a, t[0].number, 1 + PARTS) for t in numbers]
            await fake.idle()
        finally:
            balancer.cancel()
        for person, said in zip(people, bodies, strict=True):
            name = person.user.first_name
            assert said[1:] == [f"part {part} from {name}" for part in range(PARTS)]
        assert await a.bot_data.desk.leads() != await b.bot_data.desk.leads()

    # One ticket each, the one the customer was told of.
    assert [len(tickets) for tickets in numbers] == [1] * CUSTOMERS
    for receipt, tickets in zip(receipts, numbers, strict=True):
        assert f"#{tickets[0].number}" in receipt
        assert tickets[0].status is Status.OPEN
    # Every update handled by one worker only, and both workers handled some.
    assert not set(handled_a) & set(handled_b)
    assert len(handled_a) == len(set(handled_a)) and len(handled_b) == len(set(handled_b))
    assert handled_a and handled_b
    # The agents' chat got every ticket's card, once: one dispatcher delivered the outbox.
    opened = {t[0].number for t in numbers}
    cards = [m for m in fake.sent(group.id) if m.text.startswith("🎫")]
    shown = [int(n) for m in cards for n in re.findall(r"#(\d+)", m.text)[:1]]
    assert sorted(shown) == sorted(opened)


async def test_the_other_worker_leads_when_the_leader_stops(
    fake: FakeTelegram, make_settings: Callable[..., Settings], pg_url: str
) -> None:
    agent = fake.user("Agnes")
    group = fake.group("Agents", members=[agent])
    settings = make_settings(telegram_api_url=fake.url, admin_chat_id=group.id, database_url=pg_url)
    leader = AsyncExitStack()
    a = await leader.enter_async_context(claiming_only(settings))
    assert await a.bot_data.desk.leads()
    async with claiming_only(settings) as b:
        assert not await b.bot_data.desk.leads()
        await leader.aclose()  # A stops, giving its lead up
        for _ in range(40):
            if await b.bot_data.desk.leads():
                break
            await asyncio.sleep(0.1)
        assert await b.bot_data.desk.leads()
        # What comes next is B's: an update posted to it is answered, and the card of a
        # ticket goes out through B's dispatcher.
        person = Person(fake, fake.user("Late"))
        balancer = asyncio.create_task(_balance(fake, [b]))
        try:
            review = await walk_to(person, "review", timeout=15)
            await person.presses(review, tr("📨 Submit"), expect="#", timeout=15)
            card = await fake.wait_for(group.id, lambda m: m.text.startswith("🎫"), since=0)
        finally:
            balancer.cancel()
        assert card.text

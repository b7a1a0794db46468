"""However busy the agents are, customers are answered at once; with Telegram's limits on.

These tests switch the fake's flood limits on (30 messages a second, a burst of three then
one a second per private chat, 20 a minute per group) and run the bot at Telegram's own
pace (`TELEGRAM`), so a bot that only passes with limits off fails here.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable

import pytest

from bot.app import SupportApplication
from bot.channels.telegram.ratelimit import TELEGRAM
from bot.config import Settings
from bot.domain.models import Draft, Priority
from tests.fake_api import FakeTelegram, FakeUser, SentMessage
from tests.fake_api.objects import Call
from tests.flows.conftest import Person, running
from tests.flows.forms import question, tr, walk_to

WAIT = 90.0  # generous: at Telegram's pace a crowd takes tens of seconds


@pytest.fixture
async def limited() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token="123456:TEST-token_abcdef", limits=True) as server:
        yield server


async def _seed_tickets(app: SupportApplication, customers: list[FakeUser]) -> list[int]:
    """One open ticket per customer, filed through the domain (the form is tested elsewhere)."""
    desk = app.bot_data.desk
    numbers = []
    for user in customers:
        await desk.register_user(user.id, user.first_name, None, None, "en")
        draft = Draft(
            user_id=user.id,
            department="billing",
            subject=f"Invoice {user.id} charged twice",
            priority=Priority.MEDIUM,
            message="I was charged twice for my invoice on 20 November.",
        )
        numbers.append((await desk.submit(draft, "en")).number)
    return numbers


# The first words of a new ticket's receipt (owed by `desk.submit`, through the outbox).
RECEIVED = tr("✅ Thank you! Your ticket <b>{ref}</b> has been received.").split("<b>")[0]


def _reactions(call: Call) -> list[dict[str, str]]:
    value = call.params["reaction"]
    return json.loads(value) if isinstance(value, str) else list(value)


async def _arrived(fake: FakeTelegram, method: str, *, since: int) -> Call:
    """The first call of `method` made after `since`, as soon as it arrives (not answered)."""
    for _ in range(int(WAIT / 0.01)):
        found = next((c for c in fake.calls[since:] if c.method == method), None)
        if found is not None:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"no {method} call arrived")


async def test_a_slow_agents_chat_never_holds_a_customer(
    limited: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    agent = limited.user("Agnes")
    group = limited.group("Agents", members=[agent])
    settings = make_settings(telegram_api_url=limited.url, admin_chat_id=group.id)
    async with running(settings, limits=TELEGRAM):
        # The agent's command waits on Telegram (its membership check is slow) ...
        limited.delay_next("getChatMember", 5.0)
        mark = len(limited.calls)
        group.send(agent, "/queue")
        check = await _arrived(limited, "getChatMember", since=mark)
        # ... while a customer's /start is answered at once, before that check returns.
        customer = Person(limited, limited.user("Citra", language_code="id"))
        hello = await customer.says("/start", timeout=WAIT)
        assert hello.text
        assert not check.done
        listing = await limited.wait_for(group.id, timeout=WAIT)
        assert tr("The queue is empty: no open tickets.") in listing.text


async def test_a_hundred_customers_fill_the_form_at_once(
    limited: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(telegram_api_url=limited.url)
    people = [Person(limited, limited.user(f"Customer {i}")) for i in range(100)]

    async def file_one(person: Person) -> str:
        review = await walk_to(person, "review", timeout=WAIT)
        receipt = await person.presses(review, tr("📨 Submit"), "#", WAIT)
        return receipt.text

    async with running(settings, limits=TELEGRAM) as app:
        receipts = await asyncio.wait_for(
            asyncio.gather(*(file_one(p) for p in people)), timeout=4 * WAIT
        )
        assert all("#" in text for text in receipts)
        tickets = [await app.bot_data.desk.tickets.count_for_customer(p.id) for p in people]
        assert tickets == [1] * 100
    report = limited.rate_report()
    assert report.max_per_second <= 30
    assert (report.smallest_private_gap or 1.0) > 0  # every message was paced, none refused
    assert report.throttled == 0, limited.throttled[:5]


async def test_customers_hear_of_every_close_while_the_agents_chat_is_backlogged(
    limited: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    agent = limited.user("Agnes")
    group = limited.group("Agents", members=[agent])
    settings = make_settings(telegram_api_url=limited.url, admin_chat_id=group.id)
    owners = [limited.user(f"Owner {i}") for i in range(40)]
    talkers = [Person(limited, limited.user(f"Talker {i}")) for i in range(10)]
    async with running(settings, limits=TELEGRAM) as app:
        numbers = await _seed_tickets(app, owners)
        commands = [group.send(agent, f"/close {number}") for number in numbers]
        # Customers keep talking to the bot meanwhile, and are answered at once: 40 cards
        # and their refreshes are far more than the group's 20 messages a minute.
        for person in talkers:
            hello = await person.says("/start", timeout=WAIT)
            assert hello.text
        backlog = await app.bot_data.desk.outbox.counts()
        assert backlog.get("pending", 0) > 0  # the agents' chat is still behind
        # Every owner hears of the close exactly once, at the customers' own pace.
        closed = tr("ℹ️ Your ticket <b>{ref}</b> is now: {status}.").replace("<b>", "")
        closed = closed.replace("</b>", "")
        for user, number in zip(owners, numbers, strict=True):
            text = closed.format(ref=f"#{number}", status=tr("Closed"))

            def told(m: SentMessage, t: str = text) -> bool:
                return m.text.startswith(t)

            await limited.wait_for(user.id, told, since=0, timeout=WAIT)
        # Every command was acknowledged with a reaction, not a message.
        reacted = {
            int(call.params["message_id"]) for call in limited.calls_to("setMessageReaction")
        }
        assert {int(str(c["message_id"])) for c in commands} <= reacted
        emoji = {_reactions(call)[0]["emoji"] for call in limited.calls_to("setMessageReaction")}
        assert emoji == {"👍"}
    for user, number in zip(owners, numbers, strict=True):
        # The ticket's receipt, then its close notice: each once.
        notices = [m for m in limited.sent(user.id) if f"#{number}" in m.text]
        assert len(notices) == 2, [m.text for m in notices]
        assert sum(RECEIVED in m.text for m in notices) == 1, [m.text for m in notices]
    report = limited.rate_report()
    assert report.max_per_second <= 30
    assert report.busiest_group_minute <= 20
    assert report.throttled == 0, limited.throttled[:5]


async def test_an_agent_is_answered_in_lane_order_before_refreshes(
    limited: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    agent = limited.user("Agnes")
    group = limited.group("Agents", members=[agent])
    settings = make_settings(telegram_api_url=limited.url, admin_chat_id=group.id)
    owners = [limited.user(f"Owner {i}") for i in range(25)]
    async with running(settings, limits=TELEGRAM) as app:
        await _seed_tickets(app, owners)  # 25 cards: more than a minute of the budget
        await limited.wait_for(group.id, count=20, timeout=WAIT)
        mark = len(limited.sent(group.id))
        group.send(agent, "/queue")
        # The answer is the next message in the chat: ahead of the five cards still owed.
        answer = await limited.wait_for(group.id, since=mark, timeout=WAIT)
        assert answer.text.startswith("Queue (25 open")
        assert question("department") not in answer.text


async def test_an_answer_refused_with_a_429_is_sent_again_not_lost(
    limited: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(telegram_api_url=limited.url)
    async with running(settings, limits=TELEGRAM):
        person = Person(limited, limited.user("Rina"))
        limited.fail_next("sendMessage", retry_after=1, chat_id=person.id)
        hello = await person.says("/start", timeout=WAIT)
        assert hello.text.startswith("Hello, Rina!")
        refused = [c for c in limited.calls_to("sendMessage") if c.status == 429]
        assert len(refused) == 1 and len(limited.sent(person.id)) == 1


async def test_each_step_of_the_form_costs_one_message(
    limited: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(telegram_api_url=limited.url)
    messages = {"sendMessage", "editMessageText", "editMessageReplyMarkup"}
    async with running(settings, limits=TELEGRAM):
        person = Person(limited, limited.user("Rina"))
        marks: list[int] = []
        current = await walk_to(person, "department", timeout=WAIT)
        for step in ("subject", "priority", "message", "attachments", "review"):
            marks.append(len(limited.calls))
            current = await _answer(person, current, step)
        marks.append(len(limited.calls))
        await limited.idle()
        per_step = [
            sum(c.method in messages for c in limited.calls[start:end])
            for start, end in itertools.pairwise(marks)
        ]
        assert per_step == [1, 1, 1, 1, 1]


async def _answer(person: Person, current: SentMessage, step: str) -> SentMessage:
    """Answer the question before `step` and return the question for `step`."""
    expect = question(step)
    if step == "subject":
        return await person.presses(current, tr("Billing & Payments"), expect, WAIT)
    if step == "priority":
        return await person.says("Invoice 2026-118 charged twice", expect, WAIT)
    if step == "message":
        button = next(b for b in current.button_texts() if b.startswith(tr("Medium")))
        return await person.presses(current, button, expect, WAIT)
    if step == "attachments":
        return await person.says("I was charged twice for invoice 2026-118.", expect, WAIT)
    return await person.presses(current, tr("Skip"), expect, WAIT)

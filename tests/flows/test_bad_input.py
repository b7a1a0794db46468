"""Bad input in every conversation state: each case gets a clear answer or a clear log line,
and a control customer is answered right after it.

One bot serves the whole module (cases are independent: each has a customer or agent of
its own). The figures (cases tried, answered, logged, lost) are printed at the end of the
run (tests/figures.py).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest
import pytest_asyncio

from bot.app import SupportApplication
from bot.config import Settings
from bot.domain.lifecycle import Action
from bot.domain.models import Author, Draft, Priority
from tests.conftest import TOKEN
from tests.fake_api import FakeChat, FakeTelegram, FakeUser, SentMessage
from tests.figures import record
from tests.flows.conftest import FREE, Person, running
from tests.flows.forms import tr, walk_to

pytestmark = pytest.mark.asyncio(loop_scope="module")

SUITE = "bad input"
INVALID = tr("This button is no longer valid.")
OVERLONG = "x" * 5000
TRACEBACK = "Traceback"
KEPT_EDIT = "shown to the agents"


@dataclass
class World:
    fake: FakeTelegram
    app: SupportApplication
    group: FakeChat
    control: Person
    serial: int = 0
    names: list[str] = field(default_factory=list)

    def person(self, first_name: str | None = None, language: str = "en") -> Person:
        self.serial += 1
        return Person(
            self.fake, self.fake.user(first_name or f"C{self.serial}", language_code=language)
        )

    async def agent(self) -> FakeUser:
        self.serial += 1
        agent = self.fake.user(f"A{self.serial}")
        await self.fake.add_member(self.group, agent)
        return agent

    async def ticket(self, person: Person, subject: str = "Top-up paid, no balance") -> int:
        desk = self.app.bot_data.desk
        await desk.register_user(person.id, person.user.first_name, None, None, "en")
        ticket = await desk.submit(
            Draft(person.id, "billing", subject, Priority.MEDIUM, "I paid at 10:00 today."), "en"
        )
        self.app.bot_data.dispatcher.wake()
        await self.fake.idle()
        return ticket.number

    async def card(self, number: int) -> int:
        for _ in range(50):
            ticket = await self.app.bot_data.desk.tickets.get(number)
            assert ticket is not None
            if ticket.admin_card_message_id is not None:
                return ticket.admin_card_message_id
            self.app.bot_data.dispatcher.wake()
            await self.fake.idle()
        raise AssertionError(f"no card for #{number}")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    folder: Path = tmp_path_factory.mktemp("bad-input")
    async with FakeTelegram(token=TOKEN) as fake:
        group = fake.group("Agents", members=[fake.user("Agnes")])
        settings = Settings(
            _env_file=None,
            bot_token=TOKEN,
            database_path=folder / "support.db",
            telegram_api_url=fake.url,
            admin_chat_id=group.id,
            customer_rate_limit=1000,  # the control customer speaks after every case
            max_open_tickets=100,
        )
        async with running(settings, limits=FREE) as app:
            control = Person(fake, fake.user("Control"))
            yield World(fake, app, group, control)


# The states a case starts from: each returns who acts there.

Setup = Callable[[World], Awaitable[Person]]


async def plain_none(world: World) -> Person:
    person = world.person()
    await person.says("/start")
    return person


async def plain_one(world: World) -> Person:
    person = world.person()
    await world.ticket(person)
    await person.says("/start")  # a message of the bot's to press buttons on
    return person


async def plain_two(world: World) -> Person:
    person = world.person()
    await world.ticket(person)
    await world.ticket(person, "Voucher code rejected at checkout")
    await person.says("/start")
    return person


def form_at(step: str) -> Setup:
    async def setup(world: World) -> Person:
        person = world.person()
        await walk_to(person, step)
        return person

    setup.__name__ = f"form_{step}"
    return setup


async def reply_mode(world: World) -> Person:
    person = world.person()
    number = await world.ticket(person)
    listing = await person.says("/tickets")
    button = next(b for b in listing.button_texts() if b.startswith(f"#{number} · "))
    view = await person.presses(listing, button)
    await person.presses(view, tr("↩️ Reply"), expect="Write your message")
    return person


async def rating_comment(world: World) -> Person:
    person = world.person()
    number = await world.ticket(person)
    desk = world.app.bot_data.desk
    mark = len(world.fake.sent(person.id))
    await desk.service.apply(number, Action.SOLVE, Author.AGENT, 1)
    world.app.bot_data.dispatcher.wake()
    solved = await world.fake.wait_for(person.id, lambda m: "5 ⭐" in m.button_texts(), since=mark)
    await person.presses(solved, "5 ⭐", expect="Anything you'd like to add?")
    return person


STATES: dict[str, Setup] = {
    "no ticket": plain_none,
    "one ticket": plain_one,
    "two tickets": plain_two,
    **{f"form {step}": form_at(step) for step in ("department", "subject", "priority")},
    **{f"form {step}": form_at(step) for step in ("message", "attachments", "review")},
    "reply mode": reply_mode,
    "rating comment": rating_comment,
}


# What a customer sends: each returns the callback query id when it pressed a button.

Input = Callable[[World, Person], Awaitable[str | None]]


def content(payload: dict[str, Any]) -> Input:
    async def send(world: World, person: Person) -> str | None:
        world.fake.post_incoming(person.user.chat, person.user, payload)
        return None

    return send


def text(value: str) -> Input:
    return content({"text": value})


def media(kind: str, **fields: Any) -> Input:
    async def send(world: World, person: Person) -> str | None:
        person.user.chat.send_media(person.user, kind, **fields)
        return None

    return send


def press(data: str) -> Input:
    async def send(world: World, person: Person) -> str | None:
        last = world.fake.last(person.id)
        return world.fake.press(person.user, last, data=data)

    return send


async def stale_press(world: World, person: Person) -> str | None:
    """Press a button of the first message the bot sent this customer with buttons."""
    old = next(
        (m for m in world.fake.sent(person.id) if m.button_texts()), world.fake.last(person.id)
    )
    data = old.buttons[0][0][1] if old.button_texts() else None
    return world.fake.press(person.user, old, data=data or "m1:new")


async def edit_own(world: World, person: Person) -> str | None:
    sent = person.user.send("A message I will correct")
    await world.fake.idle()
    Probe.mark(world, person)
    person.user.edit(sent, "A corrected <b>message</b>")
    return None


POLL = {
    "poll": {
        "id": "5001",
        "question": "Which is best?",
        "options": [
            {"persistent_id": "0", "text": "A", "voter_count": 0},
            {"persistent_id": "1", "text": "B", "voter_count": 0},
        ],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
        "allows_revoting": False,
        "members_only": False,
    }
}
GAME = {"game": {"title": "Snake", "description": "A game", "photo": []}}

INPUTS: dict[str, Input] = {
    "sticker": media("sticker"),
    "voice": media("voice"),
    "video note": media("video_note"),
    "location": media("location", latitude=-6.2, longitude=106.8),
    "contact": media("contact", phone_number="+6281234567", first_name="Rina"),
    "poll": content(POLL),
    "dice": content({"dice": {"emoji": "🎲", "value": 4}}),
    "game": content(GAME),
    "whitespace only": text("   \n\t  "),
    "zero-width only": text("\u200b\u200c\u200d\ufeff"),
    "over-long text": text(OVERLONG),
    "RTL text": text("مرحبا، دفعت ولم يصل الرصيد \u202eabc"),
    "emoji only": text("🔥🙏🏽👨‍👩‍👧"),
    "HTML characters": text("<b>bold</b> & <script>alert(1)</script> </i>"),
    "MarkdownV2 characters": text("*_[link](http://x)~`>#+-=|{}.!\\"),
    "edit": edit_own,
    "forged button": press("tk1:closeyes:1"),
    "oversized button": press("tk1:open:" + "1" * 70),
    "stale button": stale_press,
    "unknown command": text("/frobnicate now"),
}

# Every input in three states, and a handful in every other state.
EVERYWHERE = ("no ticket", "form subject", "reply mode")
SAMPLE = ("sticker", "over-long text", "HTML characters", "edit", "forged button")
CASES = [(state, name) for state in EVERYWHERE for name in INPUTS] + [
    (state, name) for state in STATES if state not in EVERYWHERE for name in SAMPLE
]


class Probe:
    """Where the answers to a case start: messages and callback answers after the mark."""

    marks: ClassVar[dict[int, tuple[int, int]]] = {}

    @classmethod
    def mark(cls, world: World, person: Person) -> None:
        cls.marks[person.id] = (
            len(world.fake.sent(person.id)),
            len(world.fake.calls_to("answerCallbackQuery")),
        )

    @classmethod
    def answers(cls, world: World, person: Person, query: str | None) -> list[str]:
        sent_mark, call_mark = cls.marks[person.id]
        said = [m.text or m.caption or m.kind for m in world.fake.sent(person.id)[sent_mark:]]
        said += [
            str(c.params.get("text") or "(answered)")
            for c in world.fake.calls_to("answerCallbackQuery")[call_mark:]
            if c.ok and (query is None or c.params.get("callback_query_id") == query)
        ]
        return said


async def control_answered(world: World) -> bool:
    mark = len(world.fake.sent(world.control.id))
    world.control.user.send("/start")
    try:
        await world.fake.wait_for(world.control.id, since=mark, timeout=5.0)
    except AssertionError:
        return False
    return True


@pytest.mark.parametrize(("state", "name"), CASES, ids=[f"{s}: {n}" for s, n in CASES])
async def test_a_customer_gets_a_clear_answer(
    world: World, state: str, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    person = await STATES[state](world)
    await world.fake.idle()
    Probe.mark(world, person)
    query = await INPUTS[name](world, person)
    await world.fake.idle()
    answers = Probe.answers(world, person, query)
    # An edit of a message already on a ticket is shown to the agents, not answered.
    logged = not answers and any(KEPT_EDIT in r.getMessage() for r in caplog.records)
    control = await control_answered(world)
    record(
        SUITE,
        tried=1,
        answered=int(bool(answers)),
        logged=int(logged),
        lost=int(not (answers or logged) or not control),
    )
    assert answers or logged, f"{state}: {name} got no answer\n{world.fake.dump(person.id)}"
    assert all(TRACEBACK not in a and TOKEN not in a for a in answers)
    assert not any(r.levelno >= logging.ERROR for r in caplog.records), caplog.text
    assert control


# The agents' chat and what is no one's conversation.


async def agent_says(world: World, command: str) -> tuple[FakeUser, SentMessage | None]:
    agent = await world.agent()
    mark = len(world.fake.sent(world.group.id))
    world.group.send(agent, command)
    await world.fake.idle()
    new = [m for m in world.fake.sent(world.group.id)[mark:] if m.reply_to_message_id]
    return agent, new[0] if new else None


AGENT_COMMANDS = [
    "/priority",
    "/priority urgent",
    "/note",
    "/faq no_such_key",
    "/ticket abc",
    "/ticket ²",
    "/close 99999999999999999999",
    "/solve #0",
    "/assign -5",
    "/ban 12abc",
    "/queue extra words",
    "/ticket <b>1001</b>",
]


@pytest.mark.parametrize("command", AGENT_COMMANDS)
async def test_an_agents_wrong_command_is_answered(
    world: World, command: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    _agent, answer = await agent_says(world, command)
    control = await control_answered(world)
    record(
        SUITE, tried=1, answered=int(answer is not None), lost=int(answer is None or not control)
    )
    assert answer is not None, world.fake.dump(world.group.id)
    assert not any(r.levelno >= logging.ERROR for r in caplog.records), caplog.text
    assert control


async def test_a_reply_to_a_message_of_no_ticket_gets_the_hint(world: World) -> None:
    agent = await world.agent()
    chat = world.group.send(agent, "Lunch at noon?")
    await world.fake.idle()
    other = await world.agent()
    mark = len(world.fake.sent(world.group.id))
    world.group.send(other, "Yes, see you", reply_to=chat["message_id"])
    hint = await world.fake.wait_for(world.group.id, since=mark)
    control = await control_answered(world)
    record(SUITE, tried=1, answered=1, lost=int(not control))
    assert hint.text.startswith(tr("This message belongs to no ticket"))
    assert control


@pytest.mark.parametrize(
    "case",
    ["channel post", "edited channel post", "agent edits chat talk", "agent's sticker on a card"],
)
async def test_no_ones_conversation_gets_a_log_line(
    world: World, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    fake = world.fake
    channel = {"id": -1009999999999, "type": "channel", "title": "News"}
    post = {"message_id": 7, "chat": channel, "date": 1_700_000_000, "text": "Big news"}
    expected = "channel"
    if case == "channel post":
        fake.enqueue("channel_post", post)
    elif case == "edited channel post":
        fake.enqueue("edited_channel_post", {**post, "edit_date": 1_700_000_100})
    elif case == "agent edits chat talk":
        agent = await world.agent()
        said = world.group.send(agent, "Coffee?")
        await fake.idle()
        world.group.edit(agent, said, "Coffee or tea?")
        expected = "belongs to no ticket"
    else:
        person = world.person()
        number = await world.ticket(person)
        agent = await world.agent()
        card = await world.card(number)
        world.group.send_media(agent, "sticker", reply_to=card)
        expected = ""
    await fake.idle()
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    answered = bool(expected == "" and fake.sent(world.group.id)[-1].reply_to_message_id)
    found = answered or any(expected and expected in line for line in logged)
    control = await control_answered(world)
    record(
        SUITE,
        tried=1,
        answered=int(answered),
        logged=int(not answered and found),
        lost=int(not found or not control),
    )
    assert found, "\n".join(logged)
    assert not any(r.levelno >= logging.ERROR for r in caplog.records), caplog.text
    assert control


@pytest.mark.parametrize(
    "name", ["<b>Eve</b> & co", "*_[Eve]_*", "إيفا", "Eve\u200b\u202e", "👩‍💻 Eve"]
)
async def test_a_strange_name_reaches_the_agents_unharmed(world: World, name: str) -> None:
    person = world.person(first_name=name)
    number = await world.ticket(person)
    await world.card(number)
    mark = len(world.fake.sent(world.group.id))
    answer = await person.says("Any news on this?", expect=tr("✅ Added to your ticket {ref}.")[:8])
    relayed = await world.fake.wait_for(world.group.id, lambda m: "Any news" in m.text, since=mark)
    control = await control_answered(world)
    record(SUITE, tried=1, answered=1, lost=int(not control))
    assert answer.text.startswith("✅")
    assert relayed.text.startswith(f"👤 #{number} · ")
    assert control

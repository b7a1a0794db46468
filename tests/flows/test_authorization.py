"""Authorization matrix: every customer, agent and operator action, tried by each role it
does not belong to, with forged ids. Nothing changes, nothing leaks, and the intruder gets a
polite answer (or, in the agents' chat, nothing at all).

It passed when it was written; it stays as a regression test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import SupportApplication
from bot.config import Settings
from bot.domain.lifecycle import Action
from bot.domain.models import Author, Draft, Priority
from tests.conftest import TOKEN
from tests.fake_api import FakeChat, FakeTelegram, FakeUser
from tests.figures import record
from tests.flows.conftest import FREE, Person, running

pytestmark = pytest.mark.asyncio(loop_scope="module")

SUITE = "authorization"
SECRET = "Secret subject of the owner"


@dataclass
class World:
    fake: FakeTelegram
    app: SupportApplication
    group: FakeChat
    agent: FakeUser
    operator: FakeUser
    owner: Person
    intruder: Person
    number: int  # the owner's ticket, open
    solved: int  # the owner's ticket, solved

    async def snapshot(self) -> tuple[object, ...]:
        """Everything an unauthorized action could change."""
        desk = self.app.bot_data.desk
        state: list[object] = []
        for number in (self.number, self.solved):
            ticket = await desk.tickets.get(number)
            assert ticket is not None
            messages = await desk.tickets.messages(number, include_internal=True)
            state += [ticket.status, ticket.priority, ticket.assignee_id, len(messages)]
            state.append(await desk.ratings.get(number))
        owner = await desk.users.get(self.owner.id)
        assert owner is not None
        state += [owner.is_banned, await desk.admin_chat_id(), await desk.default_locale()]
        newest, _page, _pages = await desk.audit.page(None, 1)
        state.append(newest[-1].id if newest else None)  # the desk's trail
        state.append(await desk.tickets.count_for_customer(self.intruder.id))
        return tuple(state)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    folder: Path = tmp_path_factory.mktemp("authorization")
    async with FakeTelegram(token=TOKEN) as fake:
        agent = fake.user("Agnes")
        operator = fake.user("Olle")
        group = fake.group("Agents", members=[agent])
        settings = Settings(
            _env_file=None,
            bot_token=TOKEN,
            database_path=folder / "support.db",
            telegram_api_url=fake.url,
            admin_chat_id=group.id,
            operator_ids=[operator.id],
            customer_rate_limit=1000,
        )
        async with running(settings, limits=FREE) as app:
            desk = app.bot_data.desk
            owner = Person(fake, fake.user("Owner"))
            intruder = Person(fake, fake.user("Mallory"))
            for person in (owner, intruder):
                await person.says("/start")
            draft = Draft(owner.id, "billing", SECRET, Priority.LOW, "My account number 12345.")
            number = (await desk.submit(draft, "en")).number
            other = Draft(owner.id, "billing", "Old question", Priority.LOW, "Answered already.")
            solved = (await desk.submit(other, "en")).number
            await desk.service.apply(solved, Action.SOLVE, Author.AGENT, agent.id)
            app.bot_data.dispatcher.wake()
            await fake.idle()
            yield World(fake, app, group, agent, operator, owner, intruder, number, solved)


def customer_buttons(number: int, solved: int) -> list[str]:
    return [
        f"tk1:open:{number}",
        f"tk1:reply:{number}",
        f"tk1:close:{number}",
        f"tk1:closeyes:{number}",
        f"tk1:reopen:{solved}",
        f"tk1:follow:{solved}",
        f"rt1:rate:{solved}:1",
        "cr1:askmsg:1",
        f"cr1:to:1:{number}",
    ]


def agent_buttons(number: int, solved: int) -> list[str]:
    return [
        f"ag1:assign:{number}",
        f"ag1:solve:{number}",
        f"ag1:close:{number}",
        f"ag1:reopen:{solved}",
        "q1:page:0",
    ]


def agent_commands(number: int) -> list[str]:
    return [
        f"/solve {number}",
        f"/close {number}",
        f"/reopen {number}",
        f"/assign {number}",
        f"/priority {number} critical",
        f"/note {number} internal",
        f"/ticket {number}",
        f"/faq {number} otp",
        f"/ban {number}",
        "/queue",
    ]


OPERATOR_COMMANDS = ["/locale sv", "/stats", "/export", "/bind", "/audit"]


def _nothing_leaked(world: World, chat_id: int) -> None:
    """No bot message to `chat_id` names the owner's secret."""
    for message in world.fake.sent(chat_id):
        assert SECRET not in message.text, message
        assert "12345" not in message.text, message


@pytest.mark.parametrize("index", range(9))
async def test_another_customer_cant_press_the_owners_buttons(world: World, index: int) -> None:
    data = customer_buttons(world.number, world.solved)[index]
    before = await world.snapshot()
    menu = world.fake.last(world.intruder.id)
    query = world.fake.press(world.intruder.user, menu, data=data)
    await world.fake.idle()
    answers = world.fake.answers_to(query)
    record(SUITE, tried=1, refused=int(await world.snapshot() == before))
    assert await world.snapshot() == before
    assert [a.params.get("text") for a in answers] == ["This button is no longer valid."]
    _nothing_leaked(world, world.intruder.id)


@pytest.mark.parametrize("index", range(9))
async def test_an_agent_cant_press_a_customers_buttons(world: World, index: int) -> None:
    data = customer_buttons(world.number, world.solved)[index]
    before = await world.snapshot()
    card = next(m for m in world.fake.sent(world.group.id) if m.button_texts())
    world.fake.press(world.agent, card, data=data)
    await world.fake.idle()
    record(SUITE, tried=1, refused=int(await world.snapshot() == before))
    assert await world.snapshot() == before


@pytest.mark.parametrize("index", range(5))
async def test_a_customer_cant_press_agents_buttons(world: World, index: int) -> None:
    data = agent_buttons(world.number, world.solved)[index]
    for person in (world.owner, world.intruder):
        before = await world.snapshot()
        query = world.fake.press(person.user, world.fake.last(person.id), data=data)
        await world.fake.idle()
        record(SUITE, tried=1, refused=int(await world.snapshot() == before))
        assert await world.snapshot() == before
        answers = world.fake.answers_to(query)
        assert [a.params.get("text") for a in answers] == ["This button is no longer valid."]


@pytest.mark.parametrize("index", range(10))
async def test_a_customer_cant_use_agents_commands(world: World, index: int) -> None:
    command = agent_commands(world.number)[index]
    for person in (world.owner, world.intruder):
        before = await world.snapshot()
        mark = len(world.fake.sent(person.id))
        person.user.send(command)
        await world.fake.idle()
        record(SUITE, tried=1, refused=int(await world.snapshot() == before))
        assert await world.snapshot() == before
        assert world.fake.sent(person.id)[mark:], f"{command} got no answer"
        if person is world.intruder:
            _nothing_leaked(world, person.id)


@pytest.mark.parametrize("index", range(10))
async def test_someone_who_left_the_agents_chat_cant_act(world: World, index: int) -> None:
    command = agent_commands(world.number)[index]
    former = world.fake.user(f"Former{index}")
    await world.fake.add_member(world.group, former)
    world.group.members[former.id] = "left"  # as if they had left; the bot checks each time
    before = await world.snapshot()
    mark = len(world.fake.sent(world.group.id))
    world.group.members[former.id] = "member"  # the fake lets only members post...
    sent = world.group.send(former, command)
    world.group.members[former.id] = "left"  # ...but getChatMember says they are gone
    assert sent
    await world.fake.idle()
    record(SUITE, tried=1, refused=int(await world.snapshot() == before))
    assert await world.snapshot() == before
    assert all(SECRET not in m.text for m in world.fake.sent(world.group.id)[mark:])


@pytest.mark.parametrize("command", OPERATOR_COMMANDS)
async def test_only_operators_run_operator_commands(world: World, command: str) -> None:
    before = await world.snapshot()
    mark = len(world.fake.sent(world.group.id))
    world.group.send(world.agent, command)
    await world.fake.idle()
    for person in (world.owner, world.intruder):
        person.user.send(command)
    await world.fake.idle()
    record(SUITE, tried=3, refused=3 * int(await world.snapshot() == before))
    assert await world.snapshot() == before
    exports = [c for c in world.fake.calls_to("sendDocument") if "tickets.csv" in str(c.params)]
    assert exports == []
    assert all("Tickets by status" not in m.text for m in world.fake.sent(world.group.id)[mark:])
    trail = ("The desk's trail", "Nothing has been recorded")
    for chat_id in (world.group.id, world.owner.id, world.intruder.id):
        assert not any(t in m.text for m in world.fake.sent(chat_id) for t in trail)

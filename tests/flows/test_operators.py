"""Operators' commands: the figures in their language, and /bind where it means something."""

from __future__ import annotations

import json
from collections.abc import Callable

from bot.config import Settings
from bot.domain.lifecycle import Action
from bot.domain.models import Author
from tests.fake_api import FakeTelegram
from tests.flows.conftest import Person, running
from tests.flows.forms import tr, walk_to


async def test_stats_before_any_answer_still_has_the_median_line(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    operator = Person(fake, fake.user("Olle", language_code="en"))
    settings = make_settings(telegram_api_url=fake.url, operator_ids=[operator.id])
    async with running(settings):
        figures = await operator.says("/stats")
    assert "Median first response: —, no ticket answered yet" in figures.text.splitlines()


async def test_stats_speak_the_agents_language_and_the_operators_numbers(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    agent = fake.user("Agnes")
    group = fake.group("Agents", members=[agent])
    operator = Person(fake, fake.user("Olle", language_code="sv"))
    settings = make_settings(
        telegram_api_url=fake.url, admin_chat_id=group.id, operator_ids=[operator.id]
    )
    async with running(settings) as app:
        customers = [Person(fake, fake.user(name)) for name in ("Rina", "Budi")]
        for number, customer in enumerate(customers, start=1001):
            review = await walk_to(customer, "review")
            await customer.presses(review, tr("📨 Submit"), expect=f"#{number}")
        await fake.idle()
        service = app.bot_data.desk.service
        await service.agent_reply(1001, agent.id, "On it")
        await service.apply(1001, Action.SOLVE, Author.AGENT, agent.id)
        await service.rate(1001, customers[0].id, 5)
        await service.agent_reply(1002, agent.id, "Looking")
        figures = await operator.says("/stats")
    lines = figures.text.splitlines()
    # The agents' word for a pending ticket, not the customer's "Waiting for your reply".
    assert f"{tr('Waiting for the customer', 'sv')}: 1" in lines
    assert tr("Waiting for your reply", "sv") not in figures.text
    assert "(100\xa0%)" in figures.text  # Swedish writes a space before the percent sign
    assert "5,0" in figures.text and "5.0" not in figures.text


async def test_bind_is_not_in_the_operators_private_menu(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    operator = fake.user("Olle")
    settings = make_settings(telegram_api_url=fake.url, operator_ids=[operator.id])
    async with running(settings):
        await fake.idle()
    menus = {
        json.loads(scope).get("chat_id"): [c["command"] for c in commands]
        for (scope, _language), commands in fake.commands.items()
    }
    names = menus[operator.id]
    assert "stats" in names
    assert "bind" not in names


async def test_bind_in_a_private_chat_says_what_to_do(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    operator = Person(fake, fake.user("Olle"))
    stranger = Person(fake, fake.user("Sara"))
    settings = make_settings(telegram_api_url=fake.url, operator_ids=[operator.id])
    async with running(settings):
        hint = await operator.says("/bind")
        told = await stranger.says("/bind")
    assert "send /bind there" in hint.text
    assert str(stranger.id) in told.text
    assert "OPERATOR_IDS" in told.text

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
    assert "• On the clock: median —, none in this period" in figures.text.splitlines()


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
    assert f"• {tr('Waiting for the customer', 'sv')}: 1" in lines
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


def agents_menu(fake: FakeTelegram, group_id: int) -> list[str]:
    """The descriptions of the agents' chat's command menu, as last published."""
    for (scope, language), commands in fake.commands.items():
        if json.loads(scope).get("chat_id") == group_id and not language:
            return [c["description"] for c in commands]
    raise AssertionError(f"no menu for chat {group_id}")


async def test_the_customers_default_language_leaves_the_agents_chat_alone(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    agent = fake.user("Agnes", language_code="en")
    group = fake.group("Agents", members=[agent])
    operator = Person(fake, fake.user("Olle", language_code="en"))
    settings = make_settings(
        telegram_api_url=fake.url, admin_chat_id=group.id, operator_ids=[operator.id]
    )
    async with running(settings):
        done = await operator.says("/locale sv")
        assert done.text == tr(
            "Customers whose language we don't speak are now answered in {language}.", "sv"
        ).format(language="svenska")
        await fake.idle()
        assert agents_menu(fake, group.id)[0] == "Open tickets, most urgent first"
        # A customer whose language we don't speak gets Swedish; the agents keep English.
        newcomer = Person(fake, fake.user("Aminah", language_code="ms"))
        review = await walk_to(newcomer, "review", locale="sv")
        await newcomer.presses(review, tr("📨 Submit", "sv"), expect="#1001")
        card = await fake.wait_for(group.id, lambda m: "#1001" in m.text, since=0)
        assert card.text.startswith("🎫 Ticket #1001")
        assert card.button_texts() == ["🙋 Take it", "✅ Solve", "🔒 Close"]
        mark = len(fake.sent(group.id))
        group.send(agent, "/ticket 999")
        missing = await fake.wait_for(group.id, since=mark)
        assert missing.text == "There is no ticket #999."


async def test_an_operator_sets_the_agents_chats_language_which_stays(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    agent = fake.user("Agnes", language_code="en")
    operator = fake.user("Olle", language_code="sv")
    group = fake.group("Agents", members=[agent], admins=[operator])
    settings = make_settings(
        telegram_api_url=fake.url, admin_chat_id=group.id, operator_ids=[operator.id]
    )
    async with running(settings) as app:
        customer = Person(fake, fake.user("Rina", language_code="en"))
        review = await walk_to(customer, "review")
        await customer.presses(review, tr("📨 Submit"), expect="#1001")
        await fake.idle()
        mark = len(fake.sent(group.id))
        group.send(operator, "/locale admin fr")
        usage = await fake.wait_for(group.id, since=mark)
        assert usage.text == tr(
            "Give one of {locales}: /locale id sets the language for customers whose own we "
            "don't speak, /locale admin id the language of the agents' chat."
        ).format(locales="en, id, sv")
        mark = len(fake.sent(group.id))
        group.send(operator, "/locale admin id")
        done = await fake.wait_for(group.id, since=mark)
        # Said in the agents' chat, as an answer there, and in the language just chosen.
        assert done.text == tr("The agents' chat is now in {language}.", "id").format(
            language="bahasa Indonesia"
        )
        await fake.idle()
        assert agents_menu(fake, group.id)[0] == tr("Open tickets, most urgent first", "id")
        ticket = await app.bot_data.desk.tickets.get(1001)
        assert ticket is not None
        mark = len(fake.sent(group.id))
        group.send(agent, "/priority urgent", reply_to=ticket.admin_card_message_id)
        refused = await fake.wait_for(group.id, since=mark)
        assert refused.text == tr(
            "Give one of: {levels}. For example: /priority high", "id"
        ).format(levels="low, medium, high, critical")
        # The customers' default is untouched, and so is the customers' language.
        assert await app.bot_data.desk.default_locale() == "en"
        hello = await customer.says("/start")
        assert hello.text.startswith("Hello")
    async with running(settings) as again:  # stored: it survives a restart
        assert await again.bot_data.desk.admin_locale() == "id"
        await fake.idle()
        assert agents_menu(fake, group.id)[0] == tr("Open tickets, most urgent first", "id")


async def test_admin_locale_sets_the_agents_chats_language_at_start_up(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    agent = fake.user("Agnes", language_code="en")
    group = fake.group("Agents", members=[agent])
    settings = make_settings(
        telegram_api_url=fake.url, admin_chat_id=group.id, default_locale="id", admin_locale="sv"
    )
    async with running(settings):
        customer = Person(fake, fake.user("Aminah", language_code="ms"))
        hello = await customer.says("/start")
        assert hello.text.startswith("Halo, Aminah!")  # customers: DEFAULT_LOCALE
        review = await walk_to(customer, "review", locale="id")
        await customer.presses(review, tr("📨 Submit", "id"), expect="#1001")
        card = await fake.wait_for(group.id, lambda m: "#1001" in m.text, since=0)
        assert card.button_texts() == [
            tr(label, "sv") for label in ("🙋 Take it", "✅ Solve", "🔒 Close")
        ]
        await fake.idle()
        assert agents_menu(fake, group.id)[0] == tr("Open tickets, most urgent first", "sv")

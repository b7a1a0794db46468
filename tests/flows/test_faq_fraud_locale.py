"""The FAQ, the fraud guard end to end, and the operators' language controls."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from bot.app import SupportApplication
from bot.config import Settings
from bot.domain.faq import Faq
from tests.fake_api import FakeChat, FakeTelegram, FakeUser
from tests.flows.conftest import Person, running
from tests.flows.forms import question, tr, walk_to

FAQ = Faq.load()
CARD = "4111 1111 1111 1111"
MASKED = "4111 11** **** 1111"


@dataclass
class World:
    fake: FakeTelegram
    group: FakeChat
    agent: FakeUser
    operator: FakeUser
    settings: Settings


@pytest.fixture
async def world(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> AsyncIterator[tuple[World, SupportApplication]]:
    agent = fake.user("Agnes")
    operator = fake.user("Olle", language_code="sv")
    group = fake.group("Agents", members=[agent], admins=[operator])
    settings = make_settings(
        telegram_api_url=fake.url, admin_chat_id=group.id, operator_ids=[operator.id]
    )
    async with running(settings) as app:
        yield World(fake, group, agent, operator, settings), app


@pytest.mark.parametrize(
    ("language_code", "locale", "text", "key"),
    [
        ("id", "id", "order saya masih pending padahal sudah bayar", "pending_order"),
        ("id", "id", "pulsa blm masuk pdhl status sukses", "product_not_received"),
        ("sv-SE", "sv", "vantar pa min order fast jag har betalat", "pending_order"),
        ("sv", "sv", "någon ringde och bad om min engångskod", "otp_warning"),
        ("en", "en", "someone used my credit card without permision", "card_misuse"),
        ("en", "en", "what does waiting for your reply mean", "ticket_status"),
    ],
)
async def test_free_text_finds_the_answer_in_the_customers_language(
    world: tuple[World, SupportApplication], language_code: str, locale: str, text: str, key: str
) -> None:
    w, _app = world
    person = Person(w.fake, w.fake.user("Nur", language_code=language_code))
    reply = await person.says(text)
    entry = FAQ.entry(locale, key)
    assert entry is not None
    assert reply.text.startswith(tr("This may help:", locale))
    assert entry.title in reply.text
    assert reply.button_texts()[-1] == tr("📝 Open a ticket", locale)
    form = await person.presses(
        reply, tr("📝 Open a ticket", locale), expect=question("department", locale)
    )
    assert form.text


async def test_faq_browses_by_topic(world: tuple[World, SupportApplication]) -> None:
    w, _app = world
    person = Person(w.fake, w.fake.user("Budi", language_code="id"))
    menu = await person.says("/faq")
    topics = [e.button for e in FAQ.entries("id")]
    assert menu.button_texts() == [*topics, tr("📝 Open a ticket", "id")]
    entry = FAQ.entry("id", "otp_warning")
    assert entry is not None
    answer = await person.presses(menu, entry.button)
    assert answer.text.startswith(entry.title)
    assert "OTP" in answer.text
    again = await person.presses(answer, tr("« All questions", "id"))
    assert again.button_texts() == menu.button_texts()


async def test_an_agent_sends_an_faq_answer_in_the_customers_language(
    world: tuple[World, SupportApplication],
) -> None:
    w, app = world
    person = Person(w.fake, w.fake.user("Sven", language_code="sv"))
    review = await walk_to(person, "review", locale="sv")
    await person.presses(review, tr("📨 Submit", "sv"), expect="#1001")
    await w.fake.idle()
    ticket = await app.bot_data.desk.tickets.get(1001)
    assert ticket is not None
    mark = len(w.fake.sent(w.group.id))
    w.group.send(w.agent, "/faq nonsense", reply_to=ticket.admin_card_message_id)
    refused = await w.fake.wait_for(w.group.id, since=mark)
    assert refused.text == "Unknown FAQ key. Use one of: " + ", ".join(FAQ.keys())
    w.group.send(w.agent, "/faq response_times", reply_to=ticket.admin_card_message_id)
    sent = await w.fake.wait_for(person.id, lambda m: "#1001" in m.text and "💬" in m.text)
    entry = FAQ.entry("sv", "response_times")
    assert entry is not None and entry.title in sent.text
    assert "1–2" in sent.text
    messages = await app.bot_data.desk.tickets.messages(1001, include_internal=True)
    assert messages[-1].author.value == "agent" and entry.title in messages[-1].body


@pytest.mark.sqlite_only  # reads the whole SQLite file's dump
async def test_a_card_number_never_reaches_the_database_or_the_agents(
    world: tuple[World, SupportApplication],
) -> None:
    w, app = world
    person = Person(w.fake, w.fake.user("Rina"))
    await walk_to(person, "subject")
    warning = await person.says(f"Card {CARD} charged twice")
    assert "first 6 and last 4" in warning.text
    await w.fake.wait_for(person.id, lambda m: question("priority") in m.text)
    priority_q = w.fake.last(person.id)
    button = next(b for b in priority_q.button_texts() if b.startswith("High"))
    await person.presses(priority_q, button, expect=question("message"))
    await person.says(
        f"My card {CARD.replace(' ', '-')} was charged twice, OTP 123456 came too.",
        expect=question("attachments"),
    )
    mark = len(w.fake.sent(person.id))
    person.user.send_photo(caption=f"statement for {CARD.replace(' ', '')}")
    ack = await w.fake.wait_for(person.id, lambda m: tr("✅ Done") in m.button_texts(), since=mark)
    assert any("first 6 and last 4" in m.text for m in w.fake.sent(person.id)[mark:])
    review = await person.presses(ack, tr("✅ Done"), expect=question("review"))
    assert CARD not in review.text and "4111 11** **** 1111" in review.text
    await person.presses(review, tr("📨 Submit"), expect="#1001")
    await w.fake.idle()
    # A reply later carries one too.
    receipt = next(m for m in w.fake.sent(person.id) if "#1001" in m.text)
    person.user.send(f"also this one: {CARD}", reply_to=receipt.message_id)
    await w.fake.wait_for(w.group.id, lambda m: "also this one" in m.text)
    await w.fake.idle()
    digits = CARD.replace(" ", "")
    group_text = json.dumps(
        [c.params for c in w.fake.calls if str(c.params.get("chat_id")) == str(w.group.id)]
    )
    assert digits not in group_text.replace(" ", "").replace("-", "")
    assert MASKED in group_text
    await app.bot_data.desk.db.close()
    with sqlite3.connect(w.settings.database_path) as raw:
        dump = "\n".join(raw.iterdump())
    await app.bot_data.desk.db.connect()
    assert digits not in dump.replace(" ", "").replace("-", "")
    assert "123456" not in dump


async def test_operators_set_the_default_locale_and_menus_follow(
    world: tuple[World, SupportApplication],
) -> None:
    w, app = world
    operator = Person(w.fake, w.operator)
    stranger = Person(w.fake, w.fake.user("Mallory", language_code="en"))
    refused = await stranger.says("/locale id")
    assert refused.text == "Only operators can do that."
    bad = await operator.says("/locale fr")
    assert bad.text == tr(
        "Give one of {locales}: /locale id sets the language for customers whose own we "
        "don't speak, /locale admin id the language of the agents' chat.",
        "sv",
    ).format(locales="en, id, sv")
    done = await operator.says("/locale id")
    # The confirmation is in the new language, whatever the operator's own.
    assert done.text == tr(
        "Customers whose language we don't speak are now answered in {language}.", "id"
    ).format(language="bahasa Indonesia")
    await w.fake.idle()
    default_menu = w.fake.commands[('{"type": "all_private_chats"}', "")]
    assert default_menu[0]["description"] == tr("Open a new ticket", "id")
    # A user whose language we don't speak now gets Indonesian.
    newcomer = Person(w.fake, w.fake.user("Aminah", language_code="ms"))
    hello = await newcomer.says("/start")
    assert hello.text.startswith("Halo, Aminah!")
    # Survives a restart.
    assert await app.bot_data.desk.desk_settings.get("default_locale") == "id"


async def test_menus_and_descriptions_are_published_per_language_and_scope(
    world: tuple[World, SupportApplication],
) -> None:
    w, _app = world
    commands = {
        (json.loads(scope)["type"], json.loads(scope).get("chat_id"), lang): [
            c["command"] for c in cmds
        ]
        for (scope, lang), cmds in w.fake.commands.items()
    }
    assert commands[("all_private_chats", None, "id")] == [
        "new",
        "tickets",
        "faq",
        "language",
        "help",
        "cancel",
    ]
    assert commands[("chat", w.group.id, "")][0] == "queue"
    assert "stats" in commands[("chat", w.operator.id, "")]
    for lang in ("en", "id", "sv"):
        assert w.fake.descriptions[lang] == tr(
            "Our support desk. Open a ticket, follow it and talk to our team right here. We never "
            "ask for your password or a one-time code (OTP).",
            lang,
        )
        assert w.fake.short_descriptions[lang] == tr(
            "Support desk: open and follow your tickets here.", lang
        )
    assert w.fake.descriptions["id"] != w.fake.descriptions["en"]


async def test_operator_stats_and_export(world: tuple[World, SupportApplication]) -> None:
    w, app = world
    person = Person(w.fake, w.fake.user("Rina"))
    review = await walk_to(person, "review")
    await person.presses(review, tr("📨 Submit"), expect="#1001")
    await w.fake.idle()
    await app.bot_data.desk.service.agent_reply(1001, w.agent.id, "On it")
    operator = Person(w.fake, w.operator)
    figures = await operator.says("/stats")
    assert tr("First response", "sv") in figures.text
    await w.fake.wait_for(operator.id, lambda m: m.kind == "photo")  # the chart comes next
    export = await operator.says("/export")
    assert export.kind == "document"
    assert export.raw["document"]["file_name"].startswith("tickets-")


async def test_help_shows_operators_their_commands(world: tuple[World, SupportApplication]) -> None:
    w, _app = world
    operator = Person(w.fake, w.operator)
    customer = Person(w.fake, w.fake.user("Rina"))
    assert "/stats" in (await operator.says("/help")).text
    assert "/stats" not in (await customer.says("/help")).text

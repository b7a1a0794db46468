"""Operators' reports through the real bot: /stats with its chart, in a private chat and
in the agents' chat (through the outbox), and nothing for anyone else, in any chat."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

from bot.config import Settings
from bot.domain.lifecycle import Action
from bot.domain.models import Author
from tests.fake_api import FakeTelegram
from tests.fake_api.objects import SentMessage
from tests.flows.conftest import Person, running
from tests.flows.forms import tr, walk_to

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def uploaded(fake: FakeTelegram, message: SentMessage) -> bytes:
    media = message.raw.get("document") or message.raw["photo"][-1]
    content = fake.files[media["file_id"]].content
    assert content is not None
    return content


def png_facts(data: bytes) -> tuple[int, int, dict[str, str]]:
    """Width, height and text chunks of a PNG, checking every chunk's CRC on the way."""
    assert data.startswith(PNG_SIGNATURE)
    pos, width, height, texts = len(PNG_SIGNATURE), 0, 0, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"tEXt":
            key, _, value = body.partition(b"\0")
            texts[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\0")
            texts[key.decode("utf-8")] = rest[2:].split(b"\0", 2)[2].decode("utf-8")
        pos += 12 + length
    return width, height, texts


async def test_stats_in_a_private_chat_come_with_a_chart_in_the_operators_language(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    operator = Person(fake, fake.user("Olle", language_code="sv"))
    settings = make_settings(telegram_api_url=fake.url, operator_ids=[operator.id])
    async with running(settings):
        customer = Person(fake, fake.user("Rina"))
        review = await walk_to(customer, "review")
        await customer.presses(review, tr("📨 Submit"), expect="#1001")
        # The first chart of a process loads matplotlib and its fonts: seconds on a busy
        # machine, so the wait is generous (a timing is the bench's business, not a test's).
        figures = await operator.says("/stats 30d", timeout=30)
        chart = await fake.wait_for(operator.id, lambda m: m.kind == "photo", timeout=30)
    assert tr("Response targets met", "sv") in figures.text
    assert "30" in figures.text.splitlines()[0]
    width, height, texts = png_facts(uploaded(fake, chart))
    assert (width, height) == (800, 700)
    assert texts["Title"] == tr("The desk over the last {days} days", "sv").format(days="30")
    assert chart.caption == texts["Title"]
    assert 10_000 < len(uploaded(fake, chart)) < 500_000


async def test_a_bad_period_is_explained(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    operator = Person(fake, fake.user("Olle", language_code="id"))
    settings = make_settings(telegram_api_url=fake.url, operator_ids=[operator.id])
    async with running(settings):
        answer = await operator.says("/stats 1y")
    assert answer.text == tr(
        "Give the period as 7d, 30d or 90d: /stats 30d. Without one, the last 7 days.", "id"
    )


async def test_stats_in_the_agents_chat_go_through_the_outbox(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    operator = fake.user("Olle")
    group = fake.group("Agents", members=[operator])
    settings = make_settings(
        telegram_api_url=fake.url, admin_chat_id=group.id, operator_ids=[operator.id]
    )
    async with running(settings) as app:
        mark = len(fake.sent(group.id))
        group.send(operator, "/stats")
        chart = await fake.wait_for(group.id, lambda m: m.kind == "photo", since=mark)
        rows = await app.bot_data.desk.outbox.counts()
    said = fake.sent(group.id)[mark:]
    assert [m.kind for m in said] == ["text", "photo"]
    assert tr("Response targets met") in said[0].text
    assert png_facts(uploaded(fake, chart))[0] == 800
    assert sum(rows.values()) >= 2  # both were queued, not sent from the handler


async def test_no_one_but_an_operator_gets_anything_in_any_chat(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    agent = fake.user("Agnes")
    operator = fake.user("Olle")
    group = fake.group("Agents", members=[agent, operator])
    elsewhere = fake.group("Friends", members=[agent, operator])
    settings = make_settings(
        telegram_api_url=fake.url, admin_chat_id=group.id, operator_ids=[operator.id]
    )
    commands = ["/stats", "/stats 90d", "/export", "/export full", "/export all", "/audit"]
    refusal = tr("Only operators can do that.")
    async with running(settings):
        customer = Person(fake, fake.user("Rina"))
        for command in commands:
            assert (await customer.says(command)).text == refusal
            mark = len(fake.sent(group.id))
            group.send(agent, command)
            assert (await fake.wait_for(group.id, since=mark)).text == refusal
            # A group that is not the agents' chat is left, and nobody there hears anything,
            # an operator included.
            elsewhere.send(agent, command)
            elsewhere.send(operator, command)
        await fake.idle()
    assert fake.sent(elsewhere.id) == []
    for chat_id in (customer.id, group.id):
        assert all(m.kind == "text" for m in fake.sent(chat_id))


async def test_forget_asks_first_then_anonymizes_and_tells_the_customer(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    operator = Person(fake, fake.user("Olle", language_code="en"))
    settings = make_settings(telegram_api_url=fake.url, operator_ids=[operator.id])
    async with running(settings) as app:
        customer = Person(fake, fake.user("Sigrún", last_name="Wicaksono"))
        review = await walk_to(customer, "review")
        await customer.presses(review, tr("📨 Submit"), expect="#1001")
        assert (await operator.says("/forget abc")).text == tr(
            "Give the customer's user id: /forget 123456789."
        )
        asked = await operator.says(f"/forget {customer.id}")
        assert "Sigrún Wicaksono" in asked.text
        fake.press(operator.user, asked, button=tr("Keep"))
        await fake.idle()
        kept = fake.sent_message(operator.id, asked.message_id)
        assert kept is not None and kept.text == tr("Nothing was changed.")
        asked = await operator.says(f"/forget {customer.id}")
        mark = len(fake.sent(customer.id))
        fake.press(operator.user, asked, button=tr("Forget them"))
        told = await fake.wait_for(customer.id, since=mark)
        desk = app.bot_data.desk
        user = await desk.users.get(customer.id)
        messages = await desk.tickets.messages(1001, include_internal=True)
    done = fake.sent_message(operator.id, asked.message_id)
    assert done is not None and done.text.startswith(f"Customer {customer.id} is forgotten")
    assert told.text.startswith("As you asked, we have removed your name")
    assert user is not None and (user.first_name, user.last_name) == ("Forgotten customer", None)
    assert {m.body for m in messages} == {"(removed at the customer's request)"}


async def test_audit_shows_the_trail_paged_in_the_agents_chat(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    agent = fake.user("Agnes")
    operator = fake.user("Olle")
    group = fake.group("Agents", members=[agent, operator])
    settings = make_settings(
        telegram_api_url=fake.url, admin_chat_id=group.id, operator_ids=[operator.id]
    )
    async with running(settings) as app:
        customer = Person(fake, fake.user("Rina"))
        review = await walk_to(customer, "review")
        await customer.presses(review, tr("📨 Submit"), expect="#1001")
        await fake.idle()
        service = app.bot_data.desk.service
        for _ in range(6):  # 2 events each: enough for two pages
            await service.agent_reply(1001, agent.id, "Checking")
            await service.apply(1001, Action.SOLVE, Author.AGENT, agent.id)
        mark = len(fake.sent(group.id))
        group.send(agent, "/audit 1001")
        refused = await fake.wait_for(group.id, since=mark)
        mark = len(fake.sent(group.id))
        group.send(operator, "/audit 1001")
        page = await fake.wait_for(group.id, lambda m: "1001" in m.text, since=mark)
        first_text = page.text
        fake.press(operator, page, button=tr("Later ›"))
        await fake.idle()
    assert refused.text == tr("Only operators can do that.")
    assert first_text.startswith("Ticket #1001: its trail, page 1 of 2")
    assert "the customer: opened the ticket" in first_text
    assert f"Agnes ({agent.id}): answered for the first time" in first_text
    # Every answer is in the trail, not only the first (a message, with who and when).
    replies = first_text + "\n" + (fake.sent_message(group.id, page.message_id) or page).text
    assert replies.count(f"Agnes ({agent.id}): answered the customer") >= 6
    turned = fake.sent_message(group.id, page.message_id)
    assert turned is not None and turned.text.startswith("Ticket #1001: its trail, page 2 of 2")
    assert tr("‹ Earlier") in turned.button_texts()

"""FAQ answers through the bot: greetings, billing questions, figures from the settings, and
what an agent's /faq sends to a customer who is already in a ticket."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.config import Settings
from bot.domain.faq import Faq
from bot.i18n import use_locale
from bot.texts import welcome_text
from tests.fake_api import FakeTelegram
from tests.flows.conftest import Person, running
from tests.flows.forms import question, tr, walk_to

FAQ = Faq.load()
MAIN_MENU = ["📝 New ticket", "📂 My tickets", "❓ FAQ", "🌐 Language"]


def welcome(name: str, locale: str) -> str:
    with use_locale(locale):
        return welcome_text(name)


@pytest.mark.parametrize(
    ("language_code", "locale", "text"),
    [
        ("id", "id", "halo"),
        ("id", "id", "Selamat pagi, kak!"),
        ("sv-SE", "sv", "Hej hej"),
        ("sv", "sv", "god morgon"),
        ("en", "en", "Hi there"),
        ("en", "en", "good evening"),
    ],
)
async def test_a_greeting_gets_the_welcome_and_the_main_menu(
    fake: FakeTelegram, bot_settings: Settings, language_code: str, locale: str, text: str
) -> None:
    async with running(bot_settings):
        person = Person(fake, fake.user("Dewi", language_code=language_code))
        reply = await person.says(text)
        assert reply.text == welcome("Dewi", locale)
        assert reply.button_texts() == [tr(label, locale) for label in MAIN_MENU]
        # The same as /start says.
        start = await person.says("/start")
        assert (start.text, start.button_texts()) == (reply.text, reply.button_texts())


async def test_a_greeting_with_a_question_gets_the_answer(
    fake: FakeTelegram, bot_settings: Settings
) -> None:
    async with running(bot_settings):
        person = Person(fake, fake.user("Dewi", language_code="id"))
        reply = await person.says("halo kak, pulsa saya belum masuk padahal sudah bayar")
        entry = FAQ.entry("id", "product_not_received")
        assert entry is not None
        assert reply.text.startswith(tr("This may help:", "id"))
        assert entry.title in reply.text


@pytest.mark.parametrize(
    ("language_code", "locale", "text"),
    [
        ("id", "id", "saya mau tanya soal tagihan"),
        ("sv", "sv", "jag har en fråga om min faktura"),
        ("en", "en", "I have a question about my bill"),
    ],
)
async def test_a_billing_question_leads_to_the_billing_department(
    fake: FakeTelegram, bot_settings: Settings, language_code: str, locale: str, text: str
) -> None:
    async with running(bot_settings):
        person = Person(fake, fake.user("Sari", language_code=language_code))
        reply = await person.says(text)
        entry = FAQ.entry(locale, "billing_question")
        assert entry is not None
        assert reply.text.startswith(tr("This may help:", locale))
        assert entry.title in reply.text
        assert tr("Billing & Payments", locale) in reply.text
        form = await person.presses(
            reply, tr("📝 Open a ticket", locale), expect=question("department", locale)
        )
        billing = [b for b in form.button_texts() if tr("Billing & Payments", locale) in b]
        assert billing, form.button_texts()


async def test_support_hours_are_the_configured_ones(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(
        telegram_api_url=fake.url,
        business_hours={"days": [0, 1, 2, 3], "start": "08:30", "end": "17:00"},
        timezone="Europe/Stockholm",
    )
    async with running(settings):
        person = Person(fake, fake.user("Stina", language_code="sv"))
        menu = await person.says("/faq")
        entry = FAQ.entry("sv", "support_hours")
        assert entry is not None
        answer = await person.presses(menu, entry.button)
        assert "måndag–torsdag kl. 08:30–17:00 (centraleuropeisk tid)" in answer.text
        # Free text finds the same, filled-in answer.
        reply = await person.says("vilka är era öppettider")
        assert "måndag–torsdag kl. 08:30–17:00" in reply.text


async def test_an_agents_faq_inside_a_ticket_does_not_send_the_customer_to_open_one(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    agent = fake.user("Agnes")
    group = fake.group("Agents", members=[agent])
    settings = make_settings(telegram_api_url=fake.url, admin_chat_id=group.id)
    async with running(settings) as app:
        person = Person(fake, fake.user("Sven", language_code="sv"))
        review = await walk_to(person, "review", locale="sv")
        await person.presses(review, tr("📨 Submit", "sv"), expect="#1001")
        await fake.idle()
        ticket = await app.bot_data.desk.tickets.get(1001)
        assert ticket is not None
        group.send(agent, "/faq pending_order", reply_to=ticket.admin_card_message_id)
        sent = await fake.wait_for(person.id, lambda m: "#1001" in m.text and "💬" in m.text)
        entry = FAQ.entry("sv", "pending_order")
        assert entry is not None and entry.title in sent.text
        assert "15 minuter" in sent.text and "ett dygn" in sent.text
        assert "Svara på det här meddelandet" in sent.text
        assert "Skapa ett ärende" not in sent.text
        # Browsing, the same entry still points to a ticket.
        menu = await person.says("/faq")
        browsed = await person.presses(menu, entry.button)
        assert "Skapa ett ärende" in browsed.text

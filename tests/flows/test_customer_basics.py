"""Language, menus, help, the ticket list, timeouts and whatever else a customer may send."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from bot.app import SupportApplication
from bot.config import Settings
from bot.domain.models import Draft, Priority
from tests.fake_api import FakeTelegram
from tests.flows.conftest import Person, running
from tests.flows.forms import question, tr, walk_to

WELCOME = (
    "Hello, {name}! This is the support desk.\n\nOpen a ticket and our team will answer you "
    "right here. You can follow your tickets in this chat at any time."
)
NO_ANSWER = (
    "I couldn't find an answer to that in our FAQ. Open a ticket and our team will help you, "
    "or browse the questions with /faq."
)
UNSUPPORTED = (
    "I can't handle that kind of message. Please write text, or send photos and documents "
    "inside a ticket (/new)."
)
EDITED = (
    "I noticed you edited a message. Edits don't reach our team: please send the correction "
    "as a new message."
)
SORRY = (
    "Sorry, something went wrong on our side. Nothing you sent is lost: please try again in "
    "a moment."
)


@pytest.mark.parametrize(
    ("language_code", "locale"),
    [("id", "id"), ("id-ID", "id"), ("sv-SE", "sv"), ("en-GB", "en"), ("ms", "en"), (None, "en")],
)
async def test_the_greeting_follows_telegrams_language(
    fake: FakeTelegram, bot: SupportApplication, language_code: str | None, locale: str
) -> None:
    person = Person(fake, fake.user("Nur", language_code=language_code))
    reply = await person.says("/start")
    assert reply.text == tr(WELCOME, locale).format(name="Nur")
    assert reply.button_texts()[0] == tr("📝 New ticket", locale)


async def test_unmatched_languages_get_the_configured_default(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    async with running(make_settings(telegram_api_url=fake.url, default_locale="id")):
        person = Person(fake, fake.user("Aisyah", language_code="ms"))
        reply = await person.says("/start")
        assert reply.text.startswith("Halo, Aisyah!")


async def test_a_chosen_language_is_kept_for_good(
    fake: FakeTelegram, bot_settings: Settings
) -> None:
    person = Person(fake, fake.user("Erik", language_code="en"))
    async with running(bot_settings):
        menu = await person.says("/language", expect=tr("Choose your language:"))
        assert menu.button_texts() == ["English", "Bahasa Indonesia", "Svenska"]
        done = await person.presses(menu, "Svenska")
        # Mid-sentence the language is named as Swedish writes it: "svenska", not "Svenska".
        assert done.text == tr("Done: I will speak {language} with you from now on.", "sv").format(
            language="svenska"
        )
        assert done.button_texts()[0] == tr("📝 New ticket", "sv")
        again = await person.says("/start")
        assert again.text.startswith("Hej Erik!")
    async with running(bot_settings):  # after a restart, still Swedish
        again = await person.says("/help")
        assert again.text.startswith("Så fungerar supporten")


async def test_the_menu_buttons_lead_on(fake: FakeTelegram, bot: SupportApplication) -> None:
    person = Person(fake, fake.user("Rina"))
    menu = await person.says("/start")
    langs = await person.presses(menu, tr("🌐 Language"), expect=tr("Choose your language:"))
    assert len(langs.button_texts()) == 3
    none = await person.presses(menu, tr("📂 My tickets"))
    assert none.text == tr("You have no tickets yet. Open one with /new.")
    form = await person.presses(menu, tr("📝 New ticket"), expect=question("department"))
    assert form.button_texts()[-1] == tr("✖ Cancel")


async def test_help_lists_the_commands(fake: FakeTelegram, bot: SupportApplication) -> None:
    person = Person(fake, fake.user("Rina", language_code="id"))
    reply = await person.says("/help")
    for command in ("/new", "/tickets", "/language", "/cancel"):
        assert command in reply.text
    assert "OTP" in reply.text and "tiket" in reply.text


async def test_tickets_are_listed_newest_first_with_paging(
    fake: FakeTelegram, bot: SupportApplication
) -> None:
    person = Person(fake, fake.user("Rina"))
    other = Person(fake, fake.user("Other"))
    await person.says("/start")
    await other.says("/start")
    desk = bot.bot_data.desk
    for n in range(7):
        await desk.submit(
            Draft(person.id, "technical", f"Server {n} is down", Priority.HIGH, "details"), "en"
        )
    await desk.submit(Draft(other.id, "technical", "Not yours", Priority.HIGH, "details"), "en")
    # Each submit owes its receipt (through the outbox): let them arrive first.
    await fake.wait_for(person.id, lambda m: "#1007" in m.text, timeout=15)
    page = tr("<b>Your tickets</b> (page {page} of {pages})").replace("<b>", "").replace("</b>", "")
    first = await person.says("/tickets", expect=page.format(page=1, pages=2))
    assert first.text.startswith(page.format(page=1, pages=2))
    assert [line.split(" ", 1)[0] for line in first.text.split("\n\n")[1:]] == [
        "#1007",
        "#1006",
        "#1005",
        "#1004",
        "#1003",
    ]
    assert "Not yours" not in first.text and tr("Open") in first.text
    assert first.button_texts()[-1] == tr("Older »")
    assert first.button_texts()[0] == "#1007 · Server 6 is down"
    second = await person.presses(first, tr("Older »"), expect=page.format(page=2, pages=2))
    assert [line.split(" ", 1)[0] for line in second.text.split("\n\n")[1:]] == ["#1002", "#1001"]
    assert second.button_texts() == [
        "#1002 · Server 1 is down",
        "#1001 · Server 0 is down",
        tr("« Newer"),
    ]


async def test_an_idle_form_times_out_with_a_message(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    # The sweeper enforces the stored deadline: its interval is the timeout's precision.
    settings = make_settings(
        telegram_api_url=fake.url, conversation_timeout="1", sweep_interval="0.3"
    )
    async with running(settings) as bot:
        person = Person(fake, fake.user("Rina", language_code="sv"))
        await walk_to(person, "subject", locale="sv")
        timed_out = await fake.wait_for(person.id, lambda m: "/new" in m.text, timeout=5)
        assert timed_out.text.startswith(
            tr(
                "Your new ticket was left idle for a long time, so I closed the form. "
                "Nothing was sent. Start again with /new whenever you are ready.",
                "sv",
            )[:20]
        )
        assert await bot.bot_data.desk.drafts.get(person.id) is None
        after = await person.says("Det här är inte längre ett ämne")
        assert question("priority", "sv") not in after.text


@pytest.mark.parametrize(
    ("send", "expected"),
    [
        (lambda u: u.send("asdfgh qwerty zxcv"), NO_ANSWER),
        (
            lambda u: u.send("/frobnicate"),
            "I don't know that command. Send /help to see what I can do.",
        ),
        (lambda u: u.send_sticker(), UNSUPPORTED),
        (lambda u: u.send_voice(), UNSUPPORTED),
        (lambda u: u.send_location(), UNSUPPORTED),
        (lambda u: u.send_photo(), UNSUPPORTED),
    ],
)
async def test_anything_else_gets_a_short_localized_answer(
    fake: FakeTelegram, bot: SupportApplication, send: Callable[..., object], expected: str
) -> None:
    person = Person(fake, fake.user("Budi", language_code="id"))
    reply = await person.sends(lambda: send(person.user))
    assert reply.text == tr(expected, "id")
    assert reply.text != expected  # really Indonesian


async def test_edits_are_answered(fake: FakeTelegram, bot: SupportApplication) -> None:
    person = Person(fake, fake.user("Rina"))
    original = person.user.send("hello")
    await fake.wait_for(person.id)
    reply = await person.sends(lambda: person.user.edit(original, "hello, corrected"))
    assert reply.text == tr(EDITED)


async def test_a_broken_update_is_apologised_for_and_the_bot_goes_on(
    fake: FakeTelegram, bot: SupportApplication
) -> None:
    person = Person(fake, fake.user("Rina"))
    mark = len(fake.sent(person.id))
    # A "/start" with no sender (as an anonymous or channel post would be) can't be served.
    fake.enqueue(
        "message",
        {
            "message_id": 999,
            "date": 1_700_000_000,
            "chat": {"id": person.id, "type": "private", "first_name": "Rina"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    )
    apology = await fake.wait_for(person.id, since=mark)
    assert apology.text == tr(SORRY)
    assert "Traceback" not in apology.text
    reply = await person.says("/start", expect="Rina")
    assert reply.button_texts()[0] == tr("📝 New ticket")


async def test_the_command_menu_is_published_in_every_language(
    fake: FakeTelegram, bot: SupportApplication
) -> None:
    await asyncio.sleep(0)
    menus = {
        lang: [c["description"] for c in cmds] for (scope, lang), cmds in fake.commands.items()
    }
    assert set(menus) == {"", "en", "id", "sv"}
    assert menus["id"][0] == tr("Open a new ticket", "id") != menus["en"][0]
    assert menus["sv"][0] == tr("Open a new ticket", "sv")

"""Buttons that fit a phone, and questions that keep the answer given once a button is pressed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from bot.app import SupportApplication
from bot.config import Settings
from bot.domain.lifecycle import Action
from bot.domain.models import Author, Status
from tests.fake_api import FakeChat, FakeTelegram, FakeUser, SentMessage
from tests.flows.conftest import Person, running
from tests.flows.forms import tr, walk_to

LONG_SUBJECT = "Invoice 2026-118 charged twice after the renewal"
CHOICE = "Your choice: {choice}"
# Telegram shows about this much of a full-width button on a phone, half of it when two
# buttons share a row.
FULL_ROW = 30
HALF_ROW = 16


@dataclass
class World:
    fake: FakeTelegram
    group: FakeChat
    agent: FakeUser
    settings: Settings


@pytest.fixture
def world(fake: FakeTelegram, make_settings: Callable[..., Settings]) -> World:
    agent = fake.user("Agnes")
    group = fake.group("Agents", members=[agent])
    return World(
        fake, group, agent, make_settings(telegram_api_url=fake.url, admin_chat_id=group.id)
    )


@pytest.fixture
async def app(world: World) -> AsyncIterator[SupportApplication]:
    async with running(world.settings) as application:
        yield application


async def file_ticket(person: Person, subject: str = LONG_SUBJECT, locale: str = "en") -> int:
    review = await walk_to(person, "review", subject=subject, locale=locale)
    receipt = await person.presses(review, tr("📨 Submit", locale), expect="#")
    return int(receipt.text.split("#", 1)[1].split()[0].rstrip("."))


def live(fake: FakeTelegram, message: SentMessage) -> SentMessage:
    """The message as it is now, after the bot's edits."""
    current = fake.sent_message(message.chat_id, message.message_id)
    assert current is not None
    return current


def assert_cut_at_a_word(label: str, full: str) -> None:
    assert len(label) <= FULL_ROW, label
    assert label.endswith("…"), label
    kept = label.removesuffix("…")
    assert full.startswith(kept) and full[len(kept)] == " ", label


async def test_ticket_buttons_are_cut_at_a_word_to_fit_a_phone(
    world: World, app: SupportApplication
) -> None:
    fake = world.fake
    person = Person(fake, fake.user("Rina"))
    older = await file_ticket(person)
    newer = await file_ticket(person, subject="Cannot log in to the client area since Monday")
    listing = await person.says("/tickets")
    labels = listing.button_texts()[:2]
    assert labels == [f"#{newer} · Cannot log in to the…", f"#{older} · Invoice 2026-118…"]
    assert_cut_at_a_word(labels[1], f"#{older} · {LONG_SUBJECT}")
    view = await person.presses(listing, labels[1])
    assert LONG_SUBJECT in view.text  # the subject is whole where there is room for it

    # The "which ticket?" question names them the same way.
    question = await person.says("Here is the reference REF-9911")
    assert question.button_texts()[:2] == labels
    short = await file_ticket(person, subject="Server 6 is down")
    listing = await person.says("/tickets")
    assert listing.button_texts()[0] == f"#{short} · Server 6 is down"  # nothing to cut


@pytest.mark.parametrize("locale", ["en", "id", "sv"])
async def test_faq_topic_buttons_are_short_and_open_the_whole_title(
    fake: FakeTelegram, bot: SupportApplication, locale: str
) -> None:
    person = Person(fake, fake.user("Rina", language_code=locale))
    menu = await person.says("/faq")
    topics = menu.button_texts()[:-1]  # the last one opens a ticket
    faq = bot.bot_data.desk.faq
    assert topics == [entry.button for entry in faq.entries(locale)]
    assert all(len(label) <= 24 for label in topics), topics
    entry = faq.entries(locale)[0]
    answer = await person.presses(menu, entry.button)
    assert answer.text.startswith(entry.title)


@pytest.mark.parametrize("locale", ["en", "id", "sv"])
async def test_closing_asks_with_buttons_that_share_a_row_and_keeps_the_answer(
    world: World, app: SupportApplication, locale: str
) -> None:
    fake = world.fake
    person = Person(fake, fake.user("Rina", language_code=locale))
    number = await file_ticket(person, subject="Server 6 is down", locale=locale)
    listing = await person.says("/tickets")
    view = await person.presses(listing, f"#{number} · Server 6 is down")
    confirm = await person.presses(view, tr("🔒 Close", locale))
    [row] = confirm.buttons
    assert [text for text, _data in row] == [
        tr("🔒 Yes, close it", locale),
        tr("No, keep it open", locale),
    ]
    assert all(len(text) <= HALF_ROW for text, _data in row), row

    # No: the question says so and loses its buttons; the ticket stays open.
    query = fake.press(person.user, confirm, button=tr("No, keep it open", locale))
    await fake.wait_for_call(
        "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == query
    )
    await fake.idle()
    kept = live(fake, confirm)
    assert kept.text.endswith(tr(CHOICE, locale).format(choice=tr("No, keep it open", locale))), (
        kept.text
    )
    assert kept.text.startswith(confirm.text)
    assert kept.buttons == []
    assert (await app.bot_data.desk.tickets.get(number)).status is Status.OPEN  # type: ignore[union-attr]

    # Yes: the question keeps the answer too, then the ticket is closed.
    again = await person.presses(view, tr("🔒 Close", locale))
    closed = await person.presses(again, tr("🔒 Yes, close it", locale))
    assert f"#{number}" in closed.text
    answered = live(fake, again)
    assert answered.text.endswith(tr(CHOICE, locale).format(choice=tr("🔒 Yes, close it", locale)))
    assert answered.buttons == []


async def test_the_rating_message_keeps_the_stars_given(
    world: World, app: SupportApplication
) -> None:
    fake = world.fake
    person = Person(fake, fake.user("Rina"))
    number = await file_ticket(person)
    await app.bot_data.desk.service.apply(number, Action.SOLVE, Author.AGENT, world.agent.id)
    app.bot_data.dispatcher.wake()
    solved = await fake.wait_for(person.id, lambda m: "4 ⭐" in m.button_texts())
    await person.presses(solved, "4 ⭐")
    rated = live(fake, solved)
    assert rated.text.startswith(solved.text)
    assert rated.text.endswith(tr(CHOICE).format(choice="4 ⭐"))
    assert rated.buttons == []


async def test_the_language_question_keeps_the_language_chosen(
    fake: FakeTelegram, bot: SupportApplication
) -> None:
    person = Person(fake, fake.user("Erik", language_code="en"))
    menu = await person.says("/language", expect=tr("Choose your language:"))
    await person.presses(menu, "Svenska")
    answered = live(fake, menu)
    # The question was asked in English: its answer reads on in English.
    assert answered.text == tr("Choose your language:") + "\n\n" + tr(CHOICE).format(
        choice="Svenska"
    )
    assert answered.buttons == []

"""Where a customer's messages go: the one open ticket, the ticket they pick, the rating
they were asked to comment on, or the FAQ; and what old buttons and long pastes do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import SupportApplication
from bot.config import Settings
from bot.domain.lifecycle import Action
from bot.domain.models import Author, Status
from tests.conftest import FakeClock
from tests.fake_api import FakeChat, FakeTelegram, FakeUser, SentMessage
from tests.flows.conftest import Person, running
from tests.flows.forms import tr, walk_to

ADDED = "✅ Added to your ticket {ref}."
NOT_ABOUT = "Not about {ref}? Ask something else"
WHICH = "You have several open tickets. Which one is this about?"
NONE_OF_THESE = "None of these: ask something else"
NEW_TICKET = "📝 New ticket"
FAQ_ANSWERS = (tr("This may help:"), tr("I couldn't find an answer to that in our FAQ."))


@dataclass
class Desk:
    fake: FakeTelegram
    group: FakeChat
    agent: FakeUser
    settings: Settings


@pytest.fixture
def desk(fake: FakeTelegram, make_settings: Callable[..., Settings]) -> Desk:
    agent = fake.user("Agnes")
    group = fake.group("Agents", members=[agent])
    return Desk(
        fake, group, agent, make_settings(telegram_api_url=fake.url, admin_chat_id=group.id)
    )


@pytest.fixture
async def app(desk: Desk) -> AsyncIterator[SupportApplication]:
    async with running(desk.settings) as application:
        yield application


async def file_ticket(person: Person, subject: str = "Top-up paid but balance not updated") -> int:
    review = await walk_to(person, "review", subject=subject)
    receipt = await person.presses(review, tr("📨 Submit"), expect="#")
    return int(receipt.text.split("#", 1)[1].split()[0].rstrip("."))


async def agent_says(desk: Desk, app: SupportApplication, number: int, text: str) -> None:
    ticket = await app.bot_data.desk.tickets.get(number)
    assert ticket is not None and ticket.admin_card_message_id is not None
    desk.group.send(desk.agent, text, reply_to=ticket.admin_card_message_id)


async def bodies(app: SupportApplication, number: int) -> list[str]:
    return [m.body for m in await app.bot_data.desk.tickets.messages(number, include_internal=True)]


def is_faq_answer(message: SentMessage) -> bool:
    return message.text.startswith(FAQ_ANSWERS)


async def test_a_plain_answer_goes_to_the_only_open_ticket(
    desk: Desk, app: SupportApplication
) -> None:
    fake = desk.fake
    person = Person(fake, fake.user("Rina"))
    number = await file_ticket(person)
    await fake.idle()
    await agent_says(desk, app, number, "Boleh kirim nomor referensi transfernya?")
    await fake.wait_for(person.id, lambda m: "nomor referensi" in m.text)
    mark = len(fake.sent(desk.group.id))

    ack = await person.says("Nomor referensinya REF-9911")
    ref = f"#{number}"
    assert ack.text == tr(ADDED).format(ref=ref)
    assert ack.button_texts() == [tr(NOT_ABOUT).format(ref=ref), tr(NEW_TICKET)]
    relayed = await fake.wait_for(desk.group.id, lambda m: "REF-9911" in m.text, since=mark)
    assert ref in relayed.text
    ticket = await app.bot_data.desk.tickets.get(number)
    assert ticket is not None and ticket.status is Status.OPEN
    assert (await bodies(app, number))[-1] == "Nomor referensinya REF-9911"

    # A photo sent the same way goes there too.
    photo_ack = await person.sends_photo()
    assert photo_ack.text == tr(ADDED).format(ref=ref)
    assert photo_ack.button_texts() == [tr(NEW_TICKET)]
    await fake.wait_for(desk.group.id, lambda m: m.kind == "photo", since=mark)
    messages = await app.bot_data.desk.tickets.messages(number, include_internal=False)
    assert len(messages[-1].attachments) == 1

    # The way out: it was a question after all, answered from the FAQ.
    answer = await person.presses(ack, tr(NOT_ABOUT).format(ref=ref))
    assert is_faq_answer(answer)


async def test_with_several_tickets_the_customer_picks_one_even_across_a_restart(
    desk: Desk,
) -> None:
    fake = desk.fake
    person = Person(fake, fake.user("Rina"))
    async with running(desk.settings) as first:
        older = await file_ticket(person)
        newer = await file_ticket(person, subject="Cannot log in to the client area")
        await fake.idle()
        question = await person.says("Nomor referensinya REF-9911")
        assert question.text == tr(WHICH)
        assert question.button_texts() == [
            f"#{newer} · Cannot log in to the…",
            f"#{older} · Top-up paid but…",
            tr(NONE_OF_THESE),
            tr(NEW_TICKET),
        ]
        assert "REF-9911" not in await bodies(first, older) + await bodies(first, newer)
    async with running(desk.settings) as second:
        mark = len(fake.sent(desk.group.id))
        label = f"#{older} · Top-up paid but…"
        data = next(d for row in question.buttons for text, d in row if text == label)
        assert data is not None
        query = fake.press(person.user, question, button=label)
        await fake.wait_for_call(
            "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == query
        )
        await fake.idle()
        added = fake.sent_message(person.id, question.message_id)
        assert added is not None and added.text == tr(ADDED).format(ref=f"#{older}")
        assert (await bodies(second, older))[-1] == "Nomor referensinya REF-9911"
        await fake.wait_for(desk.group.id, lambda m: "REF-9911" in m.text, since=mark)
        # The same button again (an old copy of it) delivers nothing twice.
        again = person.user.press_data(question.message_id, data)
        call = await fake.wait_for_call(
            "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == again
        )
        assert call.params.get("text") == tr("This button is no longer valid.")
        assert (await bodies(second, older)).count("Nomor referensinya REF-9911") == 1

        # An album is one question, and all of it goes where the customer says.
        mark = len(fake.sent(person.id))
        # (A PDF: the file policy refuses an unknown type in a ticket as in the form.)
        pdf = {"file_name": "receipt.pdf", "mime_type": "application/pdf"}
        person.user.send_album([("photo", {}), ("photo", {}), ("document", pdf)])
        album_question = await fake.wait_for(person.id, lambda m: m.text == tr(WHICH), since=mark)
        await fake.idle()
        await asyncio.sleep(0.3)
        assert len([m for m in fake.sent(person.id)[mark:] if m.text == tr(WHICH)]) == 1
        assert album_question.button_texts()[-1] == tr(NEW_TICKET)
        assert tr(NONE_OF_THESE) not in album_question.button_texts()
        fake.press(person.user, album_question, button=f"#{newer} · Cannot log in to the…")
        await fake.wait_for(
            person.id, lambda m: m.text == tr(ADDED).format(ref=f"#{newer}"), since=0
        )
        await fake.idle()
        messages = await second.bot_data.desk.tickets.messages(newer, include_internal=False)
        assert sum(len(m.attachments) for m in messages) == 3


async def test_none_of_these_answers_from_the_faq_and_keeps_the_tickets_clean(
    desk: Desk, app: SupportApplication
) -> None:
    fake = desk.fake
    person = Person(fake, fake.user("Rina"))
    older = await file_ticket(person)
    newer = await file_ticket(person, subject="Cannot log in to the client area")
    question = await person.says("how long does a pending order take")
    answer = await person.presses(question, tr(NONE_OF_THESE))
    assert is_faq_answer(answer)
    assert "how long does a pending order take" not in (
        await bodies(app, older) + await bodies(app, newer)
    )


async def test_a_reply_to_a_tickets_history_goes_to_that_ticket(
    desk: Desk, app: SupportApplication
) -> None:
    fake = desk.fake
    person = Person(fake, fake.user("Rina"))
    older = await file_ticket(person)
    await file_ticket(person, subject="Cannot log in to the client area")
    listing = await person.says("/tickets")
    view = await person.presses(listing, f"#{older} · Top-up paid but…")
    ack = await person.sends(lambda: person.user.send("Here is REF-9911", reply_to=view.message_id))
    assert ack.text == tr(ADDED).format(ref=f"#{older}")
    assert (await bodies(app, older))[-1] == "Here is REF-9911"
    # And a reply to that acknowledgement goes to the same ticket.
    await person.sends(lambda: person.user.send("And REF-9912", reply_to=ack.message_id))
    assert (await bodies(app, older))[-1] == "And REF-9912"


async def test_a_reply_to_a_receipt_the_desk_did_not_write_down_reaches_its_ticket(
    desk: Desk, app: SupportApplication
) -> None:
    """A receipt Telegram accepted is written down a moment later (or never, when a kill
    comes first, and then sent again): a reply to it still finds the ticket it names, and
    and a message naming several tickets names none."""
    fake = desk.fake
    person = Person(fake, fake.user("Rina"))
    older = await file_ticket(person)
    await file_ticket(person, subject="Cannot log in to the client area")
    receipt = next(m for m in fake.sent(person.id) if f"#{older}" in m.text and "✅" in m.text)
    # As if the bot had been killed right after Telegram accepted the receipt.
    await app.bot_data.desk.db.execute(
        "DELETE FROM relayed_messages WHERE ticket_number = ?", (older,)
    )
    ack = await person.sends(
        lambda: person.user.send("Here is REF-9911", reply_to=receipt.message_id)
    )
    assert ack.text == tr(ADDED).format(ref=f"#{older}")
    assert (await bodies(app, older))[-1] == "Here is REF-9911"

    # A message naming both tickets (an agent's note about the two, say) names none.
    await app.bot_data.desk.db.execute("DELETE FROM relayed_messages")
    both = await person.says("/tickets")
    question = await person.sends(lambda: person.user.send("Which?", reply_to=both.message_id))
    assert question.text == tr(WHICH)


async def test_a_plain_message_does_not_reopen_a_solved_ticket_but_a_reply_does(
    desk: Desk, app: SupportApplication
) -> None:
    fake = desk.fake
    person = Person(fake, fake.user("Rina"))
    number = await file_ticket(person)
    await app.bot_data.desk.service.apply(number, Action.SOLVE, Author.AGENT, desk.agent.id)
    app.bot_data.dispatcher.wake()
    solved = await fake.wait_for(person.id, lambda m: tr("How did we do? Rate our help:") in m.text)
    answer = await person.says("how long does a pending order take")
    assert is_faq_answer(answer)
    ticket = await app.bot_data.desk.tickets.get(number)
    assert ticket is not None and ticket.status is Status.SOLVED
    await person.sends(lambda: person.user.send("It broke again", reply_to=solved.message_id))
    ticket = await app.bot_data.desk.tickets.get(number)
    assert ticket is not None and ticket.status is Status.OPEN


async def test_the_rating_comment_is_the_next_message_even_after_a_restart(
    desk: Desk, make_settings: Callable[..., Settings]
) -> None:
    fake = desk.fake
    clock = FakeClock(datetime.now(UTC))
    person = Person(fake, fake.user("Rina"))
    async with running(desk.settings, clock=clock) as first:
        number = await file_ticket(person)
        await first.bot_data.desk.service.apply(number, Action.SOLVE, Author.AGENT, desk.agent.id)
        first.bot_data.dispatcher.wake()
        solved = await fake.wait_for(person.id, lambda m: bool(m.buttons))
        ask = await person.presses(solved, "4 ⭐")
        assert ask.params["reply_markup"]["force_reply"] is True
        await fake.idle()
    clock.now += timedelta(minutes=9)
    async with running(desk.settings, clock=clock) as second:
        thanks = await person.says("Fast and friendly, thank you")
        assert thanks.text == tr("Thank you for your feedback!")
        rating = await second.bot_data.desk.ratings.get(number)
        assert rating is not None and rating.comment == "Fast and friendly, thank you"
        # Only the next message: what follows is an ordinary message again.
        after = await person.says("how long does a pending order take")
        assert is_faq_answer(after)
        rating = await second.bot_data.desk.ratings.get(number)
        assert rating is not None and rating.comment == "Fast and friendly, thank you"


async def test_a_late_text_is_not_taken_as_the_rating_comment(desk: Desk) -> None:
    fake = desk.fake
    clock = FakeClock(datetime.now(UTC))
    person = Person(fake, fake.user("Rina"))
    async with running(desk.settings, clock=clock) as app:
        number = await file_ticket(person)
        await app.bot_data.desk.service.apply(number, Action.SOLVE, Author.AGENT, desk.agent.id)
        app.bot_data.dispatcher.wake()
        solved = await fake.wait_for(person.id, lambda m: bool(m.buttons))
        await person.presses(solved, "5 ⭐")
        await fake.idle()
        clock.now += timedelta(minutes=11)
        answer = await person.says("how long does a pending order take")
        assert is_faq_answer(answer)
        rating = await app.bot_data.desk.ratings.get(number)
        assert rating is not None and rating.comment is None


async def test_an_old_close_button_says_the_ticket_is_closed_already(
    desk: Desk, app: SupportApplication
) -> None:
    fake = desk.fake
    person = Person(fake, fake.user("Rina"))
    number = await file_ticket(person)
    listing = await person.says("/tickets")
    view = await person.presses(listing, f"#{number} · Top-up paid but…")
    confirm = await person.presses(view, tr("🔒 Close"))
    await person.presses(confirm, tr("🔒 Yes, close it"))
    mark = len(fake.sent(person.id))
    query = fake.press(person.user, view, button=tr("🔒 Close"))
    call = await fake.wait_for_call(
        "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == query
    )
    assert call.params.get("text") == tr("Ticket {ref} is already closed.").format(ref=f"#{number}")
    await fake.idle()
    assert len(fake.sent(person.id)) == mark


async def test_a_long_paste_in_reply_mode_is_one_ticket_message(
    desk: Desk, app: SupportApplication
) -> None:
    fake = desk.fake
    person = Person(fake, fake.user("Rina"))
    number = await file_ticket(person)
    await fake.idle()
    listing = await person.says("/tickets")
    view = await person.presses(listing, f"#{number} · Top-up paid but…")
    await person.presses(view, tr("↩️ Reply"))
    beginning = "Log start. " + "x" * (4096 - len("Log start. "))
    rest = "y" * 300 + " log end."
    mark = len(fake.sent(desk.group.id))
    # Telegram splits the paste: two messages at once.
    person.user.send(beginning)
    person.user.send(rest)
    await fake.wait_for(desk.group.id, lambda m: "log end." in m.text, since=mark, timeout=8)
    await fake.idle()
    assert (await bodies(app, number))[-1] == beginning + rest
    relayed = "".join(m.text for m in fake.sent(desk.group.id)[mark:])
    assert "Log start." in relayed and "log end." in relayed
    acks = [m for m in fake.sent(person.id) if m.text == tr(ADDED).format(ref=f"#{number}")]
    assert len(acks) == 1


async def test_swedish_due_times_read_naturally(desk: Desk, app: SupportApplication) -> None:
    fake = desk.fake
    person = Person(fake, fake.user("Sven", language_code="sv"))
    review = await walk_to(person, "review", locale="sv")
    receipt = await person.presses(review, tr("📨 Submit", "sv"), expect="#")
    assert "Jakarta-tid (UTC+7)" in receipt.text and "+0700" not in receipt.text

"""Hardening, part B: one file policy everywhere, flood control, the open-ticket cap, the
agents' copies batched under a flood, and the small holes (strict numbers, forged buttons,
anonymous admins, strangers' groups, edits Telegram finds unchanged)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bot.app import SupportApplication
from bot.channels.telegram.ratelimit import TELEGRAM
from bot.config import Settings
from bot.domain.lifecycle import Action
from bot.domain.models import Author, Draft, Priority
from tests.conftest import TOKEN
from tests.fake_api import FakeChat, FakeTelegram, FakeUser, SentMessage
from tests.flows.conftest import Person, running
from tests.flows.forms import tr, walk_to

BAD_TYPE = tr(
    "I can't accept that type of file. Send a photo, a PDF, a text file, an office "
    "document or a ZIP archive."
)
NOT_ADDED = tr("{reason} It was not added to your ticket.")
INVALID = tr("This button is no longer valid.")
ANONYMOUS_BOT = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


@dataclass
class Desk:
    fake: FakeTelegram
    group: FakeChat
    agent: FakeUser
    app: SupportApplication

    async def ticket_for(self, person: Person, subject: str = "Top-up paid, no balance") -> int:
        """A ticket of `person`'s, filed as if elsewhere (their draft, if any, is kept)."""
        desk = self.app.bot_data.desk
        await desk.register_user(person.id, person.user.first_name, None, None, "en")
        draft = await desk.drafts.get(person.id)
        ticket = await desk.submit(
            Draft(person.id, "billing", subject, Priority.MEDIUM, "I paid at 10:00 today."), "en"
        )
        if draft is not None:
            await desk.save_draft(draft)
        self.app.bot_data.dispatcher.wake()
        await self.fake.wait_for(
            self.group.id,
            lambda m: f"#{ticket.number}</b>" in m.text or f"Ticket #{ticket.number}" in m.text,
        )
        await self.fake.idle()
        return ticket.number

    async def bodies(self, number: int) -> list[str]:
        messages = await self.app.bot_data.desk.tickets.messages(number, include_internal=True)
        return [m.body for m in messages]

    async def files(self, number: int) -> int:
        messages = await self.app.bot_data.desk.tickets.messages(number, include_internal=True)
        return sum(len(m.attachments) for m in messages)

    def agents_read(self) -> list[SentMessage]:
        return [m for m in self.fake.sent(self.group.id) if m.text.startswith("👤")]


def _desk_fixture(**overrides: Any) -> Callable[..., Any]:
    async def fixture(
        make_settings: Callable[..., Settings],
    ) -> AsyncIterator[Desk]:
        async with FakeTelegram(token=TOKEN) as fake:
            agent = fake.user("Agnes")
            group = fake.group("Agents", members=[agent])
            settings = make_settings(telegram_api_url=fake.url, admin_chat_id=group.id, **overrides)
            async with running(settings) as app:
                yield Desk(fake, group, agent, app)

    return fixture


desk = pytest.fixture(_desk_fixture())
capped = pytest.fixture(_desk_fixture(max_open_tickets=2))


# One file policy everywhere


async def test_reply_mode_refuses_a_file_the_form_refuses(desk: Desk) -> None:
    person = Person(desk.fake, desk.fake.user("Rina"))
    number = await desk.ticket_for(person)
    listing = await person.says("/tickets")
    view = await person.presses(
        listing, next(b for b in listing.button_texts() if b.startswith(f"#{number} · "))
    )
    await person.presses(view, tr("↩️ Reply"), expect="Write your message")
    refused = await person.sends_document(
        file_name="setup.exe", mime_type="application/x-msdownload"
    )
    assert refused.text == NOT_ADDED.format(reason=BAD_TYPE)
    big = await person.sends_photo(file_size=21 * 1024 * 1024)
    assert big.text == NOT_ADDED.format(
        reason=tr("That file is too large: the limit is {size} MB per file.").format(size=20)
    )
    added = await person.sends_document(file_name="receipt.pdf")
    assert added.text == tr("✅ Added to your ticket {ref}.").format(ref=f"#{number}")
    await desk.fake.idle()
    assert await desk.files(number) == 1
    documents = [c.params.get("document") for c in desk.fake.calls_to("sendDocument")]
    assert len(documents) == 1  # only the PDF reached the agents


async def test_plain_messages_replies_and_albums_keep_the_policy(desk: Desk) -> None:
    fake = desk.fake
    person = Person(fake, fake.user("Rina"))
    number = await desk.ticket_for(person)
    # A plain message to the one active ticket.
    refused = await person.sends_document(file_name="run.sh", mime_type="application/x-sh")
    assert refused.text == NOT_ADDED.format(reason=BAD_TYPE)
    # A Telegram reply to a ticket's message.
    receipt = await person.says("Still nothing", expect=tr("✅ Added to your ticket {ref}.")[:10])
    mark = len(fake.sent(person.id))
    person.user.chat.send_document(
        person.user,
        file_name="tool.exe",
        mime_type="application/x-msdownload",
        reply_to=receipt.message_id,
    )
    again = await fake.wait_for(person.id, since=mark)
    assert again.text == NOT_ADDED.format(reason=BAD_TYPE)
    # An album of three refused files is answered once.
    mark = len(fake.sent(person.id))
    person.user.send_album(
        [
            ("document", {"file_name": f"x{i}.exe", "mime_type": "application/x-msdownload"})
            for i in range(3)
        ]
    )
    once = await fake.wait_for(person.id, since=mark)
    assert once.text == NOT_ADDED.format(reason=BAD_TYPE)
    await asyncio.sleep(0.5)  # another refusal would come at the same delay
    await fake.idle()
    assert len(fake.sent(person.id)) == mark + 1
    assert await desk.files(number) == 0
    assert "Still nothing" in await desk.bodies(number)


# The open-ticket cap


async def test_new_at_the_cap_lists_the_open_tickets(capped: Desk) -> None:
    person = Person(capped.fake, capped.fake.user("Rina"))
    first = await capped.ticket_for(person, "Top-up paid, no balance")
    second = await capped.ticket_for(person, "Voucher code rejected")
    answer = await person.says("/new")
    assert answer.text.startswith(
        tr(
            "You already have %(count)d open tickets, the most one customer can have at "
            "once. Please continue in one of them, or close one you no longer need:"
        )
        % {"count": 2}
    )
    assert f"#{first}" in answer.text and f"#{second}" in answer.text
    view = await person.presses(answer, f"#{first} · Top-up paid, no balance")
    assert view.text.startswith(f"Ticket #{first}")


async def test_submit_at_the_cap_keeps_the_draft(capped: Desk) -> None:
    fake = capped.fake
    person = Person(fake, fake.user("Rina"))
    first = await capped.ticket_for(person, "Top-up paid, no balance")
    review = await walk_to(person, "review", subject="Refund for order 77 never came")
    await capped.ticket_for(person, "Voucher code rejected")  # filed meanwhile elsewhere
    answer = await person.presses(review, tr("📨 Submit"))
    assert (
        tr(
            "Your new ticket is kept as a draft: press Submit again once one of these is "
            "solved or closed."
        )
        in answer.text
    )
    desk = capped.app.bot_data.desk
    assert await desk.drafts.get(person.id) is not None
    await desk.service.apply(first, Action.SOLVE, Author.AGENT, capped.agent.id)
    receipt = await person.presses(review, tr("📨 Submit"), expect="#1003")
    assert "#1003" in receipt.text


# Flood control and batching


async def test_a_flood_is_answered_once_kept_whole_and_batched_for_the_agents(
    make_settings: Callable[..., Settings],
) -> None:
    async with FakeTelegram(token=TOKEN, limits=True) as fake:
        agent = fake.user("Agnes")
        group = fake.group("Agents", members=[agent])
        settings = make_settings(
            telegram_api_url=fake.url, admin_chat_id=group.id, customer_rate_limit=5
        )
        async with running(settings, limits=TELEGRAM) as app:
            desk = Desk(fake, group, agent, app)
            person = Person(fake, fake.user("Rina"))
            number = await desk.ticket_for(person)
            for n in range(60):
                person.user.send(f"message number {n}")
            control = Person(fake, fake.user("Budi"))
            await control.says("/start", expect="Budi")

            def relayed_all() -> bool:
                relayed = "\n".join(m.text for m in desk.agents_read()) + "\n"
                return all(f"message number {n}\n" in relayed for n in range(60))

            # The agents' chat gets 20 messages a minute: the last batch may wait for the
            # next minute's budget with the bot making no request meanwhile, so waiting
            # for a quiet moment is not enough.
            await fake.wait_until(relayed_all, 120.0)
            await fake.idle(timeout=60.0, quiet=1.0)
            said = [m.text for m in fake.sent(person.id)]
            slow = tr("You are sending messages faster than I can answer them.")
            assert len([t for t in said if t.startswith(slow)]) == 1
            received = tr("✅ Thank you! Your ticket <b>{ref}</b> has been received.")
            receipt = received.split("<b>")[0]
            assert len([t for t in said if t.startswith("✅")]) == 5 + 1  # and the receipt
            assert len([t for t in said if t.startswith(receipt)]) == 1
            bodies = await desk.bodies(number)
            assert all(f"message number {n}" in bodies for n in range(60))
            relayed = "\n".join(m.text for m in desk.agents_read())
            missing = [n for n in range(60) if f"message number {n}\n" not in relayed + "\n"]
            assert not missing, (missing, relayed)
            # Some arrive one by one while the group's budget has room (20 a minute); once a
            # backlog forms the rest come in batches of up to 50: 60 messages make at most
            # the minute's 20 and two batches, however fast the bot is.
            assert len(desk.agents_read()) <= 22
            assert any(" messages\n" in m.text for m in desk.agents_read())
            assert fake.throttled == []


# Small holes


async def test_numbers_no_ticket_can_have_are_answered(desk: Desk) -> None:
    fake = desk.fake
    for command, shown in (
        ("/ticket ²", "²"),
        ("/close 99999999999999999999", "99999999999999999999"),
        ("/priority #١٢ high", "١٢"),
        ("/ban 99999999999999999999", "99999999999999999999"),
    ):
        mark = len(fake.sent(desk.group.id))
        desk.group.send(desk.agent, command)
        answer = await fake.wait_for(desk.group.id, since=mark)
        assert answer.text == tr("There is no ticket #{number}.").format(number=shown)


@pytest.mark.parametrize(
    "data",
    [
        "tk1:open:²",
        "tk1:open:" + "9" * 25,
        "tk1:follow:١٢٣",
        "rt1:rate:²:5",
        "rt1:rate:1001:٥",
        "cr1:to:1:" + "9" * 20,
        "cr1:ask:²",
        "tk1:page:" + "1" * 19,
        "ag1:close:²",
        "x" * 65,
    ],
)
async def test_forged_buttons_with_strange_numbers_are_no_longer_valid(
    desk: Desk, data: str
) -> None:
    fake = desk.fake
    person = Person(fake, fake.user("Rina"))
    menu = await person.says("/start")
    query = fake.press(person.user, menu, data=data)
    answer = await fake.wait_for_call(
        "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == query
    )
    assert answer.params.get("text") == INVALID
    await fake.idle()
    assert fake.sent(person.id)[-1].message_id == menu.message_id


async def test_an_anonymous_admins_reply_gets_a_hint(desk: Desk) -> None:
    fake = desk.fake
    person = Person(fake, fake.user("Rina"))
    number = await desk.ticket_for(person)
    ticket = await desk.app.bot_data.desk.tickets.get(number)
    assert ticket is not None and ticket.admin_card_message_id is not None
    for _ in range(2):
        message = fake.build_message(
            desk.group,
            ANONYMOUS_BOT,
            {"text": "Please send the receipt", "sender_chat": desk.group.to_dict()},
            reply_to=ticket.admin_card_message_id,
        )
        fake.enqueue("message", message)
    hint = await fake.wait_for(desk.group.id, lambda m: "anonymous admin" in m.text)
    await fake.idle()
    assert "Remain anonymous" in hint.text
    assert len([m for m in fake.sent(desk.group.id) if "anonymous admin" in m.text]) == 1
    assert [m for m in fake.sent(person.id) if "Please send the receipt" in m.text] == []


async def test_a_stranger_adding_the_bot_again_and_again_slows_no_customer(
    make_settings: Callable[..., Settings],
) -> None:
    async with FakeTelegram(token=TOKEN, limits=True) as fake:
        agent = fake.user("Agnes")
        group = fake.group("Agents", members=[agent])
        stranger = fake.user("Mallory")
        other = fake.group("Mallory's group", members=[stranger])
        settings = make_settings(telegram_api_url=fake.url, admin_chat_id=group.id)
        async with running(settings, limits=TELEGRAM):
            for _ in range(40):
                fake.enqueue(
                    "my_chat_member",
                    {
                        "chat": other.to_dict(),
                        "from": stranger.to_dict(),
                        "date": 1_700_000_000,
                        "old_chat_member": {"status": "left", "user": fake.bot_user},
                        "new_chat_member": {"status": "member", "user": fake.bot_user},
                    },
                )
            customer = Person(fake, fake.user("Rina"))
            await customer.says("/start", expect="Rina")
            # The group's updates are one line, handled one after the other (on PostgreSQL
            # with a claim between two): a quiet moment between them is not the end.
            await fake.wait_until(lambda: len(fake.left_chats) >= 40, 20.0)
            await fake.idle()
            assert fake.left_chats == [other.id] * 40
            assert fake.sent(other.id) == []
            assert fake.throttled == []


async def test_an_edit_telegram_finds_unchanged_is_done(desk: Desk) -> None:
    fake = desk.fake
    person = Person(fake, fake.user("Rina"))
    menu = await person.says("/start")
    bot = desk.app.bot
    await bot.edit_message_reply_markup(chat_id=person.id, message_id=menu.message_id)
    # The buttons are gone: doing it again is what a replayed update does.
    assert await bot.edit_message_reply_markup(chat_id=person.id, message_id=menu.message_id)
    assert await bot.edit_message_text(menu.text, chat_id=person.id, message_id=menu.message_id)

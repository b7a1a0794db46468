"""Agents run the desk from the bound admin chat, as a forum or as a plain group."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.app import SupportApplication
from bot.config import Settings
from bot.domain.models import Status
from bot.i18n import format_time
from tests.conftest import FakeClock
from tests.fake_api import FakeChat, FakeTelegram, FakeUser, SentMessage
from tests.flows.conftest import Person, running
from tests.flows.forms import question, tr, walk_to

TZ = "Asia/Jakarta"


@dataclass
class Desk:
    fake: FakeTelegram
    app: SupportApplication
    group: FakeChat
    agent: FakeUser
    operator: FakeUser
    forum: bool
    settings: Settings

    async def open_ticket(
        self,
        person: Person,
        subject: str = "Invoice 2026-118 charged twice",
        files: bool = False,
        locale: str = "en",
    ) -> int:
        mark = len(self.fake.sent(self.group.id))
        if files:
            await walk_to(person, "attachments", subject=subject, locale=locale)
            await person.sends_photo()
            ack = await person.sends_document(file_name="receipt.pdf")
            review = await person.presses(
                ack, tr("✅ Done", locale), expect=question("review", locale)
            )
        else:
            review = await walk_to(person, "review", subject=subject, locale=locale)
        receipt = await person.presses(review, tr("📨 Submit", locale), expect="#")
        number = int(receipt.text.split("#", 1)[1].split()[0].rstrip("."))
        await self.fake.wait_for(self.group.id, lambda m: f"#{number}" in m.text, since=mark)
        await self.fake.idle()
        return number

    async def ticket(self, number: int):  # type: ignore[no-untyped-def]
        ticket = await self.app.bot_data.desk.tickets.get(number)
        assert ticket is not None
        return ticket

    async def card(self, number: int) -> SentMessage:
        ticket = await self.ticket(number)
        return next(
            m for m in self.fake.sent(self.group.id) if m.message_id == ticket.admin_card_message_id
        )

    async def agent_says(
        self, number: int, text: str, agent: FakeUser | None = None
    ) -> dict[str, object]:
        """Write in the ticket's topic (forum) or reply to its card (plain group)."""
        ticket = await self.ticket(number)
        who = agent or self.agent
        if self.forum:
            return self.group.send(who, text, thread_id=ticket.admin_thread_id)
        return self.group.send(who, text, reply_to=ticket.admin_card_message_id)

    async def agent_sends_photo(self, number: int, caption: str) -> dict[str, object]:
        ticket = await self.ticket(number)
        if self.forum:
            return self.group.send_photo(
                self.agent, caption=caption, thread_id=ticket.admin_thread_id
            )
        return self.group.send_photo(
            self.agent, caption=caption, reply_to=ticket.admin_card_message_id
        )

    async def acted(self, number: int, text: str, agent: FakeUser | None = None) -> str:
        """Send a command that should work; return the reaction that acknowledged it.

        A command that worked costs no message in the agents' chat: the bot reacts to it,
        and the card is edited in place.
        """
        mark = len(self.fake.calls)
        sent = await self.agent_says(number, text, agent)
        message_id = sent["message_id"]
        call = await self.fake.wait_for_call(
            "setMessageReaction",
            lambda c: str(c.params.get("message_id")) == str(message_id),
            since=mark,
        )
        await self.fake.idle()  # the card and the customer are told through the outbox
        reaction = call.params["reaction"]
        reactions = json.loads(reaction) if isinstance(reaction, str) else reaction
        return str(reactions[0]["emoji"])

    async def command(self, number: int, text: str, agent: FakeUser | None = None) -> SentMessage:
        """Send a command in the ticket's thread; return the bot's answer once all is sent."""
        mark = len(self.fake.sent(self.group.id))
        await self.agent_says(number, text, agent)
        answer = await self.fake.wait_for(self.group.id, since=mark)
        await self.fake.idle()  # the card and the customer are told through the outbox
        return answer


@pytest.fixture(params=[True, False], ids=["forum", "plain"])
async def desk(
    request: pytest.FixtureRequest, fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> AsyncIterator[Desk]:
    agent = fake.user("Agnes", username="agnes_cs", language_code="en")
    operator = fake.user("Olle", language_code="sv")
    group = fake.group("Support agents", forum=request.param, members=[agent], admins=[operator])
    settings = make_settings(
        telegram_api_url=fake.url, admin_chat_id=group.id, operator_ids=[operator.id]
    )
    async with running(settings) as app:
        yield Desk(fake, app, group, agent, operator, request.param, settings)


async def test_a_new_ticket_appears_as_a_card_with_its_files(desk: Desk) -> None:
    person = Person(
        desk.fake, desk.fake.user("Budi", last_name="Santoso", username="budi", language_code="id")
    )
    number = await desk.open_ticket(person, subject="Saldo belum masuk", files=True, locale="id")
    ticket = await desk.ticket(number)
    card = await desk.card(number)
    assert card.text.startswith(f"🎫 Ticket #{number}")
    for part in (
        "Billing & Payments",
        "Medium",
        "Saldo belum masuk",
        "Budi Santoso (@budi)",
        "Bahasa Indonesia",
        "I was charged twice for invoice 2026-118",
    ):
        assert part in card.text, part
    assert card.button_texts() == ["🙋 Take it", "✅ Solve", "🔒 Close"]
    files = [m for m in desk.fake.sent(desk.group.id) if m.kind in ("photo", "document")]
    assert [m.kind for m in files] == ["photo", "document"]
    if desk.forum:
        assert ticket.admin_thread_id is not None
        assert desk.group.topics[ticket.admin_thread_id]["name"] == f"#{number} Saldo belum masuk"
        assert card.message_thread_id == ticket.admin_thread_id
        assert all(m.message_thread_id == ticket.admin_thread_id for m in files)
    else:
        assert ticket.admin_thread_id is None
        assert all(m.reply_to_message_id == card.message_id for m in files)


async def test_replies_travel_both_ways_in_the_same_thread(desk: Desk) -> None:
    person = Person(desk.fake, desk.fake.user("Sven", language_code="sv"))
    number = await desk.open_ticket(person, locale="sv")
    mark = len(desk.fake.sent(person.id))
    await desk.agent_says(number, "Hi! We refunded the second charge <today>.")
    reply = await desk.fake.wait_for(person.id, since=mark)
    assert reply.text.startswith(f"💬 #{number} · Agnes")
    assert "We refunded the second charge <today>." in reply.text
    assert tr("Reply to this message to answer.", "sv") in reply.text
    assert (await desk.ticket(number)).status is Status.PENDING
    assert (await desk.ticket(number)).first_response_at is not None

    await desk.agent_sends_photo(number, "Here is the refund receipt")
    photo = await desk.fake.wait_for(person.id, lambda m: m.kind == "photo", since=mark)
    assert "Here is the refund receipt" in photo.text and f"#{number}" in photo.text

    # The customer answers by replying to the agent's message: it lands in the same thread.
    group_mark = len(desk.fake.sent(desk.group.id))
    ack = await person.sends(
        lambda: person.user.send("Tack, nu syns det!", reply_to=reply.message_id)
    )
    assert ack.text == tr("✅ Added to your ticket {ref}.", "sv").format(ref=f"#{number}")
    relayed = await desk.fake.wait_for(
        desk.group.id, lambda m: "Tack, nu syns det!" in m.text, since=group_mark
    )
    ticket = await desk.ticket(number)
    if desk.forum:
        assert relayed.message_thread_id == ticket.admin_thread_id
    else:
        assert relayed.reply_to_message_id == ticket.admin_card_message_id
    assert ticket.status is Status.OPEN
    messages = await desk.app.bot_data.desk.tickets.messages(number, include_internal=True)
    assert [m.author.value for m in messages] == ["customer", "agent", "agent", "customer"]

    # Replying to the relayed customer message also reaches the customer.
    mark = len(desk.fake.sent(person.id))
    desk.group.send(
        desk.agent, "Glad it worked!", reply_to=relayed.message_id, thread_id=ticket.admin_thread_id
    )
    again = await desk.fake.wait_for(person.id, since=mark)
    assert "Glad it worked!" in again.text


async def test_a_note_never_reaches_the_customer(desk: Desk) -> None:
    person = Person(desk.fake, desk.fake.user("Rina"))
    number = await desk.open_ticket(person)
    before = len(desk.fake.sent(person.id))
    mark = len(desk.fake.sent(desk.group.id))
    assert await desk.acted(number, "/note customer is a VIP, refund fast") == "✍"
    assert desk.fake.sent(desk.group.id)[mark:] == []  # a note costs the chat no message
    await desk.fake.idle()
    assert len(desk.fake.sent(person.id)) == before
    notes = [
        m
        for m in await desk.app.bot_data.desk.tickets.messages(number, include_internal=True)
        if m.internal
    ]
    assert [n.body for n in notes] == ["customer is a VIP, refund fast"]
    assert all(
        not m.internal
        for m in await desk.app.bot_data.desk.tickets.messages(number, include_internal=False)
    )


async def test_solve_close_and_reopen_change_status_card_and_tell_the_customer(desk: Desk) -> None:
    person = Person(desk.fake, desk.fake.user("Dewi", language_code="id"))
    number = await desk.open_ticket(person, locale="id")
    mark = len(desk.fake.sent(person.id))
    assert await desk.acted(number, "/solve") == "👍"
    told = await desk.fake.wait_for(person.id, since=mark)
    assert told.text.startswith(
        tr("ℹ️ Your ticket <b>{ref}</b> is now: {status}.", "id")
        .replace("<b>", "")
        .replace("</b>", "")
        .format(ref=f"#{number}", status=tr("Solved", "id"))
    )
    card = await desk.card(number)
    assert "Solved" in card.text.split("\n")[0]
    assert card.button_texts() == ["↩️ Reopen", "🔒 Close"]

    assert await desk.acted(number, "/reopen") == "👍"
    assert (await desk.ticket(number)).status is Status.OPEN
    assert (await desk.card(number)).button_texts() == ["🙋 Take it", "✅ Solve", "🔒 Close"]

    assert await desk.acted(number, "/close") == "👍"
    assert (await desk.card(number)).buttons == []
    refused = await desk.command(number, "/reopen")
    assert refused.text.startswith(f"#{number} is closed and can't be changed any more.")
    assert (await desk.ticket(number)).status is Status.CLOSED
    events = await desk.app.bot_data.desk.tickets.events(number)
    assert [(e.from_value, e.to_value) for e in events if e.kind == "status"] == [
        ("open", "solved"),
        ("solved", "open"),
        ("open", "closed"),
    ]
    assert all(e.actor_id == desk.agent.id for e in events if e.kind == "status")


async def test_card_buttons_act(desk: Desk) -> None:
    person = Person(desk.fake, desk.fake.user("Rina"))
    number = await desk.open_ticket(person)
    card = await desk.card(number)
    query = desk.fake.press(desk.agent, card, button="🙋 Take it")
    await desk.fake.wait_for_call(
        "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == query
    )
    await desk.fake.idle()
    card = await desk.card(number)
    assert "Assignee: Agnes" in card.text
    query = desk.fake.press(desk.agent, card, button="✅ Solve")
    await desk.fake.wait_for_call(
        "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == query
    )
    await desk.fake.idle()
    assert (await desk.ticket(number)).status is Status.SOLVED


async def test_outsiders_can_not_act(desk: Desk) -> None:
    person = Person(desk.fake, desk.fake.user("Rina"))
    number = await desk.open_ticket(person)
    stranger = desk.fake.user("Mallory")
    # Not a member of the admin chat: the fake refuses the post itself, so inject it as
    # Telegram would deliver it if the stranger had been in the group a moment ago.
    await desk.fake.add_member(desk.group, stranger)
    desk.group.members[stranger.id] = "left"
    ticket = await desk.ticket(number)
    before = len(desk.fake.sent(desk.group.id))
    desk.fake.post_incoming(
        desk.group,
        stranger,
        desk.fake.text_content("/close"),
        thread_id=ticket.admin_thread_id,
        reply_to=None if desk.forum else ticket.admin_card_message_id,
    )
    await desk.fake.idle()
    assert (await desk.ticket(number)).status is Status.OPEN
    assert len(desk.fake.sent(desk.group.id)) == before

    # A forged card button pressed in a private chat does nothing either.
    menu = await person.says("/start")
    query = person.user.press_data(menu, f"ag1:close:{number}")
    call = await desk.fake.wait_for_call(
        "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == query
    )
    assert call.params.get("text") == tr("This button is no longer valid.")
    assert (await desk.ticket(number)).status is Status.OPEN


async def test_an_unbound_group_is_left(desk: Desk) -> None:
    other = desk.fake.group("Random group", members=[desk.agent])
    other.send(desk.agent, "/close 1001")
    await desk.fake.wait_for_call("leaveChat")
    assert desk.fake.left_chats == [other.id]


async def test_priority_assign_queue_and_ticket(desk: Desk) -> None:
    a = Person(desk.fake, desk.fake.user("Ani"))
    b = Person(desk.fake, desk.fake.user("Bo"))
    first = await desk.open_ticket(a, subject="Website down since 08:00")
    second = await desk.open_ticket(b, subject="Question about invoices")
    assert await desk.acted(first, "/priority critical") == "👍"
    ticket = await desk.ticket(first)
    assert ticket.first_response_due_at == ticket.created_at + timedelta(hours=2)
    assert "Critical" in (await desk.card(first)).text
    bad = await desk.command(first, "/priority urgent")
    assert bad.text == "Give one of: low, medium, high, critical. For example: /priority high"
    assert await desk.acted(second, "/assign") == "👍"
    assert "Assignee: Agnes" in (await desk.card(second)).text
    mark = len(desk.fake.sent(desk.group.id))
    desk.group.send(desk.agent, "/queue")
    listing = await desk.fake.wait_for(desk.group.id, since=mark)
    order = [line.split()[0] for line in listing.text.split("\n\n")[1:]]
    assert order == [f"#{first}", f"#{second}"]
    mark = len(desk.fake.sent(desk.group.id))
    desk.group.send(desk.agent, f"/ticket {second}")
    shown = await desk.fake.wait_for(desk.group.id, since=mark)
    assert shown.text.startswith(f"🎫 Ticket #{second}") and "Question about invoices" in shown.text
    mark = len(desk.fake.sent(desk.group.id))
    desk.group.send(desk.agent, "/ticket 999999")
    missing = await desk.fake.wait_for(desk.group.id, since=mark)
    assert missing.text == "There is no ticket #999999."


async def test_a_reply_to_a_card_the_desk_did_not_write_down_reaches_its_ticket(
    desk: Desk,
) -> None:
    """A card accepted by Telegram is written down a moment later (or never, when a kill
    comes first, and then sent again): a reply to it still finds the ticket by its buttons."""
    person = Person(desk.fake, desk.fake.user("Rina"))
    number = await desk.open_ticket(person)
    card = await desk.card(number)
    # As if the bot had been killed right after Telegram accepted the card.
    await desk.app.bot_data.desk.db.execute(
        "DELETE FROM relayed_messages WHERE ticket_number = ?", (number,)
    )
    mark = len(desk.fake.sent(person.id))
    desk.group.send(desk.agent, "We are on it.", reply_to=card.message_id)
    reply = await desk.fake.wait_for(person.id, lambda m: "We are on it." in m.text, since=mark)
    assert reply.text.startswith(f"💬 #{number}")


async def test_a_message_outside_any_ticket_gets_a_hint(desk: Desk) -> None:
    mark = len(desk.fake.sent(desk.group.id))
    desk.group.send(desk.agent, "Morning all, who is on duty?")
    hint = await desk.fake.wait_for(desk.group.id, since=mark)
    assert hint.text.startswith("This message belongs to no ticket")


async def test_ban_stops_a_customer_politely_once(desk: Desk) -> None:
    person = Person(desk.fake, desk.fake.user("Spam", language_code="en"))
    number = await desk.open_ticket(person)
    assert await desk.acted(number, "/ban") == "👍"
    told = await person.says("/new")
    assert told.text.startswith("We are sorry, but this support desk no longer takes requests")
    person.user.send("/new")
    person.user.send("hello?")
    await desk.fake.idle()
    assert desk.fake.sent(person.id)[-1].message_id == told.message_id  # told once only
    assert await desk.acted(number, f"/unban {person.id}") == "👍"
    back = await person.says("/new", expect=question("department"))
    assert back.text


async def test_a_deleted_topic_is_created_again(desk: Desk) -> None:
    if not desk.forum:
        pytest.skip("topics exist only in forum groups")
    person = Person(desk.fake, desk.fake.user("Rina"))
    number = await desk.open_ticket(person)
    old_thread = (await desk.ticket(number)).admin_thread_id
    assert old_thread is not None
    desk.group.delete_topic(old_thread)
    mark = len(desk.fake.sent(desk.group.id))
    # The customer's next message needs the topic: a new one is made, with a new card.
    receipt = next(m for m in desk.fake.sent(person.id) if f"#{number}" in m.text)
    person.user.send("Any news on this?", reply_to=receipt.message_id)
    relayed = await desk.fake.wait_for(
        desk.group.id, lambda m: "Any news on this?" in m.text, since=mark
    )
    ticket = await desk.ticket(number)
    assert ticket.admin_thread_id not in (None, old_thread)
    assert relayed.message_thread_id == ticket.admin_thread_id
    assert desk.group.topics[ticket.admin_thread_id]["name"].startswith(f"#{number} ")


async def test_edits_follow_the_message(desk: Desk) -> None:
    person = Person(desk.fake, desk.fake.user("Rina"))
    number = await desk.open_ticket(person)
    mark = len(desk.fake.sent(person.id))
    original = await desk.agent_says(number, "Your refund is 50000")
    copy = await desk.fake.wait_for(person.id, since=mark)
    desk.group.edit(desk.agent, original, "Your refund is 75000")
    await desk.fake.wait_for_call(
        "editMessageText", lambda c: c.params.get("chat_id") in (person.id, str(person.id))
    )
    edited = next(m for m in desk.fake.sent(person.id) if m.message_id == copy.message_id)
    assert "Your refund is 75000" in edited.text and "Your refund is 50000" not in edited.text

    sent = person.user.send("The amount was 60000", reply_to=copy.message_id)
    await desk.fake.wait_for(person.id, lambda m: m.text.startswith("✅"), since=mark)
    group_mark = len(desk.fake.sent(desk.group.id))
    person.user.edit(sent, "The amount was 65000")
    shown = await desk.fake.wait_for(
        desk.group.id, lambda m: m.text.startswith("✏️"), since=group_mark
    )
    assert shown.text.startswith(f"✏️ #{number} · Rina edited a message:")
    assert "The amount was 65000" in shown.text
    bodies = [
        m.body for m in await desk.app.bot_data.desk.tickets.messages(number, include_internal=True)
    ]
    assert "The amount was 60000" in bodies and "The amount was 65000" in bodies


async def test_breaches_are_announced_once(
    fake: FakeTelegram, make_settings: Callable[..., Settings], clock: FakeClock
) -> None:
    agent = fake.user("Agnes")
    group = fake.group("Agents", members=[agent])
    settings = make_settings(
        telegram_api_url=fake.url, admin_chat_id=group.id, sweep_interval="0.3"
    )
    async with running(settings, clock=clock) as app:
        person = Person(fake, fake.user("Rina"))
        review = await walk_to(person, "priority")
        critical = next(b for b in review.button_texts() if b.startswith("Critical"))
        await person.presses(review, critical, expect=question("message"))
        await person.says(
            "The whole site returns error 500 since 08:00.", expect=question("attachments")
        )
        files = fake.last(person.id)
        review = await person.presses(files, tr("Skip"), expect=question("review"))
        await person.presses(review, tr("📨 Submit"), expect="#1001")
        clock.now += timedelta(hours=2, minutes=1)
        alarm = await fake.wait_for(group.id, lambda m: m.text.startswith("⏰"), timeout=5)
        assert "#1001" in alarm.text and "Critical" in alarm.text
        await asyncio.sleep(1.0)  # three more sweeps
        assert len([m for m in fake.sent(group.id) if m.text.startswith("⏰")]) == 1
        ticket = await app.bot_data.desk.tickets.get(1001)
        assert ticket is not None and ticket.breach_announced_at is not None
    async with running(settings, clock=clock):  # after a restart: still only once
        await asyncio.sleep(1.0)
        assert len([m for m in fake.sent(group.id) if m.text.startswith("⏰")]) == 1


async def test_bind_by_an_operator_survives_a_restart(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    operator = fake.user("Olle")
    agent = fake.user("Agnes")
    group = fake.group("Agents", forum=True, members=[agent], admins=[operator])
    settings = make_settings(telegram_api_url=fake.url, operator_ids=[operator.id])
    async with running(settings):
        person = Person(fake, fake.user("Rina"))
        review = await walk_to(person, "review")
        await person.presses(review, tr("📨 Submit"), expect="#1001")  # no chat bound yet
        mark = len(fake.sent(group.id))
        # The operator adds the bot to the group: Telegram tells the bot with my_chat_member.
        fake.enqueue(
            "my_chat_member",
            {
                "chat": group.to_dict(),
                "from": operator.to_dict(),
                "date": 1_700_000_000,
                "old_chat_member": {"status": "left", "user": fake.bot_user},
                "new_chat_member": {"status": "member", "user": fake.bot_user},
            },
        )
        hello = await fake.wait_for(group.id, since=mark)
        assert hello.text == "Hello! Send /bind here to make this group the agents' chat."
        mark = len(fake.sent(group.id))
        group.send(agent, "/bind")
        refused = await fake.wait_for(group.id, since=mark)
        assert refused.text == (
            "Only an operator can bind the agents' chat. Your Telegram user id is "
            f"{agent.id}: to bind a group, ask whoever runs this bot to add it to OPERATOR_IDS."
        )
        group.send(operator, "/bind")
        await fake.wait_for(group.id, lambda m: m.text.startswith("Done: this group"), since=mark)
        card = await fake.wait_for(
            group.id, lambda m: m.text.startswith("🎫 Ticket #1001"), since=mark
        )
        assert card.message_thread_id is not None
    async with running(settings) as again:
        assert await again.bot_data.desk.admin_chat_id() == group.id


async def test_two_posts_at_once_make_one_topic(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    group = fake.group("Agents", forum=True)
    settings = make_settings(telegram_api_url=fake.url)
    async with running(settings) as app:
        person = Person(fake, fake.user("Rina"))
        review = await walk_to(person, "review")
        await person.presses(review, tr("📨 Submit"), expect="#1001")
        await app.bot_data.desk.bind(group.id)
        await asyncio.gather(*(app.bot_data.relay.ensure_posted(app.bot, 1001) for _ in range(3)))
        assert len(fake.calls_to("createForumTopic")) == 1
        assert len(group.topics) == 1


async def test_a_group_someone_else_adds_the_bot_to_is_left(desk: Desk) -> None:
    stranger = desk.fake.user("Mallory")
    other = desk.fake.group("Mallory's group", members=[stranger])
    desk.fake.enqueue(
        "my_chat_member",
        {
            "chat": other.to_dict(),
            "from": stranger.to_dict(),
            "date": 1_700_000_000,
            "old_chat_member": {"status": "left", "user": desk.fake.bot_user},
            "new_chat_member": {"status": "member", "user": desk.fake.bot_user},
        },
    )
    await desk.fake.wait_for_call("leaveChat")
    assert desk.fake.left_chats == [other.id]
    assert desk.fake.sent(other.id) == []


async def test_an_album_reaches_the_card_together(desk: Desk) -> None:
    person = Person(desk.fake, desk.fake.user("Rina"))
    await walk_to(person, "attachments")
    mark = len(desk.fake.sent(person.id))
    person.user.send_album([("photo", {}), ("photo", {}), ("photo", {})])
    ack = await desk.fake.wait_for(
        person.id, lambda m: tr("✅ Done") in m.button_texts(), since=mark
    )
    review = await person.presses(ack, tr("✅ Done"), expect=question("review"))
    await person.presses(review, tr("📨 Submit"), expect="#1001")
    group_call = await desk.fake.wait_for_call("sendMediaGroup", since=0)
    assert len(group_call.params["media"]) == 3
    assert str(group_call.params["chat_id"]) == str(desk.group.id)


async def test_the_agents_chat_follows_an_upgrade_to_a_supergroup(desk: Desk) -> None:
    person = Person(desk.fake, desk.fake.user("Rina"))
    number = await desk.open_ticket(person)
    upgraded = desk.fake.group("Support agents", forum=desk.forum, members=[desk.agent])
    # Telegram posts the migration in the old group (and the new one): the bot follows.
    desk.fake.post_incoming(desk.group, desk.agent, {"migrate_to_chat_id": upgraded.id})
    await desk.fake.idle()
    assert await desk.app.bot_data.desk.admin_chat_id() == upgraded.id
    ticket = await desk.ticket(number)
    assert ticket.admin_chat_id == upgraded.id
    upgraded.send(desk.agent, "/queue")
    listing = await desk.fake.wait_for(upgraded.id, timeout=5)
    assert f"#{number}" in listing.text
    assert desk.fake.left_chats == []


async def test_the_card_says_when_the_first_answer_came_and_whether_in_time(
    fake: FakeTelegram, make_settings: Callable[..., Settings], clock: FakeClock
) -> None:
    agent = fake.user("Agnes")
    group = fake.group("Agents", members=[agent])
    settings = make_settings(telegram_api_url=fake.url, admin_chat_id=group.id)
    async with running(settings, clock=clock) as app:
        desk = app.bot_data.desk
        people = [Person(fake, fake.user(name)) for name in ("Rina", "Budi")]
        for number, person in enumerate(people, start=1001):
            review = await walk_to(person, "review")  # Medium: due within 24 hours
            await person.presses(review, tr("📨 Submit"), expect=f"#{number}")
        await fake.idle()
        first, second = [await desk.tickets.get(n) for n in (1001, 1002)]
        assert first is not None and second is not None
        card = next(m for m in fake.sent(group.id) if m.message_id == first.admin_card_message_id)
        assert "First answer due: " + format_time(first.first_response_due_at, TZ) in card.text

        clock.now += timedelta(hours=3)
        answered_in_time = clock.now
        group.send(agent, "Looking into it", reply_to=first.admin_card_message_id)
        await fake.wait_for_call(
            "editMessageText",
            lambda c: str(c.params.get("message_id")) == str(first.admin_card_message_id),
        )
        await fake.idle()
        clock.now += timedelta(hours=23)  # 26 hours after filing: 2 hours late
        answered_late = clock.now
        group.send(agent, "Sorry for the wait", reply_to=second.admin_card_message_id)
        await fake.wait_for_call(
            "editMessageText",
            lambda c: str(c.params.get("message_id")) == str(second.admin_card_message_id),
        )
        await fake.idle()
    on_time = fake.sent_message(group.id, first.admin_card_message_id)
    late = fake.sent_message(group.id, second.admin_card_message_id)
    assert on_time is not None and late is not None
    assert "First answer due" not in on_time.text + late.text
    assert f"First answer: {format_time(answered_in_time, TZ)}, in time" in on_time.text
    assert f"First answer: {format_time(answered_late, TZ)}, 2 hours late" in late.text


async def test_take_it_leaves_the_card_once_the_ticket_has_an_assignee(desk: Desk) -> None:
    person = Person(desk.fake, desk.fake.user("Rina"))
    number = await desk.open_ticket(person)
    assert (await desk.card(number)).button_texts() == ["🙋 Take it", "✅ Solve", "🔒 Close"]
    assert await desk.acted(number, "/assign") == "👍"
    card = await desk.card(number)
    assert "Assignee: Agnes" in card.text
    assert card.button_texts() == ["✅ Solve", "🔒 Close"]
    shown = await desk.command(number, f"/ticket {number}")
    assert shown.button_texts() == ["✅ Solve", "🔒 Close"]


@pytest.mark.parametrize("team_name", [None, "Desk Co"])
async def test_the_history_signs_agent_replies_as_the_customer_saw_them(
    fake: FakeTelegram, make_settings: Callable[..., Settings], team_name: str | None
) -> None:
    agent = fake.user("Ayu")
    group = fake.group("Agents", members=[agent])
    settings = make_settings(telegram_api_url=fake.url, admin_chat_id=group.id, team_name=team_name)
    async with running(settings) as app:
        person = Person(fake, fake.user("Rina"))
        review = await walk_to(person, "review")
        await person.presses(review, tr("📨 Submit"), expect="#1001")
        await fake.idle()
        ticket = await app.bot_data.desk.tickets.get(1001)
        assert ticket is not None
        mark = len(fake.sent(person.id))
        group.send(agent, "Please send the receipt", reply_to=ticket.admin_card_message_id)
        copy = await fake.wait_for(
            person.id, lambda m: "Please send the receipt" in m.text, since=mark
        )
        listing = await person.says("/tickets")
        view = await person.presses(listing, listing.button_texts()[0])
    signed = team_name or "Ayu"
    assert copy.text.startswith(f"💬 #1001 · {signed}")
    assert f"· {signed}\nPlease send the receipt" in view.text
    assert "Support team" not in view.text


async def test_a_reply_to_a_ticket_shown_by_ticket_reaches_its_customer(desk: Desk) -> None:
    person = Person(desk.fake, desk.fake.user("Wulan", language_code="id"))
    number = await desk.open_ticket(person, locale="id")
    mark = len(desk.fake.sent(desk.group.id))
    desk.group.send(desk.agent, f"/ticket {number}")  # from the general chat
    shown = await desk.fake.wait_for(desk.group.id, since=mark)
    assert shown.text.startswith(f"🎫 Ticket #{number}")
    told = len(desk.fake.sent(person.id))
    desk.group.send(desk.agent, "Could you send the transfer reference?", reply_to=shown.message_id)
    answer = await desk.fake.wait_for(person.id, since=told)
    assert "Could you send the transfer reference?" in answer.text
    assert (await desk.ticket(number)).status is Status.PENDING

"""Customers follow and continue their tickets; everything owed arrives exactly once."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from bot.app import SupportApplication
from bot.config import Settings
from bot.domain.lifecycle import Action
from bot.domain.models import Author, Draft, Priority, Status
from tests.fake_api import FakeChat, FakeTelegram, FakeUser, SentMessage
from tests.fake_api.objects import Call
from tests.flows.conftest import Person, running
from tests.flows.forms import question, tr, walk_to


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
    settings = make_settings(
        telegram_api_url=fake.url, admin_chat_id=group.id, sweep_interval="0.3"
    )
    return World(fake, group, agent, settings)


@pytest.fixture
async def app(world: World) -> AsyncIterator[SupportApplication]:
    async with running(world.settings) as application:
        yield application


async def file_ticket(person: Person, subject: str = "Invoice 2026-118 charged twice") -> int:
    review = await walk_to(person, "review", subject=subject)
    receipt = await person.presses(review, tr("📨 Submit"), expect="#")
    return int(receipt.text.split("#", 1)[1].split()[0].rstrip("."))


async def agent_reply(world: World, app: SupportApplication, number: int, text: str) -> None:
    ticket = await app.bot_data.desk.tickets.get(number)
    assert ticket is not None and ticket.admin_card_message_id is not None
    world.group.send(world.agent, text, reply_to=ticket.admin_card_message_id)


def texts(fake: FakeTelegram, chat_id: int, needle: str) -> list[SentMessage]:
    return [m for m in fake.sent(chat_id) if needle in m.text]


async def test_a_ticket_shows_its_history_and_takes_a_reply(
    world: World, app: SupportApplication
) -> None:
    fake = world.fake
    person = Person(fake, fake.user("Rina"))
    number = await file_ticket(person)
    await fake.idle()
    await agent_reply(world, app, number, "Could you send the invoice PDF?")
    await fake.wait_for(person.id, lambda m: "Could you send the invoice PDF?" in m.text)
    desk = app.bot_data.desk
    await desk.service.note(number, world.agent.id, "secret internal note")

    listing = await person.says("/tickets")
    view = await person.presses(listing, f"#{number} · Invoice 2026-118…")
    assert "Could you send the invoice PDF?" in view.text
    assert "I was charged twice for invoice 2026-118" in view.text
    assert "secret internal note" not in view.text
    assert tr("Waiting for your reply") in view.text
    assert view.button_texts() == [tr("↩️ Reply"), tr("🔒 Close"), tr("« My tickets")]

    prompt = await person.presses(view, tr("↩️ Reply"))
    assert f"#{number}" in prompt.text and prompt.button_texts() == [tr("✅ Done")]
    mark = len(fake.sent(world.group.id))
    ack = await person.sends_document(file_name="invoice-2026-118.pdf")
    assert ack.text == tr("✅ Added to your ticket {ref}.").format(ref=f"#{number}")
    relayed = await fake.wait_for(world.group.id, lambda m: m.kind == "document", since=mark)
    ticket = await desk.tickets.get(number)
    assert ticket is not None and ticket.status is Status.OPEN
    assert relayed.reply_to_message_id == ticket.admin_card_message_id
    # More may follow, an album too (acknowledged once), until Done.
    mark = len(fake.sent(person.id))
    person.user.send_album([("photo", {}), ("photo", {})])
    album_ack = await fake.wait_for(person.id, since=mark, timeout=6)
    assert album_ack.text == ack.text
    await fake.idle()
    assert len(fake.sent(person.id)) == mark + 1
    messages = await desk.tickets.messages(number, include_internal=False)
    assert sum(len(m.attachments) for m in messages) == 3
    query = fake.press(person.user, prompt, button=tr("✅ Done"))
    await fake.wait_for_call(
        "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == query
    )
    # The reply is over: the next free text is an ordinary message, which goes to the one
    # open ticket with a way out (Reply mode's acknowledgement has none).
    after = await person.says("thanks")
    assert after.button_texts() == [
        tr("Not about {ref}? Ask something else").format(ref=f"#{number}"),
        tr("📝 New ticket"),
    ]


async def test_close_reopen_and_follow_up_from_the_ticket_view(
    world: World, app: SupportApplication
) -> None:
    fake = world.fake
    person = Person(fake, fake.user("Rina"))
    number = await file_ticket(person)
    listing = await person.says("/tickets")
    view = await person.presses(listing, f"#{number} · Invoice 2026-118…")
    confirm = await person.presses(view, tr("🔒 Close"))
    assert confirm.button_texts() == [tr("🔒 Yes, close it"), tr("No, keep it open")]
    mark = len(fake.sent(world.group.id))
    closed = await person.presses(confirm, tr("🔒 Yes, close it"))
    notice = await fake.wait_for(world.group.id, lambda m: m.text.startswith("ℹ️"), since=mark)
    assert notice.text == f"ℹ️ #{number}: the customer set the ticket to Closed."
    assert closed.text == tr("Ticket {ref} is now: {status}.").format(
        ref=f"#{number}", status=tr("Closed")
    )
    assert closed.button_texts() == [tr("➕ Follow-up"), tr("« My tickets")]
    message_q = await person.presses(closed, tr("➕ Follow-up"), expect=question("message"))
    assert f"#{number}" in message_q.text
    files_q = await person.says(
        "The refund still has not arrived after a week.", expect=question("attachments")
    )
    review = await person.presses(files_q, tr("Skip"), expect=question("review"))
    assert f"Follow-up to #{number}: Invoice 2026-118 charged twice" in review.text
    mark = len(fake.sent(world.group.id))
    await person.presses(review, tr("📨 Submit"), expect=f"#{number + 1}")
    card = await fake.wait_for(
        world.group.id, lambda m: m.text.startswith(f"🎫 Ticket #{number + 1}"), since=mark
    )
    assert f"Follow-up of: #{number}" in card.text
    follow = await app.bot_data.desk.tickets.get(number + 1)
    assert follow is not None and follow.follow_up_of == number

    # A solved ticket can be reopened by its customer.
    await app.bot_data.desk.service.apply(number + 1, Action.SOLVE, Author.AGENT, world.agent.id)
    app.bot_data.dispatcher.wake()
    await fake.wait_for(person.id, lambda m: tr("How did we do? Rate our help:") in m.text)
    listing = await person.says("/tickets")
    view = await person.presses(listing, f"#{number + 1} · Follow-up to #{number}…")
    assert view.button_texts() == [
        tr("↩️ Reply"),
        tr("🔓 Reopen"),
        tr("➕ Follow-up"),
        tr("« My tickets"),
    ]
    reopened = await person.presses(view, tr("🔓 Reopen"))
    assert tr("Open") in reopened.text


async def test_buttons_for_someone_elses_ticket_do_nothing(
    world: World, app: SupportApplication
) -> None:
    fake = world.fake
    owner = Person(fake, fake.user("Owner"))
    number = await file_ticket(owner)
    thief = Person(fake, fake.user("Mallory"))
    menu = await thief.says("/start")
    for data in [
        f"tk1:open:{number}",
        f"tk1:close:{number}",
        f"tk1:reply:{number}",
        f"tk1:follow:{number}",
        f"rt1:rate:{number}:1",
        "tk1:open:abc",
        "tk1:open:99999",
    ]:
        query = thief.user.press_data(menu, data)

        def answered(c: Call, q: str = query) -> bool:
            return c.params.get("callback_query_id") == q

        call = await fake.wait_for_call("answerCallbackQuery", answered)
        assert call.params.get("text") == tr("This button is no longer valid."), data
    await fake.idle()
    ticket = await app.bot_data.desk.tickets.get(number)
    assert ticket is not None and ticket.status is Status.OPEN
    assert all(f"#{number}" not in m.text for m in fake.sent(thief.id))


async def test_a_new_ticket_on_the_same_subject_points_to_the_open_one(
    world: World, app: SupportApplication
) -> None:
    fake = world.fake
    person = Person(fake, fake.user("Rina"))
    number = await file_ticket(person, subject="Top-up paid but balance not updated")
    await person.says("/new", expect=question("department"))
    departments = fake.last(person.id)
    await person.presses(departments, tr("Billing & Payments"), expect=question("subject"))
    mark = len(fake.sent(person.id))
    person.user.send("Balance not updated after top-up")
    pointer = await fake.wait_for(person.id, lambda m: f"#{number}" in m.text, since=mark)
    assert pointer.button_texts() == [tr("Open {ref}").format(ref=f"#{number}")]
    await fake.wait_for(person.id, lambda m: question("priority") in m.text, since=mark)


async def test_solving_asks_for_a_rating_that_shows_on_the_card(
    world: World, app: SupportApplication
) -> None:
    fake = world.fake
    person = Person(fake, fake.user("Rina"))
    number = await file_ticket(person)
    await fake.idle()
    ticket = await app.bot_data.desk.tickets.get(number)
    assert ticket is not None
    world.group.send(world.agent, "/solve", reply_to=ticket.admin_card_message_id)
    solved = await fake.wait_for(person.id, lambda m: bool(m.buttons))
    assert tr("How did we do? Rate our help:") in solved.text
    assert solved.button_texts() == ["1 ⭐", "2 ⭐", "3 ⭐", "4 ⭐", "5 ⭐"]
    ask = await person.presses(solved, "4 ⭐")
    assert "⭐⭐⭐⭐" in ask.text
    assert ask.params["reply_markup"]["force_reply"] is True
    thanks = await person.sends(
        lambda: person.user.send("Fast and friendly, thank you", reply_to=ask.message_id)
    )
    assert thanks.text == tr("Thank you for your feedback!")
    await fake.idle()
    card = next(
        m for m in fake.sent(world.group.id) if m.message_id == ticket.admin_card_message_id
    )
    assert "★★★★☆ (4/5)" in card.text and "Fast and friendly, thank you" in card.text
    rating = await app.bot_data.desk.ratings.get(number)
    assert rating is not None and (rating.score, rating.comment) == (
        4,
        "Fast and friendly, thank you",
    )


async def test_429_and_5xx_are_retried_and_arrive_once(
    world: World, app: SupportApplication
) -> None:
    fake = world.fake
    person = Person(fake, fake.user("Rina"))
    number = await file_ticket(person)
    await fake.idle()
    fake.fail_next("sendMessage", retry_after=1, chat_id=person.id)
    fake.fail_next("sendMessage", status=502, chat_id=person.id)
    await agent_reply(world, app, number, "First answer after trouble")
    got = await fake.wait_for(
        person.id, lambda m: "First answer after trouble" in m.text, timeout=10
    )
    assert got.text
    await fake.idle()
    assert len(texts(fake, person.id, "First answer after trouble")) == 1
    attempts = [
        c
        for c in fake.calls_to("sendMessage")
        if c.params.get("chat_id") in (person.id, str(person.id))
        and "First answer" in str(c.params.get("text"))
    ]
    assert [c.status for c in attempts] == [429, 502, 200]


async def test_a_blocked_customer_is_recorded_and_does_not_stall_others(
    world: World, app: SupportApplication
) -> None:
    fake = world.fake
    blocked = Person(fake, fake.user("Gone"))
    other = Person(fake, fake.user("Here"))
    first = await file_ticket(blocked)
    second = await file_ticket(other, subject="Cannot log in to the client area")
    await fake.idle()
    fake.block_bot(blocked.user)
    mark = len(fake.sent(world.group.id))
    await agent_reply(world, app, first, "Are you there?")
    await agent_reply(world, app, second, "Please try again now")
    await fake.wait_for(other.id, lambda m: "Please try again now" in m.text)
    notice = await fake.wait_for(
        world.group.id, lambda m: "blocked the bot" in m.text, since=mark, timeout=5
    )
    assert f"#{first}" in notice.text
    await fake.idle()
    ticket = await app.bot_data.desk.tickets.get(first)
    assert ticket is not None and ticket.customer_unreachable
    card = next(
        m for m in fake.sent(world.group.id) if m.message_id == ticket.admin_card_message_id
    )
    assert "Undeliverable" in card.text
    counts = await app.bot_data.desk.outbox.counts()
    assert counts.get("blocked") == 1 and counts.get("pending", 0) == 0
    # Not retried: no further attempts at the blocked chat.
    attempts = len(
        [c for c in fake.calls if c.params.get("chat_id") in (blocked.id, str(blocked.id))]
    )
    await asyncio.sleep(1.0)
    assert (
        len([c for c in fake.calls if c.params.get("chat_id") in (blocked.id, str(blocked.id))])
        == attempts
    )


async def test_a_kill_between_the_change_and_its_message_loses_and_repeats_nothing(
    world: World,
) -> None:
    fake = world.fake
    person = Person(fake, fake.user("Rina"))
    async with running(world.settings) as first:
        number = await file_ticket(person)
        await fake.idle()
        # The process dies right after the change is committed, before anything is sent.
        await first.bot_data.dispatcher.stop()
        await first.bot_data.desk.service.apply(number, Action.SOLVE, Author.AGENT, world.agent.id)
        await asyncio.sleep(0.5)
        assert texts(fake, person.id, tr("How did we do? Rate our help:")) == []
    async with running(world.settings):
        await fake.wait_for(
            person.id, lambda m: tr("How did we do? Rate our help:") in m.text, since=0
        )
        await fake.idle()
    async with running(world.settings):
        await fake.idle()
        await asyncio.sleep(0.5)
    assert len(texts(fake, person.id, tr("How did we do? Rate our help:"))) == 1


async def test_a_flood_of_status_changes_arrives_once_each_within_the_limits(
    world: World, make_settings: Callable[..., Settings]
) -> None:
    fake = world.fake
    settings = make_settings(telegram_api_url=fake.url)  # no admin chat: customers only
    async with running(settings) as app:
        desk = app.bot_data.desk
        people = [fake.user(f"P{i}") for i in range(50)]
        numbers = []
        for person in people:
            await desk.register_user(person.id, person.first_name, None, None, "en")
            ticket = await desk.submit(
                Draft(
                    person.id,
                    "technical",
                    f"Server {person.id} down",
                    Priority.HIGH,
                    "details here",
                ),
                "en",
            )
            numbers.append(ticket.number)
        # 200 status changes, four per ticket, each owed to its customer.
        for action in (Action.SOLVE, Action.REOPEN, Action.SOLVE, Action.CLOSE):
            for number in numbers:
                await desk.service.apply(number, action, Author.AGENT, 1)
        app.bot_data.dispatcher.wake()
        # Each customer is owed the ticket's receipt and the four changes.
        expected = len(numbers) * 5
        deadline = asyncio.get_running_loop().time() + 30
        while asyncio.get_running_loop().time() < deadline:
            sent = [m for p in people for m in fake.sent(p.id)]
            if len(sent) >= expected:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.5)
        sent_calls = [c for c in fake.calls if c.method == "sendMessage" and c.ok]
        assert len(sent_calls) == expected  # exactly once each
        for person in people:
            mine = [c for c in sent_calls if str(c.params.get("chat_id")) == str(person.id)]
            assert len(mine) == 5
            gaps = [b.at - a.at for a, b in itertools.pairwise(mine)]
            assert min(gaps) >= 0.9, gaps  # one message a second per chat
        times = sorted(c.at for c in sent_calls)
        # No more than 30 messages in any one-second window.
        assert all(times[i + 30] - times[i] >= 0.98 for i in range(len(times) - 30))


async def test_auto_solve_and_auto_close_run_from_stored_times_across_a_restart(
    world: World, make_settings: Callable[..., Settings]
) -> None:
    fake = world.fake
    settings = make_settings(
        telegram_api_url=fake.url,
        admin_chat_id=world.group.id,
        sweep_interval="0.2",
        auto_solve_after="PT3S",
        auto_close_after="2",
    )
    person = Person(fake, fake.user("Rina"))
    async with running(settings) as first:
        number = await file_ticket(person)
        await fake.idle()
        await agent_reply(world, first, number, "Does it work now?")
        await fake.wait_for(person.id, lambda m: "Does it work now?" in m.text)
        reminder = await fake.wait_for(person.id, lambda m: m.text.startswith("⏳"), timeout=5)
        assert f"#{number}" in reminder.text
    # Down for longer than the rest of AUTO_SOLVE_AFTER: the next start catches up.
    await asyncio.sleep(1.5)
    async with running(settings) as second:
        solved = await fake.wait_for(
            person.id, lambda m: "marked as solved" in m.text, since=0, timeout=5
        )
        assert f"#{number}" in solved.text and solved.button_texts()[0] == "1 ⭐"
        closed = await fake.wait_for(
            person.id, lambda m: "is now closed" in m.text, since=0, timeout=6
        )
        assert f"#{number}" in closed.text
        ticket = await second.bot_data.desk.tickets.get(number)
        assert ticket is not None and ticket.status is Status.CLOSED
        events = await second.bot_data.desk.tickets.events(number)
        assert [(e.actor.value, e.to_value) for e in events if e.kind == "status"][-2:] == [
            ("system", "solved"),
            ("system", "closed"),
        ]
    assert len([m for m in fake.sent(person.id) if m.text.startswith("⏳")]) == 1


async def test_an_update_delivered_again_is_not_run_again(
    world: World, app: SupportApplication
) -> None:
    fake = world.fake
    person = Person(fake, fake.user("Rina"))
    number = await file_ticket(person)
    await fake.idle()
    ticket = await app.bot_data.desk.tickets.get(number)
    assert ticket is not None
    world.group.send(world.agent, "One answer only", reply_to=ticket.admin_card_message_id)
    update = fake.last_update
    await fake.wait_for(person.id, lambda m: "One answer only" in m.text)
    await fake.idle()
    fake.redeliver(update)  # Telegram hands the same update out again after a crash
    await fake.idle()
    await asyncio.sleep(0.5)
    assert len([m for m in fake.sent(person.id) if "One answer only" in m.text]) == 1
    messages = await app.bot_data.desk.tickets.messages(number, include_internal=True)
    assert [m.body for m in messages].count("One answer only") == 1


async def test_a_timed_out_send_is_retried_and_delivered(
    world: World, make_settings: Callable[..., Settings]
) -> None:
    fake = world.fake
    settings = make_settings(
        telegram_api_url=fake.url, admin_chat_id=world.group.id, telegram_timeout="1"
    )
    async with running(settings) as app:
        person = Person(fake, fake.user("Rina"))
        number = await file_ticket(person)
        await fake.idle()
        fake.delay_next("sendMessage", 1.5)
        await agent_reply(world, app, number, "Answer after a slow network")
        await fake.wait_for(person.id, lambda m: "Answer after a slow network" in m.text, timeout=8)
        deadline = asyncio.get_running_loop().time() + 8
        while (await app.bot_data.desk.outbox.counts()).get("pending"):
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.2)
        attempts = [
            c
            for c in fake.calls_to("sendMessage")
            if "Answer after a slow network" in str(c.params.get("text"))
        ]
        # The client gave up on the first request and sent again. Telegram had in fact
        # delivered the first one too: the one duplicate Telegram gives no way to avoid.
        assert len(attempts) == 2
        assert len(texts(fake, person.id, "Answer after a slow network")) <= 2


async def test_a_reply_to_a_closed_ticket_offers_a_follow_up(
    world: World, app: SupportApplication
) -> None:
    fake = world.fake
    person = Person(fake, fake.user("Rina"))
    number = await file_ticket(person)
    await app.bot_data.desk.service.apply(number, Action.CLOSE, Author.AGENT, world.agent.id)
    app.bot_data.dispatcher.wake()
    closed = await fake.wait_for(
        person.id, lambda m: f"#{number}" in m.text and tr("Closed") in m.text
    )
    offer = await person.sends(
        lambda: person.user.send("It broke again", reply_to=closed.message_id)
    )
    assert offer.button_texts() == [tr("➕ Follow-up")]
    question_msg = await person.presses(offer, tr("➕ Follow-up"), expect=question("message"))
    assert f"#{number}" in question_msg.text
    messages = await app.bot_data.desk.tickets.messages(number, include_internal=True)
    assert "It broke again" not in [m.body for m in messages]


async def test_a_retry_holds_back_the_chats_later_messages_so_order_is_kept(
    world: World, app: SupportApplication
) -> None:
    fake = world.fake
    person = Person(fake, fake.user("Rina"))
    number = await file_ticket(person)
    await fake.idle()
    fake.fail_next("sendMessage", retry_after=1, chat_id=person.id)
    await agent_reply(world, app, number, "First: we are looking into it")
    await agent_reply(world, app, number, "Second: it is fixed")
    await fake.wait_for(person.id, lambda m: "Second: it is fixed" in m.text, timeout=8)
    got = [m.text for m in fake.sent(person.id) if "First:" in m.text or "Second:" in m.text]
    assert ["First" in got[0], "Second" in got[1], len(got)] == [True, True, 2]


async def test_updates_fetched_before_a_kill_are_handled_after_the_restart(
    world: World,
) -> None:
    """getUpdates confirms a batch when the next is asked for: the inbox keeps it."""
    fake = world.fake
    person = Person(fake, fake.user("Rina"))
    async with running(world.settings) as first:
        await person.says("/start")
        desk = first.bot_data.desk
        # As if the bot fetched this update and was killed before handling it.
        person.user.send(f"my card {'4111 1111 1111 1111'} and my help please")
        fetched = dict(fake.last_update)
        fake.drop_updates()
        from bot.channels.telegram.telegram_bot import masked

        await desk.inbox.add([masked(fetched)])
    async with running(world.settings) as second:
        answer = await fake.wait_for(
            person.id,
            lambda m: tr("This may help:") in m.text or "FAQ" in m.text,
            since=0,
            timeout=5,
        )
        assert answer.text
        await fake.idle()
        assert await second.bot_data.desk.inbox.unhandled() == []
        assert await second.bot_data.desk.processed.seen(fetched["update_id"])


async def test_the_inbox_keeps_texts_masked(world: World, app: SupportApplication) -> None:
    from bot.channels.telegram.telegram_bot import masked

    update = {
        "update_id": 9,
        "message": {
            "text": "card 4111111111111111",
            "caption": "kode OTP 123456",
            "pinned_message": {"message_id": 123456},
        },
    }
    assert masked(update) == {
        "update_id": 9,
        "message": {
            "text": "card 411111******1111",
            "caption": "kode OTP ******",
            "pinned_message": {"message_id": 123456},
        },
    }
    await app.bot_data.desk.inbox.add([masked(update)])
    stored = [tuple(r) for r in await app.bot_data.desk.db.fetch_all("SELECT payload FROM inbox")]
    assert "4111111111111111" not in str(stored) and '123456"' not in str(stored).replace(
        "123456}", ""
    )


async def test_fetched_updates_go_to_the_inbox_first(world: World, app: SupportApplication) -> None:
    fake = world.fake
    assert app.updater is not None
    await app.updater.stop()  # fetch by hand, as the updater would
    person = fake.user("Rina")
    person.send("hello there")
    updates = await app.bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [fake.last_update["update_id"]]
    if app.bot_data.claimer is None:
        stored = await app.bot_data.desk.inbox.unhandled()
    else:
        # Several workers (PostgreSQL): the queue the updater puts them in writes them,
        # each with its line, for whichever worker claims that line.
        for update in updates:
            await app.update_queue.put(update)
        rows = await app.bot_data.desk.db.fetch_all("SELECT payload, line FROM inbox")
        assert [r["line"] for r in rows] == [f"chat:{person.id}"]
        stored = [json.loads(r["payload"]) for r in rows]
    assert [u["update_id"] for u in stored] == [fake.last_update["update_id"]]
    assert stored[0]["message"]["text"] == "hello there"


async def test_each_fetched_update_is_parsed_once(
    world: World, app: SupportApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    from telegram import Update

    fake = world.fake
    assert app.updater is not None
    await app.updater.stop()  # fetch by hand, as the updater would
    parsed: list[object] = []
    real = Update.de_json.__func__  # type: ignore[attr-defined]

    def de_json(cls: type[Update], data: object, bot: object = None) -> object:
        parsed.append(data.get("update_id") if isinstance(data, dict) else None)
        return real(cls, data, bot)

    monkeypatch.setattr(Update, "de_json", classmethod(de_json))
    fake.user("Rina").send("hello there")
    first = fake.last_update["update_id"]
    # PTB can't build a message without chat or date: it is set aside, parsed once too.
    broken = fake.enqueue_raw({"message": {"message_id": 7, "text": "no chat, no date"}})
    fake.user("Sari").send("and me")
    second = fake.last_update["update_id"]
    updates = await app.bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [first, second]
    assert parsed == [first, broken["update_id"], second]


async def test_cancel_ends_reply_mode(world: World, app: SupportApplication) -> None:
    fake = world.fake
    person = Person(fake, fake.user("Rina"))
    number = await file_ticket(person)
    listing = await person.says("/tickets")
    view = await person.presses(listing, f"#{number} · Invoice 2026-118…")
    await person.presses(view, tr("↩️ Reply"))
    stopped = await person.says("/cancel")
    assert stopped.text == tr("Stopped. Anything you already sent stays on the ticket.")
    # Reply mode is over: what follows is an ordinary message, offered a way out.
    after = await person.says("asdfgh qwerty zxcv")
    assert after.button_texts()[-1] == tr("📝 New ticket")


async def test_a_rating_prompt_does_not_swallow_a_reply_to_another_ticket(
    world: World, app: SupportApplication
) -> None:
    fake = world.fake
    person = Person(fake, fake.user("Rina"))
    first = await file_ticket(person)
    second = await file_ticket(person, subject="Cannot log in to the client area")
    await fake.idle()
    await app.bot_data.desk.service.apply(first, Action.SOLVE, Author.AGENT, world.agent.id)
    app.bot_data.dispatcher.wake()
    solved = await fake.wait_for(
        person.id, lambda m: bool(m.buttons) and "⭐" in m.button_texts()[0]
    )
    await person.presses(solved, "5 ⭐")  # the comment prompt is left unanswered
    await agent_reply(world, app, second, "Please try logging in again now")
    answer = await fake.wait_for(person.id, lambda m: "Please try logging in again now" in m.text)
    mark = len(fake.sent(world.group.id))
    person.user.send("Still cannot log in", reply_to=answer.message_id)
    relayed = await fake.wait_for(
        world.group.id, lambda m: "Still cannot log in" in m.text, since=mark
    )
    assert f"#{second}" in relayed.text
    rating = await app.bot_data.desk.ratings.get(first)
    assert rating is not None and rating.comment is None


async def test_updates_stopped_by_the_gate_are_not_replayed(world: World) -> None:
    fake = world.fake
    outsider_group = fake.group("Random", members=[world.agent])
    async with running(world.settings):
        outsider_group.send(world.agent, "hello bot")
        await fake.wait_for_call("leaveChat")
        await fake.idle()
    async with running(world.settings) as again:
        await fake.idle()
        assert await again.bot_data.desk.inbox.unhandled() == []
    assert len(fake.calls_to("leaveChat")) == 1

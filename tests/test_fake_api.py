"""Tests of the fake Bot API itself, driven by a real ``telegram.Bot`` over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from tests.fake_api import FakeTelegram, SentMessage

TOKEN = "123456:TEST-TOKEN"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=f"{fake.url}/bot", base_file_url=f"{fake.url}/file/bot") as bot:
        yield bot


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in buttons])


async def post_raw(fake: FakeTelegram, path: str, **kwargs: Any) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.url}{path}", **kwargs) as response,
    ):
        return response.status, await response.json()


# -- protocol ---------------------------------------------------------------------------------
async def test_get_me(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot, me.can_join_groups) == (
        7000001,
        "support_desk_bot",
        True,
        True,
    )
    assert [c.method for c in fake.calls] == ["getMe", "getMe"]  # initialize() + ours


async def test_wrong_token_and_unknown_method_raw(fake: FakeTelegram) -> None:
    assert await post_raw(fake, "/bot1:WRONG/getMe") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert await post_raw(fake, f"/bot{TOKEN}/sendTelepathy") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    status, body = await post_raw(fake, f"/bot{TOKEN}/GETME")  # names are case-insensitive
    assert (status, body["result"]["username"]) == (200, "support_desk_bot")


async def test_json_body_is_accepted(fake: FakeTelegram) -> None:
    alice = fake.user("Alice")
    status, body = await post_raw(
        fake, f"/bot{TOKEN}/sendMessage", json={"chat_id": alice.id, "text": "hi"}
    )
    assert (status, body["result"]["text"]) == (200, "hi")


async def test_unknown_method_is_refused(bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy")


async def test_missing_required_parameter_is_refused(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user("Alice")
    # "sendmessage" reaches sendMessage (case-insensitive) without PTB's own checks.
    with pytest.raises(BadRequest, match=r"(?i)parameter text is required"):
        await bot.do_api_request("sendmessage", api_kwargs={"chat_id": alice.id})
    assert fake.calls[-1].status == 400
    assert fake.calls[-1].error == "Bad Request: parameter text is required"


async def test_unknown_parameter_is_refused(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user("Alice")
    with pytest.raises(BadRequest, match=r"(?i)unknown parameter colour"):
        await bot.send_message(alice.id, "hi", api_kwargs={"colour": "red"})
    assert fake.sent(alice) == []


async def test_chat_not_found(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "hi")


# -- sending and formatting ---------------------------------------------------------------------
async def test_send_message_with_html_and_buttons(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user("Alice")
    first = await bot.send_message(
        alice.id,
        "<b>Ticket</b> &amp; more",
        parse_mode="HTML",
        reply_markup=keyboard(("Close", "t1:close:7")),
    )
    second = await bot.send_message(alice.id, "again")
    assert (first.text, second.message_id) == ("Ticket & more", first.message_id + 1)
    assert first.entities[0].type == "bold"
    assert first.from_user is not None and first.from_user.id == fake.bot_id
    sent = fake.last(alice)
    assert sent is fake.sent(alice)[-1] and sent.kind == "text"
    assert fake.sent(alice)[0].buttons == [[("Close", "t1:close:7")]]
    assert fake.sent(alice)[0].parse_mode == "HTML"


@pytest.mark.parametrize("text", ["a < b", "<div>x</div>", "<b>open", "<b>x</i>", "Q&A"])
async def test_malformed_html_is_refused(fake: FakeTelegram, bot: Bot, text: str) -> None:
    alice = fake.user("Alice")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(alice.id, text, parse_mode="HTML")


async def test_size_limits(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user("Alice")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(alice.id, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(alice.id, "")
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(alice.id, "hi", reply_markup=keyboard(("Go", "é" * 33)))
    photo = alice.send_photo()["photo"][-1]["file_id"]
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_photo(alice.id, photo, caption="c" * 1025)
    await bot.send_message(alice.id, "x" * 4096, reply_markup=keyboard(("Go", "d" * 64)))


async def test_blocked_user_gives_forbidden(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user("Alice")
    fake.block_bot(alice)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(alice.id, "hi")


async def test_replies(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user("Alice")
    question = alice.send("help?")
    answer = await bot.send_message(
        alice.id, "sure", reply_parameters=ReplyParameters(question["message_id"])
    )
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "help?"
    assert fake.last(alice).reply_to_message_id == question["message_id"]
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(alice.id, "x", reply_parameters=ReplyParameters(999))
    await bot.send_message(
        alice.id, "x", reply_parameters=ReplyParameters(999, allow_sending_without_reply=True)
    )


async def test_edits(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user("Alice")
    message = await bot.send_message(alice.id, "v1", reply_markup=keyboard(("OK", "ok")))
    await bot.edit_message_text(
        "v2", alice.id, message.message_id, reply_markup=keyboard(("OK", "ok"))
    )
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "v2", alice.id, message.message_id, reply_markup=keyboard(("OK", "ok"))
        )
    await bot.edit_message_text("v3", alice.id, message.message_id)  # drops the keyboard
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("v3", alice.id, 999)
    sent = fake.last(alice)
    assert (sent.text, sent.buttons, len(sent.edits)) == ("v3", [], 2)
    assert sent.edits[0]["text"] == "v2"
    await bot.delete_message(alice.id, message.message_id)
    assert sent.deleted
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(alice.id, message.message_id)


async def test_uploads_media_groups_and_files(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user("Alice")
    doc = await bot.send_document(alice.id, b"hello", filename="a.txt", caption="yours")
    assert doc.document is not None
    assert (doc.document.file_name, doc.document.file_size, doc.caption) == ("a.txt", 5, "yours")
    file = await bot.get_file(doc.document.file_id)
    assert await file.download_as_bytearray() == bytearray(b"hello")
    album = await bot.send_media_group(alice.id, [InputMediaPhoto(b"p1"), InputMediaPhoto(b"p2")])
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    with pytest.raises(BadRequest, match=r"(?i)can't be mixed"):
        await bot.send_media_group(alice.id, [InputMediaPhoto(b"p"), InputMediaDocument(b"d")])
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(alice.id, "no-such-file-id")
    with pytest.raises(BadRequest, match=r"(?i)can't use file of type Photo as Document"):
        await bot.send_document(alice.id, album[0].photo[-1].file_id)
    assert [m.kind for m in fake.sent(alice)] == ["document", "photo", "photo"]


async def test_copy_message_shows_the_original(fake: FakeTelegram, bot: Bot) -> None:
    alice, agent = fake.user("Alice"), fake.user("Agent")
    desk = fake.group("Agents", members=[agent])
    photo = alice.send_photo(caption="receipt")
    copied = await bot.copy_message(desk.id, alice.id, photo["message_id"])
    sent = fake.last(desk)
    assert (sent.message_id, sent.kind, sent.caption) == (copied.message_id, "photo", "receipt")
    assert sent.raw["photo"] == photo["photo"]
    with pytest.raises(BadRequest, match=r"(?i)message to copy not found"):
        await bot.copy_message(desk.id, alice.id, 999)


async def test_customer_media_edits_and_misc_methods(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user("Alice")
    album = alice.send_album([("photo", {"caption": "both"}), ("document", {"file_name": "x.pdf"})])
    alice.edit(alice.send("typo"), "fixed")
    updates = await bot.get_updates()
    assert [u.message.media_group_id for u in updates[:2] if u.message] == [
        album[0]["media_group_id"]
    ] * 2
    assert updates[-1].edited_message is not None
    assert updates[-1].edited_message.text == "fixed"
    photo_file = await bot.get_file(album[0]["photo"][-1]["file_id"])
    assert photo_file.file_path and photo_file.file_size == 50_000
    captioned = await bot.send_photo(alice.id, album[0]["photo"][-1]["file_id"], caption="a")
    edited = await bot.edit_message_caption(alice.id, captioned.message_id, caption="b")
    assert not isinstance(edited, bool) and edited.caption == "b"
    assert await bot.send_chat_action(alice.id, "typing")
    assert await bot.set_chat_menu_button(alice.id)
    assert (await bot.get_webhook_info()).url == ""


# -- groups and forums --------------------------------------------------------------------------
async def test_members_and_chats(fake: FakeTelegram, bot: Bot) -> None:
    agent, stranger = fake.user("Agent"), fake.user("Stranger")
    desk = fake.group("Agents", forum=True, admins=[agent])
    assert desk.id < -1_000_000_000_000
    assert (await bot.get_chat_member(desk.id, agent.id)).status == "administrator"
    assert (await bot.get_chat_member(desk.id, stranger.id)).status == "left"
    assert (await bot.get_chat_member(desk.id, fake.bot_id)).status == "administrator"
    assert {m.user.id for m in await bot.get_chat_administrators(desk.id)} == {
        agent.id,
        fake.bot_id,
    }
    info = await bot.get_chat(desk.id)
    assert (info.title, info.is_forum) == ("Agents", True)
    await bot.leave_chat(desk.id)
    assert fake.left_chats == [desk.id]
    with pytest.raises(Forbidden):
        await bot.send_message(desk.id, "still here?")


async def test_forum_topics(fake: FakeTelegram, bot: Bot) -> None:
    agent = fake.user("Agent")
    desk = fake.group("Agents", forum=True, admins=[agent])
    topic = await bot.create_forum_topic(desk.id, "Ticket #1")
    thread = topic.message_thread_id
    message = await bot.send_message(desk.id, "new ticket", message_thread_id=thread)
    assert (message.message_thread_id, message.is_topic_message) == (thread, True)
    reply = desk.send(agent, "/close", reply_to=fake.last(desk))
    assert reply["message_thread_id"] == thread  # a reply lands in the replied message's topic
    assert reply["entities"][0]["type"] == "bot_command"
    desk.delete_topic(thread)
    assert fake.last(desk).deleted
    with pytest.raises(BadRequest, match=r"(?i)message thread not found"):
        await bot.send_message(desk.id, "hello?", message_thread_id=thread)
    plain = fake.group("Plain")
    with pytest.raises(BadRequest, match=r"(?i)the chat is not a forum"):
        await bot.create_forum_topic(plain.id, "x")


async def test_commands_and_descriptions(fake: FakeTelegram, bot: Bot) -> None:
    scope = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands([BotCommand("start", "Start")], scope=scope, language_code="de")
    assert [c.command for c in await bot.get_my_commands(scope=scope, language_code="de")] == [
        "start"
    ]
    assert await bot.get_my_commands() == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Start", "Start")])
    await bot.set_my_description("Support desk", language_code="en")
    assert (await bot.get_my_description("en")).description == "Support desk"


# -- fault injection ----------------------------------------------------------------------------
async def test_fault_injection(
    fake: FakeTelegram, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PTB 22 builds RetryAfter through a property that emits PTBDeprecationWarning (int ->
    # timedelta) unless PTB_TIMEDELTA is set; with warnings as errors that would replace it.
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    alice, bob = fake.user("Alice"), fake.user("Bob")
    fake.fail_next("sendMessage", retry_after=3)
    with pytest.raises(RetryAfter) as retry:
        await bot.send_message(alice.id, "hi")
    assert retry.value.retry_after == dt.timedelta(seconds=3)
    fake.fail_next("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(alice.id, "hi")
    fake.fail_next(
        "sendMessage", status=403, description="Forbidden: user is deactivated", chat_id=bob
    )
    await bot.send_message(alice.id, "only Bob's chat fails")
    with pytest.raises(Forbidden, match=r"(?i)user is deactivated"):
        await bot.send_message(bob.id, "hi")
    fake.delay_next("sendMessage", 1.0)
    with pytest.raises(TimedOut):
        await bot.send_message(alice.id, "slow", read_timeout=0.2)
    # The answer was lost but the message was sent: what an outbox has to cope with.
    await fake.wait_for(alice, lambda m: m.text == "slow", since=0)
    refused = [c for c in fake.calls_to("sendMessage") if c.injected]
    assert [c.status for c in refused] == [429, 500, 403]


# -- flood limits -------------------------------------------------------------------------------
class Clock:
    """A hand-driven clock for the limiter: the tests step time instead of sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Switch the limits on with a frozen clock (RetryAfter as timedelta, see above)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    clock = Clock()
    fake.rate.clock = clock
    fake.limits = True
    return clock


async def test_limits_are_off_by_default(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user("Alice")
    for n in range(40):
        await bot.send_message(alice.id, f"m{n}")
    assert (len(fake.sent(alice)), fake.throttled) == (40, [])
    report = fake.rate_report()
    assert (report.messages, report.max_per_second, report.throttled) == (40, 40, 0)


async def test_private_chat_allows_a_burst_of_three_then_one_a_second(
    fake: FakeTelegram, bot: Bot, clock: Clock
) -> None:
    alice = fake.user("Alice")
    for n in range(3):
        await bot.send_message(alice.id, f"burst {n}")
    with pytest.raises(RetryAfter) as retry:
        await bot.send_message(alice.id, "one too many")
    assert retry.value.retry_after == dt.timedelta(seconds=1)
    assert [m.text for m in fake.sent(alice)] == ["burst 0", "burst 1", "burst 2"]
    assert [(t.method, t.chat_id, t.at, t.retry_after) for t in fake.throttled] == [
        ("sendMessage", alice.id, 1000.0, 1)
    ]
    clock.now += 0.5
    with pytest.raises(RetryAfter):  # half a token is not a message
        await bot.send_message(alice.id, "too early")
    clock.now += 0.5
    await bot.send_message(alice.id, "after a second")
    bob = fake.user("Bob")  # another chat has its own bucket
    await bot.send_message(bob.id, "hi Bob")
    report = fake.rate_report()
    assert (report.messages, report.throttled, report.min_private_gap) == (5, 2, {alice.id: 0.0})
    clock.now += 10  # the bucket refills to three, not more
    for n in range(3):
        await bot.send_message(alice.id, f"again {n}")
    with pytest.raises(RetryAfter):
        await bot.send_message(alice.id, "no fourth")


async def test_group_allows_twenty_a_minute(fake: FakeTelegram, bot: Bot, clock: Clock) -> None:
    agents = fake.group("Agents")
    for n in range(18):
        await bot.send_message(agents.id, f"card {n}")
        clock.now += 1
    # An album counts each medium: three photos do not fit in the two places left.
    with pytest.raises(RetryAfter) as retry:
        await bot.send_media_group(agents.id, [InputMediaPhoto(b"p")] * 3)
    assert retry.value.retry_after == dt.timedelta(seconds=42)  # card 0 leaves at 1060
    await bot.send_media_group(agents.id, [InputMediaPhoto(b"p")] * 2)
    message = fake.last(agents)
    with pytest.raises(RetryAfter):  # an edit is a message too
        await bot.edit_message_caption(agents.id, message.message_id, caption="edited")
    assert len(fake.sent(agents)) == 20
    clock.now = 1060.0  # card 0 slid out of the window
    await bot.edit_message_caption(agents.id, message.message_id, caption="edited")
    assert fake.rate_report().max_group_per_minute == {agents.id: 20}


async def test_thirty_a_second_over_the_whole_bot(
    fake: FakeTelegram, bot: Bot, clock: Clock
) -> None:
    users = [fake.user(f"U{n}") for n in range(11)]
    for user in users[:10]:
        for n in range(3):
            await bot.send_message(user.id, f"m{n}")
    with pytest.raises(RetryAfter) as retry:  # the 11th chat's own bucket is full
        await bot.send_message(users[10].id, "over the bot's limit")
    assert retry.value.retry_after == dt.timedelta(seconds=1)
    assert (fake.sent(users[10]), [t.chat_id for t in fake.throttled]) == ([], [users[10].id])
    clock.now += 0.999
    with pytest.raises(RetryAfter):
        await bot.copy_message(users[10].id, users[0].id, fake.sent(users[0])[0].message_id)
    clock.now += 0.001
    await bot.send_message(users[10].id, "a second later")
    assert fake.rate_report().max_per_second == 30


async def test_reads_and_housekeeping_are_never_limited(
    fake: FakeTelegram, bot: Bot, clock: Clock
) -> None:
    alice, agent = fake.user("Alice"), fake.user("Agent")
    agents = fake.group("Agents", members=[agent])
    for n in range(3):
        await bot.send_message(alice.id, f"m{n}")
    with pytest.raises(RetryAfter):
        await bot.send_message(alice.id, "limited")
    query = fake.press(alice, fake.last(alice).message_id, data="x")
    for _ in range(40):  # far beyond every limit
        await bot.get_me()
        await bot.get_chat(alice.id)
        await bot.get_chat_member(agents.id, agent.id)
        await bot.send_chat_action(alice.id, "typing")
        await bot.set_my_commands([BotCommand("start", "Start")])
        await bot.get_updates(timeout=0)
    await bot.answer_callback_query(query)
    await bot.delete_webhook()
    assert [t.method for t in fake.throttled] == ["sendMessage"]


async def test_limits_switch_on_in_a_running_fake_with_the_real_history(
    fake: FakeTelegram, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    clock = Clock()
    fake.rate.clock = clock
    alice = fake.user("Alice")
    for n in range(5):
        await bot.send_message(alice.id, f"unlimited {n}")
    fake.limits = True  # the five just sent emptied Alice's bucket
    with pytest.raises(RetryAfter) as retry:
        await bot.send_message(alice.id, "limited now")
    assert retry.value.retry_after == dt.timedelta(seconds=1)
    clock.now += 1
    await bot.send_message(alice.id, "a token later")
    fake.limits = False
    await bot.send_message(alice.id, "free again")


async def test_refusal_is_telegrams_429_payload(fake: FakeTelegram, clock: Clock) -> None:
    alice = fake.user("Alice")
    for n in range(3):
        status, _ = await post_raw(
            fake, f"/bot{TOKEN}/sendMessage", data={"chat_id": str(alice.id), "text": str(n)}
        )
        assert status == 200
    assert await post_raw(
        fake, f"/bot{TOKEN}/sendMessage", data={"chat_id": str(alice.id), "text": "4"}
    ) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )
    assert len(fake.sent(alice)) == 3


# -- updates ----------------------------------------------------------------------------------
async def test_get_updates_honours_offset(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user("Alice")
    for text in ("one", "two", "three"):
        alice.send(text)
    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["one", "two", "three"]
    later = await bot.get_updates(offset=updates[1].update_id)
    assert [u.update_id for u in later] == [u.update_id for u in updates[1:]]
    assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()
    assert fake.pending_updates == []


async def test_get_updates_blocks_until_timeout(bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert time.monotonic() - started >= 0.9


async def test_get_updates_wakes_up_on_new_update(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user("Alice")
    asyncio.get_running_loop().call_later(0.2, alice.send, "ping")
    started = time.monotonic()
    updates = await bot.get_updates(timeout=10)
    assert time.monotonic() - started < 2
    assert [u.message.text for u in updates if u.message] == ["ping"]


async def test_press_and_answer(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user("Alice")
    await bot.send_message(
        alice.id, "Rate us", reply_markup=keyboard(("Good", "r:1"), ("Bad", "r:0"))
    )
    query_id = alice.press(fake.last(alice), "Good")
    with pytest.raises(AssertionError, match="no button"):
        alice.press(fake.last(alice), "Meh")
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.message is not None
    assert (query.id, query.data, query.from_user.id) == (query_id, "r:1", alice.id)
    assert query.message.message_id == fake.last(alice).message_id and query.chat_instance
    await bot.answer_callback_query(query_id, "Thanks!")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    assert [c.ok for c in fake.answers_to(query_id)] == [True, False]
    forged = alice.press_data(fake.last(alice), "r:999")
    assert fake.pending_updates[-1]["callback_query"]["id"] == forged


async def test_wait_for_and_idle_report_what_happened(fake: FakeTelegram, bot: Bot) -> None:
    alice = fake.user("Alice")

    async def reply_later() -> None:
        await asyncio.sleep(0.1)
        await bot.send_message(alice.id, "first")
        await bot.send_message(alice.id, "second")

    task = asyncio.create_task(reply_later())
    found = await fake.wait_for(alice, lambda m: m.text == "second")
    assert isinstance(found, SentMessage) and found.text == "second"
    await task
    with pytest.raises(AssertionError, match="sent to"):
        await fake.wait_for(alice, timeout=0.1)
    alice.send("nobody polls")
    with pytest.raises(AssertionError, match="is the bot polling"):
        await fake.idle(timeout=0.3)


async def test_real_application_polls_and_replies(fake: FakeTelegram) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    app: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{fake.url}/bot")
        .base_file_url(f"{fake.url}/file/bot")
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    alice = fake.user("Alice")
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=1)
        alice.send("hello")
        reply = await fake.wait_for(alice)
        await fake.idle()
        await app.updater.stop()
        await app.stop()
    assert reply.text == "echo: hello"
    assert "deleteWebhook" in [c.method for c in fake.calls]

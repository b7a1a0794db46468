"""The /new form under bad input, cancels, restarts, timeouts and two customers at once."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import SupportApplication
from bot.config import Settings
from tests.fake_api import FakeTelegram, FakeUser
from tests.fake_api.objects import Call
from tests.flows.conftest import Person, running
from tests.flows.forms import STEPS, question, tr, walk_to
from tests.postgres import database_env

ROOT = Path(__file__).resolve().parents[2]
CANT_USE = "I can't use that here: please answer this step as asked below."
BUTTONS_PLEASE = "That doesn't answer this step: please use the buttons below."
ONLY_FILES = "I can only attach photos and documents."
CANCELLED = "Cancelled. Your draft was discarded and nothing was sent."


def _sticker(user: FakeUser) -> Any:
    return user.send_sticker()


def _voice(user: FakeUser) -> Any:
    return user.send_voice()


def _location(user: FakeUser) -> Any:
    return user.send_location()


def _contact(user: FakeUser) -> Any:
    return user.send_contact()


UNSUPPORTED: list[Callable[[FakeUser], Any]] = [_sticker, _voice, _location, _contact]


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("send", UNSUPPORTED, ids=lambda f: f.__name__.strip("_"))
async def test_unsupported_input_gets_an_answer_and_the_same_question(
    fake: FakeTelegram, bot: SupportApplication, step: str, send: Callable[[FakeUser], Any]
) -> None:
    person = Person(fake, fake.user("Rina", language_code="en"))
    asked = await walk_to(person, step)
    draft_before = await bot.bot_data.desk.draft(person.id)
    again = await person.sends(lambda: send(person.user), expect=question(step))
    expected = ONLY_FILES if step == "attachments" else CANT_USE
    assert again.text.startswith(tr(expected))
    assert again.button_texts() == asked.button_texts()
    assert await bot.bot_data.desk.draft(person.id) == draft_before  # nothing lost


@pytest.mark.parametrize("step", ["department", "priority", "review"])
async def test_text_where_a_button_is_needed_is_answered(
    fake: FakeTelegram, bot: SupportApplication, step: str
) -> None:
    person = Person(fake, fake.user("Rina"))
    await walk_to(person, step)
    again = await person.says("the billing one please", expect=question(step))
    assert again.text.startswith(tr(BUTTONS_PLEASE))


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("how", ["command", "button"])
async def test_cancel_works_at_every_step(
    fake: FakeTelegram, bot: SupportApplication, step: str, how: str
) -> None:
    person = Person(fake, fake.user("Rina"))
    asked = await walk_to(person, step)
    if how == "command":
        done = await person.says("/cancel", expect=tr(CANCELLED))
    else:
        done = await person.presses(asked, tr("✖ Cancel"), expect=tr(CANCELLED))
    assert tr("📝 New ticket") in done.button_texts()
    assert await bot.bot_data.desk.drafts.get(person.id) is None
    assert await bot.bot_data.desk.tickets.count_for_customer(person.id) == 0
    # The form is really over: free text is no longer read as an answer.
    after = await person.says("hello?")
    assert question(step) not in after.text


async def test_cancel_outside_the_form_says_so(fake: FakeTelegram, bot: SupportApplication) -> None:
    person = Person(fake, fake.user("Rina"))
    reply = await person.says("/cancel")
    assert reply.text == tr("There is nothing to cancel.")


async def test_wrong_and_oversized_files_are_refused_with_a_reason(
    fake: FakeTelegram, bot: SupportApplication
) -> None:
    person = Person(fake, fake.user("Rina"))
    await walk_to(person, "attachments")
    refused = await person.sends_document(
        file_name="setup.exe", mime_type="application/x-msdownload"
    )
    assert refused.text.startswith(tr("I can't accept that type of file.")[:20])
    big = await person.sends_photo(file_size=25 * 1024 * 1024)
    assert big.text == tr("That file is too large: the limit is {size} MB per file.").format(
        size=20
    )
    ok = await person.sends_document(file_name="invoice.pdf")
    assert "1" in ok.text
    draft = await bot.bot_data.desk.draft(person.id)
    assert [a.file_name for a in draft.attachments] == ["invoice.pdf"]


async def test_too_many_files_are_refused(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(telegram_api_url=fake.url, max_attachments=2)
    async with running(settings) as bot:
        person = Person(fake, fake.user("Rina"))
        await walk_to(person, "attachments")
        await person.sends_photo()
        await person.sends_photo()
        third = await person.sends_photo()
        assert third.text == tr("You can attach at most %(count)d files.") % {"count": 2}
        assert len((await bot.bot_data.desk.draft(person.id)).attachments) == 2


async def test_an_album_is_attached_whole_and_acknowledged_once(
    fake: FakeTelegram, bot: SupportApplication
) -> None:
    person = Person(fake, fake.user("Rina"))
    await walk_to(person, "attachments")
    mark = len(fake.sent(person.id))
    # Telegram groups photos with photos (and documents with documents) in an album.
    person.user.send_album([("photo", {}), ("photo", {}), ("photo", {})])
    ack = await fake.wait_for(person.id, since=mark, timeout=6)
    assert "3" in ack.text
    await asyncio.sleep(0.3)
    assert len(fake.sent(person.id)) == mark + 1  # one answer for the whole album
    draft = await bot.bot_data.desk.draft(person.id)
    assert [a.kind.value for a in draft.attachments] == ["photo", "photo", "photo"]
    assert len({a.media_group_id for a in draft.attachments}) == 1


async def test_a_file_with_a_caption_answers_the_message_step(
    fake: FakeTelegram, bot: SupportApplication
) -> None:
    person = Person(fake, fake.user("Rina"))
    await walk_to(person, "message")
    nxt = await person.sends_photo(
        caption="Error 500 on checkout since 09:00, screenshot attached",
        expect=question("attachments"),
    )
    assert nxt.button_texts()[0] == tr("✅ Done")
    draft = await bot.bot_data.desk.draft(person.id)
    assert draft.message == "Error 500 on checkout since 09:00, screenshot attached"
    assert len(draft.attachments) == 1


async def test_short_and_huge_messages_are_asked_again(
    fake: FakeTelegram, bot: SupportApplication
) -> None:
    person = Person(fake, fake.user("Rina"))
    await walk_to(person, "message")
    short = await person.says("broken", expect=question("message"))
    assert short.text.startswith(tr("Please describe the problem in a little more detail."))
    huge = await person.says(
        "x" * (bot.bot_data.desk.max_text_length + 1), expect=question("message")
    )
    assert huge.text.startswith(
        tr("That message is too long ({length} characters; the limit is {limit}).")[:10]
    )
    assert (await bot.bot_data.desk.draft(person.id)).message is None


async def test_edit_from_the_review_returns_to_the_review(
    fake: FakeTelegram, bot: SupportApplication
) -> None:
    person = Person(fake, fake.user("Rina"))
    review = await walk_to(person, "review")
    menu = await person.presses(review, tr("✏️ Edit"), expect=tr("What would you like to change?"))
    subject_q = await person.presses(menu, tr("Subject"), expect=question("subject"))
    assert subject_q.button_texts() == [tr("✖ Cancel")]
    review = await person.says("Refund for invoice 2026-118", expect=question("review"))
    assert "Refund for invoice 2026-118" in review.text
    menu = await person.presses(review, tr("✏️ Edit"), expect=tr("What would you like to change?"))
    priority_q = await person.presses(menu, tr("Priority"), expect=question("priority"))
    critical = next(b for b in priority_q.button_texts() if b.startswith(tr("Critical")))
    review = await person.presses(priority_q, critical, expect=question("review"))
    assert "1–2" in review.text
    receipt = await person.presses(review, tr("📨 Submit"), expect="#1001")
    assert receipt.text
    ticket = await bot.bot_data.desk.tickets.get(1001)
    assert ticket is not None
    assert (ticket.subject, ticket.priority.value) == ("Refund for invoice 2026-118", "critical")


async def test_old_buttons_do_not_act_twice(fake: FakeTelegram, bot: SupportApplication) -> None:
    person = Person(fake, fake.user("Rina"))
    departments = await walk_to(person, "department")
    await person.presses(departments, tr("Billing & Payments"), expect=question("subject"))
    # The answered question keeps its keyboard (taking it off would cost a second message):
    # a tap on it is answered, and changes nothing.
    assert fake.sent(person.id)[-2].buttons != []
    mark = len(fake.sent(person.id))
    query_id = person.user.press_data(departments, "nt1:dep:technical")
    call = await fake.wait_for_call(
        "answerCallbackQuery", lambda c: c.params.get("callback_query_id") == query_id
    )
    assert call.params.get("text") == tr("This button is no longer valid.")
    await fake.idle()
    assert len(fake.sent(person.id)) == mark
    assert (await bot.bot_data.desk.draft(person.id)).department == "billing"


async def test_forged_callback_data_is_answered_not_crashed_on(
    fake: FakeTelegram, bot: SupportApplication
) -> None:
    person = Person(fake, fake.user("Rina"))
    menu = await person.says("/start")
    for data in ["nt1:dep:../../etc", "zz9:boom", "m1:unknown", "x" * 60, "l1:set:fr"]:
        query_id = person.user.press_data(menu, data)

        def answered(c: Call, q: str = query_id) -> bool:
            return c.params.get("callback_query_id") == q

        call = await fake.wait_for_call("answerCallbackQuery", answered)
        assert call.params.get("text") == tr("This button is no longer valid.")
    # Still alive and still in English.
    reply = await person.says("/start", expect="Rina")
    assert reply.button_texts()[0] == tr("📝 New ticket")


async def test_restart_in_the_middle_continues_the_draft(
    fake: FakeTelegram, bot_settings: Settings
) -> None:
    user = fake.user("Dewi", language_code="id")
    person = Person(fake, user)
    async with running(bot_settings):
        await walk_to(person, "priority", locale="id", subject="Token listrik belum masuk")
    async with running(bot_settings) as second:
        button = next(b for b in fake.last(user.id).button_texts() if b.startswith(tr("Low", "id")))
        message_q = await person.presses(
            fake.last(user.id), button, expect=question("message", "id")
        )
        assert message_q.text
        files_q = await person.says(
            "Sudah bayar token listrik 20 ribu tapi belum masuk sejak jam 8 pagi.",
            expect=question("attachments", "id"),
        )
        review = await person.presses(files_q, tr("Skip", "id"), expect=question("review", "id"))
        assert "Token listrik belum masuk" in review.text
        await person.presses(review, tr("📨 Submit", "id"), expect="#1001")
        ticket = await second.bot_data.desk.tickets.get(1001)
        assert ticket is not None and ticket.subject == "Token listrik belum masuk"
        assert ticket.priority.value == "low" and ticket.locale == "id"


async def test_an_answer_replayed_after_a_kill_changes_nothing(
    fake: FakeTelegram, bot_settings: Settings
) -> None:
    """A kill after the form's state was kept but before the update was noted done: the
    subject comes again after the restart, into the priority step it led to. Nothing
    changes; the priority question is asked once more (whether it went out before the kill
    no one can tell), with no word about the subject, and the next tap carries on."""
    from bot.channels.telegram.telegram_bot import masked

    person = Person(fake, fake.user("Rina", language_code="en"))
    async with running(bot_settings) as first:
        await walk_to(person, "priority", subject="Top-up paid but balance not updated")
        subject_update = dict(fake.last_update)
        desk = first.bot_data.desk
        draft_before = await desk.draft(person.id)
        await fake.idle()
        # As if killed right before the update was noted done.
        await desk.db.execute(
            "DELETE FROM processed_updates WHERE update_id = ?", (subject_update["update_id"],)
        )
        await desk.inbox.add([masked(subject_update)])
        if first.bot_data.claimer is not None:
            # Several workers: as the worker that claimed it (and was killed) left it.
            await desk.db.execute(
                "UPDATE inbox SET claims = 1 WHERE update_id = ?", (subject_update["update_id"],)
            )
    mark = len(fake.sent(person.id))
    async with running(bot_settings) as second:
        await fake.idle()
        # Replayed at start-up (SQLite), or claimed again (several workers: PostgreSQL).
        assert subject_update["update_id"] in second.bot_data.replayed
        assert await second.bot_data.desk.processed.seen(subject_update["update_id"])
        again = fake.sent(person.id)[mark:]
        assert [m.text for m in again] == [fake.sent(person.id)[mark - 1].text]
        assert tr("That doesn't answer this step: please use the buttons below.") not in (
            again[0].text or ""
        )
        assert await second.bot_data.desk.draft(person.id) == draft_before
        question_ = fake.last(person.id)
        button = next(b for b in question_.button_texts() if b.startswith(tr("Medium")))
        await person.presses(question_, button, expect=question("message"))


async def test_a_kill_in_the_middle_loses_no_step(
    fake: FakeTelegram, bot_settings: Settings
) -> None:
    """`python -m bot` is killed with SIGKILL mid-form; a new bot on the same file carries on."""
    person = Person(fake, fake.user("Dewi", language_code="sv"))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "BOT_TOKEN": bot_settings.bot_token.get_secret_value(),
        "TELEGRAM_API_URL": fake.url,
        **database_env(bot_settings),
        "LOG_LEVEL": "DEBUG",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "--env-file",
        os.devnull,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await walk_to(person, "message", locale="sv", timeout=20)
    finally:
        process.kill()
        _, stderr = await process.communicate()
    log = stderr.decode()
    assert "Traceback" not in log, log
    assert "Support desk started as @support_desk_bot" in log
    # Even at DEBUG, neither the token nor its secret half is ever written out.
    token = bot_settings.bot_token.get_secret_value()
    assert token not in log and token.split(":")[1] not in log
    async with running(bot_settings) as second:
        files_q = await person.says(
            "Jag har betalat men ordern syns inte i appen sedan i morse.",
            expect=question("attachments", "sv"),
        )
        assert files_q.text
        draft = await second.bot_data.desk.draft(person.id)
        assert draft.subject == "Invoice 2026-118 charged twice"
        assert draft.message == "Jag har betalat men ordern syns inte i appen sedan i morse."
        assert draft.step == "attachments"


async def test_two_customers_fill_drafts_at_the_same_time(
    fake: FakeTelegram, bot: SupportApplication
) -> None:
    a = Person(fake, fake.user("Ani", language_code="id"))
    b = Person(fake, fake.user("Bo", language_code="sv"))
    qa = await a.says("/new", expect=question("department", "id"))
    qb = await b.says("/new", expect=question("department", "sv"))
    qa = await a.presses(qa, tr("Technical Support", "id"), expect=question("subject", "id"))
    qb = await b.presses(qb, tr("Sales & Marketing", "sv"), expect=question("subject", "sv"))
    # Interleave the answers without waiting in between.
    ma, mb = len(fake.sent(a.id)), len(fake.sent(b.id))
    a.user.send("Website error 500 di halaman checkout")
    b.user.send("Offert på företagspaket med 50 användare")
    pa = await fake.wait_for(a.id, since=ma)
    pb = await fake.wait_for(b.id, since=mb)
    assert question("priority", "id") in pa.text and question("priority", "sv") in pb.text
    pa = await a.presses(pa, next(x for x in pa.button_texts() if x.startswith(tr("High", "id"))))
    pb = await b.presses(pb, next(x for x in pb.button_texts() if x.startswith(tr("Low", "sv"))))
    da = await bot.bot_data.desk.draft(a.id)
    db = await bot.bot_data.desk.draft(b.id)
    assert (da.department, da.subject, da.priority and da.priority.value) == (
        "technical",
        "Website error 500 di halaman checkout",
        "high",
    )
    assert (db.department, db.subject, db.priority and db.priority.value) == (
        "sales",
        "Offert på företagspaket med 50 användare",
        "low",
    )


async def test_a_form_idle_across_a_restart_still_times_out(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(
        telegram_api_url=fake.url, conversation_timeout="1", sweep_interval="0.3"
    )
    person = Person(fake, fake.user("Rina"))
    async with running(settings):
        await walk_to(person, "subject")
    await asyncio.sleep(2.0)  # the bot was down for longer than the timeout
    async with running(settings) as bot:
        told = await fake.wait_for(
            person.id, lambda m: "/new" in m.text and "idle" in m.text, since=0, timeout=5
        )
        assert told.text.startswith(tr("Your new ticket was left idle for a long time")[:20])
        assert await bot.bot_data.desk.drafts.get(person.id) is None
        # The old form is over: what the customer types now is an ordinary message.
        again = await person.says("Invoice 2026-118 charged twice")
        assert question("priority") not in again.text
        assert question("subject") not in again.text


async def test_a_long_paste_split_by_telegram_is_one_message(
    fake: FakeTelegram, bot: SupportApplication
) -> None:
    person = Person(fake, fake.user("Rina"))
    await walk_to(person, "message")
    first = "Steps and the whole error log follow. " + "x" * (4096 - 38)
    rest = "The last lines of the log: ERROR 500 at checkout."
    mark = len(fake.sent(person.id))
    person.user.send(first)  # Telegram sends both parts of one paste at once
    person.user.send(rest)
    joined = await fake.wait_for(
        person.id,
        lambda m: tr("I added the rest of your long message to it.") in m.text,
        since=mark,
    )
    assert question("attachments") in joined.text
    draft = await bot.bot_data.desk.draft(person.id)
    assert draft.message == f"{first}\n{rest}"
    assert draft.step == "attachments"

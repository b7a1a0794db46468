"""WhatsApp customers: the same desk through the Cloud API (a fake Graph API over HTTP),
answered from the Telegram fake's admin chat."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from bot.app import SupportApplication
from bot.config import Settings
from bot.domain.channels import whatsapp_customer_id
from bot.domain.models import Status
from tests.fake_api import FakeChat, FakeTelegram, FakeUser, SentMessage
from tests.fake_graph import FakeGraph, Sent
from tests.flows.conftest import running
from tests.flows.forms import question, tr

BUDI = "6281234565678"  # an Indonesian number: the desk speaks Indonesian to it
SVEN = "46701234567"
PHOTO = b"\xff\xd8\xff\xe0" + b"jpeg-bytes" * 100


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class WaDesk:
    fake: FakeTelegram
    graph: FakeGraph
    app: SupportApplication
    group: FakeChat
    agent: FakeUser
    settings: Settings

    async def wait_sent(
        self, wa_id: str, match: Callable[[Sent], bool] | None = None, since: int = 0
    ) -> Sent:
        for _ in range(500):
            for sent in self.graph.sent_to(wa_id)[since:]:
                if match is None or match(sent):
                    return sent
            await asyncio.sleep(0.02)
        raise AssertionError(f"nothing matching was sent to {wa_id}: {self.graph.texts_to(wa_id)}")

    async def says(self, wa_id: str, text: str, contains: str = "") -> Sent:
        mark = len(self.graph.sent_to(wa_id))
        _wamid, status = await self.graph.send_text(wa_id, text)
        assert status == 200
        return await self.wait_sent(wa_id, lambda s: contains in text_of(s), mark)

    async def taps(self, wa_id: str, option: str, contains: str = "") -> Sent:
        mark = len(self.graph.sent_to(wa_id))
        if option.startswith("f:pri") or option.startswith("f:goto"):
            _wamid, status = await self.graph.pick_row(wa_id, option, option)
        else:
            _wamid, status = await self.graph.tap_button(wa_id, option, option)
        assert status == 200
        return await self.wait_sent(wa_id, lambda s: contains in text_of(s), mark)

    async def ticket(self, number: int):  # type: ignore[no-untyped-def]
        ticket = await self.app.bot_data.desk.tickets.get(number)
        assert ticket is not None
        return ticket

    async def card(self, number: int, contains: str = "") -> SentMessage:
        """The ticket's card as it stands (once it shows `contains`)."""
        for _ in range(250):
            ticket = await self.ticket(number)
            for m in self.fake.sent(self.group.id):
                if m.message_id == ticket.admin_card_message_id and contains in m.text:
                    return m
            await asyncio.sleep(0.02)
        raise AssertionError(f"no card of #{number} showing {contains!r}")

    async def open_ticket(self, wa_id: str, locale: str, photo: bool = False) -> int:
        await self.says(wa_id, "/new", question("department", locale))
        await self.taps(wa_id, "f:dep:billing", question("subject", locale))
        await self.says(wa_id, "Saldo top-up belum masuk", question("priority", locale))
        await self.taps(wa_id, "f:pri:medium", question("message", locale))
        await self.says(
            wa_id,
            "Saya top-up 50.000 lewat transfer bank tadi pagi, saldo belum bertambah.",
            question("attachments", locale),
        )
        if photo:
            mark = len(self.graph.sent_to(wa_id))
            _wamid, status = await self.graph.send_image(wa_id, PHOTO, caption="bukti")
            assert status == 200
            await self.wait_sent(wa_id, lambda s: "✅" in str(s.body), mark)
            await self.taps(wa_id, "f:done", question("review", locale))
        else:
            await self.taps(wa_id, "f:skip", question("review", locale))
        receipt = await self.taps(wa_id, "f:submit", "#")
        number = int(text_of(receipt).split("#", 1)[1].split()[0].rstrip(".*"))
        await self.card(number)
        return number


def text_of(sent: Sent) -> str:
    body = sent.body
    if sent.type == "text":
        return str(body["text"]["body"])
    if sent.type == "interactive":
        return str(body["interactive"].get("body", {}).get("text", ""))
    if sent.type == "template":
        return str(body["template"]["name"])
    return str(body.get(sent.type, {}).get("caption", ""))


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    async with FakeGraph(templates={"ticket_update"}) as server:
        yield server


@pytest.fixture
async def wa_settings(
    fake: FakeTelegram, graph: FakeGraph, make_settings: Callable[..., Settings]
) -> tuple[Settings, FakeChat, FakeUser]:
    agent = fake.user("Agnes", username="agnes_cs", language_code="en")
    group = fake.group("Support agents", forum=True, members=[agent])
    port = _free_port()
    graph.webhook_url = f"http://127.0.0.1:{port}/whatsapp"
    settings = make_settings(
        telegram_api_url=fake.url,
        admin_chat_id=group.id,
        webhook_listen="127.0.0.1",
        webhook_port=port,
        whatsapp_token=graph.token,
        whatsapp_phone_number_id=graph.phone_id,
        whatsapp_app_secret=graph.app_secret,
        whatsapp_verify_token=graph.verify_token,
        whatsapp_api_url=graph.url,
    )
    return settings, group, agent


@pytest.fixture
async def desk(
    fake: FakeTelegram, graph: FakeGraph, wa_settings: tuple[Settings, FakeChat, FakeUser]
) -> AsyncIterator[WaDesk]:
    settings, group, agent = wa_settings
    async with running(settings) as app:
        yield WaDesk(fake, graph, app, group, agent, settings)


async def test_the_webhook_verifies_and_refuses_what_is_not_signed(desk: WaDesk) -> None:
    graph = desk.graph
    assert await graph.verify("subscribe", graph.verify_token, "1158201444") == (200, "1158201444")
    status, _text = await graph.verify("subscribe", "wrong", "1158201444")
    assert status == 403

    body = b'{"object": "whatsapp_business_account", "entry": []}'
    assert await graph.post_raw(body, None) == 401
    assert await graph.post_raw(body, "sha256=" + "0" * 64) == 401
    assert await graph.post_raw(body, graph.sign(body)) == 200

    # A forged message changes nothing: no customer, no answer.
    forged = graph.sign(b"something else")
    message = (
        b'{"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field":'
        b' "messages", "value": {"messages": [{"from": "6281234565678", "id": "wamid.forged",'
        b' "timestamp": "1700000000", "type": "text", "text": {"body": "/new"}}]}}]}]}'
    )
    assert await graph.post_raw(message, forged) == 401
    await asyncio.sleep(0.3)
    assert graph.sent_to(BUDI) == []
    assert await desk.app.bot_data.desk.user(whatsapp_customer_id(BUDI)) is None


async def test_a_customer_opens_a_ticket_with_a_photo_and_an_agent_reply_reaches_them(
    desk: WaDesk,
) -> None:
    graph = desk.graph
    # The first question is in Indonesian: the number's country code chose the language.
    number = await desk.open_ticket(BUDI, "id", photo=True)
    # The departments came as three reply buttons, the priorities as a list.
    kinds = [s.body["interactive"]["type"] for s in graph.sent_to(BUDI) if s.type == "interactive"]
    assert kinds[:3] == ["button", "button", "list"]
    assert graph.refusals == []

    ticket = await desk.ticket(number)
    assert ticket.customer_id == whatsapp_customer_id(BUDI)
    assert ticket.locale == "id"
    card = await desk.card(number)
    assert "WhatsApp +62 812-****-5678" in card.text
    assert BUDI not in card.text
    # The photo was downloaded while its media id lived, and shown to the agents.
    await desk.fake.idle()
    photos = [m for m in desk.fake.sent(desk.group.id) if m.kind == "photo"]
    assert [p.message_thread_id for p in photos] == [ticket.admin_thread_id]

    mark = len(graph.sent_to(BUDI))
    desk.group.send(
        desk.agent, "Saldo Anda sudah kami tambahkan.", thread_id=ticket.admin_thread_id
    )
    reply = await desk.wait_sent(BUDI, lambda s: "sudah kami tambahkan" in text_of(s), mark)
    assert f"#{number}" in text_of(reply)
    assert (await desk.ticket(number)).status is Status.PENDING

    # An agent's photo is fetched from Telegram and sent to WhatsApp as an image.
    mark = len(graph.sent_to(BUDI))
    desk.group.send_photo(
        desk.agent, caption="Bukti pengembalian", thread_id=ticket.admin_thread_id
    )
    image = await desk.wait_sent(BUDI, lambda s: s.type == "image", mark)
    assert image.body["image"].get("id") or image.body["image"].get("link")

    # The customer answers; it lands in the ticket's topic.
    group_mark = len(desk.fake.sent(desk.group.id))
    await desk.says(BUDI, "Terima kasih, sudah masuk!", f"#{number}")
    relayed = await desk.fake.wait_for(
        desk.group.id, lambda m: "sudah masuk" in m.text, since=group_mark
    )
    assert relayed.message_thread_id == ticket.admin_thread_id

    # Status webhooks are recorded and shown on the card.
    # (The last message the outbox sent about the ticket is the agent's image.)
    await graph.post_status(image.wamid, "delivered")
    await graph.post_status(image.wamid, "read")
    card = await desk.card(number, "WhatsApp: read")
    assert "WhatsApp +62 812-****-5678" in card.text


async def test_outside_the_window_the_template_goes_and_the_text_follows_the_answer(
    desk: WaDesk,
) -> None:
    graph = desk.graph
    number = await desk.open_ticket(SVEN, "sv")
    ticket = await desk.ticket(number)
    graph.advance(hours=25)  # the customer's last message is 25 hours old now

    mark = len(graph.sent_to(SVEN))
    desk.group.send(desk.agent, "Vi har återbetalat avgiften.", thread_id=ticket.admin_thread_id)
    template = await desk.wait_sent(SVEN, lambda s: s.type == "template", mark)
    assert template.body["template"]["name"] == "ticket_update"
    assert template.body["template"]["language"]["code"] == "sv"
    params = template.body["template"]["components"][0]["parameters"]
    assert params[0]["text"] == f"#{number}"
    assert [r.code for r in graph.refusals] == [131047]  # the free-form try was refused
    await asyncio.sleep(0.3)
    assert not any("återbetalat" in text_of(s) for s in graph.sent_to(SVEN))

    # The customer answers the template: the window opens and the full reply follows.
    mark = len(graph.sent_to(SVEN))
    await graph.send_text(SVEN, "Hej, vad har hänt?")
    full = await desk.wait_sent(SVEN, lambda s: "återbetalat" in text_of(s), mark)
    assert f"#{number}" in text_of(full)


async def test_a_redelivered_webhook_is_stored_and_handled_once(desk: WaDesk) -> None:
    graph = desk.graph
    number = await desk.open_ticket(BUDI, "id")
    group_mark = len(desk.fake.sent(desk.group.id))
    mark = len(graph.sent_to(BUDI))
    wamid, status = await graph.send_text(BUDI, "Ada kabar terbaru?")
    assert status == 200
    await desk.wait_sent(BUDI, lambda s: f"#{number}" in text_of(s), mark)
    for _ in range(3):
        _same, again = await graph.redeliver(wamid)
        assert again == 200
    await asyncio.sleep(0.5)
    await desk.fake.idle()
    messages = await desk.app.bot_data.desk.tickets.messages(number, include_internal=True)
    assert [m.body for m in messages].count("Ada kabar terbaru?") == 1
    relayed = [m for m in desk.fake.sent(desk.group.id)[group_mark:] if "Ada kabar" in m.text]
    assert len(relayed) == 1
    acks = [s for s in graph.sent_to(BUDI)[mark:] if f"#{number}" in text_of(s)]
    assert len(acks) == 1


async def test_a_kill_between_receipt_and_handling_loses_nothing(
    fake: FakeTelegram, graph: FakeGraph, wa_settings: tuple[Settings, FakeChat, FakeUser]
) -> None:
    settings, _group, _agent = wa_settings
    async with running(settings) as app:
        channel = app.bot_data.whatsapp
        assert channel is not None
        # The worker dies (as in a kill) after the webhook stored the message and said 200.
        assert channel._worker is not None
        channel._worker.cancel()
        _wamid, status = await graph.send_text(SVEN, "/new")
        assert status == 200
        await asyncio.sleep(0.3)
        assert graph.sent_to(SVEN) == []
    async with running(settings):
        for _ in range(250):
            if graph.sent_to(SVEN):
                break
            await asyncio.sleep(0.02)
        assert [text_of(s) for s in graph.sent_to(SVEN)][:1] == [
            next(t for t in graph.texts_to(SVEN) if question("department", "sv") in t)
        ]
        await asyncio.sleep(0.3)
        assert len(graph.sent_to(SVEN)) == 1


async def test_whatsapp_is_off_unless_set(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(telegram_api_url=fake.url)
    async with running(settings) as app:
        assert app.bot_data.whatsapp is None


async def test_tickets_close_reopen_follow_up_rating_faq_and_language(desk: WaDesk) -> None:
    graph = desk.graph
    number = await desk.open_ticket(SVEN, "sv")

    # "My tickets" is a list; picking one shows it with what the customer may do.
    listing = await desk.taps(SVEN, "m:tickets", tr("📂 My tickets", "sv"))
    assert listing.body["interactive"]["type"] == "list"
    rows = listing.body["interactive"]["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == [f"t:{number}"]
    view = await desk.taps(SVEN, f"t:{number}", f"#{number}")
    buttons = [b["reply"]["id"] for b in view.body["interactive"]["action"]["buttons"]]
    assert buttons == [f"c:{number}", "m:tickets"]

    # Close it; then it offers a follow-up, which opens the form with its answers.
    closed = await desk.taps(SVEN, f"c:{number}", f"#{number}")
    assert (await desk.ticket(number)).status is Status.CLOSED
    buttons = [b["reply"]["id"] for b in closed.body["interactive"]["action"]["buttons"]]
    assert f"u:{number}" in buttons
    follow = await desk.taps(SVEN, f"u:{number}", question("message", "sv"))
    assert f"#{number}" in text_of(follow)
    await desk.taps(
        SVEN, "f:cancel", tr("Cancelled. Your draft was discarded and nothing was sent.", "sv")
    )

    # The rating comes as a list of stars once a ticket is solved; a tap records it.
    second = await desk.open_ticket(SVEN, "sv")
    ticket = await desk.ticket(second)
    mark = len(graph.sent_to(SVEN))
    desk.group.send(desk.agent, "/solve", thread_id=ticket.admin_thread_id)
    rating = await desk.wait_sent(
        SVEN, lambda s: s.type == "interactive" and "r:" in str(s.body), mark
    )
    assert rating.body["interactive"]["type"] == "list"
    await desk.taps(SVEN, f"r:{second}:5", tr("Thank you for your feedback!", "sv"))
    rated = await desk.app.bot_data.desk.rating(second)
    assert rated is not None and rated.score == 5
    # A solved ticket can be reopened from its view.
    await desk.taps(SVEN, f"o:{second}", f"#{second}")
    assert (await desk.ticket(second)).status is Status.OPEN

    # The FAQ: browsing by topic, and a free text matched against it.
    faq = await desk.says(
        SVEN, "/faq", tr("<b>Frequently asked questions</b>\nChoose a topic:", "sv").split("\n")[-1]
    )
    assert faq.body["interactive"]["type"] == "list"

    # The language: chosen by the customer, it wins over the number's country.
    await desk.says(SVEN, "/language", tr("Choose your language:", "sv"))
    done = await desk.taps(SVEN, "l:en", "English")
    assert text_of(done).startswith("Done: I will speak English with you from now on.")
    user = await desk.app.bot_data.desk.user(whatsapp_customer_id(SVEN))
    assert user is not None and user.chosen_locale == "en"
    assert graph.refusals == []


async def test_bad_input_is_answered_and_loses_nothing(desk: WaDesk) -> None:
    graph = desk.graph
    # A voice note outside the form, an unknown button, a file too odd to keep: each answered.
    await desk.says(BUDI, "halo", "")
    mark = len(graph.sent_to(BUDI))
    _wamid, status = await graph.tap_button(BUDI, "t:999999", "old")
    assert status == 200
    stale = await desk.wait_sent(BUDI, since=mark)
    assert tr("This button is no longer valid.", "id") in text_of(stale)
    # In the form, a text where an option is asked gets the step again, with a notice.
    await desk.says(BUDI, "/new", question("department", "id"))
    again = await desk.says(BUDI, "billing please", question("department", "id"))
    assert tr("That doesn't answer this step: please use the buttons below.", "id") in text_of(
        again
    )
    # A card number is masked before it is kept, and the customer is told.
    await desk.taps(BUDI, "f:dep:billing", question("subject", "id"))
    await desk.says(BUDI, "Kartu 4111 1111 1111 1111 ditolak", question("priority", "id"))
    draft = await desk.app.bot_data.desk.draft(whatsapp_customer_id(BUDI))
    assert draft.subject is not None and "4111 1111 1111 1111" not in draft.subject
    assert graph.refusals == []


async def test_a_flood_is_kept_on_the_ticket_and_answered_once(
    fake: FakeTelegram, graph: FakeGraph, wa_settings: tuple[Settings, FakeChat, FakeUser]
) -> None:
    settings, group, agent = wa_settings
    settings = settings.model_copy(update={"customer_rate_limit": 3})
    async with running(settings) as app:
        desk = WaDesk(fake, graph, app, group, agent, settings)
        number = await desk.open_ticket(BUDI, "id")
        mark = len(graph.sent_to(BUDI))
        for i in range(6):
            _wamid, status = await graph.send_text(BUDI, f"pesan {i}")
            assert status == 200
        for _ in range(250):
            messages = await app.bot_data.desk.tickets.messages(number, include_internal=True)
            if sum(m.body.startswith("pesan") for m in messages) == 6:
                break
            await asyncio.sleep(0.02)
        assert [m.body for m in messages if m.body.startswith("pesan")] == [
            f"pesan {i}" for i in range(6)
        ]
        await asyncio.sleep(0.3)
        answers = [text_of(s) for s in graph.sent_to(BUDI)[mark:]]
        slow = tr(
            "You are sending messages faster than I can answer them. I'll keep what you send "
            "on your ticket {ref} without answering each message; our team reads it all. "
            "Please wait a minute before you send more.",
            "id",
        ).format(ref=f"#{number}")
        assert answers.count(slow) == 1
        assert len(answers) == 4  # the three under the limit got "added", then one warning


async def test_a_failed_status_is_sent_again_or_marks_the_customer_unreachable(
    desk: WaDesk,
) -> None:
    graph = desk.graph
    channel = desk.app.bot_data.whatsapp
    assert channel is not None
    channel.retry_after = 0.0
    number = await desk.open_ticket(BUDI, "id")
    ticket = await desk.ticket(number)

    mark = len(graph.sent_to(BUDI))
    desk.group.send(desk.agent, "Mohon kirim bukti transfer.", thread_id=ticket.admin_thread_id)
    first = await desk.wait_sent(BUDI, lambda s: "bukti transfer" in text_of(s), mark)
    # The Cloud API accepted it, then failed it for a reason worth another try.
    await graph.post_status(first.wamid, "failed", errors=[{"code": 131000, "title": "Oops"}])
    again = await desk.wait_sent(
        BUDI, lambda s: "bukti transfer" in text_of(s) and s.wamid != first.wamid, mark
    )
    assert again.wamid != first.wamid

    # A customer the API can't reach is marked as a blocked Telegram customer is.
    await graph.post_status(
        again.wamid, "failed", errors=[{"code": 131026, "title": "Undeliverable"}]
    )
    for _ in range(250):
        if (await desk.ticket(number)).customer_unreachable:
            break
        await asyncio.sleep(0.02)
    assert (await desk.ticket(number)).customer_unreachable
    await desk.card(number, "WhatsApp: ")


async def test_forgetting_a_whatsapp_customer_drops_their_words_but_not_the_wamids(
    desk: WaDesk,
) -> None:
    graph = desk.graph
    number = await desk.open_ticket(BUDI, "id", photo=True)
    kept = desk.app.bot_data.desk.kept_files
    assert [p.name for p in kept.directory.iterdir()] != []
    wamid, _status = await graph.send_text(BUDI, "Nomor rekening saya 1234567890")
    await desk.wait_sent(BUDI, lambda s: f"#{number}" in text_of(s))
    core = desk.app.bot_data.desk
    for _ in range(100):
        rows = await core.db.fetch_all("SELECT handled_at FROM wa_inbox WHERE wamid = ?", (wamid,))
        if rows and rows[0]["handled_at"] is not None:
            break
        await asyncio.sleep(0.02)
    mark = len(graph.sent_to(BUDI))
    forgotten = await core.forget(whatsapp_customer_id(BUDI), None, marker="[removed]", name="Anon")
    assert forgotten is not None
    # They are told, on WhatsApp, in their language.
    told = await desk.wait_sent(BUDI, since=mark)
    assert tr(
        "As you asked, we have removed your name and the texts of your messages "
        "from our support desk. Your ticket numbers remain, without their "
        "content. If you write to us again, we will keep what you send then.",
        "id",
    ) in text_of(told)
    payloads = await core.db.fetch_all("SELECT payload FROM wa_inbox WHERE wa_id = ?", (BUDI,))
    assert payloads and all("1234567890" not in r["payload"] for r in payloads)
    assert all(r["payload"] == "{}" for r in payloads)
    # The photo the desk kept for the agents is gone too.
    assert list(kept.directory.iterdir()) == []
    # A redelivery of an old message still changes nothing.
    _same, again = await graph.redeliver(wamid)
    assert again == 200
    await asyncio.sleep(0.3)
    messages = await core.tickets.messages(number, include_internal=True)
    assert not any("1234567890" in m.body for m in messages)


def _two_free_ports() -> int:
    """A port whose next one is free too."""
    for _ in range(50):
        port = _free_port()
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise AssertionError("no two free ports in a row")


async def test_with_telegrams_webhook_whatsapp_takes_the_next_port_in_the_same_process(
    fake: FakeTelegram,
    graph: FakeGraph,
    wa_settings: tuple[Settings, FakeChat, FakeUser],
) -> None:
    from telegram import Update

    from bot.__main__ import webhook_options
    from bot.app import build_application

    port = _two_free_ports()
    settings = wa_settings[0].model_copy(
        update={"webhook_url": "https://desk.example.com", "webhook_port": port}
    )
    graph.webhook_url = f"http://127.0.0.1:{port + 1}/whatsapp"
    application = build_application(settings)
    await application.initialize()
    assert application.post_init is not None and application.updater is not None
    await application.post_init(application)
    await application.updater.start_webhook(
        allowed_updates=Update.ALL_TYPES, **webhook_options(settings)
    )
    await application.start()
    try:
        call = await fake.wait_for_call("setWebhook", since=0)
        assert call.params["url"] == "https://desk.example.com/telegram"
        assert await graph.verify("subscribe", graph.verify_token, "42") == (200, "42")
        _wamid, status = await graph.send_text(SVEN, "/new")
        assert status == 200
        for _ in range(250):
            if any(question("department", "sv") in t for t in graph.texts_to(SVEN)):
                break
            await asyncio.sleep(0.02)
        assert any(question("department", "sv") in t for t in graph.texts_to(SVEN))
    finally:
        await application.updater.stop()
        await application.stop()
        assert application.post_stop is not None and application.post_shutdown is not None
        await application.post_stop(application)
        await application.shutdown()
        await application.post_shutdown(application)


async def test_a_question_outside_a_ticket_is_matched_against_the_faq(desk: WaDesk) -> None:
    answer = await desk.says(BUDI, "pulsa blm masuk padahal sudah bayar", "")
    text = text_of(answer)
    assert text.startswith(tr("This may help:", "id"))
    assert "Sudah bayar, produk belum masuk" in text
    assert "<b>" not in text and "*ID pesanan*" in text  # WhatsApp's markup, not HTML
    # And a document is taken at the attachments step like a photo.
    await desk.says(BUDI, "/new", question("department", "id"))
    await desk.taps(BUDI, "f:dep:billing", question("subject", "id"))
    await desk.says(BUDI, "Pulsa belum masuk setelah bayar", question("priority", "id"))
    await desk.taps(BUDI, "f:pri:high", question("message", "id"))
    await desk.says(
        BUDI, "Saya membeli pulsa 50.000 pukul 09.00, status sukses tetapi belum masuk.", ""
    )
    mark = len(desk.graph.sent_to(BUDI))
    _wamid, status = await desk.graph.send_document(BUDI, b"%PDF-1.4 receipt", "struk.pdf")
    assert status == 200
    await desk.wait_sent(BUDI, lambda s: "✅" in str(s.body), mark)
    draft = await desk.app.bot_data.desk.draft(whatsapp_customer_id(BUDI))
    assert [a.file_name for a in draft.attachments] == ["struk.pdf"]

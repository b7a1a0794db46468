"""The fake Graph API against pywa_async's real client, and its webhooks against a receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from pywa.types.callback import Button, Section, SectionList, SectionRow
from pywa_async.client import WhatsApp
from pywa_async.errors import InvalidParameter, ReEngagementMessage, WhatsAppError
from pywa_async.types.templates import TemplateLanguage

from tests.fake_graph import FakeGraph

VERSION = "22.0"
CUSTOMER = "6281200000001"


@pytest.fixture
async def fake() -> AsyncIterator[FakeGraph]:
    async with FakeGraph(templates={"ticket_update"}) as fake:
        yield fake


@pytest.fixture
async def wa(fake: FakeGraph) -> AsyncIterator[WhatsApp]:
    async with httpx.AsyncClient() as session:
        client = WhatsApp(
            phone_id=fake.phone_id,
            token=fake.token,
            session=session,
            server=None,
            api_version=VERSION,
        )
        # GraphAPI's constructor sets base_url to graph.facebook.com; point it here afterwards.
        client.api._session.base_url = f"{fake.url}/v{VERSION}"
        yield client


class Receiver:
    """A tiny bot-side webhook that checks Meta's signature and keeps what it accepted."""

    def __init__(self, secret: str, verify_token: str) -> None:
        self.secret = secret.encode()
        self.verify_token = verify_token
        self.bodies: list[dict[str, Any]] = []

    async def post(self, request: web.Request) -> web.Response:
        raw = await request.read()
        expected = "sha256=" + hmac.new(self.secret, raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("X-Hub-Signature-256", ""), expected):
            return web.Response(status=401)
        self.bodies.append(json.loads(raw))
        return web.Response(text="ok")

    async def get(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("hub.mode") == "subscribe" and q.get("hub.verify_token") == self.verify_token:
            return web.Response(text=q.get("hub.challenge", ""))
        return web.Response(status=403)


@pytest.fixture
async def receiver(fake: FakeGraph) -> AsyncIterator[Receiver]:
    rec = Receiver(fake.app_secret, fake.verify_token)
    app = web.Application()
    app.router.add_post("/wa", rec.post)
    app.router.add_get("/wa", rec.get)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    fake.webhook_url = f"http://127.0.0.1:{runner.addresses[0][1]}/wa"
    yield rec
    await runner.cleanup()


def _message(body: dict[str, Any]) -> dict[str, Any]:
    value = body["entry"][0]["changes"][0]["value"]
    assert value["metadata"]["phone_number_id"] == "1000000001"
    msg: dict[str, Any] = value["messages"][0]
    return msg


async def test_text_in_window_then_refused_after_24h(
    fake: FakeGraph, wa: WhatsApp, receiver: Receiver
) -> None:
    await fake.send_text(CUSTOMER, "hello", name="Ana")
    sent = await wa.send_message(to=CUSTOMER, text="Hi Ana")
    assert sent.id.startswith("wamid.")
    assert fake.texts_to(CUSTOMER) == ["Hi Ana"]
    fake.advance(hours=25)
    with pytest.raises(ReEngagementMessage) as err:
        await wa.send_message(to=CUSTOMER, text="still there?")
    assert err.value.code == 131047
    assert fake.refusals[-1].code == 131047


async def test_never_wrote_is_outside_the_window(fake: FakeGraph, wa: WhatsApp) -> None:
    with pytest.raises(ReEngagementMessage):
        await wa.send_message(to=CUSTOMER, text="hi")


async def test_template_outside_window(fake: FakeGraph, wa: WhatsApp) -> None:
    params = [{"type": "body", "parameters": [{"type": "text", "text": "42"}]}]
    await wa.send_template(
        to=CUSTOMER, name="ticket_update", language=TemplateLanguage.ENGLISH_US, params=params
    )
    assert fake.texts_to(CUSTOMER) == ["ticket_update"]
    assert fake.templates_to(CUSTOMER)[0]["language"]["code"] == "en_US"
    with pytest.raises(WhatsAppError) as err:
        await wa.send_template(
            to=CUSTOMER, name="unknown", language=TemplateLanguage.ENGLISH_US, params=[]
        )
    assert err.value.code == 132001


async def test_button_limits(fake: FakeGraph, wa: WhatsApp, receiver: Receiver) -> None:
    await fake.send_text(CUSTOMER, "hi")
    four = [Button(title=f"b{i}", callback_data=f"id{i}") for i in range(4)]
    with pytest.raises(InvalidParameter):
        await wa.send_message(to=CUSTOMER, text="pick", buttons=four)
    with pytest.raises(InvalidParameter):
        await wa.send_message(to=CUSTOMER, text="pick", buttons=[Button("x" * 21, "a")])
    sent = await wa.send_message(to=CUSTOMER, text="pick", buttons=[Button("Yes", "yes")])
    wamid, status = await fake.tap_button(CUSTOMER, "yes", "Yes")
    assert status == 200
    msg = _message(receiver.bodies[-1])
    assert msg["id"] == wamid
    assert msg["interactive"]["button_reply"] == {"id": "yes", "title": "Yes"}
    assert msg["context"]["id"] == sent.id


async def test_list_limits(fake: FakeGraph, wa: WhatsApp, receiver: Receiver) -> None:
    await fake.send_text(CUSTOMER, "hi")
    rows = [SectionRow(title=f"row {i}", callback_data=f"r{i}") for i in range(11)]
    too_many = SectionList(button_title="Choose", sections=[Section("A", rows)])
    with pytest.raises(InvalidParameter):
        await wa.send_message(to=CUSTOMER, text="which?", buttons=too_many)
    ok = SectionList(button_title="Choose", sections=[Section("A", rows[:3])])
    await wa.send_message(to=CUSTOMER, text="which?", buttons=ok)
    assert fake.texts_to(CUSTOMER) == ["which?"]
    await fake.pick_row(CUSTOMER, "r1", "row 1")
    assert _message(receiver.bodies[-1])["interactive"]["list_reply"]["id"] == "r1"


async def test_media_round_trip(fake: FakeGraph, wa: WhatsApp, tmp_path: Path) -> None:
    media = await wa.upload_media(b"\x89PNG-bytes", mime_type="image/png", filename="a.png")
    media_id = media.id
    url = await wa.get_media_url(media_id)
    assert url.mime_type == "image/png" and url.file_size == 10
    path = await wa.download_media(url=url.url, path=tmp_path, filename="a.png")
    assert path.read_bytes() == b"\x89PNG-bytes"
    async with httpx.AsyncClient() as anonymous:
        assert (await anonymous.get(url.url)).status_code == 401


async def test_bad_media_id_refused(fake: FakeGraph, wa: WhatsApp, receiver: Receiver) -> None:
    with pytest.raises(WhatsAppError) as err:
        await wa.get_media_url("123")
    assert err.value.code == 100
    await fake.send_text(CUSTOMER, "hi")
    with pytest.raises(WhatsAppError) as err:
        await wa.send_image(to=CUSTOMER, image="999")
    assert err.value.code == 100


async def test_undeliverable_and_throttled(
    fake: FakeGraph, wa: WhatsApp, receiver: Receiver
) -> None:
    await fake.send_text(CUSTOMER, "hi")
    fake.throttle_times = 1
    with pytest.raises(WhatsAppError) as err:
        await wa.send_message(to=CUSTOMER, text="a")
    assert err.value.code == 130429
    await wa.send_message(to=CUSTOMER, text="b")
    fake.undeliverable.add(CUSTOMER)
    with pytest.raises(WhatsAppError) as err:
        await wa.send_message(to=CUSTOMER, text="c")
    assert err.value.code == 131026


async def test_unauthorized(fake: FakeGraph) -> None:
    async with httpx.AsyncClient() as client:
        res = await client.post(f"{fake.url}/v{VERSION}/{fake.phone_id}/messages", json={})
    assert res.status_code == 401
    assert res.json()["error"]["type"] == "OAuthException"


async def test_webhooks_signed_redelivered_forged(fake: FakeGraph, receiver: Receiver) -> None:
    wamid, status = await fake.send_text(CUSTOMER, "hello", name="Ana")
    assert status == 200
    body = receiver.bodies[-1]
    assert body["object"] == "whatsapp_business_account"
    assert body["entry"][0]["changes"][0]["value"]["contacts"][0]["profile"]["name"] == "Ana"
    assert await fake.redeliver(wamid) == (wamid, 200)
    assert receiver.bodies[-1] == body
    assert await fake.post_raw(b'{"object": "x"}', "sha256=00") == 401
    assert await fake.post_raw(b'{"object": "x"}', None) == 401
    _, status = await fake.send_image(CUSTOMER, b"jpeg", caption="photo")
    image = _message(receiver.bodies[-1])["image"]
    assert fake.media[image["id"]].data == b"jpeg" and image["caption"] == "photo"
    await fake.send_document(CUSTOMER, b"%PDF", filename="r.pdf")
    assert _message(receiver.bodies[-1])["document"]["filename"] == "r.pdf"
    await fake.post_status("wamid.X", "failed", errors=[{"code": 131047, "title": "Re-engagement"}])
    st = receiver.bodies[-1]["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert st["status"] == "failed" and st["errors"][0]["code"] == 131047
    assert await fake.verify("subscribe", fake.verify_token, "abc") == (200, "abc")
    assert (await fake.verify("subscribe", "wrong", "abc"))[0] == 403


async def test_window_uses_the_fake_clock(
    fake: FakeGraph, wa: WhatsApp, receiver: Receiver
) -> None:
    fake.advance(hours=30)
    _, _ = await fake.send_text(CUSTOMER, "back")
    ts = int(_message(receiver.bodies[-1])["timestamp"])
    assert ts == pytest.approx(fake.now(), abs=2)
    fake.advance(hours=23)
    await wa.send_message(to=CUSTOMER, text="in time")

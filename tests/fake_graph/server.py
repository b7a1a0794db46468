"""The fake WhatsApp Cloud (Graph) API: what pywa calls, plus the customer's side (webhooks).

One aiohttp app on 127.0.0.1 serves ``/v{ver}/{phone_id}/messages``, the media endpoints and
``/media/{id}`` downloads; the driver helpers post signed webhooks to ``webhook_url`` so the
bot under test sees exactly what Meta would send, including redeliveries and forged bodies.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

from .checks import check_shape
from .payloads import JSON, GraphError, envelope, inbound, invalid, status_value

WINDOW_SECONDS = 24 * 3600


@dataclass
class Media:
    """Bytes the fake holds, uploaded by the bot or sent by a customer."""

    id: str
    data: bytes
    mime_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Sent:
    """One accepted ``/messages`` call (``body`` is the JSON exactly as posted)."""

    to: str
    type: str
    body: JSON
    wamid: str


@dataclass
class Refusal:
    """One refused ``/messages`` call and the error code the fake answered."""

    to: str
    body: JSON
    code: int
    message: str


@dataclass
class _Posted:
    body: bytes
    wamids: list[str] = field(default_factory=list)


class FakeGraph:
    """An in-process Cloud API that a real ``pywa_async.WhatsApp`` talks to over HTTP."""

    def __init__(
        self,
        *,
        token: str = "EAAG-TEST-TOKEN",
        phone_id: str = "1000000001",
        display_phone_number: str = "15550001111",
        waba_id: str = "2000000002",
        app_secret: str = "test-app-secret",
        verify_token: str = "test-verify-token",
        templates: set[str] | None = None,
    ) -> None:
        self.token = token
        self.phone_id = phone_id
        self.display_phone_number = display_phone_number
        self.waba_id = waba_id
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.templates: set[str] = set(templates or ())  # approved template names
        self.webhook_url = ""  # the bot's webhook; set by the test
        self.url = ""
        self.sent: list[Sent] = []
        self.refusals: list[Refusal] = []
        self.media: dict[str, Media] = {}
        self.undeliverable: set[str] = set()  # wa_ids answered with 131026
        self.throttle_times = 0  # the next N sends are answered 429 / 130429
        self.last_inbound: dict[str, float] = {}  # wa_id -> fake-clock time of last message
        self.offset = 0.0  # seconds added to real time by advance()
        self._ids = itertools.count(1)
        self._posted: dict[str, _Posted] = {}
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind 127.0.0.1 on a free port; ``self.url`` is then the server root."""
        app = web.Application()
        app.router.add_post("/v{ver}/{phone_id}/messages", self._handle_messages)
        app.router.add_post("/v{ver}/{phone_id}/media", self._handle_upload)
        app.router.add_get("/v{ver}/{media_id}", self._handle_media_info)
        app.router.add_get("/media/{media_id}", self._handle_download)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        # No keep-alive: a pooled connection to a bot killed meanwhile would reset.
        self._client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- clock ----------------------------------------------------------------------------
    def now(self) -> float:
        """The fake's clock: real time plus what :meth:`advance` added (the 24 h window)."""
        return time.time() + self.offset

    def advance(self, *, hours: float = 0, minutes: float = 0, seconds: float = 0) -> None:
        self.offset += hours * 3600 + minutes * 60 + seconds

    # -- inspection -----------------------------------------------------------------------
    def sent_to(self, wa_id: str) -> list[Sent]:
        return [s for s in self.sent if s.to == wa_id]

    def texts_to(self, wa_id: str) -> list[str]:
        """Text bodies, interactive body texts and template names, in the order sent."""
        out: list[str] = []
        for s in self.sent_to(wa_id):
            if s.type == "text":
                out.append(s.body["text"]["body"])
            elif s.type == "interactive":
                out.append(s.body["interactive"].get("body", {}).get("text", ""))
            elif s.type == "template":
                out.append(s.body["template"]["name"])
            elif s.type in ("image", "document") and "caption" in s.body[s.type]:
                out.append(s.body[s.type]["caption"])
        return out

    def templates_to(self, wa_id: str) -> list[JSON]:
        return [s.body["template"] for s in self.sent_to(wa_id) if s.type == "template"]

    def add_media(self, data: bytes, mime_type: str = "application/octet-stream") -> str:
        """Hold ``data`` as media (a customer's attachment) and return its id."""
        media_id = str(9_000_000_000 + next(self._ids))
        self.media[media_id] = Media(media_id, data, mime_type)
        return media_id

    # -- HTTP: the bot's side -------------------------------------------------------------
    def _check_auth(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            raise GraphError(
                190, "Invalid OAuth access token - Cannot parse access token", status=401
            )

    @staticmethod
    def _answer(error: GraphError) -> web.Response:
        return web.json_response(error.body(), status=error.status)

    async def _handle_messages(self, request: web.Request) -> web.Response:
        try:
            self._check_auth(request)
            body = await request.json()
        except GraphError as e:
            return self._answer(e)
        except ValueError:
            return self._answer(invalid("the body is not JSON"))
        to = str(body.get("to", ""))
        try:
            self._check_message(request.match_info["phone_id"], to, body)
        except GraphError as e:
            self.refusals.append(Refusal(to, body, e.code, e.message))
            return self._answer(e)
        wamid = f"wamid.FAKE{next(self._ids):08d}="
        self.sent.append(Sent(to, body["type"], body, wamid))
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": wamid}],
            }
        )

    def _check_message(self, phone_id: str, to: str, body: JSON) -> None:
        if self.throttle_times > 0:
            self.throttle_times -= 1
            raise GraphError(130429, "(#130429) Rate limit hit", status=429)
        if phone_id != self.phone_id:
            raise GraphError(
                100, f"Unsupported post request. Object with ID '{phone_id}' does not exist"
            )
        typ = check_shape(body, media_ids=self.media.keys(), templates=self.templates)
        if to in self.undeliverable:
            raise GraphError(131026, "(#131026) Message undeliverable")
        last = self.last_inbound.get(to)
        if typ != "template" and (last is None or self.now() - last > WINDOW_SECONDS):
            raise GraphError(
                131047,
                "(#131047) Re-engagement message: more than 24 hours have passed since the "
                "recipient last replied to the sender number",
            )

    async def _handle_upload(self, request: web.Request) -> web.Response:
        try:
            self._check_auth(request)
        except GraphError as e:
            return self._answer(e)
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField) or form.get("messaging_product") != "whatsapp":
            return self._answer(invalid("file and messaging_product are required"))
        mime = str(form.get("type") or upload.content_type)
        return web.json_response({"id": self.add_media(upload.file.read(), mime)})

    async def _handle_media_info(self, request: web.Request) -> web.Response:
        try:
            self._check_auth(request)
            media = self._media(request.match_info["media_id"])
        except GraphError as e:
            return self._answer(e)
        return web.json_response(
            {
                "url": f"{self.url}/media/{media.id}",
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "file_size": len(media.data),
                "id": media.id,
                "messaging_product": "whatsapp",
            }
        )

    async def _handle_download(self, request: web.Request) -> web.Response:
        try:
            self._check_auth(request)
            media = self._media(request.match_info["media_id"])
        except GraphError as e:
            return self._answer(e)
        return web.Response(body=media.data, content_type=media.mime_type)

    def _media(self, media_id: str) -> Media:
        if media_id not in self.media:
            raise GraphError(
                100,
                f"Unsupported get request. Object with ID '{media_id}' does not exist",
                subcode=33,
            )
        return self.media[media_id]

    # -- the customer's side: webhooks ----------------------------------------------------
    def sign(self, body: bytes) -> str:
        """The ``X-Hub-Signature-256`` value Meta sends with ``body``."""
        return "sha256=" + hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()

    async def post_raw(self, body: bytes, signature: str | None) -> int:
        """Post ``body`` to the bot as is (``signature=None``: no header); the bot's status."""
        assert self._client is not None and self.webhook_url, "start() and set webhook_url"
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        async with self._client.post(self.webhook_url, data=body, headers=headers) as resp:
            await resp.read()
            return resp.status

    async def _post(self, value: JSON) -> tuple[bytes, int]:
        body = json.dumps(envelope(self.waba_id, self.phone_id, self.display_phone_number, value))
        raw = body.encode()
        return raw, await self.post_raw(raw, self.sign(raw))

    async def _message(
        self, wa_id: str, name: str, typ: str, content: JSON, **extra: Any
    ) -> tuple[str, int]:
        wamid = f"wamid.IN{next(self._ids):08d}="
        now = self.now()
        message: JSON = {
            "from": wa_id,
            "id": wamid,
            "timestamp": str(int(now)),
            "type": typ,
            typ: content,
            **extra,
        }
        self.last_inbound[wa_id] = now
        raw, status = await self._post(inbound(wa_id, name, message))
        self._posted[wamid] = _Posted(raw)
        return wamid, status

    async def send_text(self, wa_id: str, text: str, *, name: str = "Customer") -> tuple[str, int]:
        return await self._message(wa_id, name, "text", {"body": text})

    def _context(self, wa_id: str) -> JSON:
        """``context`` naming the last interactive message sent to ``wa_id``, if any."""
        for s in reversed(self.sent_to(wa_id)):
            if s.type == "interactive":
                return {"context": {"from": self.display_phone_number, "id": s.wamid}}
        return {}

    async def tap_button(
        self, wa_id: str, button_id: str, title: str, *, name: str = "Customer"
    ) -> tuple[str, int]:
        reply = {"type": "button_reply", "button_reply": {"id": button_id, "title": title}}
        return await self._message(wa_id, name, "interactive", reply, **self._context(wa_id))

    async def pick_row(
        self,
        wa_id: str,
        row_id: str,
        title: str,
        *,
        description: str | None = None,
        name: str = "Customer",
    ) -> tuple[str, int]:
        row = {"id": row_id, "title": title} | ({"description": description} if description else {})
        reply = {"type": "list_reply", "list_reply": row}
        return await self._message(wa_id, name, "interactive", reply, **self._context(wa_id))

    async def send_image(
        self,
        wa_id: str,
        data: bytes,
        caption: str | None = None,
        mime: str = "image/jpeg",
        *,
        name: str = "Customer",
    ) -> tuple[str, int]:
        return await self._media_message(wa_id, name, "image", data, mime, caption, None)

    async def send_document(
        self,
        wa_id: str,
        data: bytes,
        filename: str = "file.pdf",
        caption: str | None = None,
        mime: str = "application/pdf",
        *,
        name: str = "Customer",
    ) -> tuple[str, int]:
        return await self._media_message(wa_id, name, "document", data, mime, caption, filename)

    async def _media_message(
        self,
        wa_id: str,
        name: str,
        typ: str,
        data: bytes,
        mime: str,
        caption: str | None,
        filename: str | None,
    ) -> tuple[str, int]:
        media = self.media[self.add_media(data, mime)]
        content: JSON = {"id": media.id, "mime_type": mime, "sha256": media.sha256}
        if caption is not None:
            content["caption"] = caption
        if filename is not None:
            content["filename"] = filename
        return await self._message(wa_id, name, typ, content)

    async def redeliver(self, wamid: str) -> tuple[str, int]:
        """Post the very same body again, as Meta does when the bot did not answer 200 in time."""
        raw = self._posted[wamid].body
        return wamid, await self.post_raw(raw, self.sign(raw))

    async def post_status(
        self, wamid: str, status: str, errors: list[JSON] | None = None
    ) -> tuple[str, int]:
        """A status webhook for a message the bot sent (``status``: sent/delivered/read/failed)."""
        recipient = next((s.to for s in self.sent if s.wamid == wamid), "")
        _, code = await self._post(status_value(wamid, status, recipient, int(self.now()), errors))
        return wamid, code

    async def verify(self, mode: str, token: str, challenge: str) -> tuple[int, str]:
        """The GET handshake Meta does when the webhook URL is configured."""
        assert self._client is not None and self.webhook_url
        params = {"hub.mode": mode, "hub.verify_token": token, "hub.challenge": challenge}
        async with self._client.get(self.webhook_url, params=params) as resp:
            return resp.status, await resp.text()

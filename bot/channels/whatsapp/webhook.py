"""The WhatsApp webhook: the Cloud API's verification handshake and its signed POSTs.

A POST is checked against `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the
app secret, compared in constant time: pywa's `webhook_updates_validator`); an unsigned or
wrongly signed one is refused with 401 and changes nothing. A good one is stored before
it is answered (each message once, by its wamid) and handled afterwards by
`bot/channels/whatsapp/inbound.py`: the Cloud API redelivers what was not answered 200,
and a kill between the two loses nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pywa.utils import webhook_updates_validator

from bot.domain.channels import whatsapp_customer_id
from storage.whatsapp import WhatsAppStore

log = logging.getLogger(__name__)

PATH = "/whatsapp"
MAX_BODY = 1024 * 1024  # a webhook batch is a few kB; more is not the Cloud API


class WhatsAppWebhook:
    """The aiohttp routes of the WhatsApp webhook (served by `bot/channels/whatsapp/run.py`)."""

    def __init__(
        self,
        store: WhatsAppStore,
        *,
        app_secret: str,
        verify_token: str,
        on_messages: Callable[[], None],
        on_status: Callable[[str, str, str | None, int], Awaitable[None]],
    ) -> None:
        self._store = store
        self._secret = app_secret
        self._verify_token = verify_token
        self._on_messages = on_messages
        self._on_status = on_status

    def routes(self) -> list[web.RouteDef]:
        return [web.get(PATH, self.verify), web.post(PATH, self.receive)]

    async def verify(self, request: web.Request) -> web.Response:
        """Meta's subscription handshake: echo `hub.challenge` for the right verify token."""
        query = request.query
        if query.get("hub.mode") == "subscribe" and query.get("hub.verify_token") == (
            self._verify_token
        ):
            return web.Response(text=query.get("hub.challenge", ""))
        log.warning("Refused a WhatsApp webhook verification with a wrong verify token")
        return web.Response(status=403, text="Forbidden")

    async def receive(self, request: web.Request) -> web.Response:
        body = await request.content.read(MAX_BODY + 1)
        signature = request.headers.get("X-Hub-Signature-256", "")
        if (
            len(body) > MAX_BODY
            or not signature
            or not webhook_updates_validator(
                app_secret=self._secret, request_body=body, x_hub_signature=signature
            )
        ):
            log.warning("Refused a WhatsApp webhook call: missing or wrong signature")
            return web.Response(status=401, text="Unauthorized")
        try:
            update = json.loads(body)
        except ValueError:
            log.warning("Ignored a signed WhatsApp webhook call that is not JSON")
            return web.Response(text="ok")
        messages, statuses = parse(update)
        # Stored before the answer: only a 200 stops the Cloud API sending it again.
        if messages and await self._store.receive(messages):
            self._on_messages()
        for wamid, status, error, at in statuses:
            await self._on_status(wamid, status, error, at)
        return web.Response(text="ok")


def parse(
    update: Any,
) -> tuple[list[tuple[str, str, dict[str, Any]]], list[tuple[str, str, str | None, int]]]:
    """The messages (wamid, sender, message with the sender's profile name) and the
    statuses (wamid, status, error, time) a webhook call carries; anything else is left."""
    messages: list[tuple[str, str, dict[str, Any]]] = []
    statuses: list[tuple[str, str, str | None, int]] = []
    if not isinstance(update, dict) or update.get("object") != "whatsapp_business_account":
        return messages, statuses
    for entry in update.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            names = {
                str(c.get("wa_id")): str((c.get("profile") or {}).get("name") or "")
                for c in value.get("contacts") or []
            }
            for message in value.get("messages") or []:
                wamid, sender = message.get("id"), message.get("from")
                if not wamid or not sender or not _number(str(sender)):
                    log.warning("Ignored a WhatsApp message without a usable sender")
                    continue
                message = {**message, "profile_name": names.get(str(sender), "")}
                messages.append((str(wamid), str(sender), message))
            for status in value.get("statuses") or []:
                errors = status.get("errors") or []
                error = None
                if errors:
                    first = errors[0]
                    error = f"{first.get('code')}: {first.get('title') or first.get('message')}"
                statuses.append(
                    (
                        str(status.get("id")),
                        str(status.get("status")),
                        error,
                        int(status.get("timestamp") or 0),
                    )
                )
    return messages, statuses


def _number(wa_id: str) -> bool:
    try:
        whatsapp_customer_id(wa_id)
    except ValueError:
        return False
    return True

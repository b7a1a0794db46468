"""The Cloud API client: pywa's, pointed at `WHATSAPP_API_URL`.

pywa fixes its Graph API root (`https://graph.facebook.com/v{version}`) on its session;
the desk sets the session's base URL to the configured root after, so a test fake (or a
proxy) can stand in. Nothing else of pywa's is changed: its server, handlers and
listeners are not used (the desk stores and handles webhooks itself).
"""

from __future__ import annotations

import httpx
from pywa_async.client import WhatsApp

from bot.config import Settings

TIMEOUT = 15.0


def build_client(settings: Settings) -> WhatsApp:
    assert settings.whatsapp_token is not None and settings.whatsapp_phone_number_id
    session = httpx.AsyncClient(timeout=TIMEOUT)
    wa = WhatsApp(
        phone_id=settings.whatsapp_phone_number_id,
        token=settings.whatsapp_token.get_secret_value(),
        session=session,
        server=None,
        api_version=settings.whatsapp_api_version,
        validate_updates=False,  # the desk's webhook checks signatures (webhook.py)
    )
    session.base_url = httpx.URL(f"{settings.whatsapp_api_url}/v{settings.whatsapp_api_version}/")
    return wa

"""An in-process fake of the WhatsApp Cloud (Graph) API for tests.

:class:`FakeGraph` serves what ``pywa_async.WhatsApp`` calls (messages, media upload, media
URL, download) and refuses what the Cloud API refuses (shape limits 131009, the 24-hour
window 131047, unknown media 100, undeliverable 131026, throughput 130429). Its driver helpers
act as customers: they post signed webhooks to ``fake.webhook_url``.

Point pywa at it with ``wa.api._session.base_url = f"{fake.url}/v{version}"``.
"""

from .payloads import GraphError
from .server import FakeGraph, Media, Refusal, Sent

__all__ = ["FakeGraph", "GraphError", "Media", "Refusal", "Sent"]

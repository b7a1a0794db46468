"""Builders of Cloud API webhook bodies and Graph errors, kept apart from the server's state.

The shapes follow Meta's webhook reference, so that pywa's own parsers accept what we post.
"""

from __future__ import annotations

import secrets
from typing import Any

JSON = dict[str, Any]


class GraphError(Exception):
    """A refusal in Graph's shape: raised by the validators, answered as HTTP ``status``."""

    def __init__(self, code: int, message: str, *, status: int = 400, subcode: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.subcode = subcode

    def body(self) -> JSON:
        error: JSON = {
            "message": self.message,
            "type": "OAuthException",
            "code": self.code,
            "fbtrace_id": "A" + secrets.token_hex(8),
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        return {"error": error}


def invalid(message: str) -> GraphError:
    """131009: what the Cloud API answers for a value out of its limits."""
    return GraphError(131009, f"(#131009) Parameter value is not valid: {message}")


def envelope(waba_id: str, phone_id: str, display: str, value: JSON) -> JSON:
    """Wrap one ``messages`` change the way every Cloud API webhook is wrapped."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display, "phone_number_id": phone_id},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"field": "messages", "value": value}]}],
    }


def inbound(wa_id: str, name: str, message: JSON) -> JSON:
    """The ``value`` of a customer's message webhook."""
    return {"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [message]}


def status_value(
    wamid: str, status: str, recipient: str, timestamp: int, errors: list[JSON] | None
) -> JSON:
    """The ``value`` of a status webhook (sent, delivered, read, failed)."""
    entry: JSON = {
        "id": wamid,
        "status": status,
        "timestamp": str(timestamp),
        "recipient_id": recipient,
    }
    if errors:
        entry["errors"] = errors
    return {"statuses": [entry]}

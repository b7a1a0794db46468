"""No token and no full card number is ever written to a log."""

from __future__ import annotations

import logging

import pytest

from bot.logging import RedactingFilter

TOKEN = "123456:SECRET-token_value"


def _format(record: logging.LogRecord) -> str:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler.format(record)


@pytest.mark.parametrize(
    ("msg", "args"),
    [
        ("POST https://api.telegram.org/bot%s/sendMessage", (TOKEN,)),
        ("customer wrote: %s", ("my card 4111 1111 1111 1111",)),
        ("plain https://x/bot123456:SECRET-token_value/getMe", ()),
    ],
)
def test_secrets_are_redacted(msg: str, args: tuple[object, ...]) -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, msg, args, None)
    assert RedactingFilter([TOKEN]).filter(record)
    text = _format(record)
    assert TOKEN not in text
    assert "4111 1111 1111 1111" not in text


def test_tracebacks_are_redacted_too() -> None:
    try:
        raise RuntimeError(f"failed calling /bot{TOKEN}/getMe for card 4111111111111111")
    except RuntimeError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    RedactingFilter([TOKEN]).filter(record)
    text = _format(record)
    assert "RuntimeError" in text
    assert TOKEN not in text and "4111111111111111" not in text

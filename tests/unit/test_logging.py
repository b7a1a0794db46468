"""No token and no full card number is ever written to a log."""

from __future__ import annotations

import asyncio
import logging
import sys
from urllib.parse import quote

import pytest

from bot.channels.telegram.faults import Trouble
from bot.logcontext import note_ticket, note_update
from bot.logging import LineFormatter, RedactingFilter

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


def _line(record: logging.LogRecord, *, tracebacks: bool = False) -> str:
    """The record as the bot writes it: through its filter and its formatter."""
    handler = logging.StreamHandler()
    handler.setFormatter(LineFormatter([TOKEN], tracebacks=tracebacks))
    handler.addFilter(RedactingFilter([TOKEN]))
    assert handler.filter(record)
    return handler.format(record)


def _failing_record(message: str = "boom") -> logging.LogRecord:
    try:
        try:
            raise OSError(f"connect to /bot{TOKEN}/getMe failed")
        except OSError as inner:
            raise RuntimeError(f"card 4111111111111111, token {quote(TOKEN)}") from inner
    except RuntimeError:
        return logging.LogRecord("x", logging.ERROR, __file__, 1, message, (), sys.exc_info())


@pytest.mark.parametrize("tracebacks", [True, False])
def test_every_part_of_a_record_is_redacted(tracebacks: bool) -> None:
    record = _failing_record("sending %s")
    record.args = (f"https://api.telegram.org/bot{TOKEN}/sendMessage",)
    record.stack_info = f"Stack (most recent call last):\n  token {TOKEN}"
    text = _line(record, tracebacks=tracebacks)
    assert "RuntimeError" in text
    secret = TOKEN.split(":", 1)[1]
    for leak in (TOKEN, quote(TOKEN), secret, "4111111111111111"):
        assert leak not in text


def test_below_debug_an_exception_is_one_line_at_the_end_of_its_record() -> None:
    text = _line(_failing_record())
    assert "\n" not in text
    assert text.endswith("[RuntimeError: card 411111******1111, token [REDACTED]]")
    assert "Traceback" in _line(_failing_record(), tracebacks=True)


def test_a_line_names_its_update_and_ticket_and_can_not_be_forged() -> None:
    async def handle() -> str:
        note_update(42)
        note_ticket(1001)
        message = "customer wrote: hi\n2026-01-01 CRITICAL bot: forged"
        return _line(logging.LogRecord("bot.x", logging.INFO, __file__, 1, message, (), None))

    text = asyncio.run(handle())
    assert " INFO bot.x update=42 ticket=#1001: customer wrote: hi\\n2026" in text
    assert "\n" not in text
    # Outside that task nothing is noted.
    plain = _line(logging.LogRecord("bot.x", logging.INFO, __file__, 1, "hello", (), None))
    assert plain.endswith(" INFO bot.x: hello")


def test_a_repeating_failure_is_logged_when_it_starts_changes_and_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    trouble = Trouble("Fetching", logging.getLogger("t"), first=1.0, cap=4.0)
    caplog.set_level(logging.DEBUG, logger="t")
    waits = [trouble.failed("refused") for _ in range(5)]
    trouble.failed("timed out")
    assert trouble.succeeded() is True
    assert trouble.succeeded() is False
    assert waits == [1.0, 2.0, 4.0, 4.0, 4.0]
    above_debug = [r.getMessage() for r in caplog.records if r.levelno > logging.DEBUG]
    assert above_debug == [
        "Fetching failed: refused; retrying with a growing delay",
        "Fetching failed: timed out; retrying with a growing delay",
        "Fetching works again (after 6 failed attempts)",
    ]

"""Logging set-up: one line per event, what it is about, and no secret ever written out.

Every line reads `time LEVEL logger update=… ticket=#…: message`, the two fields present
where known (bot/logcontext.py). A message's own line breaks are escaped, so a customer's
text can't forge a line. Tracebacks are written only at DEBUG; at the other levels an
exception is its one-line summary at the end of its line. The token (also URL-encoded,
and its secret half alone) and every full card number are redacted from the whole line:
message, arguments, exception text and traceback, and stack.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

from bot.domain.fraud import mask_cards
from bot.logcontext import current

REDACTED = "[REDACTED]"
_MIN_SECRET = 8  # a token's secret half shorter than this is not searched for on its own


def _variants(secret: str) -> list[str]:
    """The secret as it may appear: as is, URL-encoded, and a token's part after the colon."""
    found = {secret, quote(secret, safe=""), quote(secret)}
    _, colon, tail = secret.partition(":")
    if colon and len(tail) >= _MIN_SECRET:
        found.add(tail)
    return sorted(found, key=len, reverse=True)


class Redactor:
    def __init__(self, secrets: list[str]) -> None:
        variants = [v for s in secrets if s for v in _variants(s)]
        self._pattern = re.compile("|".join(re.escape(v) for v in variants)) if variants else None

    def __call__(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(REDACTED, text)
        return mask_cards(text)[0]


class RedactingFilter(logging.Filter):
    """Replace the bot token and any full card number in every record before it is written,
    and note what the record is about (`update_id`, `ticket`)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._clean = Redactor(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._clean(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Format the traceback now, redacted, so handlers print the clean copy.
            record.exc_text = self._clean(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if not hasattr(record, "update_id"):
            record.update_id, record.ticket = current()
        return True


class LineFormatter(logging.Formatter):
    """One line per record (a traceback follows it only with `tracebacks`), redacted."""

    def __init__(self, secrets: list[str], *, tracebacks: bool) -> None:
        super().__init__()
        self._clean = Redactor(secrets)
        self._tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage().replace("\r", "\\r").replace("\n", "\\n")
        about = ""
        update_id = getattr(record, "update_id", None)
        ticket = getattr(record, "ticket", None)
        if update_id is not None:
            about += f" update={update_id}"
        if ticket is not None:
            about += f" ticket=#{ticket}"
        line = f"{self.formatTime(record)} {record.levelname} {record.name}{about}: {message}"
        trace = record.exc_text
        if record.exc_info and record.exc_info[1] is not None:
            trace = self.formatException(record.exc_info)
        if trace:
            if self._tracebacks:
                line += "\n" + trace
            else:
                lines = [t for t in trace.splitlines() if t.strip()]
                line += f" [{lines[-1].strip()}]" if lines else ""
        if record.stack_info and self._tracebacks:
            line += "\n" + record.stack_info
        return self._clean(line)


def setup_logging(level: str, secrets: list[str]) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        LineFormatter(secrets, tracebacks=logging.getLevelName(level) <= logging.DEBUG)
    )
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Warnings (Python's and PTB's) go through the same handler, redacted like the rest.
    logging.captureWarnings(True)
    # httpx logs every request URL at INFO, and the URL carries the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # PTB's limiter logs an ERROR for every 429 it passes on ("after maximum of 0
    # retries"); ours waits it out and sends again, and says so itself
    # (bot/channels/telegram/ratelimit.py). A 429 nothing retried still reaches the log
    # through the caller that gets it.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)

"""Logging set-up: one format, quiet HTTP libraries, and no secret ever written out."""

from __future__ import annotations

import logging
import re

from bot.domain.fraud import mask_cards


class RedactingFilter(logging.Filter):
    """Replace the bot token and any full card number in every record before it is written."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._patterns = [re.compile(re.escape(s)) for s in secrets if s]

    def _clean(self, text: str) -> str:
        for pattern in self._patterns:
            text = pattern.sub("[REDACTED]", text)
        return mask_cards(text)[0]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._clean(message)
        if record.exc_info and record.exc_info[1] is not None:
            # Format the traceback now, redacted, so handlers print the clean copy.
            formatter = logging.Formatter()
            record.exc_text = self._clean(formatter.formatException(record.exc_info))
            record.exc_info = None
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


def setup_logging(level: str, secrets: list[str]) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO, and the URL carries the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)

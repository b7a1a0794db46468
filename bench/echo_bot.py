"""The framework floor: a bare PTB bot that echoes every text, set up like the desk.

`BOT_TOKEN`, `TELEGRAM_API_URL` and `RATE_LIMITER` (1 or 0) come from the environment.
The requests, defaults and polling are the desk's (bot/app.py), so the difference between
the two is the desk's own work.
"""

from __future__ import annotations

import logging
import os

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

TIMEOUT = 10.0


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the text back."""
    message = update.effective_message
    assert message is not None and message.text is not None
    await message.reply_text(message.text, parse_mode=None)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    root = os.environ["TELEGRAM_API_URL"]
    builder = (
        ApplicationBuilder()
        .token(os.environ["BOT_TOKEN"])
        .base_url(f"{root}/bot")
        .base_file_url(f"{root}/file/bot")
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .request(
            HTTPXRequest(
                connection_pool_size=256,
                read_timeout=TIMEOUT,
                write_timeout=TIMEOUT,
                connect_timeout=TIMEOUT,
            )
        )
        .get_updates_request(HTTPXRequest(connection_pool_size=1, connect_timeout=TIMEOUT))
        .concurrent_updates(False)
    )
    if os.environ.get("RATE_LIMITER", "1") == "1":
        # PTB types the limiter's per-call arguments; the default builder expects None.
        builder = builder.rate_limiter(AIORateLimiter())  # type: ignore[arg-type]
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()

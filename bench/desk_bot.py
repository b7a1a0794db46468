"""The desk without PTB's AIORateLimiter, for the benchmark only: `python bench/desk_bot.py`.

Settings come from the environment exactly as for `python -m bot` (no .env file is read).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update

from bot.app import build_application
from bot.config import load_settings
from bot.logging import setup_logging


def main() -> None:
    settings = load_settings(_env_file=None)
    setup_logging(settings.log_level, [settings.bot_token.get_secret_value()])
    application = build_application(settings, limits=None)
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()

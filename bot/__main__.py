"""`python -m bot`: run the support desk (long polling or webhook) and its maintenance commands."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from telegram import Update

if TYPE_CHECKING:
    from bot.config import Settings

EXIT_BAD_SETTINGS = 2
WEBHOOK_PATH = "telegram"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="A customer-support desk for Telegram. Settings come from the "
        "environment and a .env file; see .env.example.",
    )
    parser.add_argument(
        "--env-file", default=".env", help="read settings from this file too (default: .env)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "run", help="run the bot (the default): long polling, or a webhook when WEBHOOK_URL is set"
    )
    commands.add_parser("check", help="validate the settings and message catalogs, then exit")
    commands.add_parser("migrate", help="create or upgrade the database, then exit")
    return parser


def webhook_options(settings: Settings) -> dict[str, Any]:
    """Where the webhook listens and what Telegram is told (the bot serves `/telegram`)."""
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": WEBHOOK_PATH,
        "webhook_url": f"{settings.webhook_url}/{WEBHOOK_PATH}",
        "secret_token": (
            settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Imports after argument parsing keep `--help` instant and independent of settings.
    from bot.config import SettingsError, load_settings
    from bot.i18n import CatalogError, load_catalogs
    from bot.logging import setup_logging

    try:
        settings = load_settings(_env_file=args.env_file)
        load_catalogs()
    except (SettingsError, CatalogError) as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - the one line an operator sees
        return EXIT_BAD_SETTINGS
    setup_logging(settings.log_level, [settings.bot_token.get_secret_value()])

    if args.command == "check":
        print("settings and catalogs are valid")  # noqa: T201
        return 0
    if args.command == "migrate":
        from storage import Database

        async def migrate() -> None:
            db = Database(settings.database_path)
            await db.connect()
            await db.close()

        asyncio.run(migrate())
        print(f"database {settings.database_path} is up to date")  # noqa: T201
        return 0

    from bot.app import build_application

    application = build_application(settings)
    if settings.webhook_url:
        application.run_webhook(allowed_updates=Update.ALL_TYPES, **webhook_options(settings))
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


if __name__ == "__main__":
    sys.exit(main())

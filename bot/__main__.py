"""`python -m bot`: run the support desk (long polling or webhook) and its maintenance commands."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.app import SupportApplication
    from bot.config import Settings
    from storage import QuarantinedUpdate

EXIT_BAD_SETTINGS = 2
WEBHOOK_PATH = "telegram"
DEFAULT_ENV_FILE = ".env"

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="A customer-support desk for Telegram. Settings come from the "
        "environment and a .env file; see .env.example.",
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        help=f"read settings from this file too (default: {DEFAULT_ENV_FILE}, if it exists)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "run", help="run the bot (the default): long polling, or a webhook when WEBHOOK_URL is set"
    )
    commands.add_parser("check", help="validate the settings and message catalogs, then exit")
    commands.add_parser("migrate", help="create or upgrade the database, then exit")
    stats = commands.add_parser(
        "stats", help="print the desk's figures for the last days (as /stats does), then exit"
    )
    stats.add_argument("--days", type=int, default=7, help="the period in days (default: 7)")
    stats.add_argument(
        "--locale", choices=("en", "id", "sv"), help="the language (default: ADMIN_LOCALE)"
    )
    export = commands.add_parser(
        "export", help="write the tickets as CSV (as /export does), then exit"
    )
    export.add_argument(
        "--since",
        type=date.fromisoformat,
        help="only tickets created on or after this date"
        " (YYYY-MM-DD, in TIMEZONE; default: every ticket)",
    )
    export.add_argument("--out", type=Path, required=True, help="the CSV file to write")
    export.add_argument("--full", action="store_true", help="include subjects and messages")
    forget = commands.add_parser(
        "forget", help="anonymize a customer at their request (as /forget does), then exit"
    )
    forget.add_argument("user_id", type=int, help="the customer's Telegram user id")
    migrate_to = commands.add_parser(
        "migrate-to",
        help="copy the SQLite desk at DATABASE_PATH into an empty PostgreSQL database and"
        " check the counts, then exit",
    )
    migrate_to.add_argument("url", help="postgresql://user:password@host:5432/name")
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


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)  # noqa: T201 - the one line an operator sees
    return EXIT_BAD_SETTINGS


async def _open_database(settings: Settings) -> None:
    """Create or upgrade the database now, so a path it can't use stops start-up here."""
    from bot.compose import open_database

    db = open_database(settings)
    await db.connect()
    await db.close()


async def _run(settings: Settings, application: SupportApplication) -> bool:
    """Check the database, wait for Telegram, then run until SIGINT or SIGTERM.

    False when a stop signal came before Telegram could be reached. Migrations wait for
    the run itself, so a failed check is the only line written.
    """
    from bot.channels.telegram.runner import serve, stop_on_signals
    from bot.channels.telegram.startup import wait_for_telegram
    from bot.compose import open_database

    await open_database(settings).check_usable()
    desk = application.bot_data.desk
    stop = asyncio.Event()
    with stop_on_signals(stop):
        if not await wait_for_telegram(settings, stop):
            return False
        await serve(
            application,
            stop,
            webhook=webhook_options(settings) if settings.webhook_url else None,
            polling_failed=application.bot.polling_failed,
            # Several workers on PostgreSQL: the leader alone polls (storage.leader).
            elected=desk.leads if desk.leadership.shared else None,
        )
    return True


def _database_setting(settings: Settings) -> str:
    """The setting that names the database, for an error line."""
    return "DATABASE_URL" if settings.database_url is not None else "DATABASE_PATH"


def _database_name(settings: Settings) -> str:
    from bot.compose import open_database

    return open_database(settings).where


def _check_quarantine(settings: Settings) -> str | None:
    """List the quarantined updates (or None when the file can't be read: the error line)."""
    import sqlite3

    from storage import DatabaseUnavailableError, read_quarantine

    try:
        if settings.database_url is None:
            found = read_quarantine(settings.database_path)
        else:
            found = asyncio.run(_read_quarantine(settings))
    except sqlite3.Error as exc:
        return f"DATABASE_PATH: {settings.database_path}: {exc}"
    except DatabaseUnavailableError as exc:
        return f"DATABASE_URL: {exc}"
    if not found:
        print("no quarantined updates")  # noqa: T201
        return None
    print(f"quarantined updates ({len(found)}, newest first):")  # noqa: T201
    for entry in found:
        when = entry.quarantined_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        print(  # noqa: T201
            f"  update {entry.update_id}  {when}  failed {entry.attempts}x  {entry.error}"
        )
    return None


async def _read_quarantine(settings: Settings) -> list[QuarantinedUpdate] | None:
    """The quarantined updates in a PostgreSQL database, without migrating it."""
    from bot.compose import open_database
    from storage import Quarantine

    db = open_database(settings)
    await db.connect(migrate=False)
    try:
        if not await db.has_table("quarantined_updates"):
            return None
        return await Quarantine(db).latest()
    finally:
        await db.close()


async def _print_stats(settings: Settings, days: int, locale: str | None) -> None:
    """The figures /stats shows, read from the same database without Telegram."""
    from bot.compose import StoredDesk, open_database
    from bot.i18n import use_locale
    from bot.stats_text import render_stats

    db = open_database(settings)
    await db.connect()
    try:
        desk = StoredDesk(settings, db)
        figures = await desk.stats(days)
        with use_locale(locale or await desk.admin_locale()):
            print(render_stats(figures, settings, markup=False))  # noqa: T201
    finally:
        await db.close()


async def _export(settings: Settings, since: date | None, out: Path, full: bool) -> int:
    """Write the CSV /export sends, straight to a file (no size limit here), and note it on
    the desk's trail as done on the server."""
    from bot.compose import StoredDesk, open_database
    from bot.domain.export import ENCODING, write_csv

    start = None
    if since is not None:
        start = datetime.combine(since, time(0), tzinfo=settings.tz)
    db = open_database(settings)
    await db.connect()
    try:
        desk = StoredDesk(settings, db)
        with out.open("w", encoding=ENCODING, newline="") as handle:
            batches = desk.tickets.export_batches(start, full=full)
            count = await write_csv(batches, handle, tz=settings.tz, now=desk.clock(), full=full)
        period = "all" if since is None else f"since {since.isoformat()}"
        await desk.exported(None, period, full=full)
        return count
    finally:
        await db.close()


async def _forget(settings: Settings, user_id: int) -> int | None:
    """Anonymize a customer offline; how many tickets they had (None: unknown customer).
    They are told the next time the bot runs (the notice waits in the outbox)."""
    from bot.compose import StoredDesk, open_database
    from bot.i18n import use_locale
    from bot.texts import forgotten_texts

    db = open_database(settings)
    await db.connect()
    try:
        desk = StoredDesk(settings, db)
        with use_locale(await desk.admin_locale()):
            marker, name = forgotten_texts()
        done = await desk.forget(user_id, None, marker=marker, name=name)
        return None if done is None else len(done.tickets)
    finally:
        await db.close()


def _migrate_to(settings: Settings, url: str) -> int:
    """`python -m bot migrate-to URL`: the copy, a line a table, and its outcome."""
    from pydantic import SecretStr
    from sqlalchemy.exc import SQLAlchemyError

    from bot.config import postgres_url
    from storage import Database, DatabaseUnavailableError
    from storage.copy import CopyError, copy_desk

    try:
        target_url = postgres_url(SecretStr(url)).get_secret_value()
    except ValueError as exc:
        return _fail(f"migrate-to: {exc}")
    if settings.database_url is not None:
        return _fail("migrate-to copies the SQLite file at DATABASE_PATH: unset DATABASE_URL")
    source = Database(settings.database_path)
    target = Database(settings.database_path, url=target_url)

    async def copy() -> list[tuple[str, int, int]]:
        try:
            return [(c.table, c.source, c.target) for c in await copy_desk(source, target)]
        finally:
            await source.close()
            await target.close()

    try:
        copied = asyncio.run(copy())
    except DatabaseUnavailableError as exc:
        return _fail(f"migrate-to: {exc}")
    except CopyError as exc:
        return _fail(f"migrate-to: {exc}; nothing was copied")
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return _fail(f"migrate-to: PostgreSQL refused a row ({reason}); nothing was copied")
    for table, mine, theirs in copied:
        print(f"{table:<20} {mine:>10} → {theirs:>10}")  # noqa: T201
    rows = sum(mine for _, mine, _ in copied)
    print(  # noqa: T201
        f"copied {rows} rows of {len(copied)} tables into {target.where}: every count matches."
        " Set DATABASE_URL to it and start the bot."
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Imports after argument parsing keep `--help` instant and independent of settings.
    from bot.channels.telegram.startup import TokenRejectedError
    from bot.config import SettingsError, load_settings
    from bot.domain.faq import Faq, FaqError
    from bot.i18n import CatalogError, load_catalogs
    from bot.logging import setup_logging
    from storage import DatabaseUnavailableError

    # The default file is optional; a file named on the command line must be there.
    env_file: Path = args.env_file or Path(DEFAULT_ENV_FILE)
    if args.env_file is not None and not env_file.exists():
        return _fail(f"--env-file {env_file}: no such file")
    if env_file.is_dir():
        return _fail(f"--env-file {env_file}: is a folder, not a file")
    try:
        settings = load_settings(_env_file=env_file)
        load_catalogs()
        if args.command == "check":
            Faq.load()
    except (SettingsError, CatalogError, FaqError) as exc:
        return _fail(str(exc))
    setup_logging(settings.log_level, [settings.bot_token.get_secret_value()])

    if args.command == "check":
        print("settings and catalogs are valid")  # noqa: T201
        problem = _check_quarantine(settings)
        return _fail(problem) if problem else 0
    if args.command == "migrate":
        try:
            asyncio.run(_open_database(settings))
        except DatabaseUnavailableError as exc:
            return _fail(f"{_database_setting(settings)}: {exc}")
        print(f"database {_database_name(settings)} is up to date")  # noqa: T201
        return 0

    if args.command == "stats":
        if not 1 <= args.days <= 3660:
            return _fail("--days: give a number of days from 1 to 3660")
        try:
            asyncio.run(_print_stats(settings, args.days, args.locale))
        except DatabaseUnavailableError as exc:
            return _fail(f"{_database_setting(settings)}: {exc}")
        return 0

    if args.command == "export":
        try:
            count = asyncio.run(_export(settings, args.since, args.out, args.full))
        except DatabaseUnavailableError as exc:
            return _fail(f"{_database_setting(settings)}: {exc}")
        except OSError as exc:
            return _fail(f"--out {args.out}: {exc.strerror or exc}")
        print(f"{count} tickets written to {args.out}")  # noqa: T201
        return 0

    if args.command == "forget":
        try:
            tickets = asyncio.run(_forget(settings, args.user_id))
        except DatabaseUnavailableError as exc:
            return _fail(f"{_database_setting(settings)}: {exc}")
        if tickets is None:
            return _fail(f"no customer has the user id {args.user_id}")
        print(  # noqa: T201
            f"customer {args.user_id} forgotten ({tickets} tickets kept without their texts);"
            " they are told when the bot next runs"
        )
        return 0

    if args.command == "migrate-to":
        return _migrate_to(settings, args.url)

    from bot.app import build_application

    try:
        application = build_application(settings)
    except FaqError as exc:
        return _fail(str(exc))
    try:
        ready = asyncio.run(_run(settings, application))
    except DatabaseUnavailableError as exc:
        return _fail(f"{_database_setting(settings)}: {exc}")
    except TokenRejectedError as exc:
        return _fail(str(exc))
    if not ready:
        log.info("Stopped before Telegram could be reached")
    return 0


if __name__ == "__main__":
    sys.exit(main())

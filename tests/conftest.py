"""Shared fixtures: settings on a temporary SQLite file, an open database, a desk."""

from __future__ import annotations

import os

# PTB 22 warns when RetryAfter.retry_after is read as an int; with warnings as errors that
# would mask the real error, so tests use the timedelta form the code expects.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.compose import SqliteDesk
from bot.config import Settings
from storage import Database
from tests.figures import summary_lines

TOKEN = "123456:TEST-token_abcdef"


class FakeClock:
    """A clock tests can move."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "bot_token": TOKEN,
            "database_path": tmp_path / "support.db",
        }
        values.update(overrides)
        # _env_file=None: a developer's own .env must never leak into a test.
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def clock() -> FakeClock:
    # A Monday morning in Jakarta (02:00 UTC = 09:00 WIB).
    return FakeClock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.database_path)
    await database.connect()
    yield database
    await database.close()


@pytest.fixture
async def desk(settings: Settings, db: Database, clock: FakeClock) -> SqliteDesk:
    return SqliteDesk(settings, db, clock)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the hardening suites' figures (tests/figures.py) at the end of the run."""
    lines = summary_lines()
    if lines:
        terminalreporter.section("hardening figures")
        for line in lines:
            terminalreporter.write_line(line)

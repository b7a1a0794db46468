"""Shared fixtures: settings on a temporary database, an open database, a desk.

Every test that uses the settings runs twice, on SQLite and on PostgreSQL (`backend`),
unless it is marked `sqlite_only` (it reads or breaks the SQLite file itself) or
`one_backend` (it names its databases itself, PostgreSQL ones included). The
PostgreSQL server is started once for the session (`tests/postgres.py`); without one the
PostgreSQL runs are skipped with the reason, except under CI (`CI=true`), where they fail.
"""

from __future__ import annotations

import os

# PTB 22 warns when RetryAfter.retry_after is read as an int; with warnings as errors that
# would mask the real error, so tests use the timedelta form the code expects.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.compose import StoredDesk, open_database
from bot.config import Settings
from storage import Database
from tests import postgres
from tests.figures import summary_lines

TOKEN = "123456:TEST-token_abcdef"


class FakeClock:
    """A clock tests can move."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: the test reads or breaks the SQLite file itself"
    )
    config.addinivalue_line(
        "markers", "one_backend: the test names its databases itself: it runs once"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        once = any(
            metafunc.definition.get_closest_marker(name) is not None
            for name in ("sqlite_only", "one_backend")
        )
        metafunc.parametrize("backend", BACKENDS[:1] if once else BACKENDS)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str | None]:
    """The URL of the session's PostgreSQL server, or None (with the reason printed)."""
    own = os.environ.get("DESK_TEST_DATABASE_URL")
    if own:
        yield own
        return
    bin_dir = postgres.binaries()
    if bin_dir is None:
        yield None
        return
    server = postgres.Server(bin_dir)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
async def pg_url(postgres_server: str | None) -> str:
    """The URL of an empty PostgreSQL database (for a test of PostgreSQL alone)."""
    if postgres_server is None:
        reason = "no PostgreSQL server: install postgresql (its initdb and pg_ctl) to run these"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    await postgres.empty(postgres_server)
    return postgres_server


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str | None:
    """None on SQLite; on PostgreSQL the URL of an empty database."""
    if backend == "sqlite":
        return None
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def make_settings(tmp_path: Path, database_url: str | None) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "bot_token": TOKEN,
            "database_path": tmp_path / "support.db",
            "database_url": database_url,
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
    database = open_database(settings)
    await database.connect()
    yield database
    await database.close()


@pytest.fixture
async def desk(settings: Settings, db: Database, clock: FakeClock) -> StoredDesk:
    return StoredDesk(settings, db, clock)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the hardening suites' figures (tests/figures.py) at the end of the run."""
    lines = summary_lines()
    if lines:
        terminalreporter.section("hardening figures")
        for line in lines:
            terminalreporter.write_line(line)

"""Two workers on one PostgreSQL desk see each other's changes at once: nothing another
worker may change (a ban, the bound chat, the languages, an update handled) is answered
from one worker's memory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.compose import StoredDesk
from bot.config import Settings
from storage import Database
from tests.conftest import FakeClock

pytestmark = pytest.mark.one_backend  # the two workers' databases are named below

OPERATOR = 1
CUSTOMER = 4242


@pytest.fixture
async def two(
    pg_url: str, tmp_path: Path, make_settings: Callable[..., Settings], clock: FakeClock
) -> AsyncIterator[tuple[StoredDesk, StoredDesk]]:
    settings = make_settings(database_url=pg_url, operator_ids=[OPERATOR])
    dbs = [Database(tmp_path / "support.db", url=pg_url) for _ in range(2)]
    for db in dbs:
        await db.connect()
    yield StoredDesk(settings, dbs[0], clock), StoredDesk(settings, dbs[1], clock)
    for db in dbs:
        await db.close()


async def test_a_ban_on_one_worker_is_seen_on_the_other_at_once(
    two: tuple[StoredDesk, StoredDesk],
) -> None:
    one, other = two
    await one.register_user(CUSTOMER, "Rina", None, None, "id")
    seen = await one.users.get(CUSTOMER)
    assert seen is not None and not seen.is_banned
    assert await other.ban(CUSTOMER, True, by=OPERATOR)
    now = await one.users.get(CUSTOMER)
    assert now is not None and now.is_banned


async def test_the_bound_chat_and_the_languages_follow_the_other_worker(
    two: tuple[StoredDesk, StoredDesk],
) -> None:
    one, other = two
    assert await one.admin_chat_id() is None
    assert await one.default_locale() == "en" and await one.admin_locale() == "en"
    await other.bind(-1001, by=OPERATOR)
    await other.set_default_locale("id", by=OPERATOR)
    await other.set_admin_locale("sv", by=OPERATOR)
    assert await one.admin_chat_id() == -1001
    assert await one.default_locale() == "id" and await one.admin_locale() == "sv"


async def test_an_update_one_worker_handled_is_not_handled_again_by_the_other(
    two: tuple[StoredDesk, StoredDesk],
) -> None:
    one, other = two
    assert not await one.handled_before(70)
    assert not await one.handled_before(71)
    await other.update_handled(71)
    assert await one.handled_before(71)
    assert not await one.handled_before(72)

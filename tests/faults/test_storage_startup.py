"""A database the bot can't use stops `python -m bot` at once: one line naming the file and
the cause, exit code 2, no traceback, no process left waiting.

We run as root, who ignores file modes: read-only here means what stops root too (an
immutable file, a read-only mount, a file where the folder should be, /proc). A case the
machine can't set up is skipped with the reason.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage import Database
from tests.conftest import TOKEN
from tests.fake_api import FakeTelegram
from tests.faults.process import (
    Bot,
    fill,
    immutable,
    mounted_tmpfs,
    remount_read_only,
    run_bot,
)

PAGE = 4096


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as server:
        yield server


async def a_real_database(path: Path) -> Path:
    database = Database(path)
    await database.connect()
    async with database.transaction() as tx:
        await tx.execute("INSERT INTO desk_settings (key, value, updated_at) VALUES ('k', 'v', 0)")
    await database.close()
    return path


def assert_one_line(code: int, bot: Bot, *parts: str) -> None:
    assert code == 2, bot.output
    assert len(bot.lines) == 1, bot.output
    line = bot.lines[0]
    assert line.startswith("error: DATABASE_PATH: "), line
    for part in parts:
        assert part in line, line
    assert "Traceback" not in bot.output and TOKEN not in bot.output


async def test_random_bytes(tmp_path: Path, fake: FakeTelegram) -> None:
    path = tmp_path / "support.db"
    path.write_bytes(os.urandom(20 * PAGE))
    code, bot = await run_bot(tmp_path, fake.url, path)
    assert_one_line(code, bot, str(path), "not a database")
    assert fake.calls_to("getUpdates") == []


async def test_a_damaged_page_after_the_header(tmp_path: Path, fake: FakeTelegram) -> None:
    path = await a_real_database(tmp_path / "support.db")
    pages = path.stat().st_size // PAGE
    assert pages > 3
    data = bytearray(path.read_bytes())
    for page in range(1, pages):  # every page but the header's
        data[page * PAGE : (page + 1) * PAGE] = os.urandom(PAGE)
    path.write_bytes(bytes(data))
    code, bot = await run_bot(tmp_path, fake.url, path)
    assert_one_line(code, bot, str(path), "malformed")


async def test_one_damaged_page_deep_inside_fails_the_quick_check(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    path = await a_real_database(tmp_path / "support.db")
    # A table's own page: opening the file and reading the schema never touch it.
    conn = sqlite3.connect(path)
    query = "SELECT rootpage FROM sqlite_master WHERE name = 'desk_settings'"
    root = conn.execute(query).fetchone()[0]
    conn.close()
    data = bytearray(path.read_bytes())
    data[(root - 1) * PAGE : root * PAGE] = os.urandom(PAGE)
    path.write_bytes(bytes(data))
    code, bot = await run_bot(tmp_path, fake.url, path)
    assert_one_line(code, bot, str(path), "malformed")


async def test_an_immutable_file(tmp_path: Path, fake: FakeTelegram) -> None:
    path = await a_real_database(tmp_path / "support.db")
    with immutable(path):
        code, bot = await run_bot(tmp_path, fake.url, path)
    assert_one_line(code, bot, str(path))


async def test_a_read_only_folder(tmp_path: Path, fake: FakeTelegram) -> None:
    with mounted_tmpfs(tmp_path / "ro", "4m") as folder:
        path = await a_real_database(folder / "support.db")
        remount_read_only(folder)
        code, bot = await run_bot(tmp_path, fake.url, path)
    assert_one_line(code, bot, str(path))


async def test_an_immutable_folder_without_the_file(tmp_path: Path, fake: FakeTelegram) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "support.db"
    with immutable(folder):
        code, bot = await run_bot(tmp_path, fake.url, path)
    # The settings check names the folder it can't write in.
    assert_one_line(code, bot, str(folder), "no write permission")


async def test_a_file_where_the_folder_should_be(tmp_path: Path, fake: FakeTelegram) -> None:
    (tmp_path / "data").write_text("not a folder")
    path = tmp_path / "data" / "support.db"
    code, bot = await run_bot(tmp_path, fake.url, path)
    assert_one_line(code, bot, str(path.parent), "can't create its folder", "is a file")


async def test_a_path_under_proc(tmp_path: Path, fake: FakeTelegram) -> None:
    if not os.path.isdir("/proc/self"):  # noqa: ASYNC240 - a one-off look before the test
        pytest.skip("no /proc on this machine")
    path = Path("/proc/self/support.db")
    code, bot = await run_bot(tmp_path, fake.url, path)
    assert_one_line(code, bot, "/proc/self")


async def test_the_path_is_a_folder(tmp_path: Path, fake: FakeTelegram) -> None:
    path = tmp_path / "support.db"
    path.mkdir()
    code, bot = await run_bot(tmp_path, fake.url, path)
    assert_one_line(code, bot, str(path), "is a folder")


async def test_a_full_disk(tmp_path: Path, fake: FakeTelegram) -> None:
    with mounted_tmpfs(tmp_path / "small", "1m") as folder:
        path = await a_real_database(folder / "support.db")
        fill(folder)
        code, bot = await run_bot(tmp_path, fake.url, path)
    assert_one_line(code, bot, str(path), "no space left")


async def test_a_missing_folder_is_created(tmp_path: Path, fake: FakeTelegram) -> None:
    path = tmp_path / "not" / "yet" / "support.db"
    code, bot = await run_bot(tmp_path, fake.url, path, ARGS="migrate")
    assert code == 0, bot.output
    assert path.is_file()

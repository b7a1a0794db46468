"""Faults while the bot runs: a disk that fills during intake, a poison update, an update
PTB can't read. Each is survived: customers are answered, nothing spins, the log says it
once, and the desk carries on by itself.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import Settings
from bot.domain.desk import Desk
from handlers.errors import NOT_SAVED, WENT_WRONG
from storage import read_quarantine
from tests.conftest import TOKEN
from tests.fake_api import FakeTelegram
from tests.faults.process import fill, mounted_tmpfs
from tests.flows.conftest import Person, running
from tests.flows.forms import question, tr, walk_to
from tests.postgres import database_env
from tests.unit.test_startup import ROOT

SUBJECT = "Saldo belum masuk sejak kemarin"


@pytest.mark.sqlite_only  # fills the disk under the SQLite file
async def test_a_disk_that_fills_during_intake(
    tmp_path: Path,
    fake: FakeTelegram,
    make_settings: Callable[..., Settings],
    caplog: pytest.LogCaptureFixture,
) -> None:
    agent = fake.user("Agnes")
    group = fake.group("Agents", members=[agent])
    with mounted_tmpfs(tmp_path / "small", "4m") as folder:
        settings = make_settings(
            telegram_api_url=fake.url,
            admin_chat_id=group.id,
            database_path=folder / "support.db",
        )
        async with running(settings) as app:
            person = Person(fake, fake.user("Budi", language_code="id"))
            await walk_to(person, "subject", locale="id")
            await fake.idle()
            # An empty write-ahead log: the next commit must find new room on the disk.
            await app.bot_data.desk.db.fetch_one("PRAGMA wal_checkpoint(TRUNCATE)")
            filler = fill(folder)
            in_group = len(fake.sent(group.id))
            caplog.set_level(logging.INFO)

            for _ in range(3):
                # Refused in Indonesian, and the form still waits for the subject.
                await person.says(SUBJECT, expect=tr(NOT_SAVED, "id"))
            alarm = await fake.wait_for(
                group.id, lambda m: "can't save to its database" in m.text, since=in_group
            )
            assert str(folder / "support.db") in alarm.text

            filler.unlink()
            # Space is back: the very step that failed now goes through.
            await person.says(SUBJECT, expect=question("priority", "id"))
            await fake.idle()

    alarms = [m for m in fake.sent(group.id)[in_group:] if "can't save" in m.text]
    assert len(alarms) == 1
    failing = [
        r
        for r in caplog.records
        if r.name == "bot.channels.telegram.faults" and "failed:" in r.getMessage()
    ]
    assert len(failing) == 1, [r.getMessage() for r in failing]
    assert any(
        "works again" in r.getMessage()
        for r in caplog.records
        if r.name == "bot.channels.telegram.faults"
    )
    # One line per failed update, none with a traceback above DEBUG.
    assert all(r.exc_info is None for r in caplog.records if r.levelno > logging.DEBUG)


def _poison(desk_type: type[Desk], monkeypatch: pytest.MonkeyPatch, user_id: int) -> list[int]:
    """Make every update from `user_id` crash in the middleware; returns the runs seen."""
    runs: list[int] = []
    real = desk_type.register_user

    async def register_user(self: Desk, uid: int, *args: object, **kwargs: object) -> object:
        if uid == user_id:
            runs.append(uid)
            raise ValueError("a bug only this update triggers")
        return await real(self, uid, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(desk_type, "register_user", register_user)
    return runs


def _check(settings: Settings) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "BOT_TOKEN": TOKEN,
        **database_env(settings),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", "--env-file", os.devnull, "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_an_update_that_fails_twice_is_quarantined(
    fake: FakeTelegram,
    bot_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    poisoned = fake.user("Mallory", language_code="sv")
    runs = _poison(Desk, monkeypatch, poisoned.id)
    caplog.set_level(logging.INFO)
    async with running(bot_settings) as app:
        control = Person(fake, fake.user("Carol"))
        sent = poisoned.send("/start")
        apology = await fake.wait_for(poisoned.id, lambda m: m.text == tr(WENT_WRONG, "sv"))
        assert apology.text
        await control.says("/start", expect="")
        desk = app.bot_data.desk
        assert await desk.processed.seen(fake.last_update["update_id"] - 1)
        quarantined = await desk.quarantine.latest()
    assert runs == [poisoned.id, poisoned.id]
    assert [(q.update_id, q.attempts) for q in quarantined] == [(quarantined[0].update_id, 2)]
    assert quarantined[0].error == "ValueError: a bug only this update triggers"
    assert sent["text"] == "/start"
    errors = [r for r in caplog.records if r.name == "handlers.errors"]
    assert [r.levelno for r in errors] == [logging.ERROR, logging.ERROR]
    assert all(f"Update {quarantined[0].update_id}" in r.getMessage() for r in errors)
    assert all(r.exc_info is None for r in errors)

    listed = _check(bot_settings)
    assert listed.returncode == 0, listed.stderr
    assert f"update {quarantined[0].update_id}" in listed.stdout
    assert "ValueError: a bug only this update triggers" in listed.stdout


@pytest.mark.sqlite_only  # reads the SQLite file's bytes for the card number
async def test_an_update_ptb_cannot_read_is_set_aside(
    fake: FakeTelegram, bot_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with running(bot_settings):
        control = Person(fake, fake.user("Carol"))
        await control.says("/start", expect="")
        polls = len(fake.calls_to("getUpdates"))
        # A message without chat or date, and a card number in it: PTB can't build it.
        broken = fake.enqueue_raw({"message": {"message_id": 7, "text": "4111 1111 1111 1111"}})
        await control.says("/start", expect="")
        await fake.idle()
        assert fake.pending_updates == []  # confirmed: Telegram won't send it again
        # No loop: a handful of polls, not thousands.
        assert len(fake.calls_to("getUpdates")) - polls < 20
    found = read_quarantine(bot_settings.database_path)
    assert found is not None
    assert [(q.update_id, q.attempts) for q in found] == [(broken["update_id"], 0)]
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 1 and f"Update {broken['update_id']} can't be read" in lines[0]
    assert not any(r.levelno >= logging.CRITICAL for r in caplog.records)
    assert b"4111 1111 1111 1111" not in _bytes(bot_settings.database_path)


def _bytes(path: Path) -> bytes:
    return path.read_bytes()

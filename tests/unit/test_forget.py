"""A customer's request to be forgotten: afterwards no table or column of the SQLite file
holds their texts, names or file ids, nor do its free pages, freed cells or write-ahead
log, while their tickets and the figures remain."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.__main__ import main
from bot.compose import StoredDesk, open_database
from bot.config import Settings
from bot.domain.lifecycle import Action
from bot.domain.models import Attachment, AttachmentKind, Author, Draft, Priority
from bot.domain.outbox import OutboxKind
from storage import Database
from tests.conftest import TOKEN, FakeClock
from tests.postgres import database_env

CUSTOMER, OTHER, AGENT, OPERATOR = 4242, 5151, 7, 9
FIRST, LAST, USERNAME = "Sigrún", "Wicaksono", "sigrun_w"
SUBJECT = "Toko Bunga Melati tidak bisa login"
BODY = "Kata sandi saya untuk toko Bunga Melati tidak berfungsi sejak Senin."
FOLLOW = "Pesanan nomor ABC-778899 belum datang, alamat Jalan Kenanga 12."
REPLY = "Halo Sigrún, kami sedang memeriksa akun Bunga Melati Anda."
COMMENT = "Pelayanan sangat ramah, tack så mycket!"
HELD = "Ini pesan untuk tiket yang mana? Nomor rekening saya 998877."
DRAFT = "Draf rahasia tentang pengiriman ke Surabaya"
FILE_ID, FILE_UNIQUE, FILE_NAME = (
    "AgACAgIAAxkBAAIBsecretfileid",
    "AQADsecretunique",
    "ktp_sigrun.jpg",
)
SECRETS = [
    FIRST,
    LAST,
    USERNAME,
    SUBJECT,
    BODY,
    FOLLOW,
    REPLY,
    COMMENT,
    HELD,
    DRAFT,
    FILE_ID,
    FILE_UNIQUE,
    FILE_NAME,
    "Bunga Melati",
    "ABC-778899",
    "Kenanga",
]
OTHER_TEXT = "Another customer's own words stay."


@pytest.fixture(params=["as built", "built without secure delete"])
def sqlite_build(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """SQLite as this machine's build opens it, and as a build whose default leaves deleted
    content in free space (SQLITE_SECURE_DELETE is a compile-time default: Debian's has it
    on, python.org's and macOS's off), so the bot must switch it on itself."""
    if request.param != "as built":
        connect = sqlite3.connect

        def insecure(*args: Any, **kwargs: Any) -> sqlite3.Connection:
            conn: sqlite3.Connection = connect(*args, **kwargs)
            conn.execute("PRAGMA secure_delete=OFF")
            return conn

        # What aiosqlite's thread opens the file with (under SQLAlchemy's engine).
        monkeypatch.setattr(sqlite3, "connect", insecure)
    return str(request.param)


@pytest.fixture
async def db(settings: Settings, sqlite_build: str) -> AsyncIterator[Database]:
    database = open_database(settings)
    await database.connect()
    yield database
    await database.close()


async def seed(desk: StoredDesk, clock: FakeClock) -> list[int]:
    await desk.register_user(CUSTOMER, FIRST, LAST, USERNAME, "id")
    await desk.register_user(OTHER, "Budi", None, None, "id")
    await desk.register_user(AGENT, "Agnes", None, None, "en")
    photo = Attachment(AttachmentKind.PHOTO, FILE_ID, FILE_UNIQUE, 1000, FILE_NAME, "image/jpeg")
    first = await desk.submit(
        Draft(
            user_id=CUSTOMER,
            department="technical",
            subject=SUBJECT,
            priority=Priority.HIGH,
            message=BODY,
            attachments=[photo],
        ),
        "id",
    )
    await desk.service.agent_reply(first.number, AGENT, REPLY)
    await desk.service.customer_reply(first.number, CUSTOMER, FOLLOW)
    await desk.service.apply(first.number, Action.SOLVE, Author.AGENT, AGENT)
    await desk.service.rate(first.number, CUSTOMER, 5)
    await desk.ratings.comment(first.number, COMMENT, clock.now)
    clock.now += timedelta(hours=1)
    second = await desk.submit(
        Draft(
            user_id=CUSTOMER,
            department="billing",
            subject="Tagihan ganda",
            priority=Priority.LOW,
            message=FOLLOW,
        ),
        "id",
    )
    other = await desk.submit(
        Draft(
            user_id=OTHER,
            department="sales",
            subject="Harga",
            priority=Priority.LOW,
            message=OTHER_TEXT,
        ),
        "id",
    )
    await desk.held.hold(
        customer_id=CUSTOMER,
        tg_chat_id=CUSTOMER,
        tg_message_id=77,
        body=HELD,
        attachment=None,
        media_group_id=None,
        now=clock.now,
    )
    await desk.drafts.save(Draft(user_id=CUSTOMER, subject="Kiriman", message=DRAFT), clock.now)
    sender = {
        "id": CUSTOMER,
        "is_bot": False,
        "first_name": FIRST,
        "last_name": LAST,
        "username": USERNAME,
    }
    update = {
        "update_id": 900,
        "message": {
            "message_id": 78,
            "date": 0,
            "from": sender,
            "chat": {"id": CUSTOMER, "type": "private", "first_name": FIRST},
            "text": HELD,
        },
    }
    await desk.inbox.add([update])
    await desk.quarantine.add(901, {**update, "update_id": 901}, "ValueError: boom", 2)
    # An agent's /ticket answer quoting the history, and a long text's second part.
    await desk.answer_agent(-100123, f"#{first.number}\n{BODY}\n{REPLY}")
    return [first.number, second.number, other.number]


def scan(path: Path, needles: list[str]) -> list[tuple[str, str, str]]:
    """Every (table, column, needle) where a needle is found in any value of the file."""
    found: list[tuple[str, str, str]] = []
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
            for column in columns:
                for (value,) in conn.execute(f"SELECT {column} FROM {table}"):
                    if value is None:
                        continue
                    text = (
                        value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
                    )
                    # JSON keeps non-ASCII letters escaped unless told not to.
                    text += " " + json.dumps(text)
                    found.extend(
                        (table, column, n) for n in needles if n.casefold() in text.casefold()
                    )
    finally:
        conn.close()
    return found


def raw_scan(path: Path, needles: list[str]) -> list[tuple[str, str]]:
    """Every (file, needle) where a needle's bytes are in the database file or its WAL.

    Read as bytes, past SQLite: a deleted row's cell, a freed page and an old frame of the
    write-ahead log still hold what was written unless they were overwritten.
    """
    found = []
    for file in (path, path.with_name(path.name + "-wal")):
        if not file.exists():
            continue
        data = file.read_bytes().lower()
        for needle in needles:
            # As written, and as JSON writes it with its letters escaped ("Sigr\\u00fan").
            forms = {needle.encode(), json.dumps(needle)[1:-1].encode()}
            if any(form.lower() in data for form in forms):
                found.append((file.name, needle))
    return found


@pytest.mark.sqlite_only  # scans the SQLite file's bytes
async def test_nothing_of_theirs_is_left_in_any_table(
    desk: StoredDesk, clock: FakeClock, settings: Settings, db: Database
) -> None:
    first, second, other = await seed(desk, clock)
    assert scan(settings.database_path, SECRETS)  # the scans do find them before
    assert raw_scan(settings.database_path, SECRETS)
    done = await desk.forget(CUSTOMER, OPERATOR, marker="(removed)", name="Forgotten")
    assert done is not None and done.tickets == [first, second]
    assert scan(settings.database_path, SECRETS) == []
    # Nor in the file's bytes, while the bot still has it open (closing the last connection
    # would fold the WAL into the file on its own): free pages, freed cells, the WAL.
    assert raw_scan(settings.database_path, SECRETS) == []
    # The tickets and figures are still there; another customer's words too.
    ticket = await desk.tickets.get(first)
    assert ticket is not None and ticket.first_response_at is not None
    assert (await desk.ratings.get(first)).score == 5  # type: ignore[union-attr]
    assert [m.body for m in await desk.tickets.messages(other, include_internal=True)] == [
        OTHER_TEXT
    ]
    assert (await desk.stats(7)).opened.total == 3
    assert all(not m.attachments for m in await desk.tickets.messages(first, include_internal=True))
    events = await desk.tickets.events(first)
    assert (events[-1].kind, events[-1].actor_id) == ("forgotten", OPERATOR)
    # They are told (the outbox records it if they blocked the bot).
    owed = await db.fetch_all(
        "SELECT kind FROM outbox WHERE chat_id = ? AND state = 'pending'", (CUSTOMER,)
    )
    assert [r["kind"] for r in owed] == [OutboxKind.FORGOTTEN]
    # A queued update of theirs is still there to be handled, saying nothing of them.
    (payload,) = await desk.inbox.unhandled()
    assert payload["update_id"] == 900 and payload["message"]["from"]["id"] == CUSTOMER


async def test_an_unknown_customer_is_reported(desk: StoredDesk) -> None:
    assert await desk.forget(31337, OPERATOR, marker="-", name="-") is None


async def test_the_command_line_forgets_offline(
    make_settings: Callable[..., Settings],
    db: Database,
    clock: FakeClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = make_settings()
    await seed(StoredDesk(settings, db, clock), clock)
    await db.close()
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    for name, value in database_env(settings).items():
        monkeypatch.setenv(name, value)
    env = tmp_path / "empty.env"
    env.write_text("")
    # main() runs its own event loop: in a thread, away from the test's.
    assert await asyncio.to_thread(main, ["--env-file", str(env), "forget", str(CUSTOMER)]) == 0
    assert "forgotten (2 tickets kept" in capsys.readouterr().out
    assert scan(settings.database_path, SECRETS) == []
    assert raw_scan(settings.database_path, SECRETS) == []
    assert await asyncio.to_thread(main, ["--env-file", str(env), "forget", "31337"]) == 2
    assert "no customer has the user id 31337" in capsys.readouterr().err

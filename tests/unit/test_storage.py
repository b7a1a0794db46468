"""Storage on a real SQLite file: migrations, users, drafts, tickets, persistence."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.compose import StoredDesk
from bot.domain.models import Attachment, AttachmentKind, Author, Draft, Priority, Status
from storage import Database
from storage.engines import Record
from storage.faults import INTEGRITY_ERRORS
from storage.migrate import migrations
from tests.conftest import FakeClock


@pytest.mark.sqlite_only
async def test_the_file_is_created_in_wal_mode_with_every_migration(db: Database) -> None:
    row = await db.fetch_one("PRAGMA journal_mode")
    assert row is not None and row[0] == "wal"
    applied = await db.fetch_all("SELECT version FROM schema_migrations ORDER BY version")
    assert [r["version"] for r in applied] == [v for v, _, _ in migrations()]
    assert db.path.is_file()


async def test_migrations_run_once(db: Database) -> None:
    await db.close()
    again = Database(db.path)
    await again.connect()  # would fail on "table users already exists" if re-run
    rows = await again.fetch_all("SELECT version FROM schema_migrations")
    assert len(rows) == len(migrations())
    await again.close()


async def test_the_counts_migration_counts_the_tickets_already_there(tmp_path: Path) -> None:
    """A desk upgraded with tickets and ratings starts with counts that match them."""
    path = tmp_path / "desk.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "CREATE TABLE schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
    )
    for version, name, script in migrations():
        if name == "query_speed":
            break
        conn.executescript(script)
        conn.execute("INSERT INTO schema_migrations VALUES (?, ?, 0)", (version, name))
    conn.execute("INSERT INTO users (id, first_name, created_at, updated_at) VALUES (1, 'A', 0, 0)")
    tickets = [("open", None), ("open", 500), ("pending", 4000), ("closed", 100), ("closed", 90)]
    for status, answered in tickets:
        conn.execute(
            "INSERT INTO tickets (customer_id, department, subject, priority, status, locale,"
            " created_at, updated_at, first_response_due_at, first_response_at)"
            " VALUES (1, 'technical', 's', 'high', ?, 'en', 0, 0, 3600, ?)",
            (status, answered),
        )
    conn.executemany(
        "INSERT INTO ratings (ticket_number, score, created_at, updated_at) VALUES (?, ?, 0, 0)",
        ((1002, 4), (1004, 4), (1005, 1)),
    )
    conn.close()
    db = Database(path)
    await db.connect()
    counts = await db.fetch_all("SELECT * FROM ticket_counts ORDER BY status, answered, met")
    assert [tuple(r) for r in counts] == [
        ("closed", 1, 1, 2),
        ("open", 0, 0, 1),
        ("open", 1, 1, 1),
        ("pending", 1, 0, 1),
    ]
    ratings = await db.fetch_all("SELECT * FROM rating_counts ORDER BY score")
    assert [tuple(r) for r in ratings] == [(1, 1), (4, 2)]
    await db.close()


async def test_a_failed_transaction_leaves_nothing(db: Database) -> None:
    with pytest.raises(INTEGRITY_ERRORS):
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO desk_settings (key, value, updated_at) VALUES ('a', 'b', 0)"
            )
            await tx.execute(
                "INSERT INTO desk_settings (key, value, updated_at) VALUES ('a', 'c', 0)"
            )
    assert await db.fetch_all("SELECT * FROM desk_settings") == []


async def _customer(desk: StoredDesk, user_id: int = 42, language_code: str | None = "id") -> None:
    await desk.register_user(user_id, "Budi", "Santoso", "budi", language_code)


async def test_users_keep_their_chosen_locale(desk: StoredDesk) -> None:
    await _customer(desk)
    user = await desk.users.get(42)
    assert user is not None and await desk.locale_for(user) == "id"
    await desk.choose_locale(42, "sv")
    # Telegram says "id" again on the next update: the choice wins, for good.
    user = await desk.register_user(42, "Budi", None, "budi", "id")
    assert user.chosen_locale == "sv" and await desk.locale_for(user) == "sv"


class _Reads:
    """Counts the database's reads of the users table."""

    def __init__(self, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = db.fetch_all

        async def fetch_all(sql: str, params: object = ()) -> list[Record]:
            if "FROM users" in sql:
                self.count += 1
            return await real(sql, params)  # type: ignore[arg-type]

        monkeypatch.setattr(db, "fetch_all", fetch_all)


@pytest.mark.sqlite_only  # on PostgreSQL no copy is kept (tests/unit/test_workers.py)
async def test_a_user_seen_a_moment_ago_is_not_read_again(
    desk: StoredDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _customer(desk)
    reads = _Reads(desk.db, monkeypatch)
    for _ in range(3):  # three updates from the same customer
        user = await desk.register_user(42, "Budi", "Santoso", "budi", "id")
        assert user.first_name == "Budi"
    assert await desk.users.get(42) == user
    assert reads.count == 0


async def test_every_write_of_a_user_is_seen_at_once(desk: StoredDesk) -> None:
    await _customer(desk)
    await desk.choose_locale(42, "sv")
    assert (await desk.register_user(42, "Budi", "Santoso", "budi", "id")).chosen_locale == "sv"
    assert await desk.ban(42, True)
    user = await desk.users.get(42)
    assert user is not None and user.is_banned and not user.ban_notified
    assert await desk.users.mark_ban_notified(42)
    user = await desk.users.get(42)
    assert user is not None and user.ban_notified
    renamed = await desk.register_user(42, "Budi", None, "budi_s", "id")
    assert (renamed.last_name, renamed.username) == (None, "budi_s")
    assert await desk.users.get(42) == renamed
    await desk.forget(42, None, marker="(forgotten)", name="Customer")
    user = await desk.users.get(42)
    assert user is not None and (user.first_name, user.username) == ("Customer", None)


@pytest.mark.sqlite_only  # the other process writes the SQLite file itself
async def test_another_process_writing_a_user_is_seen_once_the_copy_is_old(
    desk: StoredDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    import storage.users

    await _customer(desk)
    assert (await desk.users.get(42)) is not None
    with sqlite3.connect(desk.db.path) as other:  # as `python -m bot forget` would
        other.execute("UPDATE users SET first_name = 'Customer' WHERE id = 42")
    user = await desk.users.get(42)
    assert user is not None and user.first_name == "Budi"  # the copy, for a while
    monkeypatch.setattr(storage.users, "USER_KEPT_SECONDS", 0.0)
    user = await desk.users.get(42)
    assert user is not None and user.first_name == "Customer"


async def test_a_read_that_overlaps_a_write_is_not_kept(
    desk: StoredDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _customer(desk)
    desk.users.changing(42)  # no copy: the next get reads the row
    real = desk.db.fetch_all
    overlapped = False

    async def fetch_all(sql: str, params: object = ()) -> list[Record]:
        nonlocal overlapped
        rows = await real(sql, params)  # type: ignore[arg-type]
        if "FROM users" in sql and not overlapped:
            overlapped = True  # a write lands after the row was read, before it is kept
            await desk.choose_locale(42, "sv")
        return rows

    monkeypatch.setattr(desk.db, "fetch_all", fetch_all)
    before = await desk.users.get(42)
    assert before is not None and before.chosen_locale is None  # as it was read
    after = await desk.users.get(42)
    assert after is not None and after.chosen_locale == "sv"


async def test_default_locale_is_the_operators_choice(desk: StoredDesk) -> None:
    await _customer(desk, language_code="ms")
    user = await desk.users.get(42)
    assert user is not None
    assert await desk.locale_for(user) == "en"
    await desk.set_default_locale("id")
    assert await desk.locale_for(user) == "id"
    fresh = StoredDesk(desk.settings, desk.db, desk.clock)  # survives a restart
    assert await fresh.locale_for(user) == "id"


async def test_the_agents_chat_has_its_own_locale(desk: StoredDesk) -> None:
    # Unset ADMIN_LOCALE: DEFAULT_LOCALE, and the customers' default moving leaves it.
    assert await desk.admin_locale() == desk.settings.default_locale == "en"
    await desk.set_default_locale("sv")
    assert await desk.admin_locale() == "en"
    await desk.set_admin_locale("id")
    assert await desk.admin_locale() == "id"
    assert await desk.default_locale() == "sv"
    fresh = StoredDesk(desk.settings, desk.db, desk.clock)  # survives a restart
    assert await fresh.admin_locale() == "id"
    with pytest.raises(ValueError):
        await desk.set_admin_locale("fr")
    configured = StoredDesk(
        desk.settings.model_copy(update={"admin_locale": "sv"}), desk.db, desk.clock
    )
    assert await configured.admin_locale() == "id"  # the operator's choice beats the setting


async def test_a_draft_round_trips(desk: StoredDesk) -> None:
    await _customer(desk)
    photo = Attachment(AttachmentKind.PHOTO, "file-1", "uniq-1", 1234, media_group_id="g1")
    draft = Draft(
        user_id=42,
        department="billing",
        subject="Saldo belum masuk",
        priority=Priority.HIGH,
        message="Sudah transfer kemarin",
        attachments=[photo],
        step="attachments",
    )
    await desk.save_draft(draft)
    assert await desk.draft(42) == draft
    await desk.discard_draft(42)
    assert await desk.draft(42) == Draft(user_id=42)


async def test_submitting_stores_the_ticket_message_files_and_event(
    desk: StoredDesk, clock: FakeClock
) -> None:
    await _customer(desk)
    files = [
        Attachment(AttachmentKind.PHOTO, "p1", "pu1", 50_000),
        Attachment(AttachmentKind.DOCUMENT, "d1", "du1", 120_000, "receipt.pdf", "application/pdf"),
    ]
    draft = Draft(42, "billing", "Saldo belum masuk", Priority.CRITICAL, "Sudah transfer", files)
    await desk.save_draft(draft)
    ticket = await desk.submit(draft, "id")
    assert ticket.number == 1001 and ticket.ref == "#1001"
    assert ticket.status is Status.OPEN
    assert (
        ticket.first_response_due_at == clock.now + desk.settings.response_targets["critical"].due
    )
    messages = await desk.tickets.messages(ticket.number, include_internal=False)
    assert [(m.author, m.body, m.attachments) for m in messages] == [
        (Author.CUSTOMER, "Sudah transfer", tuple(files))
    ]
    events = await desk.tickets.events(ticket.number)
    assert [(e.kind, e.actor, e.actor_id, e.to_value) for e in events] == [
        ("created", Author.CUSTOMER, 42, "open")
    ]
    assert await desk.drafts.get(42) is None  # the draft went with the same transaction
    second = await desk.submit(
        Draft(42, "sales", "Custom quote please", Priority.LOW, "x" * 20), "id"
    )
    assert second.number == 1002


async def test_an_incomplete_draft_cannot_be_submitted(desk: StoredDesk) -> None:
    await _customer(desk)
    with pytest.raises(ValueError, match="not complete"):
        await desk.submit(Draft(42, "billing", None, Priority.LOW, "text"), "id")


async def test_tickets_are_listed_newest_first_per_customer(desk: StoredDesk) -> None:
    await _customer(desk, 1)
    await _customer(desk, 2)
    for n in range(7):
        await desk.submit(Draft(1, "technical", f"Server down {n}", Priority.HIGH, "details"), "en")
    await desk.submit(Draft(2, "technical", "Other person", Priority.HIGH, "details"), "en")
    page = await desk.tickets.for_customer(1, limit=5, offset=0)
    assert [t.subject for t in page] == [f"Server down {n}" for n in (6, 5, 4, 3, 2)]
    assert await desk.tickets.count_for_customer(1) == 7
    assert await desk.tickets.count_for_customer(2) == 1

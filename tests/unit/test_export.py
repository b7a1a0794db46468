"""The CSV export: the listed columns, escaping that survives csv.DictReader (commas,
quotes, newlines, Indonesian and Swedish letters), periods, and the command line."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.__main__ import main
from bot.compose import StoredDesk
from bot.config import Settings
from bot.domain.audit import DeskActor
from bot.domain.export import COLUMNS, ENCODING, FULL_COLUMNS, write_csv
from bot.domain.lifecycle import Action
from bot.domain.models import Author, Draft, Priority
from storage import Database
from tests.conftest import TOKEN, FakeClock
from tests.postgres import database_env

JAKARTA = ZoneInfo("Asia/Jakarta")
SUBJECT = 'Tagihan "ganda", lagi'
BODY = 'Halo,\nsaya ditagih dua kali: "Rp 150.000, Rp 150.000".\nHälsningar, Åsa Öberg'
REPLY = "Maaf, kami cek sekarang; återkommer snart.\r\nTerima kasih!"


async def seed(desk: StoredDesk, clock: FakeClock) -> tuple[int, int]:
    await desk.register_user(42, "Åsa", "Öberg", None, "sv")
    await desk.register_user(7, "Agnes", "Lindqvist", None, "sv")
    draft = Draft(
        user_id=42, department="billing", subject=SUBJECT, priority=Priority.HIGH, message=BODY
    )
    old = await desk.submit(draft, "sv")
    clock.now += timedelta(days=20)
    new = await desk.submit(
        Draft(
            user_id=42, department="sales", subject="Ny fråga", priority=Priority.LOW, message="Hej"
        ),
        "sv",
    )
    await desk.service.assign(old.number, 7)
    await desk.service.agent_reply(old.number, 7, REPLY)
    await desk.service.apply(old.number, Action.SOLVE, Author.AGENT, 7)
    await desk.service.rate(old.number, 42, 4)
    return old.number, new.number


async def export(desk: StoredDesk, clock: FakeClock, *, days: int | None, full: bool) -> str:
    out = io.StringIO(newline="")
    since = None if days is None else clock.now - timedelta(days=days)
    await write_csv(
        desk.tickets.export_batches(since, full=full, batch=1),  # batch 1: the paging too
        out,
        tz=JAKARTA,
        now=clock.now,
        full=full,
    )
    return out.getvalue()


async def test_the_columns_round_trip_without_bodies(desk: StoredDesk, clock: FakeClock) -> None:
    old, new = await seed(desk, clock)
    rows = list(csv.DictReader(io.StringIO(await export(desk, clock, days=None, full=False))))
    assert tuple(rows[0]) == COLUMNS
    assert [r["number"] for r in rows] == [str(old), str(new)]
    first = rows[0]
    assert first["channel"] == "telegram"
    assert (first["department"], first["priority"], first["status"]) == (
        "billing",
        "high",
        "solved",
    )
    assert first["created"] == "2026-11-23T09:00:00+07:00"
    assert first["first_response_at"] == first["solved_at"] == "2026-12-13T09:00:00+07:00"
    assert (first["target_met"], first["rating"], first["assignee"]) == (
        "no",
        "4",
        "Agnes Lindqvist",
    )
    assert first["closed_at"] == ""
    # The newer ticket (Low: 2 business days) is not yet due: neither met nor missed.
    assert (rows[1]["target_met"], rows[1]["first_response_at"], rows[1]["assignee"]) == (
        "",
        "",
        "",
    )
    text = await export(desk, clock, days=None, full=False)
    assert "Tagihan" not in text and "Halo" not in text


async def test_full_keeps_every_character(desk: StoredDesk, clock: FakeClock) -> None:
    await seed(desk, clock)
    rows = list(csv.DictReader(io.StringIO(await export(desk, clock, days=None, full=True))))
    assert tuple(rows[0]) == FULL_COLUMNS
    assert rows[0]["subject"] == SUBJECT
    assert BODY in rows[0]["messages"]
    assert REPLY in rows[0]["messages"]
    assert rows[0]["messages"].startswith("[2026-11-23T09:00:00+07:00 customer] Halo,")


async def test_a_period_counts_back_from_now(desk: StoredDesk, clock: FakeClock) -> None:
    _, new = await seed(desk, clock)
    rows = list(csv.DictReader(io.StringIO(await export(desk, clock, days=7, full=False))))
    assert [r["number"] for r in rows] == [str(new)]


async def test_the_command_line_writes_the_same_file(
    make_settings: Callable[..., Settings],
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = make_settings()
    clock = FakeClock(datetime(2026, 1, 5, 3, 0, tzinfo=UTC))
    old, new = await seed(StoredDesk(settings, db, clock), clock)
    await db.close()
    out = tmp_path / "tickets.csv"
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    for name, value in database_env(settings).items():
        monkeypatch.setenv(name, value)
    env = tmp_path / "empty.env"
    env.write_text("")
    args = ["--env-file", str(env), "export", "--since", "2026-01-10", "--out", str(out)]
    # main() runs its own event loop: in a thread, away from the test's.
    assert await asyncio.to_thread(main, [*args, "--full"]) == 0
    assert capsys.readouterr().out.strip() == f"1 tickets written to {out}"
    with out.open(encoding=ENCODING, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["number"] for r in rows] == [str(new)]
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM spreadsheets look for
    assert await asyncio.to_thread(main, ["--env-file", str(env), "export", "--out", str(out)]) == 0
    with out.open(encoding=ENCODING, newline="") as handle:
        assert [r["number"] for r in csv.DictReader(handle)] == [str(old), str(new)]
    # Both are on the desk's trail, as done on the server.
    await db.connect()
    try:
        events, _page, _pages = await StoredDesk(settings, db, clock).audit.page(0, 10)
    finally:
        await db.close()
    exports = [(e.actor, e.actor_id, e.to_value) for e in events if e.kind == "export"]
    assert exports == [
        (DeskActor.COMMAND_LINE, None, "since 2026-01-10 full"),
        (DeskActor.COMMAND_LINE, None, "all"),
    ]

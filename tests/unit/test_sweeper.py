"""One sweep: the clock's work on tickets, and the pruning, straight on a real file."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from bot.channels.telegram.context import SupportContext
from bot.compose import StoredDesk
from bot.domain.models import Status
from bot.domain.outbox import OutboxKind
from handlers.sweeper import sweep
from storage import Database
from tests.conftest import FakeClock
from tests.unit.seeding import add_outbox_row, add_processed, add_ticket, ids

DAY = 86_400


async def _sweep(desk: StoredDesk) -> list[bool]:
    woken: list[bool] = []
    # The sweeper reads only the desk and wakes the dispatcher.
    dispatcher = SimpleNamespace(wake=lambda: woken.append(True))
    context = SimpleNamespace(desk=desk, job=None, bot_data=SimpleNamespace(dispatcher=dispatcher))
    await sweep(cast(SupportContext, context))
    return woken


async def test_a_due_ticket_is_solved_and_one_nearly_due_is_reminded_once(
    desk: StoredDesk, db: Database, clock: FakeClock
) -> None:
    now = int(clock.now.timestamp())
    solve_after = int(desk.settings.auto_solve_after.total_seconds())
    due = await add_ticket(db, status="pending", status_changed_at=now - solve_after - 1)
    nearly = await add_ticket(db, status="pending", status_changed_at=now - solve_after * 3 // 4)
    early = await add_ticket(db, status="pending", status_changed_at=now - solve_after // 2)
    assert await _sweep(desk) == [True]
    await _sweep(desk)  # a second run owes nothing more
    reminders = await db.fetch_all(
        "SELECT ticket_number FROM outbox WHERE kind = ?", (OutboxKind.SOLVE_REMINDER,)
    )
    assert [r["ticket_number"] for r in reminders] == [nearly]
    statuses = {n: (await desk.tickets.get(n)) for n in (due, nearly, early)}
    assert {n: t.status for n, t in statuses.items() if t} == {
        due: Status.SOLVED,
        nearly: Status.PENDING,
        early: Status.PENDING,
    }


async def test_the_sweeper_prunes_on_every_run(
    desk: StoredDesk, db: Database, clock: FakeClock
) -> None:
    now = int(clock.now.timestamp())
    await add_outbox_row(db, "sent", now - 2 * DAY, now - 2 * DAY)
    fresh = await add_outbox_row(db, "sent", now - 60, now - 60)
    await add_processed(db, 7, now - 30 * DAY)
    await add_processed(db, 8, now - 60)
    await desk.inbox.add([{"update_id": 8}, {"update_id": 9}])
    await _sweep(desk)
    assert await ids(db, "SELECT id FROM outbox") == {fresh}
    assert await ids(db, "SELECT update_id FROM processed_updates") == {8}
    assert await ids(db, "SELECT update_id FROM inbox") == {9}

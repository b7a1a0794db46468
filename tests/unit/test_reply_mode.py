"""Reply mode without Telegram: the ticket a customer chose is kept in the database with the
time Reply last heard from them, and is over once it has been idle for
`CONVERSATION_TIMEOUT`, by the desk's clock. Any worker and any restart sees the same."""

from __future__ import annotations

from datetime import timedelta

from bot.compose import StoredDesk
from storage import Database
from tests.conftest import FakeClock
from tests.unit.seeding import CUSTOMER, add_ticket


async def test_reply_mode_lasts_while_the_customer_writes_and_ends_when_idle(
    desk: StoredDesk, clock: FakeClock
) -> None:
    await desk.register_user(CUSTOMER, "Rina", None, None, "id")
    number = await add_ticket(desk.db)
    timeout = desk.settings.conversation_timeout
    assert timeout > timedelta(0)
    assert await desk.reply_target(CUSTOMER) is None
    await desk.set_reply_target(CUSTOMER, number)
    clock.now += timeout - timedelta(seconds=1)
    assert await desk.reply_target(CUSTOMER) == number
    await desk.set_reply_target(CUSTOMER, number)  # each message keeps it open
    clock.now += timeout - timedelta(seconds=1)
    assert await desk.reply_target(CUSTOMER) == number
    clock.now += timedelta(seconds=2)
    assert await desk.reply_target(CUSTOMER) is None  # idle past its time


async def test_reply_mode_is_the_databases_so_a_second_desk_sees_it(
    desk: StoredDesk, db: Database, clock: FakeClock
) -> None:
    await desk.register_user(CUSTOMER, "Rina", None, None, "id")
    number = await add_ticket(db)
    await desk.set_reply_target(CUSTOMER, number)
    other = StoredDesk(desk.settings, db, clock)  # another worker, or the bot after a restart
    assert await other.reply_target(CUSTOMER) == number
    await other.set_reply_target(CUSTOMER, None)
    assert await desk.reply_target(CUSTOMER) is None

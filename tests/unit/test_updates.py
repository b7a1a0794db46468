"""The update processor: every chat at once, each chat's own updates in order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from telegram import Update

from bot.channels.telegram.updates import PerChatUpdateProcessor, line_of
from bot.compose import StoredDesk
from bot.config import Settings
from bot.domain import desk as desk_module
from bot.domain.desk import Desk
from storage import Database


def _update(update_id: int, chat_id: int, *, thread: int | None = None) -> Update:
    chat: dict[str, Any] = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
    if chat_id < 0:
        chat["title"] = "Agents"
        chat["is_forum"] = thread is not None
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": 0,
        "chat": chat,
        "from": {"id": abs(chat_id) % 1000 + 1, "is_bot": False, "first_name": "A"},
        "text": "hi",
    }
    if thread is not None:
        message["message_thread_id"] = thread
        message["is_topic_message"] = True
    return Update.de_json({"update_id": update_id, "message": message}, None)


def test_lines_are_private_chats_and_forum_topics() -> None:
    assert line_of(_update(1, 42)) == line_of(_update(2, 42))
    assert line_of(_update(1, 42)) != line_of(_update(2, 43))
    assert line_of(_update(1, -100, thread=7)) == line_of(_update(2, -100, thread=7))
    assert line_of(_update(1, -100, thread=7)) != line_of(_update(2, -100, thread=8))
    assert line_of(_update(1, -100)) != line_of(_update(2, -100, thread=8))
    assert line_of("not an update") == ("other",)


async def test_a_held_chat_does_not_hold_the_others_and_keeps_its_own_order() -> None:
    processor = PerChatUpdateProcessor(max_running=8)
    await processor.initialize()
    release = asyncio.Event()
    log: list[tuple[str, int]] = []

    async def handle(update_id: int, *, hold: bool = False) -> None:
        log.append(("start", update_id))
        if hold:
            await release.wait()
        await asyncio.sleep(0)
        log.append(("end", update_id))

    # Chat 1's first update is held (a slow call to Telegram); its second must wait for it,
    # while chat 2's updates go through at once.
    tasks = [
        asyncio.create_task(processor.process_update(_update(1, 1), handle(1, hold=True))),
        asyncio.create_task(processor.process_update(_update(2, 1), handle(2))),
        asyncio.create_task(processor.process_update(_update(3, 2), handle(3))),
        asyncio.create_task(processor.process_update(_update(4, 2), handle(4))),
    ]
    for _ in range(20):
        await asyncio.sleep(0)
    assert ("end", 3) in log and ("end", 4) in log
    assert ("start", 2) not in log  # behind its own chat's held update
    release.set()
    await asyncio.gather(*tasks)
    assert log.index(("end", 1)) < log.index(("start", 2))
    assert log.index(("end", 3)) < log.index(("start", 4))
    assert processor.lines_in_use == 0  # nothing kept once a line is idle
    await processor.shutdown()


async def test_the_running_bound_is_kept() -> None:
    processor = PerChatUpdateProcessor(max_running=2)
    await processor.initialize()
    running = 0
    peak = 0
    gate = asyncio.Event()

    async def handle() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await gate.wait()
        running -= 1

    tasks = [
        asyncio.create_task(processor.process_update(_update(i, i), handle())) for i in range(1, 7)
    ]
    for _ in range(20):
        await asyncio.sleep(0)
    assert peak == 2
    gate.set()
    await asyncio.gather(*tasks)
    assert peak == 2


class _CountedReads:
    """Counts how often the desk asks the database whether an update was handled."""

    def __init__(self, desk: StoredDesk, monkeypatch: pytest.MonkeyPatch) -> None:
        self.asked: list[int] = []
        real = desk.processed.seen

        async def seen(update_id: int) -> bool:
            self.asked.append(update_id)
            return await real(update_id)

        monkeypatch.setattr(desk.processed, "seen", seen)


@pytest.mark.sqlite_only  # one process: answered from memory (not so on PostgreSQL)
async def test_an_update_handled_before_a_restart_stays_handled_and_a_new_one_is_not_read(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = StoredDesk(settings, db)
    assert not await before.handled_before(41)
    await before.update_handled(41)
    # The restart: Telegram sends 41 again (never confirmed), then 42 and 43.
    after = StoredDesk(settings, db)
    reads = _CountedReads(after, monkeypatch)
    assert [await after.handled_before(i) for i in (41, 42, 43)] == [True, False, False]
    assert reads.asked == [41]  # the new ones are answered from memory


@pytest.mark.sqlite_only  # one process: answered from memory (not so on PostgreSQL)
async def test_an_update_given_twice_to_one_process_is_handled_once(
    desk: StoredDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _CountedReads(desk, monkeypatch)
    assert not await desk.handled_before(7)  # replayed from the inbox at start-up
    await desk.update_handled(7)
    assert await desk.handled_before(7)  # and fetched again from Telegram
    assert not await desk.handled_before(8)
    assert not await desk.handled_before(8)  # not noted as handled yet: still running
    assert reads.asked == [7, 8]


async def test_the_ids_remembered_are_bounded(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(desk_module, "GIVEN_KEPT", 3)
    for update_id in range(1, 6):
        assert not await desk.handled_before(update_id)
        await desk.update_handled(update_id)
    assert len(desk._given) <= 3
    assert [await desk.handled_before(i) for i in range(1, 7)] == [True] * 5 + [False]

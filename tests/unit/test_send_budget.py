"""Telegram's budget shared by several workers (storage/budget.py, ratelimit.window_plan):
each send takes its place in its chat's window and the bot's, as every worker sees them, so
two workers answering one chat keep the chat's pace together."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.channels.telegram.ratelimit import (
    DeskRateLimiter,
    Plan,
    TelegramLimits,
    spacing_plan,
    window_plan,
)
from storage import Database
from storage.budget import SendBudgets

NOW = 1_800_000_000.0


def _crowded(slots: list[float], limit: int, period: float) -> list[float]:
    """The slots whose window (the `period` before it, itself included) holds too many."""
    return [s for s in slots if sum(1 for t in slots if s - period < t <= s) > limit]


def test_a_plan_fills_the_window_then_waits_for_its_oldest_to_leave() -> None:
    sent: list[float] = []
    slots = []
    for _ in range(7):
        slot, sent = window_plan(3, 1.0, 1, clock=lambda: NOW)(sent)
        slots.append(slot)
    assert slots == [NOW, NOW, NOW, NOW + 1, NOW + 1, NOW + 1, NOW + 2]
    assert sent == [NOW + 2]  # the window behind the last slot: nothing older matters
    # An album of two counts twice: the window is full, the next one waits.
    slot, sent = window_plan(3, 1.0, 2, clock=lambda: NOW + 2)(sent)
    assert (slot, sent) == (NOW + 2, [NOW + 2] * 3)
    slot, sent = window_plan(3, 1.0, 1, clock=lambda: NOW + 2)(sent)
    assert slot == NOW + 3
    # A quiet budget gives the present moment.
    slot, _sent = window_plan(3, 1.0, 1, clock=lambda: NOW + 60)(sent)
    assert slot == NOW + 60


def test_the_bots_pace_spaces_every_message_and_never_lets_a_burst_through() -> None:
    sent: list[float] = []
    slots = []
    for cost in (1, 1, 2, 1):
        slot, sent = spacing_plan(0.04, cost, clock=lambda: NOW)(sent)
        slots.append(round(slot - NOW, 6))
    assert slots == [0.0, 0.04, 0.08, 0.16]  # the album took two slots
    # After a quiet while, the present moment (no burst saved up).
    assert spacing_plan(0.04, 1, clock=lambda: NOW + 10)(sent)[0] == NOW + 10


@pytest.fixture
async def workers(db: Database) -> AsyncIterator[list[SendBudgets]]:
    """Two workers' budgets on the test's database (on SQLite, one file opened twice)."""
    other = Database(db.path, url=db.url)
    await other.connect()
    yield [SendBudgets(db), SendBudgets(other)]
    await other.close()


async def test_workers_racing_for_one_budget_never_crowd_its_window(
    workers: list[SendBudgets],
) -> None:
    plan: Plan = window_plan(5, 1.0, 1, clock=lambda: NOW)
    slots = await asyncio.gather(*(workers[i % 2].take("chat:7", plan) for i in range(40)))
    assert sorted(slots) == [NOW + second for second in range(8) for _ in range(5)]
    # Another chat's budget is its own.
    assert await workers[1].take("chat:8", plan) == NOW


async def test_quiet_budgets_are_forgotten(workers: list[SendBudgets]) -> None:
    await workers[0].take("chat:7", window_plan(3, 1.0, 1, clock=lambda: NOW))
    await workers[0].take("chat:8", window_plan(3, 1.0, 1, clock=lambda: NOW + 600))
    assert await workers[1].forget(NOW + 1) == 1
    # chat:7 starts afresh; chat:8 still knows its send.
    assert await workers[1].take("chat:7", window_plan(1, 1.0, 1, clock=lambda: NOW + 2)) == (
        NOW + 2
    )
    assert await workers[1].take("chat:8", window_plan(1, 1.0, 1, clock=lambda: NOW + 600)) == (
        NOW + 601
    )


class Recorder:
    """PTB's request callback as the limiter calls it: when each message went."""

    def __init__(self) -> None:
        self.at: list[float] = []

    async def __call__(self, *args: Any, **kwargs: Any) -> bool:
        self.at.append(time.time())
        return True


async def test_two_workers_answering_one_customer_keep_the_chats_pace_together(
    workers: list[SendBudgets],
) -> None:
    # A customer's chat: a burst of two, then ten a second (Telegram's, made fast).
    limits = TelegramLimits(overall_per_second=1000, private_burst=2, private_per_second=10)
    period = 2 / 10
    limiters = [DeskRateLimiter(limits, shared=budget) for budget in workers]
    send = Recorder()
    chat = {"chat_id": 4242, "text": "x"}
    await asyncio.gather(
        *(
            limiters[i % 2].process_request(send, (), {}, "sendMessage", chat, None)
            for i in range(8)
        )
    )
    assert len(send.at) == 8
    # Alone, each worker would have let its own burst of two go at once: four together.
    assert _crowded(sorted(send.at), 2, period - 0.02) == []


class Down:
    async def take(self, budget: str, plan: Plan) -> float:
        raise ConnectionRefusedError("the database is down")


async def test_a_send_goes_on_when_the_shared_budget_cant_be_read(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = DeskRateLimiter(shared=Down())
    send = Recorder()
    for _ in range(2):
        await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 5}, None)
    assert len(send.at) == 2
    warned = [r for r in caplog.records if "shared Telegram budget" in r.getMessage()]
    assert len(warned) == 1  # once, not per message

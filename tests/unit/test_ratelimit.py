"""The rate limiter counts what Telegram counts: messages, not reads; albums item by item."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.channels.telegram.ratelimit import (
    DeskRateLimiter,
    SlidingWindow,
    TelegramLimits,
    message_count,
    sending_from_outbox,
)


class Recorder:
    """A stand-in for PTB's request callback: counts calls, can refuse with a 429."""

    def __init__(self, refuse: int = 0) -> None:
        self.calls = 0
        self.refuse = refuse

    async def __call__(self, *args: Any, **kwargs: Any) -> bool:
        self.calls += 1
        if self.refuse:
            self.refuse -= 1
            raise RetryAfter(timedelta(seconds=0))
        return True


async def test_reads_and_reactions_pass_while_a_group_budget_is_spent() -> None:
    limiter = DeskRateLimiter(TelegramLimits(group_limit=1, group_period=3600))
    send = Recorder()
    group = {"chat_id": -100123, "text": "x"}
    await limiter.process_request(send, (), {}, "sendMessage", group, None)
    # The group's budget is spent for an hour: another message to it would wait ...
    blocked = asyncio.create_task(limiter.process_request(send, (), {}, "sendMessage", group, None))
    # ... but reads, reactions and callback answers go through at once.
    read = Recorder()
    for endpoint in ("getChatMember", "getChat", "setMessageReaction", "answerCallbackQuery"):
        await asyncio.wait_for(
            limiter.process_request(read, (), {}, endpoint, {"chat_id": -100123}, None), 1
        )
    assert read.calls == 4
    assert send.calls == 1 and not blocked.done()
    blocked.cancel()


async def test_a_429_is_waited_out_and_sent_again() -> None:
    limiter = DeskRateLimiter()
    send = Recorder(refuse=2)
    result = await limiter.process_request(
        send, (), {}, "sendMessage", {"chat_id": 5, "text": "x"}, None
    )
    assert result is True and send.calls == 3


async def test_a_429_past_the_retries_is_raised() -> None:
    limiter = DeskRateLimiter(max_retries=1)
    send = Recorder(refuse=5)
    with pytest.raises(RetryAfter):
        await limiter.process_request(send, (), {}, "sendMessage", {"chat_id": 5}, None)
    assert send.calls == 2


def test_an_album_counts_each_item() -> None:
    assert message_count("sendMediaGroup", {"media": [1, 2, 3]}) == 3
    assert message_count("sendMessage", {"text": "x"}) == 1
    assert message_count("copyMessages", {"message_ids": [1, 2]}) == 2


async def test_a_sliding_window_never_holds_more_than_its_limit() -> None:
    window = SlidingWindow(limit=3, period=0.2)
    loop = asyncio.get_running_loop()
    times: list[float] = []
    for _ in range(7):
        await window.acquire()
        times.append(loop.time())
    # Any 0.2-second window holds at most three.
    for i in range(len(times) - 3):
        assert times[i + 3] - times[i] >= 0.2 - 0.01


async def test_the_outbox_gives_way_to_a_direct_answer() -> None:
    limiter = DeskRateLimiter()
    release = asyncio.Event()
    order: list[str] = []

    async def direct(*args: Any, **kwargs: Any) -> bool:
        order.append("direct starts")
        await release.wait()
        order.append("direct done")
        return True

    async def owed(*args: Any, **kwargs: Any) -> bool:
        order.append("outbox sends")
        return True

    answer = asyncio.create_task(
        limiter.process_request(direct, (), {}, "sendMessage", {"chat_id": 5}, None)
    )
    await asyncio.sleep(0.05)

    async def from_outbox() -> object:
        with sending_from_outbox():
            return await limiter.process_request(owed, (), {}, "sendMessage", {"chat_id": 6}, None)

    notice = asyncio.create_task(from_outbox())
    await asyncio.sleep(0.2)
    assert order == ["direct starts"]  # the outbox waits while a person is being answered
    release.set()
    await asyncio.gather(answer, notice)
    assert order == ["direct starts", "direct done", "outbox sends"]

"""Several workers, one desk: the updates each worker handles are the ones it claims.

On PostgreSQL any number of `python -m bot` workers may serve one bot (behind a load
balancer in webhook mode, or with the elected one polling). Whichever worker receives an
update writes it to the shared inbox with its line (a private chat, a forum topic:
`bot.channels.telegram.updates.line_of`) and does nothing else with it. Every worker's
`Claimer` then claims the oldest unhandled update of each line nobody holds
(`storage.updates.Inbox.claim`) and hands it to PTB; the line stays this worker's until the
update's handling ended here, so one chat's updates are handled one at a time, in order,
whichever worker they reached. A worker renews its leases every few seconds while it
lives; a killed worker's lines are taken over once its lease lapses, the update it held
handled again as a replay (the form asks its open question again, a change already made
is found made: `Transaction.settle`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update

from bot.channels.telegram.faults import Trouble, describe
from bot.compose import StoredDesk

log = logging.getLogger(__name__)

# Seconds a claimed line stays this worker's without a renewal: how long a killed worker's
# chats wait before another worker takes them over.
LEASE = 3.0
RENEW_EVERY = 1.0
# How often the inbox is looked at when nothing woke the claimer (an update another worker
# received, without a LISTEN of its own here).
LOOK_EVERY = 0.5
# Updates claimed and not yet handled at most (PTB's processor runs 64 lines at once).
CAPACITY = 64


def worker_name() -> str:
    """This process among the workers: host, pid and a random tail (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Claimer:
    """Claims lines from the shared inbox and hands their updates to PTB."""

    def __init__(
        self,
        desk: StoredDesk,
        hand_over: Callable[[Update], Awaitable[None]],
        read: Callable[[dict[str, Any]], Update],
        replayed: set[int],
        *,
        worker: str | None = None,
        lease: float = LEASE,
    ) -> None:
        self.desk = desk
        self.worker = worker or worker_name()
        self.lease = lease
        self._hand_over = hand_over
        self._read = read
        self._replayed = replayed
        self._held: set[int] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._renewed = 0.0
        self._trouble = Trouble("Claiming updates from the shared inbox", log)

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="inbox-claimer")

    async def stop(self) -> None:
        """Claim nothing more, and let go of what is held (another worker takes it at once)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for update_id in sorted(self._held):
            with contextlib.suppress(Exception):
                await self.desk.release_update(update_id, self.worker)
        self._held.clear()

    async def done(self, update_id: int) -> None:
        """The update's handling ended here (handled, quarantined or failed): free its line."""
        if update_id not in self._held:
            return
        self._held.discard(update_id)
        try:
            await self.desk.release_update(update_id, self.worker)
        finally:
            self._wake.set()

    async def _run(self) -> None:
        while True:
            wait = LOOK_EVERY
            try:
                await self._round()
            except Exception as exc:  # noqa: BLE001 - the loop survives anything, backing off
                wait = self._trouble.failed(describe(exc))
            else:
                self._trouble.succeeded()
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def _round(self) -> None:
        now = time.time()
        if self._held and now - self._renewed >= RENEW_EVERY:
            await self.desk.renew_claims(self.worker, now + self.lease)
            self._renewed = now
        room = CAPACITY - len(self._held)
        if room <= 0:
            return
        claimed = await self.desk.claim_updates(self.worker, now=now, lease=self.lease, limit=room)
        if claimed and not self._held:
            self._renewed = now
        for claim in claimed:
            self._held.add(claim.update_id)
            if claim.taken_over:
                log.info("Handling update %s, left by a worker that stopped", claim.update_id)
                self._replayed.add(claim.update_id)
            try:
                update = self._read(claim.payload)
            except Exception:
                await self.done(claim.update_id)
                raise
            await self._hand_over(update)

"""Which worker is the desk's leader: the one that delivers the outbox and runs the sweep.

Several `python -m bot` workers may share one PostgreSQL database; Telegram's limits are
the whole desk's, and the sweep must run once a round, so one of them leads. The leader
holds a PostgreSQL advisory lock (`pg_try_advisory_lock`) on a connection of its own, kept
open while it leads. When the worker dies, its connection closes, PostgreSQL releases the
lock, and the next worker to ask (each asks every `RETRY` seconds) takes over. The
leader's connection also listens for `NOTIFY desk_outbox`, sent by any worker's
transaction that added to the outbox, so a reply written on another worker is delivered
at once, not at the next poll.

On SQLite there is one worker by construction (one process owns the file's write lock for
its changes): it always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from storage.db import Database
from storage.engines import OUTBOX_CHANNEL, PostgresBackend

log = logging.getLogger(__name__)

# Any number that is the desk's own (storage.migrate uses another).
LEADER_LOCK = 0x5D_E5_C0_02
# How often a follower asks for the lock, and how often the leader checks it still has it.
RETRY = 2.0


class Leadership:
    """Ask `leads()` before leading work; the answer is re-checked every `RETRY` seconds."""

    def __init__(self, db: Database, *, retry: float = RETRY) -> None:
        self.db = db
        self.retry = retry
        # The lock's connection, kept open by a follower too (it asks again on it).
        self._conn: AsyncConnection | None = None
        self._holds = False  # whether this worker holds the lock on `_conn`
        self._engine: AsyncEngine | None = None
        self._checked = 0.0
        self._leads = False
        self._lock = asyncio.Lock()
        # Called when another worker's transaction added to the outbox (the leader only).
        self.on_queued: Callable[[], None] | None = None

    @property
    def shared(self) -> bool:
        """Whether other workers may share the database (PostgreSQL)."""
        return isinstance(self.db.backend, PostgresBackend)

    async def leads(self) -> bool:
        """Whether this worker leads now (taking the lead if nobody has it)."""
        if not self.shared:
            return True
        if time.monotonic() - self._checked < self.retry:
            return self._leads
        async with self._lock:
            if time.monotonic() - self._checked >= self.retry:
                self._leads = await self._check()
                self._checked = time.monotonic()
        return self._leads

    async def _check(self) -> bool:
        if self._holds:
            assert self._conn is not None
            try:
                await self._conn.execute(text("SELECT 1"))
            except Exception as exc:  # noqa: BLE001 - a lost connection is a lost lead
                log.warning("This worker lost the lead (%s)", type(exc).__name__)
                await self._drop()
                return False
            return True
        return await self._take()

    async def _connection(self) -> AsyncConnection | None:
        """The lock's own connection (not from the pool: the lock lives as long as it), kept
        open between asks; None if the server can't be reached."""
        if self._conn is not None:
            return self._conn
        if self._engine is None:
            backend = self.db.backend
            assert isinstance(backend, PostgresBackend)
            self._engine = create_async_engine(backend.url, poolclass=NullPool)
        try:
            conn = await self._engine.connect()
            self._conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        except Exception as exc:  # noqa: BLE001 - no server: nobody here leads
            log.debug("The leader's lock can't be asked for: %s", exc)
            return None
        return self._conn

    async def _take(self) -> bool:
        conn = await self._connection()
        if conn is None:
            return False
        try:
            got = (
                await conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LEADER_LOCK})
            ).scalar()
            if not got:
                return False
            raw: Any = (await conn.get_raw_connection()).driver_connection
            await raw.add_listener(OUTBOX_CHANNEL, self._notified)
        except Exception as exc:  # noqa: BLE001 - a broken connection: the next ask opens one
            log.debug("The leader's lock can't be asked for: %s", exc)
            await self._drop()
            return False
        self._holds = True
        log.info("This worker leads: it delivers the outbox and runs the sweep")
        return True

    def _notified(self, *_: object) -> None:
        if self.on_queued is not None:
            self.on_queued()

    async def _drop(self) -> None:
        """Close the lock's connection (the lock, if held, goes with it)."""
        self._holds = False
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    async def _dispose(self) -> None:
        await self._drop()
        engine, self._engine = self._engine, None
        if engine is not None:
            with contextlib.suppress(Exception):
                await engine.dispose()

    async def release(self) -> None:
        """Give the lead up (at shutdown): another worker takes it at its next ask."""
        if self._holds and self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": LEADER_LOCK}
                )
        await self._dispose()
        self._leads = False
        self._checked = 0.0

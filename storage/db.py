"""The desk's database: SQLite (one file, the default) or PostgreSQL (`DATABASE_URL`).

Both run the same statements, written once in the SQL both dialects share (`?`
placeholders, `ON CONFLICT DO NOTHING`, `RETURNING`), through SQLAlchemy's async engine
with the `aiosqlite` or the `asyncpg` driver (`storage.engines`). What differs is how each
serialises:

- SQLite has a single writer, so the bot keeps one connection and serialises every use of
  it behind one lock; a write runs inside `BEGIN IMMEDIATE` / `COMMIT`.
- PostgreSQL has a pool of connections: reads run side by side, a transaction holds one
  connection, and this process's write transactions still take turns (a use case reads,
  decides and writes in one transaction, as it does on SQLite).

The migrations are in `storage.migrate`, the errors and their classification in
`storage.faults`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from storage.engines import (
    NOTIFY_QUEUED,
    Backend,
    Params,
    PostgresBackend,
    Record,
    Session,
    SqliteBackend,
)

__all__ = ["Database", "Deferred", "Params", "Record", "Transaction", "handling_update"]


# The update being handled in this task (set by the update processor), so that the change it
# causes records it as handled in the same transaction (`Transaction.settle`).
_handling: ContextVar[_Handling | None] = ContextVar("handling_update", default=None)
# Writes held back while a delivery is under way, to be written with its outcome.
_deferred: ContextVar[Deferred | None] = ContextVar("deferred_writes", default=None)

_SETTLE = (
    "INSERT INTO processed_updates (update_id, processed_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
    "DELETE FROM inbox WHERE update_id = ?",
)


@contextmanager
def handling_update(update_id: int) -> Iterator[None]:
    """Within the block, a settling transaction records `update_id` as handled."""
    token = _handling.set(_Handling(update_id))
    try:
        yield
    finally:
        _handling.reset(token)


def update_settled() -> bool:
    """Whether a committed transaction already recorded the update being handled."""
    handling = _handling.get()
    return handling is not None and handling.settled


class _Handling:
    def __init__(self, update_id: int) -> None:
        self.update_id = update_id
        self.settled = False


class Deferred:
    """Writes collected during a delivery (see `Database.deferring`)."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, list[Params]]] = []
        self.queued = False


class Database:
    """The desk's one database: SQLite at `path`, or PostgreSQL at `url` when given."""

    def __init__(self, path: Path | str, *, url: str | None = None) -> None:
        # The SQLite file; with PostgreSQL, the folder beside it still keeps the desk's files.
        self.path = Path(path)
        self.url = url
        self.backend: Backend = SqliteBackend(self.path) if url is None else PostgresBackend(url)
        # Called after a transaction that added to the outbox has committed: the outbox's
        # sender is woken only when there is something to send.
        self.on_queued: Callable[[], None] | None = None

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.backend.dialect

    @property
    def where(self) -> str:
        """The database as a message may name it (a PostgreSQL URL without its password)."""
        return self.backend.where

    async def connect(self, *, migrate: bool = True) -> None:
        """Open the database (creating an SQLite file's folder) and apply pending migrations
        (unless `migrate` is False: a tool that only reads).

        Idempotent: whoever needs the database first (start-up, a tool, a test) opens it.
        """
        await self.backend.open(migrate=migrate)

    async def has_table(self, name: str) -> bool:
        await self.connect(migrate=False)
        return await self.backend.has_table(name)

    async def check_writable(self) -> None:
        """Can the database be opened for writing? DatabaseUnavailableError if not."""
        await self.backend.check(integrity=False)

    async def check_usable(self) -> None:
        """The start-up check: as `check_writable`, and (SQLite) every page read and a write
        committed, so a damaged file or a full disk stops the bot before it runs."""
        await self.backend.check(integrity=True)

    async def close(self) -> None:
        await self.backend.close()

    @property
    def is_open(self) -> bool:
        return self.backend.is_open

    @asynccontextmanager
    async def transaction(self, *, deferrable: bool = False) -> AsyncIterator[Transaction]:
        """Run statements atomically: all of them commit, or none (on any exception).

        A `deferrable` transaction inside `deferring()` is collected instead, to be written
        with the delivery's outcome (it may not read, or insert for an id).
        """
        deferred = _deferred.get() if deferrable else None
        if deferred is not None:
            tx: Transaction = _Collector(deferred)
            yield tx
            return
        async with self._begin(write=True) as tx:
            yield tx

    @contextmanager
    def deferring(self) -> Iterator[Deferred]:
        """Collect the writes made within the block instead of running them.

        Only transactions opened as `deferrable` are collected. For the outbox's sender:
        what it writes while delivering an item (the copies'
        message ids, the other items a folded message delivered, a long text's further
        parts) goes into the same transaction as the item's new state, so a kill leaves all
        of it or none.
        """
        deferred = Deferred()
        token = _deferred.set(deferred)
        try:
            yield deferred
        finally:
            _deferred.reset(token)

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Transaction]:
        """Read with several statements from one state of the database, taking no write lock."""
        async with self._begin(write=False) as tx:
            yield tx

    @asynccontextmanager
    async def _begin(self, *, write: bool) -> AsyncIterator[Transaction]:
        await self.connect()
        async with self.backend.begin(write=write) as session:
            tx = Transaction(session)
            yield tx
            if tx.queued and self.dialect == "postgresql":
                # The leader of several workers hears of it at the commit (storage.leader).
                await session.execute(NOTIFY_QUEUED, ())
        # Committed.
        if tx.settles is not None:
            tx.settles.settled = True
        if tx.queued and self.on_queued is not None:
            self.on_queued()  # the outbox has something new: its sender looks now

    async def delete_in_batches(
        self, sql: str, params: Sequence[Any], *, batch: int, most: int
    ) -> int:
        """Run a DELETE whose last `?` is its LIMIT until a batch falls short; the rows gone.

        Each batch is its own short transaction, so the write lock (and this connection)
        is never held for long; `most` batches at the most, the rest waits for the next call.
        """
        gone = 0
        for _ in range(most):
            count = await self.execute(sql, (*params, batch))
            gone += count
            if count < batch:
                break
        return gone

    async def fetch_one(self, sql: str, params: Params = ()) -> Record | None:
        """The first row of a query that yields a few at most (a key, a LIMIT, an aggregate)."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Record]:
        await self.connect()
        return await self.backend.read(sql, params)

    async def write_alone(self, sql: str, params: Params = ()) -> int:
        """Run one write as its own implicit transaction (on SQLite one trip to the
        database's thread instead of three: BEGIN, the statement, COMMIT; on PostgreSQL
        not waiting for this process's other write transactions); the affected rows."""
        await self.connect()
        return await self.backend.write_alone(sql, params)

    async def execute(self, sql: str, params: Params = (), *, deferrable: bool = False) -> int:
        """Run one write in its own transaction; return the affected row count."""
        async with self.transaction(deferrable=deferrable) as tx:
            return await tx.execute(sql, params)

    async def checkpoint(self) -> bool:
        """SQLite: fold the write-ahead log into the file and truncate it (old frames hold
        what was there before the last changes); False if a reader kept it from completing.
        PostgreSQL: nothing to do here (its own VACUUM reclaims dead rows)."""
        await self.connect()
        return await self.backend.checkpoint()


class Transaction:
    """Statements inside one `Database.transaction()`."""

    def __init__(self, session: Session | None) -> None:
        self._session_or_none = session
        # Set by whoever adds to the outbox in this transaction (storage.outbox.enqueue).
        self.queued = False
        # The update this transaction records as handled, once it commits (`settle`).
        self.settles: _Handling | None = None

    @property
    def _session(self) -> Session:
        assert self._session_or_none is not None
        return self._session_or_none

    @property
    def dialect(self) -> str:
        return self._session.dialect

    async def settle(self) -> None:
        """Record the update being handled (if any) as handled, in this transaction.

        Called by the changes that must never happen twice (a ticket, a message, a status,
        a rating): a replay after a kill then finds the update handled and skips it, and a
        kill before the commit leaves neither the change nor the mark.
        """
        handling = _handling.get()
        if handling is None:
            return
        await self.execute(_SETTLE[0], (handling.update_id, int(time.time())))
        if self._session.dialect == "sqlite":
            # On PostgreSQL the row holds the update's line for the worker handling it
            # until its handling ends (storage.updates.Inbox.claim): retention drops it.
            await self.execute(_SETTLE[1], (handling.update_id,))
        self.settles = handling

    async def apply(self, deferred: Deferred) -> None:
        """Write what a delivery collected (see `Database.deferring`)."""
        for sql, params in deferred.writes:
            await self.executemany(sql, params)
        self.queued = self.queued or deferred.queued

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a write; the number of rows it changed."""
        return await self._session.execute(sql, params)

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an `INSERT ... RETURNING <key>` and return the new row's key."""
        rows = await self._session.fetch_all(sql, params)
        if not rows:
            raise RuntimeError("INSERT returned no row")
        return int(rows[0][0])

    async def executemany(self, sql: str, params: Iterable[Params]) -> None:
        await self._session.executemany(sql, list(params))

    async def fetch_one(self, sql: str, params: Params = ()) -> Record | None:
        """As Database.fetch_one."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Record]:
        return await self._session.fetch_all(sql, params)


class _Collector(Transaction):
    """A transaction whose writes are kept for later (see `Database.deferring`)."""

    def __init__(self, deferred: Deferred) -> None:
        self._deferred = deferred
        super().__init__(None)

    @property
    def queued(self) -> bool:
        return self._deferred.queued

    @queued.setter
    def queued(self, value: bool) -> None:
        self._deferred.queued = self._deferred.queued or value

    async def execute(self, sql: str, params: Params = ()) -> int:
        self._deferred.writes.append((sql, [params]))
        return 1

    async def executemany(self, sql: str, params: Iterable[Params]) -> None:
        self._deferred.writes.append((sql, list(params)))

    async def insert(self, sql: str, params: Params = ()) -> int:
        raise RuntimeError("a deferred write can't insert for a row id")

    async def fetch_one(self, sql: str, params: Params = ()) -> Record | None:
        raise RuntimeError("a deferred write can't read")

    async def fetch_all(self, sql: str, params: Params = ()) -> list[Record]:
        raise RuntimeError("a deferred write can't read")

"""The SQLite database: one connection, WAL, explicit transactions.

SQLite has a single writer, so the bot keeps a single connection and serialises every
use of it behind one lock: a transaction can never interleave with another coroutine's
statements on the same connection. Autocommit is on (`isolation_level=None`) and every
write runs inside `transaction()`, which issues `BEGIN IMMEDIATE` / `COMMIT` itself.
The numbered migrations are in `storage.migrate`, the errors and their classification in
`storage.faults`.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import aiosqlite

from storage.faults import DatabaseUnavailableError, describe
from storage.migrate import apply_migrations

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]


# The update being handled in this task (set by the update processor), so that the change it
# causes records it as handled in the same transaction (`Transaction.settle`).
_handling: ContextVar[_Handling | None] = ContextVar("handling_update", default=None)
# Writes held back while a delivery is under way, to be written with its outcome.
_deferred: ContextVar[Deferred | None] = ContextVar("deferred_writes", default=None)

_SETTLE = (
    "INSERT OR IGNORE INTO processed_updates (update_id, processed_at) VALUES (?, ?)",
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
    """The one connection to the desk's SQLite file."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        # Called after a transaction that added to the outbox has committed: the outbox's
        # sender is woken only when there is something to send.
        self.on_queued: Callable[[], None] | None = None
        self._open_lock = asyncio.Lock()

    async def connect(self) -> None:
        """Open the file (creating its folder), switch on WAL and apply pending migrations.

        Idempotent: whoever needs the database first (start-up, a tool, a test) opens it.
        """
        async with self._open_lock:
            if self._conn is not None:
                return
            await self.check_writable()
            conn = await aiosqlite.connect(self.path, isolation_level=None)
            try:
                conn.row_factory = sqlite3.Row
                await conn.execute("PRAGMA journal_mode=WAL")
                await conn.execute("PRAGMA synchronous=NORMAL")
                await conn.execute("PRAGMA foreign_keys=ON")
                await conn.execute("PRAGMA busy_timeout=5000")
                # Deleted and replaced content is overwritten with zeros, not left in free
                # space (a forgotten customer's words; some builds have it on already).
                await conn.execute("PRAGMA secure_delete=ON")
                self._conn = conn
                await apply_migrations(conn)
            except sqlite3.Error as exc:
                # A half-open connection keeps aiosqlite's worker thread (and with it the
                # process) alive: close it, and say in one line what is wrong with the file.
                self._conn = None
                await conn.close()
                raise DatabaseUnavailableError(describe(self.path, exc)) from exc

    async def check_writable(self) -> None:
        """Create the folder and open the file for writing once; DatabaseUnavailableError if not.

        Done plainly, before aiosqlite: SQLite opens a read-only file without complaint and
        fails only at the first write, and a failed `aiosqlite.connect` leaves its worker
        thread to report into a closed event loop. Trying here turns every such case into
        one clear error.
        """
        await asyncio.to_thread(self._check, integrity=False)

    async def check_usable(self) -> None:
        """The start-up check: as `check_writable`, and every page read (`PRAGMA quick_check`)
        and a write committed, so a damaged file or a full disk stops the bot before it runs.
        """
        await asyncio.to_thread(self._check, integrity=True)

    def _check(self, *, integrity: bool) -> None:
        if self.path.is_dir():
            raise DatabaseUnavailableError(f"{self.path}: is a folder, not a file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailableError(
                f"{self.path}: can't create its folder ({exc.strerror or exc})"
            ) from exc
        try:
            conn = sqlite3.connect(self.path, isolation_level=None)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                if integrity:
                    problems = [row[0] for row in conn.execute("PRAGMA quick_check")]
                    if problems != ["ok"]:
                        raise DatabaseUnavailableError(
                            f"{self.path}: fails PRAGMA quick_check ({problems[0]})"
                        )
                # A write lock is refused on a read-only file even when WAL was already on.
                conn.execute("BEGIN IMMEDIATE")
                if integrity:
                    # A committed write: only that reaches the disk (and finds it full).
                    version = conn.execute("PRAGMA user_version").fetchone()[0]
                    conn.execute(f"PRAGMA user_version = {int(version)}")
                    conn.execute("COMMIT")
                else:
                    conn.execute("ROLLBACK")
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise DatabaseUnavailableError(describe(self.path, exc)) from exc

    async def close(self) -> None:
        async with self._open_lock:
            if self._conn is not None:
                await self._conn.close()
                self._conn = None

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    def _require(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("the database is not open")
        return self._conn

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
        async with self._begin("BEGIN IMMEDIATE") as tx:
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
        """Read with several statements from one state of the file, taking no write lock."""
        # A deferred BEGIN starts a read transaction at the first SELECT (WAL keeps its
        # snapshot while others write).
        async with self._begin("BEGIN") as tx:
            yield tx

    @asynccontextmanager
    async def _begin(self, begin: str) -> AsyncIterator[Transaction]:
        await self.connect()
        conn = self._require()
        async with self._lock:
            await conn.execute(begin)
            tx = Transaction(conn)
            try:
                yield tx
            except BaseException:
                await _rollback(conn)
                raise
            else:
                await conn.execute("COMMIT")
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

    # A read is one trip to aiosqlite's thread (execute_fetchall), not three (execute, fetch,
    # close the cursor): each trip is a wake-up of that thread and of the event loop.

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """The first row of a query that yields a few at most (a key, a LIMIT, an aggregate)."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        await self.connect()
        async with self._lock:
            return list(await self._require().execute_fetchall(sql, params))

    async def write_alone(self, sql: str, params: Params = ()) -> None:
        """Run one write as its own implicit transaction: one trip to the database's thread
        instead of three (BEGIN, the statement, COMMIT)."""
        await self.connect()
        async with self._lock:
            await self._require().execute(sql, params)

    async def execute(self, sql: str, params: Params = (), *, deferrable: bool = False) -> int:
        """Run one write in its own transaction; return the affected row count."""
        async with self.transaction(deferrable=deferrable) as tx:
            return await tx.execute(sql, params)

    async def checkpoint(self) -> bool:
        """Fold the write-ahead log into the file and truncate it (`wal_checkpoint(TRUNCATE)`):
        old frames hold what was there before the last changes. False if a reader kept it
        from completing."""
        await self.connect()
        async with self._lock, self._require().execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
            row = await cur.fetchone()
        busy = row is not None and row[0] != 0
        if busy:
            log.warning(
                "The write-ahead log of %s could not be truncated: a reader holds it", self.path
            )
        return not busy


async def _rollback(conn: aiosqlite.Connection) -> None:
    """Roll back, unless SQLite already did (it does when a COMMIT fails on a full disk):
    the error of that ROLLBACK would hide the real one."""
    try:
        await conn.execute("ROLLBACK")
    except sqlite3.OperationalError as exc:
        if "no transaction is active" not in str(exc):
            raise


class Transaction:
    """Statements inside one `Database.transaction()`."""

    def __init__(self, conn: aiosqlite.Connection | None) -> None:
        self._conn_or_none = conn
        # Set by whoever adds to the outbox in this transaction (storage.outbox.enqueue).
        self.queued = False
        # The update this transaction records as handled, once it commits (`settle`).
        self.settles: _Handling | None = None

    @property
    def _conn(self) -> aiosqlite.Connection:
        assert self._conn_or_none is not None
        return self._conn_or_none

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
        await self.execute(_SETTLE[1], (handling.update_id,))
        self.settles = handling

    async def apply(self, deferred: Deferred) -> None:
        """Write what a delivery collected (see `Database.deferring`)."""
        for sql, params in deferred.writes:
            await self.executemany(sql, params)
        self.queued = self.queued or deferred.queued

    # One trip to aiosqlite's thread a statement (see Database.fetch_all). A write's cursor
    # is left to Python to close, as BEGIN's and COMMIT's are: SQLite has finished with a
    # write statement once it has run, and closing it would be a second trip.

    async def execute(self, sql: str, params: Params = ()) -> int:
        cursor = await self._conn.execute(sql, params)
        return cursor.rowcount

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run an INSERT and return the new row's id."""
        cursor = await self._conn.execute(sql, params)
        rowid = cursor.lastrowid
        if rowid is None:
            raise RuntimeError("INSERT produced no row id")
        return rowid

    async def executemany(self, sql: str, params: Iterable[Params]) -> None:
        await self._conn.executemany(sql, params)

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        """As Database.fetch_one."""
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(await self._conn.execute_fetchall(sql, params))


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

    async def fetch_one(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        raise RuntimeError("a deferred write can't read")

    async def fetch_all(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        raise RuntimeError("a deferred write can't read")

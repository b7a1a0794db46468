"""The SQLite database: one connection, WAL, numbered migrations, explicit transactions.

SQLite has a single writer, so the bot keeps a single connection and serialises every
use of it behind one lock: a transaction can never interleave with another coroutine's
statements on the same connection. Autocommit is on (`isolation_level=None`) and every
write runs inside `transaction()`, which issues `BEGIN IMMEDIATE` / `COMMIT` itself.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]
# Less free space than this (a few pages) counts as a full disk in start-up messages.
_FULL_BELOW = 64 * 1024


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


class DatabaseUnavailableError(Exception):
    """The database file can't be opened, read or written; the message names the path and
    the cause, in one line."""


class StorageWriteError(Exception):
    """A write the database refused at run time (disk full, I/O error, read-only, locked).

    The change it belonged to was rolled back as a whole; trying again later may work.
    `cause` says why in a few words ("the disk is full").
    """

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


# SQLite's primary result codes that mean "the file or its disk failed", as opposed to a
# mistake in a statement (a constraint, a syntax error): only these are storage faults.
_FAULTS: dict[int, str] = {
    sqlite3.SQLITE_FULL: "the disk is full",
    sqlite3.SQLITE_IOERR: "disk I/O error",
    sqlite3.SQLITE_READONLY: "the file is read-only",
    sqlite3.SQLITE_CANTOPEN: "the file can't be opened",
    sqlite3.SQLITE_CORRUPT: "the file is damaged",
    sqlite3.SQLITE_NOTADB: "the file is not an SQLite database",
    sqlite3.SQLITE_BUSY: "the database is locked by another process",
    sqlite3.SQLITE_LOCKED: "the database is locked",
    sqlite3.SQLITE_PROTOCOL: "the database's lock protocol failed",
}
_PRIMARY = 0xFF  # extended result codes keep the primary code in their low byte


def storage_fault(exc: BaseException) -> str | None:
    """Why `exc` (or an exception it was raised from) is a storage fault, or None if not.

    Follows the chain: a ROLLBACK that fails after SQLite already rolled back on its own
    ("cannot rollback - no transaction is active") carries the real cause as its context.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, StorageWriteError):
            return current.cause
        if isinstance(current, DatabaseUnavailableError):
            return str(current)
        if isinstance(current, sqlite3.Error):
            code = getattr(current, "sqlite_errorcode", None)
            if isinstance(code, int) and code & _PRIMARY in _FAULTS:
                return _FAULTS[code & _PRIMARY]
        current = current.__cause__ or current.__context__
    return None


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

        Idempotent: PTB's persistence needs the database before `post_init` runs, so
        whoever comes first opens it.
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
                await self._migrate()
            except sqlite3.Error as exc:
                # A half-open connection keeps aiosqlite's worker thread (and with it the
                # process) alive: close it, and say in one line what is wrong with the file.
                self._conn = None
                await conn.close()
                raise DatabaseUnavailableError(self._describe(exc)) from exc

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
            raise DatabaseUnavailableError(self._describe(exc)) from exc

    def _describe(self, exc: sqlite3.Error) -> str:
        """One line naming the file and what SQLite said, with the disk's state if it is full."""
        text = f"{self.path}: {exc}"
        code = getattr(exc, "sqlite_errorcode", None)
        if isinstance(code, int) and code & _PRIMARY in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR):
            try:
                free = shutil.disk_usage(self.path.parent).free
            except OSError:
                return text
            if free < _FULL_BELOW:
                # SQLite reports a full disk as "disk I/O error" when it can't map its index.
                text += f" (no space left on the device: {free} bytes free)"
        return text

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

    async def _migrate(self) -> None:
        conn = self._require()
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
        )
        async with conn.execute("SELECT version FROM schema_migrations") as cursor:
            applied = {row[0] for row in await cursor.fetchall()}
        for version, name, script in migrations():
            if version in applied:
                continue
            log.info("Applying migration %04d %s", version, name)
            # executescript commits on its own, so the whole migration and its record go
            # into one explicit transaction written out as a script.
            await conn.executescript(
                "BEGIN IMMEDIATE;\n"
                f"{script}\n"
                "INSERT INTO schema_migrations (version, name, applied_at) "
                f"VALUES ({version}, '{name}', {int(time.time())});\n"
                "COMMIT;"
            )


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


_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def migrations() -> list[tuple[int, str, str]]:
    """The numbered `storage/migrations/NNNN_name.sql` scripts, in order."""
    found: list[tuple[int, str, str]] = []
    for entry in resources.files("storage.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..n without gaps, found {versions}")
    return found

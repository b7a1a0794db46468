"""The two databases the desk runs on, behind one small interface (`Backend`, `Session`).

Both are opened through SQLAlchemy's async engine (`create_async_engine`), with the
`aiosqlite` and the `asyncpg` driver, and run the same statement text:

- **SQLite** keeps one connection for the process, serialised behind one lock. Its
  statements go straight to the `aiosqlite` connection under SQLAlchemy's: a read there is
  one trip to aiosqlite's thread (`execute_fetchall`), where SQLAlchemy's own cursor takes
  four (open, execute, fetch, close), 79 µs against 331 µs a query on the bench machine.
  The desk's SQL needs nothing SQLAlchemy would rewrite for SQLite.
- **PostgreSQL** uses SQLAlchemy's pool and connections all the way: a statement's `?`
  placeholders (and SQLite's numbered `?1`) become named binds once, in a cached
  `text()` clause that SQLAlchemy compiles to asyncpg's `$1`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import aiosqlite
from sqlalchemy import TextClause, text
from sqlalchemy.engine import Row, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from storage.faults import DatabaseUnavailableError, describe
from storage.migrate import apply_migrations, apply_postgres_migrations

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]

# PostgreSQL: the channel a transaction that added to the outbox notifies (storage.leader).
OUTBOX_CHANNEL = "desk_outbox"
NOTIFY_QUEUED = f"SELECT pg_notify('{OUTBOX_CHANNEL}', '')"


class Record(Protocol):
    """A row read: by column name or by position (`sqlite3.Row`, or `_PgRecord`)."""

    def __getitem__(self, key: Any, /) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...

    def keys(self) -> list[str]: ...


class Session(Protocol):
    """The statements of one transaction (or of one autocommitted statement)."""

    dialect: str

    async def execute(self, sql: str, params: Params) -> int: ...

    async def executemany(self, sql: str, params: list[Params]) -> None: ...

    async def fetch_all(self, sql: str, params: Params) -> list[Record]: ...


class Backend(Protocol):
    dialect: str

    @property
    def where(self) -> str: ...

    @property
    def is_open(self) -> bool: ...

    async def open(self, *, migrate: bool = True) -> None: ...

    async def has_table(self, name: str) -> bool: ...

    async def close(self) -> None: ...

    async def check(self, *, integrity: bool) -> None: ...

    def begin(self, *, write: bool) -> AbstractAsyncContextManager[Session]: ...

    async def read(self, sql: str, params: Params) -> list[Record]: ...

    async def write_alone(self, sql: str, params: Params) -> int: ...

    async def checkpoint(self) -> bool: ...


# --- SQLite -------------------------------------------------------------------------------


class _SqliteSession:
    """Statements on the one aiosqlite connection (its lock held by the caller)."""

    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    # One trip to aiosqlite's thread a statement. A write's cursor is left to Python to
    # close, as BEGIN's and COMMIT's are: SQLite has finished with a write statement once
    # it has run, and closing it would be a second trip.

    async def execute(self, sql: str, params: Params) -> int:
        cursor = await self._conn.execute(sql, params)
        return cursor.rowcount

    async def executemany(self, sql: str, params: list[Params]) -> None:
        await self._conn.executemany(sql, params)

    async def fetch_all(self, sql: str, params: Params) -> list[Record]:
        return list(await self._conn.execute_fetchall(sql, params))


class SqliteBackend:
    """One SQLite file in WAL mode, one connection, one lock."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._engine: AsyncEngine | None = None
        self._outer: AsyncConnection | None = None
        self._conn: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()
        self._open_lock = asyncio.Lock()

    @property
    def where(self) -> str:
        return str(self.path)

    @property
    def is_open(self) -> bool:
        return self._conn is not None

    async def open(self, *, migrate: bool = True) -> None:
        """Open the file (creating its folder), switch on WAL and apply pending migrations."""
        async with self._open_lock:
            if self._conn is not None:
                return
            await self.check(integrity=False)
            # NullPool: the connection is held for the process and closed with it. SQLite's
            # own transaction handling is off (isolation_level=None): BEGIN is issued here.
            engine = create_async_engine(
                f"sqlite+aiosqlite:///{self.path}",
                poolclass=NullPool,
                connect_args={"isolation_level": None},
            )
            outer: AsyncConnection | None = None
            conn: aiosqlite.Connection | None = None
            try:
                outer = await engine.connect()
                conn = (await outer.get_raw_connection()).driver_connection
                assert isinstance(conn, aiosqlite.Connection)
                conn.row_factory = sqlite3.Row
                await conn.execute("PRAGMA journal_mode=WAL")
                await conn.execute("PRAGMA synchronous=NORMAL")
                await conn.execute("PRAGMA foreign_keys=ON")
                await conn.execute("PRAGMA busy_timeout=5000")
                # Deleted and replaced content is overwritten with zeros, not left in free
                # space (a forgotten customer's words; some builds have it on already).
                await conn.execute("PRAGMA secure_delete=ON")
                if migrate:
                    await apply_migrations(conn)
            except (sqlite3.Error, DBAPIError) as exc:
                # A half-open connection keeps aiosqlite's worker thread (and with it the
                # process) alive: close it, and say in one line what is wrong with the file.
                if outer is not None:
                    await outer.close()
                await engine.dispose()
                cause = exc.orig if isinstance(exc, DBAPIError) else exc
                if not isinstance(cause, sqlite3.Error):
                    raise
                raise DatabaseUnavailableError(describe(self.path, cause)) from exc
            self._engine, self._outer, self._conn = engine, outer, conn

    async def check(self, *, integrity: bool) -> None:
        """Create the folder and open the file for writing once; DatabaseUnavailableError if not.

        Done plainly, before aiosqlite: SQLite opens a read-only file without complaint and
        fails only at the first write, and a failed `aiosqlite.connect` leaves its worker
        thread to report into a closed event loop. Trying here turns every such case into
        one clear error. With `integrity`, every page is read (`PRAGMA quick_check`) and a
        write committed, so a damaged file or a full disk is found too.
        """
        await asyncio.to_thread(self._check, integrity=integrity)

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
            if self._outer is not None:
                await self._outer.close()
            if self._engine is not None:
                await self._engine.dispose()
            self._engine = self._outer = self._conn = None

    def _require(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("the database is not open")
        return self._conn

    @asynccontextmanager
    async def begin(self, *, write: bool) -> AsyncIterator[Session]:
        # A deferred BEGIN starts a read transaction at the first SELECT (WAL keeps its
        # snapshot while others write); IMMEDIATE takes the write lock at once.
        conn = self._require()
        async with self._lock:
            await conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield _SqliteSession(conn)
            except BaseException:
                await _rollback(conn)
                raise
            await conn.execute("COMMIT")

    async def read(self, sql: str, params: Params) -> list[Record]:
        async with self._lock:
            return list(await self._require().execute_fetchall(sql, params))

    async def write_alone(self, sql: str, params: Params) -> int:
        async with self._lock:
            cursor = await self._require().execute(sql, params)
            count = cursor.rowcount
            await cursor.close()
            return count

    async def has_table(self, name: str) -> bool:
        rows = await self.read(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        )
        return bool(rows)

    async def checkpoint(self) -> bool:
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


# --- PostgreSQL ---------------------------------------------------------------------------

# A quoted literal (left as it is, its colons escaped from SQLAlchemy's bind syntax), a
# placeholder (`?`, or `?N` numbered from 1), or a colon elsewhere (a `::` cast).
_TOKENS = re.compile(r"'(?:[^']|'')*'|\?(\d*)|:")


@lru_cache(maxsize=2048)
def named(sql: str) -> TextClause:
    """The statement with its placeholders as SQLAlchemy binds `:p0`, `:p1`, ..."""
    counter = 0

    def bind(match: re.Match[str]) -> str:
        nonlocal counter
        piece = match.group(0)
        if piece.startswith("'") or piece == ":":
            return piece.replace(":", "\\:")
        if match.group(1):
            return f":p{int(match.group(1)) - 1}"
        counter += 1
        return f":p{counter - 1}"

    return text(_TOKENS.sub(bind, sql))


def binds(params: Params) -> dict[str, Any]:
    if isinstance(params, dict):
        return params
    return {f"p{i}": value for i, value in enumerate(params)}


class _PgRecord:
    """A PostgreSQL row read as `sqlite3.Row` is: by column name or by position."""

    __slots__ = ("_row",)

    def __init__(self, row: Row[Any]) -> None:
        self._row = row

    def __getitem__(self, key: Any, /) -> Any:
        if isinstance(key, str):
            return self._row._mapping[key]
        return self._row[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._row)

    def __len__(self) -> int:
        return len(self._row)

    def keys(self) -> list[str]:
        return list(self._row._mapping.keys())


class _PgSession:
    dialect = "postgresql"

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params) -> int:
        result = await self._conn.execute(named(sql), binds(params))
        return int(result.rowcount)

    async def executemany(self, sql: str, params: list[Params]) -> None:
        if params:
            await self._conn.execute(named(sql), [binds(p) for p in params])

    async def fetch_all(self, sql: str, params: Params) -> list[Record]:
        result = await self._conn.execute(named(sql), binds(params))
        return [_PgRecord(row) for row in result]


def postgres_url(url: str) -> str:
    """`postgresql://...` (as operators write it) with SQLAlchemy's asyncpg driver named."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"not a PostgreSQL URL: {parsed.render_as_string(hide_password=True)}")
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


class PostgresBackend:
    """A PostgreSQL server: SQLAlchemy's connection pool over asyncpg."""

    dialect = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = postgres_url(url)
        self._engine: AsyncEngine | None = None
        self._autocommit: AsyncEngine | None = None
        # This process's write transactions take turns, as they do on SQLite; other
        # processes' are kept apart by the database's own locks.
        self._write_lock = asyncio.Lock()
        self._open_lock = asyncio.Lock()

    @property
    def where(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    @property
    def is_open(self) -> bool:
        return self._engine is not None

    async def open(self, *, migrate: bool = True) -> None:
        async with self._open_lock:
            if self._engine is not None:
                return
            engine = create_async_engine(self.url, pool_size=5, max_overflow=5)
            try:
                async with engine.begin() as conn:
                    if migrate:
                        await apply_postgres_migrations(conn)
                    else:
                        await conn.execute(text("SELECT 1"))
            except (OSError, SQLAlchemyError) as exc:
                await engine.dispose()
                raise DatabaseUnavailableError(f"{self.where}: {_reason(exc)}") from exc
            self._engine = engine
            self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def check(self, *, integrity: bool) -> None:
        """Connect once and run a statement; DatabaseUnavailableError with the reason if not."""
        engine = create_async_engine(self.url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (OSError, SQLAlchemyError) as exc:
            raise DatabaseUnavailableError(f"{self.where}: {_reason(exc)}") from exc
        finally:
            await engine.dispose()

    async def close(self) -> None:
        async with self._open_lock:
            if self._engine is not None:
                await self._engine.dispose()
            self._engine = self._autocommit = None

    def _require(self, *, autocommit: bool = False) -> AsyncEngine:
        engine = self._autocommit if autocommit else self._engine
        if engine is None:
            raise RuntimeError("the database is not open")
        return engine

    @asynccontextmanager
    async def begin(self, *, write: bool) -> AsyncIterator[Session]:
        engine = self._require()
        async with self._write_lock if write else nullcontext(), engine.connect() as conn:
            if not write:
                # One state of the database for every statement of the snapshot.
                await conn.execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
            async with conn.begin():
                yield _PgSession(conn)

    async def read(self, sql: str, params: Params) -> list[Record]:
        async with self._require(autocommit=True).connect() as conn:
            return await _PgSession(conn).fetch_all(sql, params)

    async def write_alone(self, sql: str, params: Params) -> int:
        async with self._require(autocommit=True).connect() as conn:
            return await _PgSession(conn).execute(sql, params)

    async def checkpoint(self) -> bool:
        return True

    async def has_table(self, name: str) -> bool:
        rows = await self.read("SELECT to_regclass(?) IS NOT NULL AS known", (name,))
        return bool(rows[0]["known"])


def _reason(exc: BaseException) -> str:
    """What went wrong, in one line, without SQLAlchemy's background links."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

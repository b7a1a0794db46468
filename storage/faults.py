"""Storage faults: the database's errors, and telling a failing file or disk from a mistake.

A fault of the file or its disk (full, I/O error, read-only, locked, damaged) is told apart
from a mistake in a statement (a constraint, a syntax error): only the former is reported as
a storage fault, in a few words, and may work when tried again later.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import asyncpg
from sqlalchemy import exc as sa_exc

# Less free space than this (a few pages) counts as a full disk in start-up messages.
_FULL_BELOW = 64 * 1024


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

# PostgreSQL's classes of SQLSTATE that mean "the server or its disk failed" (08: the
# connection, 53: resources such as a full disk, 57: the server shutting down, 58: I/O):
# a constraint or a syntax error is a mistake, not one of these.
_PG_FAULTS: dict[str, str] = {
    "08": "the database server can't be reached",
    "53": "the database server is out of resources (disk or memory)",
    "57": "the database server is shutting down or restarting",
    "58": "the database server had an I/O error",
    "25006": "the database is read-only",
}

# A statement refused for breaking a key or a check, on either database.
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError, sa_exc.IntegrityError)


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
        if isinstance(current, asyncpg.PostgresError):
            state = str(getattr(current, "sqlstate", "") or "")
            cause = _PG_FAULTS.get(state) or _PG_FAULTS.get(state[:2])
            if cause is not None:
                return cause
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return _PG_FAULTS["08"]
        if isinstance(current, (ConnectionError, asyncpg.InterfaceError)):
            return _PG_FAULTS["08"]
        current = current.__cause__ or current.__context__
    return None


def describe(path: Path, exc: sqlite3.Error) -> str:
    """One line naming the file and what SQLite said, with the disk's state if it is full."""
    text = f"{path}: {exc}"
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int) and code & _PRIMARY in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR):
        try:
            free = shutil.disk_usage(path.parent).free
        except OSError:
            return text
        if free < _FULL_BELOW:
            # SQLite reports a full disk as "disk I/O error" when it can't map its index.
            text += f" (no space left on the device: {free} bytes free)"
    return text

"""Copying an SQLite desk into an empty PostgreSQL database (`python -m bot migrate-to`).

Every table of the desk is copied row for row, in one PostgreSQL transaction: foreign keys
are checked at its end (the tables refer to each other both ways), the counters
`ticket_counts` and `rating_counts` are rebuilt by PostgreSQL's own triggers as the tickets
and ratings arrive (and must then equal SQLite's), each identity column goes on after the
highest key SQLite ever gave (a deleted ticket's number is never given again), and the
row counts of both sides are compared before the commit. A mismatch rolls everything back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from storage.db import Database, Transaction

# In an order that refers only backwards where it can (users.reply_ticket and a ticket's
# follow_up_of refer forwards: the deferred keys allow it).
TABLES = (
    "users",
    "tickets",
    "ticket_messages",
    "attachments",
    "ticket_events",
    "relayed_messages",
    "ratings",
    "drafts",
    "desk_settings",
    "desk_events",
    "held_messages",
    "outbox",
    "inbox",
    "processed_updates",
    "quarantined_updates",
    "wa_inbox",
    "wa_contacts",
    "wa_sent",
    "send_budget",
)
# Kept by triggers on both sides: compared, not copied.
COUNTERS = {
    "ticket_counts": "SELECT status, answered, met, n FROM ticket_counts WHERE n != 0"
    " ORDER BY status, answered, met",
    "rating_counts": "SELECT score, n FROM rating_counts WHERE n != 0 ORDER BY score",
}
# The tables whose key the database gives, and that key.
IDENTITIES = {
    "tickets": "number",
    "ticket_messages": "id",
    "attachments": "id",
    "ticket_events": "id",
    "relayed_messages": "id",
    "desk_events": "id",
    "held_messages": "id",
    "outbox": "id",
    "wa_inbox": "id",
}
BATCH = 2000


class CopyError(Exception):
    """The copy can't be made, or would not be whole; nothing was written."""


@dataclass(frozen=True)
class Copied:
    table: str
    source: int
    target: int


async def copy_desk(
    source: Database, target: Database, progress: Callable[[str, int], None] = lambda t, n: None
) -> list[Copied]:
    """Copy every table of the SQLite desk `source` into the empty PostgreSQL `target`."""
    if source.dialect != "sqlite" or target.dialect != "postgresql":
        raise CopyError("the copy goes from SQLite to PostgreSQL")
    await source.connect()  # migrates an old file first, so both have the same columns
    await target.connect()
    copied: list[Copied] = []
    async with source.snapshot() as reading, target.transaction() as writing:
        held = await _rows_held(writing)
        if held:
            raise CopyError(f"the target database is not empty ({held})")
        await writing.execute("SET CONSTRAINTS ALL DEFERRED")
        for table in TABLES:
            count = await _copy_table(reading, writing, table)
            progress(table, count)
            there = await writing.fetch_one(f"SELECT COUNT(*) AS n FROM {table}")
            copied.append(Copied(table, count, 0 if there is None else int(there["n"])))
        for table, query in COUNTERS.items():
            mine = [tuple(r) for r in await reading.fetch_all(query)]
            theirs = [tuple(r) for r in await writing.fetch_all(query)]
            if mine != theirs:
                raise CopyError(f"{table}: PostgreSQL counts {theirs}, SQLite {mine}")
        await _continue_identities(reading, writing)
        wrong = [c for c in copied if c.source != c.target]
        if wrong:
            raise CopyError(
                "the counts differ: "
                + ", ".join(f"{c.table} {c.source} → {c.target}" for c in wrong)
            )
    return copied


async def _rows_held(tx: Transaction) -> str:
    for table in TABLES:
        row = await tx.fetch_one(f"SELECT COUNT(*) AS n FROM {table}")
        if row is not None and int(row["n"]):
            return f"{table} has {int(row['n'])} rows"
    return ""


async def _copy_table(reading: Transaction, writing: Transaction, table: str) -> int:
    """Copy one table in batches by SQLite's rowid; the rows read."""
    count = 0
    last = -(2**63)
    insert: str | None = None
    while True:
        rows = await reading.fetch_all(
            f"SELECT rowid AS rowid_, * FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (last, BATCH),
        )
        if not rows:
            return count
        # A row iterates over its values: its column names are its keys().
        columns = [name for name in rows[0].keys() if name != "rowid_"]  # noqa: SIM118
        if insert is None:
            marks = ", ".join("?" for _ in columns)
            insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        await writing.executemany(insert, [tuple(row[c] for c in columns) for row in rows])
        count += len(rows)
        last = int(rows[-1]["rowid_"])


async def _continue_identities(reading: Transaction, writing: Transaction) -> None:
    """Make each identity column go on after the highest key SQLite gave (sqlite_sequence
    remembers the keys of deleted rows too)."""
    given = {
        str(r["name"]): int(r["seq"])
        for r in await reading.fetch_all("SELECT name, seq FROM sqlite_sequence")
    }
    for table, key in IDENTITIES.items():
        row = await writing.fetch_one(f"SELECT MAX({key}) AS top FROM {table}")
        top = max(int(row["top"] or 0) if row is not None else 0, given.get(table, 0))
        if top:
            await writing.fetch_all(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{key}'), ?)", (top,)
            )

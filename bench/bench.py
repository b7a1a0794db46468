"""Figures for the desk's hot paths: `python bench/bench.py` prints them.

- FAQ search: the latency of matching one customer message (every free text does this).
- Ticket intake: tickets filed per second into a real SQLite file (WAL), with their
  message, attachments, event and outbox row in one transaction each.
- Outbox scan: how long the dispatcher's query for due items takes with a long backlog.
- Memory: the peak Python allocation while doing all of the above.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.config import Settings
from bot.domain.desk import Desk
from bot.domain.faq import Faq
from bot.domain.models import Attachment, AttachmentKind, Draft, Priority
from storage import Database

PHRASES = [
    ("id", "order saya masih pending padahal sudah bayar dari tadi"),
    ("id", "kode otp nya dikirim terus pdhl ga minta"),
    ("sv", "vantar pa min order, har betalat"),
    ("sv", "någon ringde och ville ha min engångskod"),
    ("en", "my top up didnt arrive but payment succesful"),
    ("en", "what a lovely day it is today"),
]


def bench_faq() -> None:
    started = time.perf_counter()
    faq = Faq.load()
    load_ms = (time.perf_counter() - started) * 1000
    timings = []
    for _ in range(200):
        for locale, text in PHRASES:
            t0 = time.perf_counter()
            faq.search(locale, text)
            timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    print(f"faq load: {load_ms:.1f} ms")
    print(
        f"faq search: median {statistics.median(timings):.3f} ms, "
        f"p99 {timings[int(len(timings) * 0.99)]:.3f} ms over {len(timings)} searches"
    )


async def bench_storage(tickets: int = 2000) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(_env_file=None, bot_token="1:benchmark", database_path=Path(folder) / "b.db")  # type: ignore[call-arg]
        db = Database(settings.database_path)
        await db.connect()
        desk = Desk(settings, db, lambda: datetime.now(UTC))
        await desk.register_user(1, "Bench", None, None, "en")
        files = [Attachment(AttachmentKind.PHOTO, f"f{i}", f"u{i}", 1000) for i in range(2)]
        t0 = time.perf_counter()
        for n in range(tickets):
            draft = Draft(1, "technical", f"Server {n} is down", Priority.HIGH, "details " * 20, files)
            await desk.submit(draft, "en")
        elapsed = time.perf_counter() - t0
        print(f"ticket intake: {tickets / elapsed:.0f} tickets/s ({tickets} tickets, real SQLite file)")
        t0 = time.perf_counter()
        for _ in range(50):
            await desk.outbox.pending(200)
        print(f"outbox scan: {(time.perf_counter() - t0) / 50 * 1000:.2f} ms per query with {tickets} pending items")
        await db.close()


def main() -> None:
    tracemalloc.start()
    bench_faq()
    asyncio.run(bench_storage())
    _, peak = tracemalloc.get_traced_memory()
    print(f"peak Python memory: {peak / 1024 / 1024:.1f} MiB")


if __name__ == "__main__":
    main()

"""The desk's benchmark: `python bench/run.py` (about 13 minutes) or `--quick` (about 4).

It prints one markdown table: the desk beside a bare PTB echo bot (the framework floor),
full ticket intake, a busy agents' chat, the storage queries at 10k and 1M tickets, and
memory; the floor's and the intake's throughput again with the desk on PostgreSQL (a
throwaway server with its default durability, from tests/postgres.py; left out with the
reason printed when its binaries are not installed). The bot under test always runs as its own process against the fake Bot API of
tests/fake_api, served from this process over loopback HTTP; the fake's Telegram flood
limits are on wherever the section says so. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import contextlib
import math
import os
import platform
import sqlite3
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("PTB_TIMEDELTA", "1")

import telegram

from bench import live, storage_bench, whatsapp_bench
from bench.harness import LOGS, kill_all
from bench.stats import Row, markdown, ms, num, percentile, ratio
from tests import postgres


@dataclass(frozen=True)
class Scale:
    floor_customers: int
    floor_texts: int
    paced_seconds: float
    intake_customers: int
    intake_stagger: float
    intake_deadline: float
    agent_tickets: int
    texters: int
    agents_cap: float
    storage_sizes: tuple[tuple[int, int], ...]  # (tickets, customers)
    storage_runs: int
    drafts: int
    wa_customers: int = 50
    wa_texts: int = 10


FULL = Scale(
    20,
    25,
    15.0,
    200,
    100.0,
    300.0,
    300,
    50,
    120.0,
    ((10_000, 500), (1_000_000, 50_000)),
    200,
    10_000,
)
QUICK = Scale(
    10, 10, 6.0, 30, 15.0, 120.0, 60, 10, 40.0, ((10_000, 500), (100_000, 5_000)), 50, 1_000, 10, 5
)


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}, "
        f"python-telegram-bot {telegram.__version__}, SQLite {sqlite3.sqlite_version}"
    )


# -- section 1 -----------------------------------------------------------------------------------
@contextlib.contextmanager
def postgres_server() -> Iterator[str | None]:
    """A throwaway PostgreSQL server with its default durability (tests/postgres.py), or
    None with the reason printed when its binaries are not installed."""
    bin_dir = postgres.binaries()
    if bin_dir is None:
        print("  no PostgreSQL binaries: the PostgreSQL lines are left out", file=sys.stderr)
        yield None
        return
    server = postgres.Server(bin_dir, durable=True)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


async def section_floor(scale: Scale) -> list[Row]:
    runs: dict[tuple[str, bool], live.FloorRun] = {}
    with postgres_server() as pg_url:
        for bot in ("floor", "desk", "desk on PostgreSQL"):
            if bot == "desk on PostgreSQL" and pg_url is None:
                continue
            for limiter in (True, False):
                if bot == "desk on PostgreSQL" and pg_url is not None:
                    await postgres.empty(pg_url)
                runs[bot, limiter] = await live.floor_run(
                    "floor" if bot == "floor" else "desk",
                    limiter=limiter,
                    customers=scale.floor_customers,
                    texts=scale.floor_texts,
                    paced_seconds=scale.paced_seconds,
                    database_url=pg_url if bot == "desk on PostgreSQL" else None,
                )
    rows: list[Row] = []
    for limiter in (True, False):
        rows += _floor_rows(scale, runs["desk", limiter], runs["floor", limiter], limiter, "")
    for limiter in (True, False):
        pg = runs.get(("desk on PostgreSQL", limiter))
        if pg is not None:
            rows += _floor_rows(scale, pg, runs["floor", limiter], limiter, ", PostgreSQL")
    return rows


def _floor_rows(
    scale: Scale, d: live.FloorRun, f: live.FloorRun, limiter: bool, backend: str
) -> list[Row]:
    """The desk's run `d` beside the floor's `f` of the same run (`backend`: which
    database the desk kept its tickets in, for the labels; the floor keeps none)."""
    rows: list[Row] = []
    n = scale.floor_customers * scale.floor_texts
    tag = ("limiter" if limiter else "no limiter") + backend
    sec = "1 floor"
    r = ratio(d.flood.rate, f.flood.rate)
    rows.append(
        Row(
            sec,
            f"updates/s, flood of {n} texts ({tag})",
            num(d.flood.rate),
            num(f.flood.rate),
            r,
            "" if limiter else "≥ 0.5× floor",
            None if limiter else (r is not None and r >= 0.5),
        )
    )
    r = ratio(d.cpu_per_update, f.cpu_per_update)
    rows.append(
        Row(
            sec,
            f"bot CPU per update, flood ({tag}{'; the server not counted' if backend else ''})",
            ms(d.cpu_per_update),
            ms(f.cpu_per_update),
            r,
            "≤ 2× floor",
            r is not None and r <= 2,
        )
    )
    for share, label in ((0.5, "p50"), (0.99, "p99")):
        dv, fv = percentile(d.flood.latencies, share), percentile(f.flood.latencies, share)
        rows.append(Row(sec, f"{label} latency, flood ({tag})", ms(dv), ms(fv), ratio(dv, fv)))
    for share, label in ((0.5, "p50"), (0.99, "p99")):
        dv, fv = percentile(d.paced.latencies, share), percentile(f.paced.latencies, share)
        r = ratio(dv, fv)
        target = label == "p99"
        rows.append(
            Row(
                sec,
                f"{label} latency, paced {len(d.paced.latencies)} texts at "
                f"{scale.floor_customers / 1.5:.0f}/s, limits on ({tag})",
                ms(dv),
                ms(fv),
                r,
                "≤ 2× floor" if target else "",
                (r is not None and r <= 2) if target else None,
            )
        )
    lost = [x.flood.missing + x.paced.missing for x in (d, f)]
    rows.append(
        Row(
            sec,
            f"unanswered texts / 429s while paced / logged errors ({tag})",
            f"{lost[0]} / {d.paced_throttled} / {d.errors}",
            f"{lost[1]} / {f.paced_throttled} / {f.errors}",
            None,
            "0 / 0 / 0",
            lost == [0, 0] and d.paced_throttled == 0 and d.errors == 0,
        )
    )
    return rows


# -- section 2 -----------------------------------------------------------------------------------
async def section_intake(scale: Scale) -> list[Row]:
    rows: list[Row] = []
    runs = (
        ("at once", 0.0, 0.0, False),
        ("human pace", 2.0, scale.intake_stagger, False),
        ("at once, PostgreSQL", 0.0, 0.0, True),
    )
    with postgres_server() as pg_url:
        for label, think, stagger, on_postgres in runs:
            if on_postgres and pg_url is None:
                continue
            if on_postgres and pg_url is not None:
                await postgres.empty(pg_url)
            rows += await _intake_rows(
                scale, label, think, stagger, pg_url if on_postgres else None
            )
    return rows


async def _intake_rows(
    scale: Scale, label: str, think: float, stagger: float, database_url: str | None
) -> list[Row]:
    rows: list[Row] = []
    run = await live.intake_run(
        scale.intake_customers,
        think=think,
        stagger=stagger,
        deadline_s=scale.intake_deadline,
        label=label,
        database_url=database_url,
    )
    sec = "2 intake"
    what = f"{run.customers} customers {label}"
    if think:
        what += f" (2 s between steps, starts over {stagger:.0f} s)"
    rate = run.finished / run.seconds if run.seconds else None
    rows.append(Row(sec, f"tickets/s, {what}", num(rate, digits=2)))
    rows.append(
        Row(
            sec,
            f"Bot API calls per ticket, {label}",
            num(run.api_calls / run.finished if run.finished else None),
        )
    )
    steps = run.all_steps
    worst = max(run.steps, key=lambda s: percentile(run.steps[s], 0.99) or 0)
    p99 = percentile(steps, 0.99)
    rows.append(
        Row(
            sec,
            f"p50 / p99 per step, {label}",
            f"{ms(percentile(steps, 0.5))} / {ms(p99)}",
            target="p99 < 1 s" if think else "",
            met=(p99 is not None and p99 < 1 and run.finished == run.customers) if think else None,
        )
    )
    rows.append(
        Row(
            sec,
            f"slowest step p99, {label}",
            f"{worst}: {ms(percentile(run.steps[worst], 0.99))}",
        )
    )
    rows.append(
        Row(
            sec,
            f"customers who did not finish ({live.STEP_TIMEOUT:.0f} s a step, "
            f"{scale.intake_deadline:.0f} s in all), {label}",
            str(run.customers - run.finished),
            target="0",
            met=run.finished == run.customers,
        )
    )
    rows.append(
        Row(
            sec,
            f"429s from the fake / logged errors, {label}",
            f"{run.throttled} / {run.errors}",
        )
    )
    return rows


# -- section 3 -----------------------------------------------------------------------------------
async def section_agents(scale: Scale) -> list[Row]:
    run = await live.agents_run(scale.agent_tickets, scale.texters, cap=scale.agents_cap)
    sec = "3 agents"
    rate = run.customer_messages_per_s
    # The notices have what the talking customers leave of 27 a second (90% of the 30).
    heard_by = run.tickets / (27 - scale.texters / live.TEXTER_INTERVAL)
    rows = [
        Row(
            sec,
            f"customer close notices/s ({run.notified}/{run.tickets} delivered)",
            num(run.notices_per_s),
        ),
        Row(
            sec,
            "messages to customers/s while the notices went (notices and answers)",
            num(rate),
            "30 (Telegram)",
            ratio(rate, 30),
            "≥ 27/s",
            rate is not None and rate >= 27,
        ),
        Row(
            sec,
            "last customer heard of their close after",
            "not within cap" if run.notified < run.tickets else num(run.last_notice, "s"),
            target=f"≤ {heard_by:.0f} s",
            met=run.notified == run.tickets and (run.last_notice or 0) <= heard_by,
        ),
    ]
    rows.append(
        Row(
            sec,
            "every /close handled after (polled each second)",
            "not within cap" if run.closes_after is None else num(run.closes_after, "s"),
        )
    )
    p99 = percentile(run.customer_latencies, 0.99)
    rows.append(
        Row(
            sec,
            f"customers' p50 / p99 answer during the burst ({scale.texters} texting, "
            f"one text each {live.TEXTER_INTERVAL:.0f} s)",
            f"{ms(percentile(run.customer_latencies, 0.5))} / {ms(p99)}",
            target="p99 < 1 s",
            met=p99 is not None and p99 < 1 and run.customer_missing == 0,
        )
    )
    rows.append(
        Row(
            sec,
            "customers' texts unanswered",
            str(run.customer_missing),
            target="0",
            met=run.customer_missing == 0,
        )
    )
    if run.drained_after is not None:
        drained = num(run.drained_after, "s")
    else:
        drained = (
            f"not in {run.cap:.0f} s: {run.tickets - run.closes_done} /close unhandled, "
            f"{run.pending_updates} updates queued, {run.pending_outbox} outbox items; "
            f"projected {num(run.projected_drain, 's', 0)}"
        )
    rows.append(
        Row(sec, f"admin chat backlog drained ({run.admin_messages} admin messages sent)", drained)
    )
    rows.append(
        Row(
            sec,
            "lost / duplicated notices",
            f"{run.lost} / {run.duplicated}",
            target="0 / 0",
            met=run.lost == 0 and run.duplicated == 0,
        )
    )
    rows.append(Row(sec, "429s from the fake / logged errors", f"{run.throttled} / {run.errors}"))
    return rows


# -- section 4 -----------------------------------------------------------------------------------
# The operators' reports, held to the wait issue 12 allows rather than to a hot path's 10 ms.
REPORT_TARGETS = {"/stats 7d (desk_stats)": 1.0, "/stats 90d (desk_stats)": 1.0}


async def section_storage(scale: Scale, plans: list[str]) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        files = []
        for tickets, customers in scale.storage_sizes:
            path = Path(tmp) / f"desk-{tickets}.db"
            seeded = await asyncio.to_thread(storage_bench.seed, path, tickets, customers)
            print(f"  seeded {tickets:,} tickets in {seeded:.1f} s", file=sys.stderr)
            files.append((path, tickets, customers))
        by_size = await storage_bench.measure(files, runs=scale.storage_runs, budget=3.0)
    small, large = (by_size[s] for s, _ in scale.storage_sizes)
    big = scale.storage_sizes[-1][0]
    rows: list[Row] = []
    growth_limit = 1.5 * math.log(big) / math.log(scale.storage_sizes[0][0])
    for a, b in zip(small, large, strict=True):
        growth = b.p50 / a.p50 if a.p50 else None
        report = REPORT_TARGETS.get(b.name)
        if report is not None:
            # A report reads its whole period: it grows with the desk, and is held to the
            # operator's wait instead (issue 12: under a second on 1,000,000 tickets).
            met = b.p99 < report
            target = f"p99 < {report:g} s"
        else:
            met = b.p99 < 0.010 and growth is not None and growth <= growth_limit
            target = f"p99 < 10 ms, growth ≤ {growth_limit:.1f}×"
        rows.append(
            Row(
                "4 storage",
                f"{b.name}: p50 / p99 at {big:,} (10k)",
                f"{ms(b.p50)} / {ms(b.p99)}",
                f"{ms(a.p50)} / {ms(a.p99)}",
                growth,
                target,
                met,
            )
        )
        plans.append(f"{b.name} ({big:,} tickets):")
        for sql, plan in b.plans:
            plans.append(f"    {sql}")
            plans.extend(f"      └ {line}" for line in plan)
    return rows


# -- section 5 -----------------------------------------------------------------------------------
async def section_memory(scale: Scale) -> list[Row]:
    run = await live.memory_run(scale.drafts)
    sec = "5 memory"
    return [
        Row(sec, "desk RSS idle", num(run.idle_mb, "MB"), target="< 150 MB", met=run.idle_mb < 150),
        Row(
            sec,
            f"desk RSS with {run.held:,} of {run.drafts:,} customers holding a draft "
            f"(opened in {run.seconds:.0f} s)",
            num(run.drafts_mb, "MB"),
            target="< 150 MB",
            met=run.drafts_mb < 150 and run.held == run.drafts,
        ),
    ]


# -- section 6 -----------------------------------------------------------------------------------
async def section_whatsapp(scale: Scale) -> list[Row]:
    run = await whatsapp_bench.whatsapp_run(scale.wa_customers, scale.wa_texts)
    sec = "6 whatsapp"
    rate = run.answered / run.seconds if run.seconds else None
    p99 = percentile(run.replies, 0.99)
    return [
        Row(
            sec,
            f"webhooks handled/s, {run.customers} customers × {run.messages // run.customers}"
            " messages, each waiting for its answer",
            num(rate, digits=1),
        ),
        Row(
            sec,
            "webhook call → 200 (stored), p50 / p99",
            f"{ms(percentile(run.posts, 0.5))} / {ms(percentile(run.posts, 0.99))}",
        ),
        Row(
            sec,
            "webhook call → the desk's reply, p50 / p99",
            f"{ms(percentile(run.replies, 0.5))} / {ms(p99)}",
            target="p99 < 1 s",
            met=p99 is not None and p99 < 1 and run.answered == run.messages,
        ),
        Row(
            sec,
            "messages unanswered / sends the fake refused",
            f"{run.messages - run.answered} / {run.refused}",
            target="0 / 0",
            met=run.answered == run.messages and run.refused == 0,
        ),
    ]


SECTIONS: dict[str, Callable[[Scale, list[str]], Awaitable[list[Row]]]] = {
    "floor": lambda s, _: section_floor(s),
    "intake": lambda s, _: section_intake(s),
    "agents": lambda s, _: section_agents(s),
    "storage": section_storage,
    "memory": lambda s, _: section_memory(s),
    "whatsapp": lambda s, _: section_whatsapp(s),
}


async def main(scale: Scale, only: list[str], limit: float) -> int:
    rows: list[Row] = []
    plans: list[str] = []
    started = time.monotonic()
    for name in only:
        print(f"running section {name}...", file=sys.stderr)
        t0 = time.monotonic()
        try:
            rows += await asyncio.wait_for(SECTIONS[name](scale, plans), timeout=limit)
        except Exception as exc:  # noqa: BLE001 - one broken section must not hide the others' figures
            traceback.print_exc()
            rows.append(
                Row(name, "section failed", f"{type(exc).__name__}: {exc}"[:200], met=False)
            )
        finally:
            kill_all()
        print(f"  section {name} took {time.monotonic() - t0:.0f} s", file=sys.stderr)
    print(f"Machine: {machine()}")
    print(f"Run: {time.strftime('%Y-%m-%d %H:%M')}, {time.monotonic() - started:.0f} s\n")
    print(markdown(rows))
    if plans:
        print("\nEXPLAIN QUERY PLAN of each query at the largest size:\n")
        print("\n".join(plans))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run (about four minutes)")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(SECTIONS),
        default=list(SECTIONS),
        help="run only these sections",
    )
    parser.add_argument(
        "--section-timeout",
        type=float,
        default=900.0,
        help="give up a section after this many seconds (default 900)",
    )
    parser.add_argument("--logs", type=Path, help="keep the bots' logs in this folder")
    args = parser.parse_args()
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
        LOGS.append(args.logs)
    atexit.register(kill_all)
    try:
        sys.exit(asyncio.run(main(QUICK if args.quick else FULL, args.only, args.section_timeout)))
    finally:
        kill_all()

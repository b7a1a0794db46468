"""TicketRepo's figures: the counts and durations /stats reads and the rows /export writes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from bot.domain.export import ExportMessage, ExportRow
from bot.domain.models import Priority, Status
from bot.domain.stats import Compliance, Counts, DeskStats, Durations, per_day
from storage.db import Database
from storage.engines import Record
from storage.rows import from_ts, opt_ts, to_ts

# /stats. Every count is read from the counts migration 0014 keeps (a dozen rows), not
# from the tickets: the closed ones alone are nearly all of them.
TICKET_COUNTS = "SELECT status, answered, met, n FROM ticket_counts"
COUNT_LIVE_BY_STATUS = (
    "SELECT status, SUM(n) AS n FROM ticket_counts"
    " WHERE status IN ('open', 'pending', 'solved') GROUP BY status"
)
# The middle one or two answered tickets by response time, read off tickets_first_response.
MIDDLE_FIRST_RESPONSES = (
    "SELECT first_response_at - created_at AS took FROM tickets"
    " WHERE first_response_at IS NOT NULL ORDER BY first_response_at - created_at"
    " LIMIT ? OFFSET ?"
)
RATINGS_SUMMARY = (
    "SELECT COALESCE(SUM(n), 0) AS n, COALESCE(SUM(score * n), 0) AS total FROM rating_counts"
)
# /stats over a period (indexes of migrations 0012 and 0015): each query reads only
# indexes, no table row. The counts by department and priority go group by group
# (STATS_KINDS: the departments the tickets have, found by hopping through the index from
# one to the next, times the priorities), each group a range of an index led by them, so
# nothing is sorted into groups. The tickets opened come with their response targets: a
# target counts once its due time has come, met if answered by then, missed if answered
# late or not yet answered. A join over the groups is a CROSS JOIN, which SQLite reads in
# the order written: with statistics (ANALYZE) it would otherwise scan the tickets first.
STATS_KINDS = (
    "WITH RECURSIVE departments (department) AS ("
    " SELECT MIN(department) FROM tickets"
    " UNION ALL SELECT (SELECT MIN(t.department) FROM tickets t"
    " WHERE t.department > d.department) FROM departments d WHERE d.department IS NOT NULL),"
    " kinds (department, priority) AS (SELECT department, priority FROM departments, ("
    + " UNION ALL ".join(f"SELECT '{p.value}' AS priority" for p in Priority)
    + ") AS priorities WHERE department IS NOT NULL)"
)
_OF_KIND = "t.department = k.department AND t.priority = k.priority"
_OPENED_OF_KIND = f"FROM tickets t WHERE {_OF_KIND} AND t.created_at >= ?1"
STATS_OPENED = (
    f"{STATS_KINDS} SELECT k.department, k.priority,"
    f" (SELECT COUNT(*) {_OPENED_OF_KIND}) AS n,"
    " (SELECT COALESCE(SUM(CASE WHEN t.first_response_at <= t.first_response_due_at"
    " THEN 1 ELSE 0 END), 0)"
    f" {_OPENED_OF_KIND}) AS met,"
    " (SELECT COALESCE(SUM(CASE WHEN t.first_response_at IS NOT NULL"
    " OR t.first_response_due_at <= ?2 THEN 1 ELSE 0 END),"
    f" 0) {_OPENED_OF_KIND}) AS due"
    " FROM kinds k"
)
STATS_SOLVED = (
    f"{STATS_KINDS} SELECT k.department, k.priority, (SELECT COUNT(*) FROM tickets t"
    f" WHERE {_OF_KIND} AND t.solved_at >= ?1) AS n FROM kinds k"
)
STATS_CLOSED = (
    f"{STATS_KINDS} SELECT k.department, k.priority, (SELECT COUNT(*) FROM tickets t"
    f" WHERE {_OF_KIND} AND t.closed_at >= ?1) AS n FROM kinds k"
)
# The period's durations of one priority, read off one covering index each (migration
# 0015). Ranking them in SQL (window functions, or ORDER BY ... OFFSET per rank) costs
# several times more than sorting the fetched integers (bench/storage_bench.py: 90 days
# of a 1M-ticket desk).
STATS_FIRST_RESPONSES = (
    "SELECT first_response_at - created_at AS wall, first_response_business AS business"
    " FROM tickets WHERE priority = ?2 AND first_response_at >= ?1"
)
STATS_RESOLUTIONS = (
    "SELECT resolved_at - created_at AS wall, resolution_business AS business"
    " FROM tickets WHERE priority = ?2 AND resolved_at >= ?1"
)
STATS_OPENED_PER_QUARTER = (
    f"{STATS_KINDS} SELECT t.created_at / 900 AS quarter, COUNT(*) AS n FROM kinds k"
    f" CROSS JOIN tickets t WHERE {_OF_KIND} AND t.created_at >= ?1 GROUP BY quarter"
)
STATS_SOLVED_PER_QUARTER = (
    f"{STATS_KINDS} SELECT t.solved_at / 900 AS quarter, COUNT(*) AS n FROM kinds k"
    f" CROSS JOIN tickets t WHERE {_OF_KIND} AND t.solved_at >= ?1 GROUP BY quarter"
)
STATS_RATINGS = (
    "SELECT COUNT(*) AS n, COALESCE(SUM(score), 0) AS total FROM ratings WHERE created_at >= ?"
)
STATS_BLOCKED = (
    "SELECT COUNT(DISTINCT customer_id) AS n FROM tickets WHERE customer_unreachable = 1"
)
# /export: the tickets in number order, a batch at a time (the number is the key to go on
# from, so a batch costs the same however far in it is).
EXPORT_BATCH = (
    "SELECT t.number, t.created_at, t.department, t.priority, t.status, t.subject,"
    " t.first_response_due_at, t.first_response_at, t.solved_at, t.closed_at,"
    " r.score, a.first_name AS assignee_first, a.last_name AS assignee_last, t.assignee_id"
    " FROM tickets t LEFT JOIN ratings r ON r.ticket_number = t.number"
    " LEFT JOIN users a ON a.id = t.assignee_id"
    " WHERE t.number > ? AND t.created_at >= ? ORDER BY t.number LIMIT ?"
)
EXPORT_MESSAGES = (
    "SELECT ticket_number, author, internal, body, created_at FROM ticket_messages"
    " WHERE ticket_number BETWEEN ? AND ? AND edit_of IS NULL ORDER BY ticket_number, id"
)


class TicketFigures:
    """The reads of /stats and /export, a part of TicketRepo (see storage.tickets)."""

    _db: Database

    async def figures(self) -> Figures:
        """The desk's figures from the counts kept as tickets change (migration 0014) and
        the middle first response or two, read off their index."""
        # One snapshot, so the counts and the middle agree even while tickets change.
        async with self._db.snapshot() as tx:
            counts = await tx.fetch_all(TICKET_COUNTS)
            ratings = await tx.fetch_one(RATINGS_SUMMARY)
            assert ratings is not None
            by_status = dict.fromkeys(Status, 0)
            for r in counts:
                by_status[Status(r["status"])] += int(r["n"])
            answered = sum(int(r["n"]) for r in counts if r["answered"])
            met = sum(int(r["n"]) for r in counts if r["met"])
            middle: list[int] = []
            if answered:
                # The median of an even count is the mean of the two middle values.
                count = 2 - answered % 2
                rows = await tx.fetch_all(MIDDLE_FIRST_RESPONSES, (count, (answered - count) // 2))
                middle = [int(r["took"]) for r in rows]
        return Figures(
            by_status=by_status,
            answered=answered,
            met=met,
            median_first_response=(timedelta(seconds=median(middle)) if middle else None),
            ratings=int(ratings["n"]),
            rating_total=int(ratings["total"]),
        )

    async def desk_stats(
        self,
        since: datetime,
        until: datetime,
        tz: ZoneInfo,
        business_priorities: Collection[Priority] = (),
    ) -> DeskStats:
        """The period's figures (see `bot.domain.stats`), read in one snapshot.

        `business_priorities`: the priorities whose target counts business hours; their
        first responses are measured in business hours against it.
        """
        start = (to_ts(since),)
        async with self._db.snapshot() as tx:

            async def counts(sql: str) -> Counts:
                rows = await tx.fetch_all(sql, start)
                return Counts.of(
                    (r["department"], r["priority"], int(r["n"])) for r in rows if r["n"]
                )

            async def durations(sql: str) -> Durations:
                spans = Durations()
                for priority in Priority:
                    rows = await tx.fetch_all(sql, (start[0], priority.value))
                    spans.add(priority, [r[0] for r in rows], [r[1] for r in rows])
                return spans

            async def quarters(sql: str) -> dict[int, int]:
                return {int(r["quarter"]): int(r["n"]) for r in await tx.fetch_all(sql, start)}

            opened_rows = await tx.fetch_all(STATS_OPENED, (to_ts(since), to_ts(until)))
            opened_rows = [r for r in opened_rows if r["n"]]  # a group of none is no group
            opened = Counts.of((r["department"], r["priority"], int(r["n"])) for r in opened_rows)
            targets: dict[Priority, Compliance] = {}
            for r in opened_rows:
                if r["due"]:
                    key = Priority(r["priority"])
                    was = targets.get(key, Compliance())
                    targets[key] = Compliance(was.met + int(r["met"]), was.due + int(r["due"]))
            solved = await counts(STATS_SOLVED)
            closed = await counts(STATS_CLOSED)
            live = {
                Status(r["status"]): int(r["n"]) for r in await tx.fetch_all(COUNT_LIVE_BY_STATUS)
            }
            first = await durations(STATS_FIRST_RESPONSES)
            resolution = await durations(STATS_RESOLUTIONS)
            ratings = await tx.fetch_one(STATS_RATINGS, start)
            blocked = await tx.fetch_one(STATS_BLOCKED)
            opened_quarters = await quarters(STATS_OPENED_PER_QUARTER)
            solved_quarters = await quarters(STATS_SOLVED_PER_QUARTER)
        assert ratings is not None and blocked is not None
        by_priority = {
            p: first.spread(priority=p, business=p in business_priorities) for p in Priority
        }
        return DeskStats(
            since=since,
            until=until,
            days=round((until - since) / timedelta(days=1)),
            opened=opened,
            solved=solved,
            closed=closed,
            backlog={s: live.get(s, 0) for s in (Status.OPEN, Status.PENDING, Status.SOLVED)},
            first_response=first.spread(),
            first_response_business=first.spread(business=True),
            resolution=resolution.spread(),
            resolution_business=resolution.spread(business=True),
            first_response_by_priority=by_priority,
            targets=targets,
            ratings=int(ratings["n"]),
            rating_total=int(ratings["total"]),
            blocked_customers=int(blocked["n"]),
            days_counted=per_day(opened_quarters, solved_quarters, since, until, tz),
        )

    async def export_batches(
        self, since: datetime | None, *, full: bool, batch: int = 2000
    ) -> AsyncIterator[list[ExportRow]]:
        """The tickets created since `since` (all if None), `batch` at a time, in order."""
        after, start = 0, 0 if since is None else to_ts(since)
        while True:
            rows = await self._db.fetch_all(EXPORT_BATCH, (after, start, batch))
            if not rows:
                return
            messages: dict[int, list[ExportMessage]] = {}
            if full:
                for m in await self._db.fetch_all(
                    EXPORT_MESSAGES, (rows[0]["number"], rows[-1]["number"])
                ):
                    messages.setdefault(m["ticket_number"], []).append(
                        ExportMessage(
                            from_ts(m["created_at"]), m["author"], bool(m["internal"]), m["body"]
                        )
                    )
            yield [_export_row(r, messages.get(r["number"], ()), full) for r in rows]
            after = int(rows[-1]["number"])


@dataclass(frozen=True, slots=True)
class Figures:
    by_status: dict[Status, int]
    answered: int  # tickets with a first response
    met: int  # of those, answered within their target
    median_first_response: timedelta | None  # None while nothing is answered
    ratings: int
    rating_total: int  # the sum of the scores

    @property
    def average_rating(self) -> float | None:
        return self.rating_total / self.ratings if self.ratings else None


def _export_row(row: Record, messages: Sequence[ExportMessage], full: bool) -> ExportRow:
    assignee = None
    if row["assignee_id"] is not None:
        name = " ".join(p for p in (row["assignee_first"], row["assignee_last"]) if p)
        assignee = name or str(row["assignee_id"])
    return ExportRow(
        number=row["number"],
        created_at=from_ts(row["created_at"]),
        department=row["department"],
        priority=row["priority"],
        status=row["status"],
        first_response_due_at=from_ts(row["first_response_due_at"]),
        first_response_at=opt_ts(row["first_response_at"]),
        solved_at=opt_ts(row["solved_at"]),
        closed_at=opt_ts(row["closed_at"]),
        rating=row["score"],
        assignee=assignee,
        subject=row["subject"] if full else "",
        messages=messages,
    )

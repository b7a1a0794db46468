"""The desk's clock: one repeating JobQueue job, driven only by times stored in SQLite.

Each run announces missed response targets (once), reminds customers before an
auto-solve, auto-solves tickets left waiting for the customer for `AUTO_SOLVE_AFTER`, and
auto-closes tickets solved for `AUTO_CLOSE_AFTER`, and forgets what has served its purpose
(delivered outbox rows, handled updates). Nothing lives in memory, so a restart loses
nothing and the first run after downtime catches up.

A run that fails makes the next ones wait: the runs between are skipped, for a time that
doubles with each failure (up to `MAX_PAUSE`), and the log says so when the failing starts
and when it ends, not at every run.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from bot.channels.telegram.context import SupportApp, SupportContext
from bot.channels.telegram.faults import Trouble, describe
from bot.domain.lifecycle import Action
from bot.domain.models import Status
from storage import storage_fault

log = logging.getLogger(__name__)

JOB_NAME = "sweep"
# The reminder goes out when this share of AUTO_SOLVE_AFTER has passed.
REMINDER_AT = 2 / 3
PROCESSED_KEPT = timedelta(days=7)
BUDGET_KEPT = timedelta(minutes=10)
# Delivered outbox rows are kept a day for a look at what went out (and what failed).
DELIVERED_KEPT = timedelta(days=1)
MAX_PAUSE = 900.0  # seconds: a failing sweep is tried at least every quarter of an hour


@dataclass
class _Backoff:
    trouble: Trouble
    next_run: float = 0.0  # time.monotonic() before which runs are skipped


async def sweep(context: SupportContext) -> None:
    """Run the sweep, unless it is backing off after failures."""
    job = context.job
    backoff = job.data if job is not None and isinstance(job.data, _Backoff) else None
    if backoff is None:
        await _sweep(context)
        return
    if time.monotonic() < backoff.next_run:
        return
    try:
        await _sweep(context)
    except Exception as exc:  # reported below, once per change of state
        cause = storage_fault(exc)
        if cause is not None:
            context.bot_data.health.failed(exc, "sweeping")
        else:
            log.debug("The sweep's traceback", exc_info=exc)
        pause = backoff.trouble.failed(describe(exc), quiet=cause is not None)
        backoff.next_run = time.monotonic() + pause
    else:
        backoff.trouble.succeeded()
        backoff.next_run = 0.0


async def _sweep(context: SupportContext) -> None:
    """Do whatever the clock says is due, then let the outbox deliver it. Only the leading
    worker sweeps (one of several on PostgreSQL), so a round runs once for the desk."""
    desk = context.desk
    if not await desk.leads():
        return
    service = desk.service
    now = desk.clock()
    admin_chat = await desk.admin_chat_id()
    if admin_chat is not None:
        for ticket in await desk.unposted_tickets(admin_chat):
            await desk.owe_card(ticket.number, now)
    for ticket in await desk.breached_tickets(now):
        await service.announce_breach(ticket.number)
    solve_after = desk.settings.auto_solve_after
    close_after = desk.settings.auto_close_after
    for ticket in await desk.tickets_in_status_since(Status.PENDING, now - solve_after):
        if await service.auto_move(ticket.number, Action.AUTO_SOLVE, Status.PENDING):
            log.info("Auto-solved %s", ticket.ref)
    # After the auto-solve, so a ticket already due is solved, not reminded.
    for ticket in await desk.tickets_awaiting_reminder(now - solve_after * REMINDER_AT):
        assert ticket.status_changed_at is not None
        await service.remind_before_auto_solve(
            ticket.number, ticket.status_changed_at + solve_after
        )
    for ticket in await desk.tickets_in_status_since(Status.SOLVED, now - close_after):
        if await service.auto_move(ticket.number, Action.AUTO_CLOSE, Status.SOLVED):
            log.info("Auto-closed %s", ticket.ref)
    # A form idle past its timeout, whether the bot ran or not: the draft's stored time is
    # the deadline (no timer per form in memory), and the customer is told through the
    # outbox. Its precision is this job's interval.
    timeout = desk.settings.conversation_timeout
    if timeout:
        await desk.expire_drafts(now - timeout, now)
    await desk.forget_delivered(now - DELIVERED_KEPT)
    # The inbox first: a handled row whose id were forgotten would be handled again.
    await desk.forget_handled_inbox()
    # Telegram keeps unconfirmed updates for 24 hours: a week of ids is plenty.
    await desk.forget_processed(now - PROCESSED_KEPT)
    # WhatsApp's messages, once handled, are kept as long as their webhook may come again.
    await desk.forget_whatsapp_handled(now - PROCESSED_KEPT)
    # A chat's shared Telegram budget matters for a minute after its last message.
    await desk.forget_send_budgets(now - BUDGET_KEPT)
    context.bot_data.dispatcher.wake()


def schedule(application: SupportApp, interval: float) -> None:
    assert application.job_queue is not None
    # The first pause is one interval (the run after the failed one is skipped), then two...
    trouble = Trouble("The sweep", log, first=interval, cap=max(interval, MAX_PAUSE))
    application.job_queue.run_repeating(
        sweep, interval=interval, first=0.5, name=JOB_NAME, data=_Backoff(trouble)
    )

"""The desk's composition root: the database's repositories behind the domain's ports.

Only here are the storage objects the desk works with built (`bot/app.py` builds the
application around them, the command line and the benchmark reuse this). Passing each
repository as its port is where mypy checks that it fits the port (`bot.domain.ports`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.domain.desk import Clock, Desk, utc_now
from bot.domain.models import Attachment, Forgotten
from bot.domain.ports import DeskStores
from storage import (
    Database,
    Deferred,
    DeskAudit,
    DeskSettingsRepo,
    DraftRepo,
    HeldMessageRepo,
    Inbox,
    OutboxRepo,
    ProcessedUpdates,
    Quarantine,
    RatingRepo,
    Retention,
    TicketRepo,
    UserRepo,
)
from storage.budget import SendBudgets
from storage.files import KeptFiles
from storage.forget import forget_customer, kept_files_of
from storage.leader import Leadership
from storage.updates import Claimed
from storage.whatsapp import WhatsAppStore


def open_database(settings: Settings) -> Database:
    """The database the settings name (not yet opened): PostgreSQL at `DATABASE_URL`, or
    the SQLite file at `DATABASE_PATH`."""
    url = settings.database_url
    return Database(settings.database_path, url=None if url is None else url.get_secret_value())


class StoredDesk(Desk):
    """The desk on its database (SQLite or PostgreSQL, `storage.Database`).

    Its repositories stay public as themselves, not as the domain's narrower ports: the
    start-up wiring (`bot/app.py`), the command line and the benchmark still reach through
    them. Handlers and the channel adapters (`bot/channels/`) call the desk's methods only,
    here the ones on Telegram's own stores (held messages, quarantined updates, retention)
    that the domain has no port for, and the outbox sender's hold on the database itself.
    """

    users: UserRepo
    drafts: DraftRepo
    tickets: TicketRepo
    ratings: RatingRepo
    desk_settings: DeskSettingsRepo
    outbox: OutboxRepo
    processed: ProcessedUpdates
    audit: DeskAudit

    def __init__(self, settings: Settings, db: Database, clock: Clock = utc_now) -> None:
        # On PostgreSQL other workers may write a user (a ban) at any time: no copies kept.
        users = UserRepo(db, keep_copies=db.dialect == "sqlite")
        drafts = DraftRepo(db)
        tickets = TicketRepo(db)
        ratings = RatingRepo(db)
        desk_settings = DeskSettingsRepo(db)
        outbox = OutboxRepo(db)
        processed = ProcessedUpdates(db)
        audit = DeskAudit(db)

        # Files the desk keeps itself (a WhatsApp customer's), beside the database.
        kept_files = KeptFiles(db.path.parent / "files")

        async def forget(
            user_id: int, *, operator_id: int | None, marker: str, name: str, now: datetime
        ) -> Forgotten | None:
            # The users' copies (`UserRepo`) must not outlive the forget.
            users.changing(user_id)
            files = await kept_files_of(db, user_id)
            try:
                forgotten = await forget_customer(
                    db, user_id, operator_id=operator_id, marker=marker, name=name, now=now
                )
            finally:
                users.changing(user_id)
            if forgotten is not None:
                kept_files.remove(files)
            return forgotten

        super().__init__(
            settings,
            DeskStores(
                users=users,
                drafts=drafts,
                tickets=tickets,
                ratings=ratings,
                desk_settings=desk_settings,
                outbox=outbox,
                processed=processed,
                audit=audit,
                forget=forget,
                shared=db.dialect == "postgresql",
            ),
            clock,
        )
        self.db = db
        self.users = users
        self.drafts = drafts
        self.tickets = tickets
        self.ratings = ratings
        self.desk_settings = desk_settings
        self.outbox = outbox
        self.processed = processed
        self.audit = audit
        self.inbox = Inbox(db)
        self.quarantine = Quarantine(db)
        self.retention = Retention(db)
        self.leadership = Leadership(db)
        self.held = HeldMessageRepo(db)
        self.kept_files = kept_files
        self.whatsapp = WhatsAppStore(db)
        # Telegram's budget as every worker sees it; one SQLite worker paces in memory.
        self.send_budgets = SendBudgets(db) if db.dialect == "postgresql" else None

    # Telegram's own stores: the desk's methods on them, for the handlers

    async def hold_message(
        self,
        *,
        customer_id: int,
        tg_chat_id: int,
        tg_message_id: int,
        body: str,
        attachment: Attachment | None,
        media_group_id: str | None,
        now: datetime,
    ) -> tuple[int, bool]:
        """Keep a message until the customer says which ticket it is for: its choice id,
        and whether that choice is new (an album's later files join the first's)."""
        return await self.held.hold(
            customer_id=customer_id,
            tg_chat_id=tg_chat_id,
            tg_message_id=tg_message_id,
            body=body,
            attachment=attachment,
            media_group_id=media_group_id,
            now=now,
        )

    async def held_text(self, customer_id: int, choice_id: int) -> str | None:
        """The first text among the messages held under one choice."""
        return await self.held.first_text(customer_id, choice_id)

    async def release_held(self, customer_id: int, choice_id: int) -> None:
        """Let go of the messages held under one choice."""
        await self.held.release(customer_id, choice_id)

    async def quarantine_update(
        self, update_id: int, payload: Any, error: str, attempts: int
    ) -> None:
        """Set aside an update that could not be handled, recorded as handled (never replayed)."""
        await self.quarantine.add(update_id, payload, error, attempts)

    async def forget_delivered(self, before: datetime) -> int:
        return await self.retention.forget_delivered(before)

    # The shared inbox of several workers (PostgreSQL; bot/channels/telegram/claims.py)

    async def receive_update(self, update: dict[str, Any], line: str) -> bool:
        """Keep a received update (masked) in its line; False if it was there already."""
        return await self.inbox.receive(update, line)

    async def claim_updates(
        self, worker: str, *, now: float, lease: float, limit: int
    ) -> list[Claimed]:
        """The next update of each line nobody holds, now `worker`'s until `now + lease`."""
        return await self.inbox.claim(worker, now=now, lease=lease, limit=limit)

    async def renew_claims(self, worker: str, until: float) -> None:
        await self.inbox.renew(worker, until)

    async def release_update(self, update_id: int, worker: str) -> None:
        """The update's handling ended here: its line is free for its next update."""
        await self.inbox.release(update_id, worker)

    async def forget_handled_inbox(self) -> int:
        return await self.retention.forget_handled_inbox()

    async def forget_processed(self, before: datetime) -> int:
        return await self.retention.forget_processed(before)

    async def forget_send_budgets(self, before: datetime) -> int:
        """The shared budgets of chats with no message since `before`."""
        if self.send_budgets is None:
            return 0
        return await self.send_budgets.forget(before.timestamp())

    async def forget_whatsapp_handled(self, before: datetime) -> int:
        return await self.whatsapp.forget_handled(before)

    async def whatsapp_delivery(self, number: int) -> tuple[str, str | None] | None:
        """The status of the last WhatsApp message about a ticket, and its error."""
        return await self.whatsapp.latest_status(number)

    # The outbox's outcomes and the database under it, for its dispatcher

    @property
    def database_path(self) -> Path:
        """The SQLite file the desk keeps everything in (named when writes fail)."""
        return self.db.path

    @property
    def database_name(self) -> str:
        """The database as a message may name it: the SQLite file, or the PostgreSQL URL
        without its password."""
        return self.db.where

    def when_queued(self, wake: Callable[[], None]) -> None:
        """Call `wake` after every transaction that added to the outbox has committed (and,
        while this worker leads, after another worker's did)."""
        self.db.on_queued = wake
        self.leadership.on_queued = wake

    async def leads(self) -> bool:
        """Whether this worker delivers the outbox and runs the sweep (`storage.leader`):
        always on SQLite, the one elected worker on PostgreSQL."""
        return await self.leadership.leads()

    async def give_up_lead(self) -> None:
        """At shutdown: let another worker lead at once."""
        await self.leadership.release()

    def deferring_writes(self) -> AbstractContextManager[Deferred]:
        """Collect the writes made while delivering an item, to be written with its outcome
        (`Database.deferring`): a kill leaves both or neither."""
        return self.db.deferring()

    async def claim_delivery(self, item_id: int) -> None:
        """Release the item's dedupe key as its delivery starts (a change meanwhile queues
        its own item)."""
        await self.outbox.claim(item_id)

    async def delivery_done(
        self,
        item_id: int,
        state: str = "sent",
        error: str | None = None,
        *,
        with_writes: Deferred | None = None,
    ) -> None:
        """Record the item's outcome (sent, blocked, failed), with what its delivery wrote."""
        await self.outbox.done(item_id, state, error, with_writes=with_writes)

    async def retry_delivery(
        self, item_id: int, at: float, error: str, *, with_writes: Deferred | None = None
    ) -> None:
        """Try the item again at `at` (a timestamp), with what its delivery wrote."""
        await self.outbox.retry(item_id, at, error, with_writes=with_writes)

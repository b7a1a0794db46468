"""The desk's composition root: the SQLite repositories behind the domain's ports.

Only here are the storage objects the desk works with built (`bot/app.py` builds the
application around them, the command line and the benchmark reuse this). Passing each
repository as its port is where mypy checks that it fits the port (`bot.domain.ports`).
"""

from __future__ import annotations

from datetime import datetime

from bot.config import Settings
from bot.domain.desk import Clock, Desk, utc_now
from bot.domain.models import Forgotten
from bot.domain.ports import DeskStores
from storage import (
    Database,
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
from storage.forget import forget_customer


class SqliteDesk(Desk):
    """The desk on one SQLite database.

    Its repositories stay public as themselves, not as the domain's narrower ports: the
    handlers, the notifier and the dispatcher still reach through them for what is not a
    use case yet (issue 11 moves them onto use cases, then this class shrinks to wiring).
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
        users = UserRepo(db)
        drafts = DraftRepo(db)
        tickets = TicketRepo(db)
        ratings = RatingRepo(db)
        desk_settings = DeskSettingsRepo(db)
        outbox = OutboxRepo(db)
        processed = ProcessedUpdates(db)
        audit = DeskAudit(db)

        async def forget(
            user_id: int, *, operator_id: int | None, marker: str, name: str, now: datetime
        ) -> Forgotten | None:
            # The users' copies (`UserRepo`) must not outlive the forget.
            users.changing(user_id)
            try:
                return await forget_customer(
                    db, user_id, operator_id=operator_id, marker=marker, name=name, now=now
                )
            finally:
                users.changing(user_id)

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
        self.held = HeldMessageRepo(db)

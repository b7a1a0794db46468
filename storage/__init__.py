"""Everything that touches SQLite: the database, its migrations and the repositories."""

from storage.db import Database
from storage.repos import (
    DeskSettingsRepo,
    DraftRepo,
    HeldMessageRepo,
    Inbox,
    OutboxRepo,
    ProcessedUpdates,
    RatingRepo,
    TicketRepo,
    UserRepo,
)

__all__ = [
    "Database",
    "DeskSettingsRepo",
    "DraftRepo",
    "HeldMessageRepo",
    "Inbox",
    "OutboxRepo",
    "ProcessedUpdates",
    "RatingRepo",
    "TicketRepo",
    "UserRepo",
]

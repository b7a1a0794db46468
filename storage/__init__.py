"""Everything that touches SQLite: the database, its migrations and the repositories."""

from storage.db import Database, DatabaseUnavailableError
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
from storage.retention import Retention

__all__ = [
    "Database",
    "DatabaseUnavailableError",
    "DeskSettingsRepo",
    "DraftRepo",
    "HeldMessageRepo",
    "Inbox",
    "OutboxRepo",
    "ProcessedUpdates",
    "RatingRepo",
    "Retention",
    "TicketRepo",
    "UserRepo",
]

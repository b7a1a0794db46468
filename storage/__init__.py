"""Everything that touches SQLite: the database, its migrations and the repositories."""

from storage.audit import DeskAudit
from storage.db import Database, DatabaseUnavailableError, StorageWriteError, storage_fault
from storage.repos import (
    DeskSettingsRepo,
    DraftRepo,
    HeldMessageRepo,
    Inbox,
    OutboxRepo,
    ProcessedUpdates,
    Quarantine,
    QuarantinedUpdate,
    RatingRepo,
    TicketRepo,
    UserRepo,
    read_quarantine,
)
from storage.retention import Retention

__all__ = [
    "Database",
    "DatabaseUnavailableError",
    "DeskAudit",
    "DeskSettingsRepo",
    "DraftRepo",
    "HeldMessageRepo",
    "Inbox",
    "OutboxRepo",
    "ProcessedUpdates",
    "Quarantine",
    "QuarantinedUpdate",
    "RatingRepo",
    "Retention",
    "StorageWriteError",
    "TicketRepo",
    "UserRepo",
    "read_quarantine",
    "storage_fault",
]

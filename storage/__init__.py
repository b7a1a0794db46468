"""Everything that touches SQLite: the database, its migrations and the repositories."""

from storage.audit import DeskAudit
from storage.db import (
    Database,
    DatabaseUnavailableError,
    Deferred,
    StorageWriteError,
    handling_update,
    storage_fault,
)
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
    "Deferred",
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
    "handling_update",
    "read_quarantine",
    "storage_fault",
]

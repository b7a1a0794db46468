"""Everything that touches SQLite: the database, its migrations and the repositories.

A repository a module, by aggregate: SQL in, dataclasses out. `?` placeholders only.
"""

from storage.audit import DeskAudit
from storage.db import Database, Deferred, handling_update
from storage.desk_settings import DeskSettingsRepo
from storage.drafts import DraftRepo
from storage.faults import DatabaseUnavailableError, StorageWriteError, storage_fault
from storage.held import HeldMessageRepo
from storage.outbox import OutboxRepo
from storage.ratings import RatingRepo
from storage.retention import Retention
from storage.tickets import TicketRepo
from storage.updates import Inbox, ProcessedUpdates, Quarantine, QuarantinedUpdate, read_quarantine
from storage.users import UserRepo

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

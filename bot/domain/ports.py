"""The storage the domain needs, as ports: what `Desk` and `TicketService` call, nothing more.

Each port is a `typing.Protocol`: a backend satisfies it by having these methods, without
importing it. The SQLite repositories in `storage/` do; the composition root
(`bot/compose.py`) builds them and hands them in, and mypy checks there that they fit.
A second backend (PostgreSQL, a later issue) implements the same ports.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Collection, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.domain.audit import DeskChange, DeskEvent
from bot.domain.export import ExportRow
from bot.domain.models import (
    Attachment,
    Audience,
    Author,
    Draft,
    Forgotten,
    HeldMessage,
    OutboxItem,
    Priority,
    Rating,
    Relay,
    Status,
    Ticket,
    TicketEvent,
    TicketMessage,
    User,
)
from bot.domain.outbox import OutboxKind
from bot.domain.stats import DeskStats


class TicketUnit(Protocol):
    """Reads and writes on tickets inside one transaction: all of it commits, or none.

    Opening one also settles the update being handled, so the change and the record that
    the update was handled commit together.
    """

    async def get(self, number: int) -> Ticket | None: ...

    async def update(self, number: int, **fields: object) -> None: ...

    async def add_message(
        self,
        number: int,
        *,
        author: Author,
        author_id: int | None,
        body: str,
        now: datetime,
        attachments: Sequence[Attachment] = (),
        internal: bool = False,
        tg_chat_id: int | None = None,
        tg_message_id: int | None = None,
        edit_of: int | None = None,
    ) -> int: ...

    async def add_event(
        self,
        number: int,
        kind: str,
        actor: Author,
        actor_id: int | None,
        from_value: str | None,
        to_value: str | None,
        now: datetime,
    ) -> None: ...

    async def enqueue(
        self,
        kind: OutboxKind,
        audience: Audience,
        *,
        now: datetime,
        chat_id: int | None = None,
        ticket_number: int | None = None,
        payload: dict[str, Any] | None = None,
        dedupe_key: str | None = None,
        not_before: datetime | None = None,
    ) -> None: ...

    async def rate(self, number: int, score: int, now: datetime) -> None: ...

    async def comment(self, number: int, comment: str, now: datetime) -> None: ...

    async def has_telegram_message(self, chat_id: int, message_id: int) -> bool: ...

    async def message_by_telegram(self, chat_id: int, message_id: int) -> TicketMessage | None: ...

    async def latest_message(self, number: int) -> TicketMessage | None: ...

    async def append_to_message(self, message_id: int, text: str) -> None: ...

    async def held_until(self, dedupe_key: str) -> float | None: ...

    async def hold_until(self, dedupe_key: str, at: datetime) -> None: ...

    async def held(self, customer_id: int, choice_id: int) -> list[HeldMessage]: ...

    async def release_held(self, customer_id: int, choice_id: int) -> None: ...


class TicketStore(Protocol):
    """The tickets: created, read, and changed through a unit of work."""

    def unit(self) -> AbstractAsyncContextManager[TicketUnit]: ...

    async def create(
        self,
        *,
        customer_id: int,
        department: str,
        subject: str,
        priority: Priority,
        locale: str,
        message: str,
        attachments: Sequence[Attachment],
        due_at: datetime,
        now: datetime,
        follow_up_of: int | None = None,
    ) -> Ticket: ...

    async def get(self, number: int) -> Ticket | None: ...

    async def by_thread(self, admin_chat_id: int, thread_id: int) -> Ticket | None: ...

    async def relay_by_admin_message(self, chat_id: int, message_id: int) -> Relay | None: ...

    async def relay_by_customer_message(self, chat_id: int, message_id: int) -> Relay | None: ...

    async def add_relay(self, relay: Relay, now: datetime) -> None: ...

    async def set_location(
        self, number: int, *, chat_id: int, thread_id: int | None, card_message_id: int | None
    ) -> None: ...

    async def message(self, message_id: int) -> TicketMessage | None: ...

    async def messages(self, number: int, *, include_internal: bool) -> list[TicketMessage]: ...

    async def events(self, number: int) -> list[TicketEvent]: ...

    async def for_customer(self, customer_id: int, *, limit: int, offset: int) -> list[Ticket]: ...

    async def count_for_customer(self, customer_id: int) -> int: ...

    async def queue(self, *, limit: int, offset: int) -> list[Ticket]: ...

    async def count_queue(self) -> int: ...

    async def unposted(self, admin_chat_id: int) -> list[Ticket]: ...

    async def breached(self, now: datetime) -> list[Ticket]: ...

    async def in_status_since(self, status: Status, cutoff: datetime) -> list[Ticket]: ...

    async def awaiting_reminder(self, cutoff: datetime) -> list[Ticket]: ...

    def export_batches(
        self, since: datetime | None, *, full: bool, batch: int = 2000
    ) -> AsyncIterator[list[ExportRow]]: ...

    async def open_for_customer(self, customer_id: int) -> list[Ticket]: ...

    async def move_admin_chat(self, old: int, new: int) -> None: ...

    async def rating_prompt_since(self, chat_id: int, cutoff: datetime) -> int | None: ...

    async def rating_prompted_at(self, chat_id: int, number: int) -> datetime | None: ...

    async def customer_wrote_since(self, customer_id: int, since: datetime) -> bool: ...

    async def desk_stats(
        self,
        since: datetime,
        until: datetime,
        tz: ZoneInfo,
        business_priorities: Collection[Priority] = (),
    ) -> DeskStats: ...


class RatingStore(Protocol):
    async def get(self, number: int) -> Rating | None: ...


class UserStore(Protocol):
    async def get(self, user_id: int) -> User | None: ...

    async def mark_ban_notified(self, user_id: int) -> bool: ...

    async def upsert(
        self,
        *,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        now: datetime,
    ) -> User: ...

    async def set_locale(self, user_id: int, locale: str, now: datetime) -> None: ...

    async def set_banned(
        self, user_id: int, banned: bool, now: datetime, *, change: DeskChange | None = None
    ) -> bool: ...

    async def set_reply_ticket(self, user_id: int, number: int | None, now: datetime) -> None: ...

    async def reply_ticket(
        self, user_id: int, *, newer_than: datetime | None = None
    ) -> int | None: ...


class DraftStore(Protocol):
    async def get(self, user_id: int) -> Draft | None: ...

    async def save(self, draft: Draft, now: datetime) -> None: ...

    async def delete(self, user_id: int) -> None: ...

    async def expire(self, cutoff: datetime, now: datetime) -> list[int]: ...


class SettingsStore(Protocol):
    """Desk-wide values operators change at run time; a `change` goes to the desk's trail
    with the value, in one transaction."""

    async def get(self, key: str) -> str | None: ...

    async def set(
        self, key: str, value: str, now: datetime, *, change: DeskChange | None = None
    ) -> None: ...


class OutboxStore(Protocol):
    """The durable queue of everything the desk owes anyone, outside a ticket's unit, and
    what its sender reads and settles of it (`bot.domain.desk_delivery`)."""

    async def add(
        self,
        kind: OutboxKind,
        audience: Audience,
        now: datetime,
        *,
        chat_id: int | None = None,
        ticket_number: int | None = None,
        payload: dict[str, Any] | None = None,
        dedupe_key: str | None = None,
    ) -> None: ...

    async def pending(self, limit: int) -> list[OutboxItem]: ...

    async def pending_of_kinds(
        self, kinds: Iterable[OutboxKind], *, due_by: float, limit: int
    ) -> list[OutboxItem]: ...

    async def pending_after(
        self, item_id: int, *, lane: int, ticket_number: int, limit: int
    ) -> list[OutboxItem]: ...

    async def done_many(self, item_ids: Sequence[int]) -> None: ...


class ProcessedUpdateStore(Protocol):
    async def mark(self, update_id: int) -> None: ...

    async def seen(self, update_id: int) -> bool: ...

    async def newest(self) -> int: ...


class AuditTrail(Protocol):
    """The desk-wide trail: recorded for an action that changes nothing else (an export),
    and read a page at a time."""

    async def record(self, change: DeskChange, now: datetime) -> None: ...

    async def page(self, page: int | None, size: int) -> tuple[list[DeskEvent], int, int]: ...


class ForgetCustomer(Protocol):
    """Anonymize a customer in one transaction; None if unknown (see `storage.forget`)."""

    def __call__(
        self,
        user_id: int,
        *,
        operator_id: int | None,
        marker: str,
        name: str,
        now: datetime,
    ) -> Awaitable[Forgotten | None]: ...


@dataclass(frozen=True, slots=True)
class DeskStores:
    """Every port the desk is built with (see `bot/compose.py`)."""

    users: UserStore
    drafts: DraftStore
    tickets: TicketStore
    ratings: RatingStore
    desk_settings: SettingsStore
    outbox: OutboxStore
    processed: ProcessedUpdateStore
    audit: AuditTrail
    forget: ForgetCustomer
    # Other workers write the same stores (PostgreSQL): nothing they may change is kept
    # in memory here (the bound chat, the languages, which updates were handled).
    shared: bool = False

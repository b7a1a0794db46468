"""The desk's use cases for customers: who they are, which language, drafts, new tickets."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from difflib import SequenceMatcher
from typing import Any

from bot.config import SUPPORTED_LOCALES, Settings
from bot.domain.audit import DeskAction, DeskChange
from bot.domain.desk_delivery import DeskDelivery
from bot.domain.desk_form import DeskForm
from bot.domain.desk_queries import DeskQueries
from bot.domain.faq import Faq
from bot.domain.flood import FloodGuard
from bot.domain.fraud import Guarded, guard
from bot.domain.intake import IntakeForm
from bot.domain.models import (
    AnswerFile,
    Audience,
    Draft,
    Forgotten,
    Priority,
    Ticket,
    User,
)
from bot.domain.outbox import OutboxKind
from bot.domain.ports import DeskStores
from bot.domain.sla import WorkCalendar
from bot.domain.stats import DeskStats
from bot.domain.tickets import TicketService
from bot.i18n import negotiate_locale
from bot.logcontext import note_ticket

Clock = Callable[[], datetime]

DEFAULT_LOCALE_KEY = "default_locale"
ADMIN_LOCALE_KEY = "admin_locale"
SAME_SUBJECT = 0.5  # word overlap (or spelling likeness) that makes two subjects "the same"
ADMIN_CHAT_KEY = "admin_chat_id"
# How long after the rating prompt the customer's next text is taken as its comment.
COMMENT_WINDOW = timedelta(minutes=10)
# Update ids this process remembers having been given before it leaves them to the database.
GIVEN_KEPT = 10_000


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[^\W_]+", text.casefold()) if len(w) > 2}


def utc_now() -> datetime:
    return datetime.now(UTC)


class Desk(DeskForm, DeskQueries, DeskDelivery):
    """Everything a customer-facing handler asks of the desk.

    Its storage comes in as ports (`bot.domain.ports`), built by the composition root
    (`bot/compose.py`): the desk never opens or builds storage itself. What the form offers
    and accepts it inherits from `DeskForm` (`bot.domain.desk_form`), what handlers read
    (tickets, people, queues) from `DeskQueries` (`bot.domain.desk_queries`), what the
    outbox's sender reads and settles from `DeskDelivery` (`bot.domain.desk_delivery`).
    """

    def __init__(self, settings: Settings, stores: DeskStores, clock: Clock = utc_now) -> None:
        self.settings = settings
        self.clock = clock
        self.users = stores.users
        self.drafts = stores.drafts
        self.tickets = stores.tickets
        self.desk_settings = stores.desk_settings
        self.ratings = stores.ratings
        self.outbox = stores.outbox
        self.processed = stores.processed
        self.audit = stores.audit
        self._forget = stores.forget
        self._keeps = not stores.shared
        # One calendar for every clock that counts working time (due times, figures, FAQ).
        self.calendar = WorkCalendar.from_settings(settings)
        self.service = TicketService(
            self.tickets, self.ratings, clock, self.due_at, self.calendar.between
        )
        self.flood = FloodGuard(settings.customer_rate_limit)
        # The new-ticket form: its state is the customer's draft (bot.domain.intake).
        self.form = IntakeForm(self)
        self._default_locale: str | None = None
        self._admin_locale: str | None = None
        self._admin_chat_id: int | None = None
        self._admin_chat_loaded = False
        self._faq: Faq | None = None
        # Handled once (see handled_before): ids up to this one are asked of the database;
        # above it, only those this process was given already can have been handled.
        self._ask_through: int | None = None
        self._given: set[int] = set()

    @property
    def faq(self) -> Faq:
        """The localized FAQ, read once (start-up fails on a broken file: see bot.app)."""
        if self._faq is None:
            self._faq = Faq.load()
        return self._faq

    # Users and languages

    async def register_user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> User:
        return await self.users.upsert(
            user_id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            now=self.clock(),
        )

    async def default_locale(self) -> str:
        """The operators' choice (`/locale`), else `DEFAULT_LOCALE`."""
        if self._default_locale is None or not self._keeps:
            stored = await self.desk_settings.get(DEFAULT_LOCALE_KEY)
            self._default_locale = stored or self.settings.default_locale
        return self._default_locale

    async def set_default_locale(self, locale: str, *, by: int | None = None) -> None:
        """Set the customers' default language; `by` (an operator) goes to the desk's trail."""
        if locale not in SUPPORTED_LOCALES:
            raise ValueError(locale)
        change = DeskChange(
            DeskAction.DEFAULT_LOCALE, by, before=await self.default_locale(), after=locale
        )
        await self.desk_settings.set(DEFAULT_LOCALE_KEY, locale, self.clock(), change=change)
        self._default_locale = locale

    async def admin_locale(self) -> str:
        """The agents' chat's language: the operators' choice (`/locale admin`), else
        `ADMIN_LOCALE`, else `DEFAULT_LOCALE` as set at start-up.

        It is its own setting: the customers' default (`/locale`) can change without the
        agents' chat changing language under them.
        """
        if self._admin_locale is None or not self._keeps:
            stored = await self.desk_settings.get(ADMIN_LOCALE_KEY)
            self._admin_locale = (
                stored or self.settings.admin_locale or self.settings.default_locale
            )
        return self._admin_locale

    async def set_admin_locale(self, locale: str, *, by: int | None = None) -> None:
        """Set the agents' chat's language; `by` (an operator) goes to the desk's trail."""
        if locale not in SUPPORTED_LOCALES:
            raise ValueError(locale)
        change = DeskChange(
            DeskAction.ADMIN_LOCALE, by, before=await self.admin_locale(), after=locale
        )
        await self.desk_settings.set(ADMIN_LOCALE_KEY, locale, self.clock(), change=change)
        self._admin_locale = locale

    async def locale_for(self, user: User) -> str:
        """The user's own choice, else their Telegram language if we speak it, else the default."""
        if user.chosen_locale in SUPPORTED_LOCALES:
            return user.chosen_locale
        return negotiate_locale(user.language_code, await self.default_locale())

    async def choose_locale(self, user_id: int, locale: str) -> None:
        if locale not in SUPPORTED_LOCALES:
            raise ValueError(locale)
        await self.users.set_locale(user_id, locale, self.clock())

    async def handled_before(self, update_id: int) -> bool:
        """Whether the update was handled already (before a restart, or by this process).

        Only two kinds can have been: one handled by an earlier run (its id is at most the
        newest noted when this process first asked), and one this process was given before
        (Telegram sends again what a kill left unconfirmed, the inbox replays what was never
        handled, a webhook call may come twice). The database is asked about those; any
        other update is new, and is answered from memory. The ids remembered are bounded:
        past `GIVEN_KEPT`, all of them up to the newest are left to the database.
        """
        if not self._keeps:
            return await self.processed.seen(update_id)  # another worker may have
        if self._ask_through is None:
            newest = await self.processed.newest()
            self._ask_through = max(newest, self._ask_through or 0)
        if update_id <= self._ask_through or update_id in self._given:
            return await self.processed.seen(update_id)
        self._given.add(update_id)
        if len(self._given) > GIVEN_KEPT:
            self._ask_through = max(self._given)
            self._given.clear()
        return False

    async def update_handled(self, update_id: int) -> None:
        """Note an incoming update as done: never handled again, gone from the inbox."""
        await self.processed.mark(update_id)

    # Operators, the admin chat and bans

    async def answer_agent(
        self,
        chat_id: int,
        text: str,
        *,
        reply_to: int | None = None,
        thread_id: int | None = None,
        keyboard: dict[str, Any] | None = None,
        ticket_number: int | None = None,
        edit_message_id: int | None = None,
        file: AnswerFile | None = None,
    ) -> None:
        """Owe an agent the answer to what they asked, in the agents' chat's first lane.

        It goes through the outbox like everything else said there: the chat has one budget
        of messages a minute, and an update's handler never waits for it. With `file`, the
        answer is that photo or document and `text` its caption.
        """
        await self.outbox.add(
            OutboxKind.AGENT_ANSWER,
            Audience.ADMIN,
            self.clock(),
            ticket_number=ticket_number,
            payload={
                "chat_id": chat_id,
                "text": text,
                "reply_to": reply_to,
                "thread_id": thread_id,
                "keyboard": keyboard,
                "edit_message_id": edit_message_id,
                **({"file": file.to_json()} if file is not None else {}),
            },
        )

    async def stats(self, days: int) -> DeskStats:
        """The figures of the last `days` days, on the desk's calendar."""
        now = self.clock().astimezone(self.settings.tz)
        business = [p for p in Priority if self.target(p).business_hours]
        return await self.tickets.desk_stats(
            now - timedelta(days=days), now, self.settings.tz, business
        )

    async def forget(
        self, user_id: int, operator_id: int | None, *, marker: str, name: str
    ) -> Forgotten | None:
        """Anonymize a customer at their request (None if unknown); see storage.forget."""
        return await self._forget(
            user_id, operator_id=operator_id, marker=marker, name=name, now=self.clock()
        )

    def is_operator(self, user_id: int) -> bool:
        return user_id in self.settings.operator_ids

    async def admin_chat_id(self) -> int | None:
        """The bound agents' chat: the one bound with /bind, else `ADMIN_CHAT_ID`."""
        if not self._admin_chat_loaded or not self._keeps:
            stored = await self.desk_settings.get(ADMIN_CHAT_KEY)
            self._admin_chat_id = int(stored) if stored else self.settings.admin_chat_id
            self._admin_chat_loaded = True  # none bound is an answer too: read it once
        return self._admin_chat_id

    async def bind(self, chat_id: int, *, by: int | None = None) -> None:
        """Make `chat_id` the agents' chat; `by` (an operator, None: the bot itself) goes to
        the desk's trail."""
        before = await self.admin_chat_id()
        change = DeskChange(
            DeskAction.BIND, by, before=None if before is None else str(before), after=str(chat_id)
        )
        await self.desk_settings.set(ADMIN_CHAT_KEY, str(chat_id), self.clock(), change=change)
        self._admin_chat_id = chat_id

    async def move_admin_chat(self, old: int, new: int) -> None:
        """The group became a supergroup: bind the new id and move the tickets' threads."""
        await self.tickets.move_admin_chat(old, new)
        await self.bind(new)

    async def ban(self, user_id: int, banned: bool, *, by: int | None = None) -> bool:
        """Ban or unban a customer (False: unknown); `by` (an agent) goes to the desk's trail."""
        change = DeskChange(DeskAction.BAN if banned else DeskAction.UNBAN, by, after=str(user_id))
        return await self.users.set_banned(user_id, banned, self.clock(), change=change)

    async def exported(self, by: int | None, period: str, *, full: bool) -> None:
        """Note on the desk's trail that the tickets were taken out: by an operator
        (/export 7d, 30d or all), or on the server (`by` None: `python -m bot export`,
        whose period is "since YYYY-MM-DD" or "all")."""
        after = f"{period} full" if full else period
        change = DeskChange(DeskAction.EXPORT, by, after=after, command_line=by is None)
        await self.audit.record(change, self.clock())

    # Drafts

    async def draft(self, user_id: int) -> Draft:
        """The customer's draft, or a fresh one."""
        return await self.drafts.get(user_id) or Draft(user_id=user_id)

    async def reply_target(self, user_id: int) -> int | None:
        """The ticket the customer chose to reply to in Reply mode, unless the mode was
        left idle for longer than `CONVERSATION_TIMEOUT` (0: never idle)."""
        timeout = self.settings.conversation_timeout
        since = self.clock() - timeout if timeout else None
        return await self.users.reply_ticket(user_id, newer_than=since)

    async def set_reply_target(self, user_id: int, number: int | None) -> None:
        """Enter Reply mode for ticket `number` (None: leave it), from now."""
        await self.users.set_reply_ticket(user_id, number, self.clock())

    async def save_draft(self, draft: Draft) -> None:
        await self.drafts.save(draft, self.clock())

    async def discard_draft(self, user_id: int) -> None:
        await self.drafts.delete(user_id)

    @staticmethod
    def guard_text(text: str) -> Guarded:
        """Mask card numbers and one-time codes before a text is kept anywhere."""
        return guard(text)

    # Tickets

    def due_at(self, priority: Priority, created_at: datetime) -> datetime:
        return self.calendar.due(created_at, self.settings.response_targets[priority.value])

    async def submit(self, draft: Draft, locale: str) -> Ticket:
        """Turn a complete draft into a ticket (and drop the draft in the same transaction)."""
        if not draft.is_complete:
            raise ValueError("the draft is not complete")
        assert draft.department and draft.subject and draft.priority and draft.message
        now = self.clock()
        ticket = await self.tickets.create(
            customer_id=draft.user_id,
            department=draft.department,
            subject=draft.subject,
            priority=draft.priority,
            locale=locale,
            message=draft.message,
            attachments=list(draft.attachments),
            due_at=self.due_at(draft.priority, now),
            now=now,
            follow_up_of=draft.follow_up_of,
        )
        note_ticket(ticket.number)
        return ticket

    async def similar_open_ticket(self, customer_id: int, subject: str) -> Ticket | None:
        """An open ticket of this customer about the same thing, to continue instead."""
        wanted = _words(subject)
        for ticket in await self.tickets.open_for_customer(customer_id):
            theirs = _words(ticket.subject)
            if not wanted or not theirs:
                continue
            overlap = len(wanted & theirs) / len(wanted | theirs)
            if (
                overlap >= SAME_SUBJECT
                or SequenceMatcher(None, subject.casefold(), ticket.subject.casefold()).ratio()
                >= SAME_SUBJECT
            ):
                return ticket
        return None

    async def active_tickets(self, customer_id: int) -> list[Ticket]:
        """The customer's open tickets and those waiting for them, newest first."""
        return await self.tickets.open_for_customer(customer_id)

    async def open_ticket_cap(self, customer_id: int) -> list[Ticket]:
        """The customer's active tickets if they may open no more (`MAX_OPEN_TICKETS`), else
        an empty list. Solved tickets do not count: they are done unless the customer says
        otherwise."""
        active = await self.active_tickets(customer_id)
        return active if len(active) >= self.settings.max_open_tickets else []

    async def comment_awaited(self, customer_id: int) -> int | None:
        """The ticket whose rating waits for this customer's comment, if any.

        The prompt's own stored time is the deadline's start, so a restart keeps it. The
        comment is the customer's next text: once they have written on a ticket since the
        prompt, or commented already, nothing is awaited.
        """
        now = self.clock()
        number = await self.tickets.rating_prompt_since(customer_id, now - COMMENT_WINDOW)
        if number is None:
            return None
        rating = await self.ratings.get(number)
        if rating is None or rating.comment is not None:
            return None
        prompted = await self.tickets.rating_prompted_at(customer_id, number)
        if prompted is None or await self.tickets.customer_wrote_since(customer_id, prompted):
            return None
        return number

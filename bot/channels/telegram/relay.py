"""The bridge between a ticket and the agents' chat: cards, topics and relayed messages.

A forum supergroup gets one topic per ticket (`#1001 Subject`); a plain group gets a card
message, and the ticket's thread is the replies to it. Every Telegram message that belongs
to a ticket, on either side, is recorded, so a reply to any of them finds the ticket and an
edit finds its copy.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from telegram import Bot, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, TelegramError

from bot.channels.telegram import sending
from bot.channels.telegram.cards import card_keyboard, card_text
from bot.compose import StoredDesk
from bot.domain.models import Attachment, Audience, Relay, RelayKind, Ticket
from bot.domain.outbox import OutboxKind
from bot.fit import clip_plain
from bot.i18n import use_locale

log = logging.getLogger(__name__)

TOPIC_NAME_LIMIT = 128  # Telegram's limit for a forum topic name
MEMBER_CACHE_SECONDS = 60.0
HINT_EVERY_SECONDS = 600.0  # between two "this belongs to no ticket" hints to one agent

_MEMBER_STATUSES = {
    ChatMemberStatus.OWNER,
    ChatMemberStatus.ADMINISTRATOR,
    ChatMemberStatus.MEMBER,
}


def is_thread_gone(error: BadRequest) -> bool:
    """Telegram's answer when a forum topic was deleted under us."""
    text = error.message.lower()
    return "thread not found" in text or "topic_deleted" in text or "topic was deleted" in text


class AdminRelay:
    """Posts tickets to the admin chat and carries messages both ways."""

    def __init__(self, desk: StoredDesk) -> None:
        self.desk = desk
        self._locks: dict[int, asyncio.Lock] = {}
        self._members: dict[tuple[int, int], tuple[bool, float]] = {}
        self._forum: dict[int, bool] = {}
        self._hinted: dict[tuple[int, int], float] = {}
        self._invited: set[int] = set()

    def invited(self, chat_id: int) -> None:
        """An operator added the bot to this group: stay until someone binds it."""
        self._invited.add(chat_id)

    def was_invited(self, chat_id: int) -> bool:
        return chat_id in self._invited

    def may_hint(self, chat_id: int, user_id: int) -> bool:
        """Whether to tell this agent again that a message reached no customer."""
        now = time.monotonic()
        last = self._hinted.get((chat_id, user_id))
        if last is not None and now - last < HINT_EVERY_SECONDS:
            return False
        self._hinted[(chat_id, user_id)] = now
        return True

    def lock(self, number: int) -> asyncio.Lock:
        """One lock per ticket: two messages arriving together never make two topics."""
        return self._locks.setdefault(number, asyncio.Lock())

    # Who may act as an agent

    async def is_member(
        self, bot: Bot, chat_id: int, user_id: int, *, strict: bool = False
    ) -> bool:
        """Whether `user_id` is in the admin chat (getChatMember, cached for a minute).

        When the check itself fails, a message passes (Telegram delivered it from the chat)
        but, with `strict`, a button press does not.
        """
        key = (chat_id, user_id)
        cached = self._members.get(key)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            member = await bot.get_chat_member(chat_id, user_id)
        except BadRequest as exc:
            if "not found" in exc.message.lower():
                self._members[key] = (False, now + MEMBER_CACHE_SECONDS)
                return False
            log.warning("getChatMember was refused in the admin chat: %s", exc)
            return not strict
        except TelegramError as exc:
            # Telegram only delivers a group's messages and button presses from people in
            # it; if the check itself can't be made right now, that has to do.
            log.warning("getChatMember failed in the admin chat: %s", exc)
            return not strict
        is_member = member.status in _MEMBER_STATUSES or bool(getattr(member, "is_member", False))
        self._members[key] = (is_member, now + MEMBER_CACHE_SECONDS)
        return is_member

    async def is_forum(self, bot: Bot, chat_id: int) -> bool:
        if chat_id not in self._forum:
            try:
                chat = await bot.get_chat(chat_id)
            except TelegramError as exc:
                # Without topics the desk still works (cards and replies); ask again later.
                log.warning("getChat failed for the admin chat: %s", exc)
                return False
            self._forum[chat_id] = bool(chat.is_forum)
        return self._forum[chat_id]

    def forget_chat(self, chat_id: int) -> None:
        self._forum.pop(chat_id, None)

    # The card (its text and buttons: bot/channels/telegram/cards.py)

    async def admin_locale(self) -> str:
        """The language everything in the agents' chat is written in."""
        return await self.desk.admin_locale()

    async def refresh_card(self, bot: Bot, number: int) -> None:
        """Edit the card in place to show the current status, priority and assignee."""
        ticket = await self.desk.ticket(number)
        if ticket is None or ticket.admin_chat_id is None or ticket.admin_card_message_id is None:
            return
        customer = await self.desk.user(ticket.customer_id)
        with use_locale(await self.admin_locale()):
            text = await card_text(self.desk, ticket, customer)
            keyboard = card_keyboard(ticket)
        try:
            await bot.edit_message_text(
                text,
                chat_id=ticket.admin_chat_id,
                message_id=ticket.admin_card_message_id,
                reply_markup=keyboard,
            )
        except BadRequest as exc:
            if "message is not modified" not in exc.message.lower():
                log.warning("Could not update the card of %s: %s", ticket.ref, exc)

    # Where a ticket lives in the admin chat

    async def ensure_posted(self, bot: Bot, number: int) -> Ticket | None:
        """Post the ticket's card (and topic) if it has none in the bound chat yet."""
        chat_id = await self.desk.admin_chat_id()
        if chat_id is None:
            return None
        async with self.lock(number):
            ticket = await self.desk.ticket(number)
            if ticket is None:
                return None
            if ticket.admin_chat_id == chat_id and ticket.admin_card_message_id is not None:
                return ticket
            return await self._post(bot, ticket, chat_id)

    async def _post(
        self, bot: Bot, ticket: Ticket, chat_id: int, *, new_topic: bool = False
    ) -> Ticket:
        """Make the ticket's place in the admin chat: topic (forum), card, then its files."""
        thread_id = ticket.admin_thread_id if ticket.admin_chat_id == chat_id else None
        if (thread_id is None or new_topic) and await self.is_forum(bot, chat_id):
            name = clip_plain(f"{ticket.ref} {ticket.subject}", TOPIC_NAME_LIMIT)
            topic = await bot.create_forum_topic(chat_id, name)
            thread_id = topic.message_thread_id
            # Kept at once: if the card fails now, the retry uses this topic, not a new one.
            await self.desk.set_ticket_location(
                ticket.number, chat_id=chat_id, thread_id=thread_id, card_message_id=None
            )
        customer = await self.desk.user(ticket.customer_id)
        with use_locale(await self.admin_locale()):
            text = await card_text(self.desk, ticket, customer)
            keyboard = card_keyboard(ticket)
        card = await bot.send_message(
            chat_id, text, message_thread_id=thread_id, reply_markup=keyboard
        )
        await self.desk.set_ticket_location(
            ticket.number, chat_id=chat_id, thread_id=thread_id, card_message_id=card.message_id
        )
        await self._record(ticket.number, RelayKind.CARD, None, card, None)
        if not new_topic:
            messages = await self.desk.ticket_messages(ticket.number, include_internal=False)
            if messages and messages[0].attachments:
                # The files are their own delivery: a failure retries them, not the card.
                await self.desk.queue_delivery(
                    OutboxKind.TICKET_FILES,
                    Audience.ADMIN,
                    self.desk.clock(),
                    ticket_number=ticket.number,
                    payload={"message_id": messages[0].id},
                    dedupe_key=f"{OutboxKind.TICKET_FILES}:{ticket.number}",
                )
        posted = await self.desk.ticket(ticket.number)
        assert posted is not None
        return posted

    async def send_ticket_files(self, bot: Bot, number: int, message_id: int) -> None:
        """Put the files of the ticket's first message under its card (albums together)."""
        ticket = await self.ensure_posted(bot, number)
        message = await self.desk.ticket_message(message_id)
        if ticket is None or ticket.admin_chat_id is None or message is None:
            return
        where = sending.where(ticket.admin_thread_id, ticket.admin_card_message_id)
        for sent in await sending.send_files(
            bot, ticket.admin_chat_id, message.attachments, where, kept=self.desk.kept_files
        ):
            await self._record(number, RelayKind.TO_ADMIN, message.id, sent, None)

    async def remember(self, number: int, kind: RelayKind, message: Message) -> None:
        """Note a bot message in the agents' chat as the ticket's, so a reply to it finds it."""
        await self._record(number, kind, None, message, None)

    async def _record(
        self,
        number: int,
        kind: RelayKind,
        ticket_message_id: int | None,
        admin_message: Message | None,
        customer_message: Message | None,
        *,
        admin_message_id: int | None = None,
        customer_message_id: int | None = None,
        customer_chat_id: int | None = None,
    ) -> None:
        await self.desk.remember_relay(
            Relay(
                ticket_number=number,
                kind=kind,
                ticket_message_id=ticket_message_id,
                admin_chat_id=admin_message.chat_id if admin_message else None,
                admin_message_id=admin_message.message_id if admin_message else admin_message_id,
                customer_chat_id=(
                    customer_message.chat_id if customer_message else customer_chat_id
                ),
                customer_message_id=(
                    customer_message.message_id if customer_message else customer_message_id
                ),
            ),
        )

    async def send_to_thread(
        self,
        bot: Bot,
        number: int,
        text: sending.Text,
        attachments: Sequence[Attachment] = (),
        *,
        kind: RelayKind,
        ticket_message_id: int | None = None,
        customer_message_id: int | None = None,
        reply_to: int | None = None,
        keyboard: InlineKeyboardMarkup | None = None,
    ) -> list[Message]:
        """Put a message into the ticket's thread; recreate a topic deleted by hand."""
        ticket = await self.ensure_posted(bot, number)
        if ticket is None or ticket.admin_chat_id is None:
            return []

        async def attempt(where: Ticket, reply: int | None) -> list[Message]:
            return await self._send_to(
                bot,
                where,
                text,
                attachments,
                kind,
                ticket_message_id,
                customer_message_id,
                reply,
                keyboard,
            )

        try:
            return await attempt(ticket, reply_to)
        except BadRequest as exc:
            if ticket.admin_thread_id is None or not is_thread_gone(exc):
                raise
            log.info("The topic of %s was deleted; creating it again", ticket.ref)
            async with self.lock(number):
                fresh = await self.desk.ticket(number)
                if fresh is not None and fresh.admin_thread_id == ticket.admin_thread_id:
                    await self._post(bot, fresh, ticket.admin_chat_id, new_topic=True)
            ticket = await self.ensure_posted(bot, number)
            assert ticket is not None
            # The message replied to was in the deleted topic: the new one starts afresh.
            return await attempt(ticket, None)

    async def _send_to(
        self,
        bot: Bot,
        ticket: Ticket,
        text: sending.Text,
        attachments: Sequence[Attachment],
        kind: RelayKind,
        ticket_message_id: int | None,
        customer_message_id: int | None,
        reply_to: int | None,
        keyboard: InlineKeyboardMarkup | None,
    ) -> list[Message]:
        assert ticket.admin_chat_id is not None
        where = sending.where(ticket.admin_thread_id, reply_to or ticket.admin_card_message_id)
        if reply_to is not None and ticket.admin_thread_id is not None:
            where["reply_parameters"] = ReplyParameters(reply_to, allow_sending_without_reply=True)
        sent: list[Message] = []
        if attachments:
            sent = await sending.send_files(
                bot, ticket.admin_chat_id, attachments, where, text, kept=self.desk.kept_files
            )
        else:
            parts = sending.parts_of(text)
            for index, part in enumerate(parts):
                last = index == len(parts) - 1
                sent.append(
                    await bot.send_message(
                        ticket.admin_chat_id,
                        part,
                        reply_markup=keyboard if last else None,
                        **where,
                    )
                )
        for message in sent:
            await self._record(
                ticket.number,
                kind,
                ticket_message_id,
                message,
                None,
                customer_message_id=customer_message_id,
                customer_chat_id=ticket.customer_id if customer_message_id else None,
            )
        return sent

    # Messages to the customer

    async def send_to_customer(
        self,
        bot: Bot,
        ticket: Ticket,
        text: sending.Text,
        attachments: Sequence[Attachment] = (),
        *,
        kind: RelayKind = RelayKind.NOTICE,
        ticket_message_id: int | None = None,
        admin_message_id: int | None = None,
        keyboard: InlineKeyboardMarkup | None = None,
    ) -> list[Message]:
        """Send to the customer's private chat and remember which ticket it belongs to."""
        chat_id = ticket.customer_id
        if attachments:
            sent = await sending.send_files(bot, chat_id, attachments, {}, text)
        else:
            parts = sending.parts_of(text)
            sent = [
                await bot.send_message(
                    chat_id, part, reply_markup=keyboard if i == len(parts) - 1 else None
                )
                for i, part in enumerate(parts)
            ]
        for message in sent:
            await self.desk.remember_relay(
                Relay(
                    ticket_number=ticket.number,
                    kind=kind,
                    ticket_message_id=ticket_message_id,
                    admin_chat_id=ticket.admin_chat_id if admin_message_id else None,
                    admin_message_id=admin_message_id,
                    customer_chat_id=message.chat_id,
                    customer_message_id=message.message_id,
                ),
            )
            # Only the first copy maps back to the agent's message (album items get one each).
            admin_message_id = None
        return sent

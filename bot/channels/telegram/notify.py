"""Turn an outbox item into Telegram messages, rendered in the reader's language.

Items are written by the domain in the same transaction as the change; the text is made
here, at delivery, so the customer reads it in the language they use at that moment.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, InputFile, ReplyParameters
from telegram.error import BadRequest

from bot.channels.telegram.notices import Notices
from bot.domain.models import (
    AnswerFile,
    AttachmentKind,
    Audience,
    OutboxItem,
    RelayKind,
    Status,
    Ticket,
)
from bot.domain.outbox import FOLD_AT_MOST, FOLDABLE, OutboxKind
from bot.i18n import gettext as _
from bot.i18n import use_locale
from bot.texts import agent_status_label, draft_expired_text, forgotten_text

log = logging.getLogger(__name__)


Deliverer = Callable[[Bot, Ticket, OutboxItem], Awaitable[None]]


class Notifier(Notices):
    """Delivers one outbox item; raises what Telegram raised, for the dispatcher to judge.

    The renderer of each kind is in `Notices` (bot/channels/telegram/notices.py); here are
    the dispatch table, the items that need no ticket, and the folding of notices.
    """

    async def deliver(self, bot: Bot, item: OutboxItem) -> None:
        if item.kind == OutboxKind.DRAFT_EXPIRED and item.chat_id is not None:
            await self._draft_expired(bot, item.chat_id)
            return
        if item.kind == OutboxKind.FORGOTTEN and item.chat_id is not None:
            await self._forgotten(bot, item.chat_id)
            return
        if item.kind == OutboxKind.AGENT_ANSWER:
            await self._agent_answer(bot, item)
            return
        if item.ticket_number is None:
            log.warning("Outbox item %s (%s) has no ticket; dropped", item.id, item.kind)
            return
        ticket = await self.desk.ticket(item.ticket_number)
        if ticket is None:
            return
        # Keyed by the stored kind: a kind this bot does not know is dropped below.
        deliverers: dict[str, Deliverer] = {
            OutboxKind.NEW_TICKET: self._new_ticket,
            OutboxKind.RECEIPT: self._receipt,
            OutboxKind.CARD: self._card,
            OutboxKind.STATUS: self._status,
            OutboxKind.AGENT_REPLY: self._agent_reply,
            OutboxKind.AGENT_EDIT: self._agent_edit,
            OutboxKind.CUSTOMER_MESSAGE: self._customer_message,
            OutboxKind.CUSTOMER_EDIT: self._customer_edit,
            OutboxKind.BREACH: self._breach,
            OutboxKind.SOLVE_REMINDER: self._solve_reminder,
            OutboxKind.UNDELIVERABLE: self._undeliverable,
            OutboxKind.TICKET_FILES: self._ticket_files,
            OutboxKind.CUSTOMER_STATUS: self._customer_status,
            OutboxKind.TEXT_PART: self._text_part,
        }
        handler = deliverers.get(item.kind)
        if handler is None:
            log.error("Unknown outbox kind %r (item %s); dropped", item.kind, item.id)
            return
        if item.audience is Audience.CUSTOMER:
            with use_locale(await self._customer_locale(ticket)):
                await handler(bot, ticket, item)
        else:
            with use_locale(await self.relay.admin_locale()):
                if item.kind in FOLDABLE and await self._folded(bot, item):
                    return
                await handler(bot, ticket, item)

    async def _draft_expired(self, bot: Bot, chat_id: int) -> None:
        customer = await self.desk.user(chat_id)
        locale = await self.desk.locale_for(customer) if customer else "en"
        with use_locale(locale):
            await bot.send_message(
                chat_id,
                draft_expired_text(),
            )

    async def _forgotten(self, bot: Bot, chat_id: int) -> None:
        customer = await self.desk.user(chat_id)
        locale = await self.desk.locale_for(customer) if customer else "en"
        with use_locale(locale):
            await bot.send_message(
                chat_id,
                forgotten_text(),
            )

    async def _agent_answer(self, bot: Bot, item: OutboxItem) -> None:
        """Answer an agent's command where they asked, as a reply to it (or edit a message
        they paged through). An answer about a ticket is a place to reply to it."""
        payload = item.payload
        chat_id = int(payload["chat_id"])
        keyboard = payload.get("keyboard")
        markup = InlineKeyboardMarkup.de_json(keyboard, bot) if keyboard else None
        if payload.get("edit_message_id"):
            try:
                await bot.edit_message_text(
                    str(payload["text"]),
                    chat_id=chat_id,
                    message_id=int(payload["edit_message_id"]),
                    reply_markup=markup,
                )
            except BadRequest as exc:
                if "message is not modified" not in exc.message.lower():
                    raise
            return
        where: dict[str, Any] = {}
        if payload.get("thread_id"):
            where["message_thread_id"] = int(payload["thread_id"])
        if payload.get("reply_to"):
            where["reply_parameters"] = ReplyParameters(
                int(payload["reply_to"]), allow_sending_without_reply=True
            )
        if payload.get("file"):
            await self._agent_file(bot, chat_id, AnswerFile.from_json(payload["file"]), item, where)
            return
        sent = await bot.send_message(chat_id, str(payload["text"]), reply_markup=markup, **where)
        if item.ticket_number is not None:
            await self.relay.remember(item.ticket_number, RelayKind.NOTICE, sent)

    @staticmethod
    async def _agent_file(
        bot: Bot, chat_id: int, file: AnswerFile, item: OutboxItem, where: dict[str, Any]
    ) -> None:
        upload = InputFile(io.BytesIO(file.data), filename=file.name)
        caption = str(item.payload["text"]) or None
        if file.kind is AttachmentKind.PHOTO:
            await bot.send_photo(chat_id, upload, caption=caption, **where)
        else:
            await bot.send_document(chat_id, upload, caption=caption, **where)

    async def _folded(self, bot: Bot, item: OutboxItem) -> bool:
        """Send this notice and every other one waiting as one message; False if it is alone.

        A burst of notices (targets missed in the same minute, customers closing their
        tickets) would otherwise spend the agents' chat's whole budget one ticket at a time.
        """
        waiting = await self.desk.due_deliveries_of_kinds(
            FOLDABLE, due_by=self.desk.clock().timestamp(), limit=FOLD_AT_MOST
        )
        others = [other for other in waiting if other.id != item.id]
        chat_id = await self.desk.admin_chat_id()
        if not others or chat_id is None:
            return False
        groups: dict[str, list[str]] = {}
        for notice in [item, *others]:
            if notice.ticket_number is None:
                continue
            heading = self._fold_heading(notice)
            ref = f"#{notice.ticket_number}"
            if ref not in groups.setdefault(heading, []):
                groups[heading].append(ref)
        text = "\n".join(f"{heading} {', '.join(refs)}" for heading, refs in groups.items())
        await bot.send_message(chat_id, text)
        await self.desk.delivered_together([other.id for other in others])
        return True

    @staticmethod
    def _fold_heading(notice: OutboxItem) -> str:
        if notice.kind == OutboxKind.BREACH:
            return _("⏰ Response target missed:")
        if notice.kind == OutboxKind.UNDELIVERABLE:
            return _("⚠️ The customer has blocked the bot:")
        return _("ℹ️ Set to {status} by the customer:").format(
            status=agent_status_label(Status(notice.payload["status"]))
        )

    async def _customer_locale(self, ticket: Ticket) -> str:
        customer = await self.desk.user(ticket.customer_id)
        return await self.desk.locale_for(customer) if customer else ticket.locale

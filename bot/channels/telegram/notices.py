"""What each kind of outbox item says, and where: the notifier's per-kind renderers.

`Notifier` (bot/channels/telegram/notify.py) picks the renderer by the item's kind and sets
the reader's language; each renderer here writes its text and sends it through the relay.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from html import escape

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from bot.channels.telegram.relay import AdminRelay
from bot.compose import StoredDesk
from bot.domain.models import Audience, OutboxItem, Relay, RelayKind, Status, Ticket, TicketMessage
from bot.domain.outbox import BATCH_AT_MOST, BATCH_FILES, BATCH_TEXT, OutboxKind, admin_lane
from bot.fit import CAPTION_BUDGET, MESSAGE_BUDGET, clip_plain, compose, utf16_len
from bot.i18n import format_time, ngettext
from bot.i18n import gettext as _
from bot.texts import (
    agent_signature,
    agent_status_label,
    priority_label,
    receipt_text,
    signed,
    solve_reminder_text,
    status_notice,
)
from handlers.callbacks import RATING
from handlers.keyboards import main_menu

log = logging.getLogger(__name__)


def rating_keyboard(number: int) -> InlineKeyboardMarkup:
    """Five buttons, 1 to 5 stars."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    f"{score} ⭐", callback_data=RATING.pack("rate", number, score)
                )
                for score in range(1, 6)
            ]
        ]
    )


class Notices:
    """One renderer per outbox kind: the agents' side, then the customer's."""

    def __init__(self, desk: StoredDesk, relay: AdminRelay) -> None:
        self.desk = desk
        self.relay = relay

    # The agents' side

    async def _new_ticket(self, bot: Bot, ticket: Ticket, item: OutboxItem) -> None:
        await self.relay.ensure_posted(bot, ticket.number)

    async def _ticket_files(self, bot: Bot, ticket: Ticket, item: OutboxItem) -> None:
        await self.relay.send_ticket_files(bot, ticket.number, int(item.payload["message_id"]))

    async def _card(self, bot: Bot, ticket: Ticket, item: OutboxItem) -> None:
        if ticket.admin_card_message_id is None:
            await self.relay.ensure_posted(bot, ticket.number)
        else:
            await self.relay.refresh_card(bot, ticket.number)

    async def _customer_message(self, bot: Bot, ticket: Ticket, item: OutboxItem) -> None:
        message = await self.desk.ticket_message(int(item.payload["message_id"]))
        if message is None:
            return
        batch = await self._batch(item, ticket, message)
        if len(batch) > 1:
            await self._customer_messages(bot, ticket, item, batch)
            return
        customer = await self.desk.user(ticket.customer_id)
        name = escape(customer.display_name) if customer else str(ticket.customer_id)
        header = _("👤 <b>{ref}</b> · {name}").format(ref=ticket.ref, name=name)
        footer = ""
        if item.payload.get("status_changed"):
            footer = "\n<i>" + _("Status: {status}").format(
                status=agent_status_label(ticket.status)
            )
            footer += "</i>"
        first, *rest = compose(header, message.body, footer, caption=bool(message.attachments))
        await self.relay.send_to_thread(
            bot,
            ticket.number,
            first,
            message.attachments,
            kind=RelayKind.TO_ADMIN,
            ticket_message_id=message.id,
            customer_message_id=item.payload.get("customer_message_id"),
        )
        await self._owe_rest(item, ticket, rest, RelayKind.TO_ADMIN, message.id)

    async def _batch(
        self, item: OutboxItem, ticket: Ticket, message: TicketMessage
    ) -> list[tuple[OutboxItem, TicketMessage]]:
        """This message and the ones of the same ticket that wait right behind it.

        Only due customer messages directly behind this one in the ticket's line join it
        (anything else of the ticket, or a message still held for a paste's rest, ends the
        batch), so the ticket's thread keeps its order. Other tickets' items in between do
        not matter: they go to other threads.
        """
        batch = [(item, message)]
        files, text = len(message.attachments), utf16_len(message.body)
        later = await self.desk.pending_deliveries_after(
            item.id,
            lane=admin_lane(OutboxKind.CUSTOMER_MESSAGE),
            ticket_number=ticket.number,
            limit=BATCH_AT_MOST - 1,
        )
        now = self.desk.clock().timestamp()
        for other in later:
            if other.kind != OutboxKind.CUSTOMER_MESSAGE or other.next_attempt_at > now:
                break
            found = await self.desk.ticket_message(int(other.payload["message_id"]))
            if found is None:
                break
            files += len(found.attachments)
            text += utf16_len(found.body)
            if files > BATCH_FILES or text > BATCH_TEXT:
                break
            batch.append((other, found))
        return batch

    async def _customer_messages(
        self,
        bot: Bot,
        ticket: Ticket,
        item: OutboxItem,
        batch: list[tuple[OutboxItem, TicketMessage]],
    ) -> None:
        """Deliver several waiting messages of one customer as one message in the thread.

        Nothing a customer sends can then make the agents' chat spend more than one message
        of its budget per batch. Every message of the batch maps to the delivered copy, so
        an agent's reply to it, or the customer's edit of any of them, finds the ticket.
        """
        customer = await self.desk.user(ticket.customer_id)
        name = escape(customer.display_name) if customer else str(ticket.customer_id)
        header = ngettext(
            "👤 <b>%(ref)s</b> · %(name)s · %(count)d message",
            "👤 <b>%(ref)s</b> · %(name)s · %(count)d messages",
            len(batch),
        ) % {"ref": ticket.ref, "name": name, "count": len(batch)}
        footer = ""
        if any(queued.payload.get("status_changed") for queued, _message in batch):
            footer = "\n<i>" + _("Status: {status}").format(
                status=agent_status_label(ticket.status)
            )
            footer += "</i>"
        body = "\n\n".join(message.body.strip() for _item, message in batch if message.body.strip())
        files = [file for _item, message in batch for file in message.attachments]
        first_message = batch[0][1]
        first, *rest = compose(header, body, footer, caption=bool(files))
        sent = await self.relay.send_to_thread(
            bot,
            ticket.number,
            first,
            files,
            kind=RelayKind.TO_ADMIN,
            ticket_message_id=first_message.id,
            customer_message_id=item.payload.get("customer_message_id"),
        )
        if sent:
            copy = sent[0]
            for queued, message in batch[1:]:
                await self.desk.remember_relay(
                    Relay(
                        ticket.number,
                        RelayKind.TO_ADMIN,
                        message.id,
                        copy.chat_id,
                        copy.message_id,
                        ticket.customer_id if queued.payload.get("customer_message_id") else None,
                        queued.payload.get("customer_message_id"),
                    ),
                )
        await self._owe_rest(item, ticket, rest, RelayKind.TO_ADMIN, batch[-1][1].id)
        await self.desk.delivered_together([queued.id for queued, _message in batch[1:]])
        log.info("Delivered %d messages of %s to the agents as one", len(batch), ticket.ref)

    async def _owe_rest(
        self,
        item: OutboxItem,
        ticket: Ticket,
        parts: list[str],
        kind: RelayKind,
        ticket_message_id: int | None,
    ) -> None:
        """Queue a long text's further parts as items of their own, so that a failure
        retries only the part that failed, never the ones already delivered."""
        for index, part in enumerate(parts, start=1):
            await self.desk.queue_delivery(
                OutboxKind.TEXT_PART,
                item.audience,
                self.desk.clock(),
                chat_id=item.chat_id,
                ticket_number=ticket.number,
                payload={"text": part, "kind": kind.value, "ticket_message_id": ticket_message_id},
                dedupe_key=f"part:{item.id}:{index}",
            )

    async def _text_part(self, bot: Bot, ticket: Ticket, item: OutboxItem) -> None:
        kind = RelayKind(item.payload["kind"])
        text = str(item.payload["text"])
        message_id = item.payload.get("ticket_message_id")
        if item.audience is Audience.CUSTOMER:
            await self.relay.send_to_customer(
                bot, ticket, text, kind=kind, ticket_message_id=message_id
            )
        else:
            await self.relay.send_to_thread(
                bot, ticket.number, text, kind=kind, ticket_message_id=message_id
            )

    async def _customer_edit(self, bot: Bot, ticket: Ticket, item: OutboxItem) -> None:
        edit = await self.desk.ticket_message(int(item.payload["edit_id"]))
        if edit is None:
            return
        relay = await self.desk.relay_of_customer_message(
            ticket.customer_id, int(item.payload["customer_message_id"])
        )
        customer = await self.desk.user(ticket.customer_id)
        name = escape(customer.display_name) if customer else str(ticket.customer_id)
        header = _("✏️ <b>{ref}</b> · {name} edited a message:").format(ref=ticket.ref, name=name)
        first, *rest = compose(header, edit.body)
        await self.relay.send_to_thread(
            bot,
            ticket.number,
            first,
            kind=RelayKind.NOTICE,
            reply_to=relay.admin_message_id if relay else None,
        )
        await self._owe_rest(item, ticket, rest, RelayKind.NOTICE, edit.id)

    async def _breach(self, bot: Bot, ticket: Ticket, item: OutboxItem) -> None:
        text = _(
            "⏰ Response target missed: <b>{ref}</b> ({priority}) was due {due} and has "
            "no answer yet."
        ).format(
            ref=ticket.ref,
            priority=priority_label(ticket.priority),
            due=format_time(ticket.first_response_due_at, self.desk.timezone),
        )
        await self.relay.send_to_thread(bot, ticket.number, text, kind=RelayKind.NOTICE)

    async def _customer_status(self, bot: Bot, ticket: Ticket, item: OutboxItem) -> None:
        text = _("ℹ️ {ref}: the customer set the ticket to {status}.").format(
            ref=ticket.ref, status=agent_status_label(Status(item.payload["status"]))
        )
        await self.relay.send_to_thread(bot, ticket.number, text, kind=RelayKind.NOTICE)

    async def _undeliverable(self, bot: Bot, ticket: Ticket, item: OutboxItem) -> None:
        text = _(
            "⚠️ {ref}: the customer has blocked the bot, so messages can't be delivered."
        ).format(ref=ticket.ref)
        await self.relay.send_to_thread(bot, ticket.number, text, kind=RelayKind.NOTICE)

    # The customer's side

    async def _receipt(self, bot: Bot, ticket: Ticket, item: OutboxItem) -> None:
        desk = self.desk
        text = receipt_text(
            ticket,
            desk.department(ticket.department),
            desk.target(ticket.priority),
            desk.timezone,
        )
        sent = await bot.send_message(ticket.customer_id, text, reply_markup=main_menu())
        # A reply to the receipt is a reply to the ticket.
        await desk.remember_relay(
            Relay(ticket.number, RelayKind.NOTICE, None, None, None, sent.chat_id, sent.message_id),
        )

    def _sign(self, ticket: Ticket, agent_name: str) -> str:
        name = agent_signature(self.desk.settings.team_name, agent_name)
        return signed(ticket, name)

    async def _agent_reply(self, bot: Bot, ticket: Ticket, item: OutboxItem) -> None:
        message = await self.desk.ticket_message(int(item.payload["message_id"]))
        if message is None:
            return
        first, *rest = compose(
            self._sign(ticket, str(item.payload.get("agent_name") or "")),
            message.body,
            "\n\n<i>" + _("Reply to this message to answer.") + "</i>",
            caption=bool(message.attachments),
        )
        await self.relay.send_to_customer(
            bot,
            ticket,
            first,
            message.attachments,
            kind=RelayKind.TO_CUSTOMER,
            ticket_message_id=message.id,
            admin_message_id=item.payload.get("admin_message_id"),
        )
        await self._owe_rest(item, ticket, rest, RelayKind.TO_CUSTOMER, message.id)

    async def _agent_edit(self, bot: Bot, ticket: Ticket, item: OutboxItem) -> None:
        edit = await self.desk.ticket_message(int(item.payload["edit_id"]))
        relay = await self.desk.relay_of_admin_message(
            int(item.payload["admin_chat_id"]), int(item.payload["admin_message_id"])
        )
        if edit is None or relay is None or relay.customer_message_id is None:
            return
        agent = await self.desk.user(edit.author_id) if edit.author_id else None
        original = await self.desk.ticket_message(edit.edit_of) if edit.edit_of else None
        # An edit replaces one message: it must fit it (a caption, if the original had files).
        budget = CAPTION_BUDGET if original is not None and original.attachments else MESSAGE_BUDGET
        text = self._sign(ticket, agent.first_name if agent else "")
        text += "\n\n" + escape(clip_plain(edit.body, budget)) + "\n\n<i>" + _("(edited)") + "</i>"
        try:
            if original is not None and original.attachments:
                await bot.edit_message_caption(
                    chat_id=ticket.customer_id, message_id=relay.customer_message_id, caption=text
                )
            else:
                await bot.edit_message_text(
                    text, chat_id=ticket.customer_id, message_id=relay.customer_message_id
                )
        except BadRequest as exc:
            if "message is not modified" not in exc.message.lower():
                raise

    async def _status(self, bot: Bot, ticket: Ticket, item: OutboxItem) -> None:
        status = Status(item.payload["status"])
        action = item.payload.get("action")
        keyboard = None
        text = status_notice(ticket, status, action)
        if status is Status.SOLVED and await self.desk.rating(ticket.number) is None:
            text += "\n\n" + _("How did we do? Rate our help:")
            keyboard = rating_keyboard(ticket.number)
        await self.relay.send_to_customer(bot, ticket, text, keyboard=keyboard)

    async def _solve_reminder(self, bot: Bot, ticket: Ticket, item: OutboxItem) -> None:
        solve_at = datetime.fromtimestamp(float(item.payload["solve_at"]), tz=UTC)
        text = solve_reminder_text(ticket, solve_at, self.desk.timezone)
        await self.relay.send_to_customer(bot, ticket, text)

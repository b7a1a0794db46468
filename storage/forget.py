"""A customer's request to be forgotten: every trace of what they wrote and who they are is
replaced, in one transaction, while their tickets and the desk's figures stay.

What is replaced: the user's name and username; the subject, every message (theirs and
the agents' answers, which quote them) and the rating comment of each of their tickets;
their attachments' file ids and names. What goes: their draft, their messages held for a
choice of ticket, their conversation states. Copies elsewhere (updates in the inbox and
the quarantine, outbox payloads) are scrubbed: every string that holds one of their texts
or names is replaced, so a queued update can still be handled and a queued notice still
delivered, saying nothing of them. Nor does the file keep them past SQLite: freed space
is zeroed (`PRAGMA secure_delete`) and the write-ahead log truncated afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.domain.audit import DeskAction, DeskChange
from bot.domain.channels import whatsapp_number
from bot.domain.models import Audience, Author, Forgotten
from bot.domain.outbox import OutboxKind
from storage import audit
from storage.db import Database, Transaction
from storage.outbox import enqueue
from storage.rows import to_ts
from storage.units import insert_event

# A text shorter than this is matched only whole ("Ok" must not blank every "Ok, thanks").
SHORTEST_PART = 4
FORGOTTEN_EVENT = "forgotten"


class _Scrubber:
    def __init__(self, needles: Iterable[str], marker: str) -> None:
        found = {n.strip() for n in needles if n and n.strip()}
        self._whole = {n.casefold() for n in found}
        self._parts = [n.casefold() for n in found if len(n) >= SHORTEST_PART]
        self._marker = marker

    def _hit(self, text: str) -> bool:
        folded = text.casefold()
        return folded.strip() in self._whole or any(p in folded for p in self._parts)

    def scrub(self, value: Any) -> tuple[Any, bool]:
        """`value` with every string that holds a needle replaced; whether any was."""
        if isinstance(value, str):
            return (self._marker, True) if self._hit(value) else (value, False)
        if isinstance(value, list):
            pairs = [self.scrub(v) for v in value]
            return [v for v, _ in pairs], any(hit for _, hit in pairs)
        if isinstance(value, dict):
            pairs_d = {k: self.scrub(v) for k, v in value.items()}
            return {k: v for k, (v, _) in pairs_d.items()}, any(h for _, h in pairs_d.values())
        return value, False


async def _texts(tx: Transaction, user_id: int, numbers: list[int]) -> list[str]:
    """Everything the person wrote or is called, to find its copies by."""
    texts: list[str] = []
    user = await tx.fetch_one(
        "SELECT first_name, last_name, username FROM users WHERE id = ?", (user_id,)
    )
    assert user is not None
    texts.extend(v for v in (user["first_name"], user["last_name"], user["username"]) if v)
    if user["first_name"] and user["last_name"]:
        texts.append(f"{user['first_name']} {user['last_name']}")
    for number in numbers:
        rows = await tx.fetch_all(
            "SELECT body FROM ticket_messages WHERE ticket_number = ?", (number,)
        )
        texts.extend(r["body"] for r in rows)
        ticket = await tx.fetch_one("SELECT subject FROM tickets WHERE number = ?", (number,))
        if ticket is not None:
            texts.append(ticket["subject"])
        rating = await tx.fetch_one(
            "SELECT comment FROM ratings WHERE ticket_number = ?", (number,)
        )
        if rating is not None and rating["comment"]:
            texts.append(rating["comment"])
    held = await tx.fetch_all("SELECT body FROM held_messages WHERE customer_id = ?", (user_id,))
    texts.extend(r["body"] for r in held)
    draft = await tx.fetch_one("SELECT data FROM drafts WHERE user_id = ?", (user_id,))
    if draft is not None:
        data = json.loads(draft["data"])
        texts.extend(str(data.get(k)) for k in ("subject", "message") if data.get(k))
    # A long message is also copied in parts (Telegram's 4096-character limit), so each
    # line counts as well.
    return texts + [line for t in texts for line in t.splitlines() if line.strip()]


async def _scrub_json_rows(
    tx: Transaction, scrubber: _Scrubber, table: str, key: str, column: str
) -> int:
    # Table and column names come from the fixed calls below, never from input.
    rows = await tx.fetch_all(f"SELECT {key}, {column} FROM {table}")
    changed = 0
    for row in rows:
        value, hit = scrubber.scrub(json.loads(row[column]))
        if hit:
            await tx.execute(
                f"UPDATE {table} SET {column} = ? WHERE {key} = ?",
                (json.dumps(value, ensure_ascii=False), row[key]),
            )
            changed += 1
    return changed


async def kept_files_of(db: Database, user_id: int) -> list[str]:
    """The files the desk keeps itself (`storage.files`) that only this customer's tickets
    use: to delete once they are forgotten."""
    rows = await db.fetch_all(
        "SELECT DISTINCT a.file_id FROM attachments a JOIN tickets t ON t.number = a.ticket_number"
        " WHERE t.customer_id = ? AND a.file_id LIKE 'kept:%' AND NOT EXISTS ("
        "SELECT 1 FROM attachments b JOIN tickets u ON u.number = b.ticket_number"
        " WHERE b.file_id = a.file_id AND u.customer_id != ?)",
        (user_id, user_id),
    )
    return [str(r["file_id"]) for r in rows]


async def forget_customer(
    db: Database,
    user_id: int,
    *,
    operator_id: int | None,
    marker: str,
    name: str,
    now: datetime,
) -> Forgotten | None:
    """Anonymize `user_id` (None if unknown): see the module's docstring.

    `marker` replaces every text, `name` the person's name (both in the agents' language,
    since agents read them); `operator_id` is recorded as the actor (None: the command line).
    """
    ts = to_ts(now)
    async with db.transaction() as tx:
        if await tx.fetch_one("SELECT 1 FROM users WHERE id = ?", (user_id,)) is None:
            return None
        numbers = [
            int(r["number"])
            for r in await tx.fetch_all(
                "SELECT number FROM tickets WHERE customer_id = ? ORDER BY number", (user_id,)
            )
        ]
        scrubber = _Scrubber(await _texts(tx, user_id, numbers), marker)
        messages = attachments = 0
        for number in numbers:
            messages += await tx.execute(
                "UPDATE ticket_messages SET body = ? WHERE ticket_number = ?", (marker, number)
            )
            attachments += await tx.execute(
                "UPDATE attachments SET file_id = '', file_unique_id = '', file_name = NULL"
                " WHERE ticket_number = ?",
                (number,),
            )
            await tx.execute(
                "UPDATE tickets SET subject = ?, updated_at = ? WHERE number = ?",
                (marker, ts, number),
            )
            await tx.execute("UPDATE ratings SET comment = NULL WHERE ticket_number = ?", (number,))
            await insert_event(
                tx, number, FORGOTTEN_EVENT, Author.AGENT, operator_id, None, None, ts
            )
        await tx.execute("DELETE FROM drafts WHERE user_id = ?", (user_id,))
        await tx.execute("DELETE FROM held_messages WHERE customer_id = ?", (user_id,))
        scrubbed = 0
        scrubbed += await _scrub_json_rows(tx, scrubber, "inbox", "update_id", "payload")
        scrubbed += await _scrub_json_rows(
            tx, scrubber, "quarantined_updates", "update_id", "payload"
        )
        scrubbed += await _scrub_json_rows(tx, scrubber, "outbox", "id", "payload")
        # A WhatsApp customer's messages as their webhooks brought them: the wamids stay
        # (a redelivery must still change nothing), the words and the name go.
        wa_id = whatsapp_number(user_id)
        if wa_id is not None:
            await tx.execute(
                "UPDATE wa_inbox SET payload = '{}' WHERE wa_id = ? AND handled_at IS NOT NULL",
                (wa_id,),
            )
        # What was still owed to them would now say nothing (or quote the marker).
        await tx.execute(
            "UPDATE outbox SET state = 'failed', last_error = ?, done_at = ?"
            " WHERE state = 'pending' AND audience IN ('customer', 'whatsapp') AND chat_id = ?",
            ("forgotten at the customer's request", ts, user_id),
        )
        await tx.execute(
            "UPDATE users SET first_name = ?, last_name = NULL, username = NULL,"
            " reply_ticket = NULL, reply_since = NULL, updated_at = ? WHERE id = ?",
            (name, ts, user_id),
        )
        # They are told, in the same transaction: if they blocked the bot, the outbox
        # records it as undeliverable and stops.
        await enqueue(tx, OutboxKind.FORGOTTEN, Audience.CUSTOMER, now, chat_id=user_id)
        # The desk's trail has it too (a customer without tickets leaves no ticket event).
        change = DeskChange(
            DeskAction.FORGET, operator_id, after=str(user_id), command_line=operator_id is None
        )
        await audit.record(tx, change, now)
    # The connection overwrites what it deletes (`secure_delete`), but the WAL's older
    # frames still hold the pages as they were: fold them in and truncate the log.
    await db.checkpoint()
    return Forgotten(user_id, numbers, messages, attachments, scrubbed)

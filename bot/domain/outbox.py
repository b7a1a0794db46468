"""The outbox's vocabulary: what the desk can owe someone, and in which order the agents'
chat is served.

Customers' lines are served oldest first. The agents' chat has one budget for everything
(Telegram allows a bot 20 messages a minute in a group), so its line is served by lane:
what an agent just asked for first, then what customers said and new tickets, then
refreshes and notices. A card refreshed several times while it waits is sent once, in its
latest state (its dedupe key), and a burst of notices is folded into one message.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class OutboxKind(StrEnum):
    """What an outbox item is (delivered by bot/channels/telegram/notify.py); the value is
    what the database keeps in `outbox.kind`."""

    NEW_TICKET = "new_ticket"
    RECEIPT = "receipt"  # a new ticket's receipt, to its customer
    CARD = "card"
    TICKET_FILES = "ticket_files"  # the first message's files, under the card
    STATUS = "status"
    AGENT_REPLY = "agent_reply"
    AGENT_EDIT = "agent_edit"
    AGENT_ANSWER = "agent_answer"  # the answer to an agent's command (/queue, /ticket, an error)
    CUSTOMER_MESSAGE = "customer_message"
    CUSTOMER_EDIT = "customer_edit"
    BREACH = "breach"
    SOLVE_REMINDER = "solve_reminder"
    UNDELIVERABLE = "undeliverable"
    CUSTOMER_STATUS = "customer_status"
    TEXT_PART = "text_part"  # a further part of a text too long for one message
    DRAFT_EXPIRED = "draft_expired"  # a form left idle past its timeout
    FORGOTTEN = "forgotten"  # the customer's data was anonymized at their request


class AdminLane(IntEnum):
    """Which of the agents' chat's waiting items goes first: the lowest lane, then the oldest."""

    ANSWER = 0  # what an agent just asked for
    WORDS = 1  # the customers' own words and new tickets' cards
    REFRESH = 2  # card refreshes and notices


_LANES: dict[str, AdminLane] = {
    OutboxKind.AGENT_ANSWER: AdminLane.ANSWER,
    OutboxKind.NEW_TICKET: AdminLane.WORDS,
    OutboxKind.TICKET_FILES: AdminLane.WORDS,
    OutboxKind.CUSTOMER_MESSAGE: AdminLane.WORDS,
    OutboxKind.CUSTOMER_EDIT: AdminLane.WORDS,
    OutboxKind.TEXT_PART: AdminLane.WORDS,
    OutboxKind.CARD: AdminLane.REFRESH,
    OutboxKind.BREACH: AdminLane.REFRESH,
    OutboxKind.UNDELIVERABLE: AdminLane.REFRESH,
    OutboxKind.CUSTOMER_STATUS: AdminLane.REFRESH,
}

# Notices that a burst of is folded into one message ("Missed: #1001, #1002, …").
FOLDABLE = frozenset({OutboxKind.BREACH, OutboxKind.CUSTOMER_STATUS, OutboxKind.UNDELIVERABLE})
FOLD_AT_MOST = 40  # tickets named in one folded message

# A customer's messages to one ticket that wait together in the agents' lane (a flood, or
# just a busy minute) are delivered as one message: at most this many, this many files
# (one album) and about this much text (UTF-16 units; a longer batch follows in parts).
BATCH_AT_MOST = 50
BATCH_FILES = 10
BATCH_TEXT = 3500


def admin_lane(kind: str) -> AdminLane:
    return _LANES.get(kind, AdminLane.WORDS)

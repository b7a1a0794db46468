"""The ticket lifecycle (SPEC section 5) as one state machine.

open → (agent reply) pending → (customer reply) open … → solved (agent, customer, or
AUTO_SOLVE_AFTER) → closed (AUTO_CLOSE_AFTER, or agent). A customer reply to a solved
ticket reopens it; a closed ticket stays closed and is continued by a follow-up ticket.
"""

from __future__ import annotations

from enum import StrEnum

from bot.domain.models import Status

OPEN, PENDING, SOLVED, CLOSED = Status.OPEN, Status.PENDING, Status.SOLVED, Status.CLOSED


class Action(StrEnum):
    AGENT_REPLY = "agent_reply"
    CUSTOMER_REPLY = "customer_reply"
    SOLVE = "solve"
    CLOSE = "close"
    REOPEN = "reopen"
    AUTO_SOLVE = "auto_solve"
    AUTO_CLOSE = "auto_close"


# (from, action) → to. Anything missing is an illegal transition.
TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (OPEN, Action.AGENT_REPLY): PENDING,
    (PENDING, Action.AGENT_REPLY): PENDING,
    (SOLVED, Action.AGENT_REPLY): PENDING,
    (OPEN, Action.CUSTOMER_REPLY): OPEN,
    (PENDING, Action.CUSTOMER_REPLY): OPEN,
    (SOLVED, Action.CUSTOMER_REPLY): OPEN,
    (OPEN, Action.SOLVE): SOLVED,
    (PENDING, Action.SOLVE): SOLVED,
    (OPEN, Action.CLOSE): CLOSED,
    (PENDING, Action.CLOSE): CLOSED,
    (SOLVED, Action.CLOSE): CLOSED,
    (SOLVED, Action.REOPEN): OPEN,
    (PENDING, Action.AUTO_SOLVE): SOLVED,
    (SOLVED, Action.AUTO_CLOSE): CLOSED,
}


class IllegalTransitionError(Exception):
    """The action is not allowed in the ticket's current status."""

    def __init__(self, status: Status, action: Action) -> None:
        super().__init__(f"{action.value} is not allowed on a {status.value} ticket")
        self.status = status
        self.action = action


def next_status(status: Status, action: Action) -> Status:
    """The status after `action`, or IllegalTransitionError."""
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise IllegalTransitionError(status, action) from None


def allowed_actions(status: Status) -> set[Action]:
    return {action for (source, action) in TRANSITIONS if source is status}

"""The ticket state machine: every legal and every illegal transition."""

from __future__ import annotations

import itertools

import pytest

from bot.compose import StoredDesk
from bot.domain.lifecycle import Action, IllegalTransitionError, allowed_actions, next_status
from bot.domain.models import Author, Draft, Priority, Status
from bot.domain.ticket_core import NothingToChangeError, TicketNotFoundError
from tests.conftest import FakeClock

O, P, S, C = Status.OPEN, Status.PENDING, Status.SOLVED, Status.CLOSED  # noqa: E741
A = Action

# Written out by hand from SPEC section 5, independently of the code's table.
EXPECTED = {
    (O, A.AGENT_REPLY): P,
    (P, A.AGENT_REPLY): P,
    (S, A.AGENT_REPLY): P,
    (O, A.CUSTOMER_REPLY): O,
    (P, A.CUSTOMER_REPLY): O,
    (S, A.CUSTOMER_REPLY): O,
    (O, A.SOLVE): S,
    (P, A.SOLVE): S,
    (O, A.CLOSE): C,
    (P, A.CLOSE): C,
    (S, A.CLOSE): C,
    (S, A.REOPEN): O,
    (P, A.AUTO_SOLVE): S,
    (S, A.AUTO_CLOSE): C,
}
ALL = list(itertools.product(Status, Action))


@pytest.mark.parametrize(("status", "action"), [k for k in ALL if k in EXPECTED])
def test_legal_transitions(status: Status, action: Action) -> None:
    assert next_status(status, action) is EXPECTED[(status, action)]


@pytest.mark.parametrize(("status", "action"), [k for k in ALL if k not in EXPECTED])
def test_illegal_transitions_are_refused(status: Status, action: Action) -> None:
    with pytest.raises(IllegalTransitionError) as caught:
        next_status(status, action)
    assert (caught.value.status, caught.value.action) == (status, action)


def test_a_closed_ticket_is_final() -> None:
    assert allowed_actions(C) == set()


async def _ticket(desk: StoredDesk) -> int:
    await desk.register_user(42, "Budi", None, None, "id")
    await desk.register_user(7, "Agnes", None, None, "en")
    ticket = await desk.submit(
        Draft(42, "billing", "Saldo belum masuk", Priority.HIGH, "x" * 20), "id"
    )
    return ticket.number


async def test_an_agent_reply_waits_for_the_customer_and_counts_as_first_response(
    desk: StoredDesk, clock: FakeClock
) -> None:
    number = await _ticket(desk)
    change = await desk.service.agent_reply(number, 7, "We are on it")
    assert (change.before.status, change.after.status) == (O, P)
    assert change.after.first_response_at == clock.now
    again = await desk.service.agent_reply(number, 7, "Still on it")
    assert not again.status_changed and again.after.first_response_at == clock.now
    events = [
        (e.kind, e.actor, e.actor_id, e.from_value, e.to_value)
        for e in await desk.tickets.events(number)
    ]
    assert events == [
        ("created", Author.CUSTOMER, 42, None, "open"),
        ("status", Author.AGENT, 7, "open", "pending"),
        ("first_response", Author.AGENT, 7, None, None),
    ]


async def test_customer_replies_reopen_but_not_after_close(desk: StoredDesk) -> None:
    number = await _ticket(desk)
    await desk.service.apply(number, A.SOLVE, Author.AGENT, 7)
    change = await desk.service.customer_reply(number, 42, "Still broken")
    assert (change.before.status, change.after.status) == (S, O)
    await desk.service.apply(number, A.CLOSE, Author.AGENT, 7)
    with pytest.raises(IllegalTransitionError):
        await desk.service.customer_reply(number, 42, "Hello?")
    with pytest.raises(TicketNotFoundError):
        await desk.service.customer_reply(number, 999, "Not my ticket")


async def test_priority_recomputes_the_due_time(desk: StoredDesk) -> None:
    number = await _ticket(desk)
    change = await desk.service.set_priority(number, Priority.CRITICAL, 7)
    assert change.after.first_response_due_at == desk.due_at(
        Priority.CRITICAL, change.after.created_at
    )
    with pytest.raises(NothingToChangeError):
        await desk.service.set_priority(number, Priority.CRITICAL, 7)


async def test_notes_are_internal(desk: StoredDesk) -> None:
    number = await _ticket(desk)
    await desk.service.note(number, 7, "VIP")
    assert [m.body for m in await desk.tickets.messages(number, include_internal=False)] == [
        "x" * 20
    ]
    assert [m.body for m in await desk.tickets.messages(number, include_internal=True)] == [
        "x" * 20,
        "VIP",
    ]

"""The desk's own trail in storage: each desk-wide change and its event commit together or
not at all; the bot's own changes and the command line's are told apart from a person's."""

from __future__ import annotations

import pytest

from bot.compose import StoredDesk
from bot.domain.audit import DeskAction, DeskActor, page_of
from storage import Database
from storage.faults import INTEGRITY_ERRORS

CUSTOMER, AGENT, OPERATOR = 4242, 7, 9
OLD_CHAT, NEW_CHAT = -1001, -1002


async def _trail(
    desk: StoredDesk,
) -> list[tuple[str, DeskActor, int | None, str | None, str | None]]:
    events, _page, _pages = await desk.audit.page(0, 100)
    return [(e.kind, e.actor, e.actor_id, e.from_value, e.to_value) for e in events]


async def test_each_change_is_recorded_with_what_it_was_before(desk: StoredDesk) -> None:
    await desk.register_user(CUSTOMER, "Rina", None, None, "id")
    assert await desk.ban(CUSTOMER, True, by=AGENT)
    assert await desk.ban(CUSTOMER, False, by=AGENT)
    assert not await desk.ban(31337, True, by=AGENT)  # nobody: nothing changed, nothing noted
    await desk.set_default_locale("id", by=OPERATOR)
    await desk.set_admin_locale("sv", by=OPERATOR)
    await desk.bind(OLD_CHAT, by=OPERATOR)
    await desk.move_admin_chat(OLD_CHAT, NEW_CHAT)  # Telegram made it a supergroup
    await desk.exported(OPERATOR, "all", full=False)
    await desk.forget(CUSTOMER, None, marker="-", name="-")  # python -m bot forget
    assert await _trail(desk) == [
        ("ban", DeskActor.AGENT, AGENT, None, str(CUSTOMER)),
        ("unban", DeskActor.AGENT, AGENT, None, str(CUSTOMER)),
        ("default_locale", DeskActor.AGENT, OPERATOR, "en", "id"),
        ("admin_locale", DeskActor.AGENT, OPERATOR, "en", "sv"),
        ("bind", DeskActor.AGENT, OPERATOR, None, str(OLD_CHAT)),
        ("bind", DeskActor.SYSTEM, None, str(OLD_CHAT), str(NEW_CHAT)),
        ("export", DeskActor.AGENT, OPERATOR, None, "all"),
        ("forget", DeskActor.COMMAND_LINE, None, None, str(CUSTOMER)),
    ]


async def test_a_change_whose_event_fails_is_not_made(desk: StoredDesk, db: Database) -> None:
    await desk.register_user(CUSTOMER, "Rina", None, None, "id")
    if db.dialect == "sqlite":
        await db.execute(
            "CREATE TRIGGER no_trail BEFORE INSERT ON desk_events"
            " BEGIN SELECT RAISE(ABORT, 'the trail is full'); END"
        )
    else:
        await db.execute(
            "CREATE FUNCTION no_trail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " RAISE EXCEPTION 'the trail is full' USING ERRCODE = 'check_violation'; END $$"
        )
        await db.execute(
            "CREATE TRIGGER no_trail BEFORE INSERT ON desk_events"
            " FOR EACH ROW EXECUTE FUNCTION no_trail()"
        )
    with pytest.raises(INTEGRITY_ERRORS):
        await desk.ban(CUSTOMER, True, by=AGENT)
    user = await desk.users.get(CUSTOMER)
    assert user is not None and not user.is_banned
    with pytest.raises(INTEGRITY_ERRORS):
        await desk.set_default_locale("sv", by=OPERATOR)
    with pytest.raises(INTEGRITY_ERRORS):
        await desk.bind(NEW_CHAT, by=OPERATOR)
    with pytest.raises(INTEGRITY_ERRORS):
        await desk.forget(CUSTOMER, OPERATOR, marker="-", name="-")
    # Nothing was stored, and a fresh desk (a restart) reads it so.
    fresh = StoredDesk(desk.settings, db, desk.clock)
    assert await fresh.default_locale() == "en"
    assert await fresh.admin_chat_id() is None
    user = await desk.users.get(CUSTOMER)
    assert user is not None and user.first_name == "Rina"


def test_pages_are_kept_within_the_trail() -> None:
    assert page_of(0, None, 10) == (0, 1)
    assert page_of(10, None, 10) == (0, 1)
    assert page_of(11, None, 10) == (1, 2)
    assert page_of(25, 0, 10) == (0, 3)
    assert page_of(25, 7, 10) == (2, 3)  # an old button for a page gone: the last one
    assert page_of(25, -1, 10) == (0, 3)


async def test_a_page_reads_its_slice_oldest_first(desk: StoredDesk) -> None:
    await desk.register_user(CUSTOMER, "Rina", None, None, "id")
    for _ in range(6):
        await desk.ban(CUSTOMER, True, by=AGENT)
        await desk.ban(CUSTOMER, False, by=AGENT)
    newest, page, pages = await desk.audit.page(None, 10)
    assert (page, pages) == (1, 2)
    assert [e.kind for e in newest] == [DeskAction.BAN, DeskAction.UNBAN]
    oldest, page, _pages = await desk.audit.page(0, 10)
    assert page == 0 and len(oldest) == 10
    assert [e.id for e in oldest + newest] == sorted(e.id for e in oldest + newest)


def test_a_tickets_trail_holds_every_answer_in_time_order() -> None:
    from datetime import UTC, datetime, timedelta

    from bot.domain.audit import REPLY, ticket_trail
    from bot.domain.models import Author, TicketEvent, TicketMessage

    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def event(n: int, kind: str, when: datetime) -> TicketEvent:
        return TicketEvent(n, 1001, kind, Author.AGENT, 7, None, None, when)

    def message(
        n: int, author: Author, when: datetime, internal: bool = False, edit_of: int | None = None
    ) -> TicketMessage:
        return TicketMessage(n, 1001, author, 7, "text", when, internal=internal, edit_of=edit_of)

    trail = ticket_trail(
        [event(1, "created", at), event(2, "first_response", at + timedelta(minutes=5))],
        [
            message(10, Author.CUSTOMER, at),
            message(11, Author.AGENT, at + timedelta(minutes=5)),
            message(12, Author.AGENT, at + timedelta(minutes=6), internal=True),
            message(13, Author.AGENT, at + timedelta(minutes=7), edit_of=11),
            message(14, Author.AGENT, at + timedelta(minutes=9)),
        ],
    )
    assert [(e.kind, e.id) for e in trail] == [
        ("created", 1),
        (REPLY, 11),
        ("first_response", 2),
        (REPLY, 14),
    ]

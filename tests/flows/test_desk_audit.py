"""The desk's own trail through the real bot: what agents and operators do outside any one
ticket (bans, the languages, binding the agents' chat, exports, forgetting a customer) is
recorded with who and when, and `/audit` without a number shows it to operators only,
paged, in their language."""

from __future__ import annotations

from collections.abc import Callable

from bot.compose import StoredDesk
from bot.config import Settings
from bot.i18n import format_time, use_locale
from bot.texts import forgotten_texts
from tests.fake_api import FakeChat, FakeTelegram, FakeUser
from tests.flows.conftest import Person, running
from tests.flows.forms import tr, walk_to


async def _trail_times(desk: StoredDesk, locale: str) -> list[str]:
    """The times of the desk's trail, as the operator reads them (oldest first)."""
    events, _page, _pages = await desk.audit.page(0, 100)
    return [format_time(e.created_at, desk.timezone, locale) for e in events]


async def _invite_and_bind(fake: FakeTelegram, group: FakeChat, operator: FakeUser) -> None:
    """The operator adds the bot to the group (Telegram says so) and sends /bind there."""
    mark = len(fake.sent(group.id))
    fake.enqueue(
        "my_chat_member",
        {
            "chat": group.to_dict(),
            "from": operator.to_dict(),
            "date": 1_700_000_000,
            "old_chat_member": {"status": "left", "user": fake.bot_user},
            "new_chat_member": {"status": "member", "user": fake.bot_user},
        },
    )
    await fake.wait_for(group.id, since=mark)
    group.send(operator, "/bind")
    await fake.wait_for(group.id, lambda m: m.text.startswith("Done: this group"), since=mark)


async def test_every_desk_wide_action_is_on_the_trail_with_who_and_when(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    olle = fake.user("Olle", language_code="en")
    agent = fake.user("Agnes")
    group = fake.group("Agents", members=[agent], admins=[olle])
    settings = make_settings(telegram_api_url=fake.url, operator_ids=[olle.id])
    async with running(settings) as app:
        desk = app.bot_data.desk
        operator = Person(fake, olle)
        customer = Person(fake, fake.user("Rina"))
        review = await walk_to(customer, "review")
        await customer.presses(review, tr("📨 Submit"), expect="#1001")
        await _invite_and_bind(fake, group, olle)
        # Agents' commands are acknowledged with a reaction: wait until they are handled.
        group.send(agent, f"/ban {customer.id}")
        await fake.idle()
        group.send(agent, f"/unban {customer.id}")
        await fake.idle()
        await operator.says("/locale sv")
        await operator.says("/locale admin id")
        await operator.says("/export 7d full")
        asked = await operator.says(f"/forget {customer.id}")
        mark = len(fake.sent(customer.id))
        fake.press(olle, asked, button=tr("Forget them"))
        await fake.wait_for(customer.id, since=mark)
        # The same from the server's command line (in-process here, as `python -m bot forget`).
        await desk.register_user(5151, "Budi", None, None, "id")
        with use_locale("id"):
            marker, name = forgotten_texts()
        await desk.forget(5151, None, marker=marker, name=name)
        await desk.exported(None, "since 2026-01-10", full=False)  # `python -m bot export`
        # Telegram turns the agents' group into a supergroup: the bot follows it on its own.
        await desk.move_admin_chat(group.id, -1009999)
        trail = await operator.says("/audit")
        times = await _trail_times(desk, "en")
    gone = f"{tr('Forgotten customer')} ({customer.id})"
    assert trail.text.splitlines() == [
        "The desk's trail, page 1 of 1",
        *(
            f"{when} · {what}"
            for when, what in zip(
                times,
                [
                    f"Olle ({olle.id}): made the chat {group.id} the agents' chat",
                    f"Agnes ({agent.id}): banned the customer {gone}",
                    f"Agnes ({agent.id}): lifted the ban on the customer {gone}",
                    f"Olle ({olle.id}): set the language for customers whose own we don't "
                    "speak to Swedish (it was English)",
                    f"Olle ({olle.id}): set the agents' chat's language to Indonesian "
                    "(it was English)",
                    f"Olle ({olle.id}): exported the tickets of the last 7 days, with their "
                    "messages",
                    f"Olle ({olle.id}): forgot the customer {gone} at their request",
                    "the command line on the server: forgot the customer "
                    f"{tr('Forgotten customer', 'id')} (5151) at their request",
                    "the command line on the server: exported the tickets opened since "
                    "Jan 10, 2026",
                    f"the desk: made the chat -1009999 the agents' chat in place of {group.id}",
                ],
                strict=True,
            )
        ),
    ]
    # The trail keeps ids, not names: a forgotten customer is not named in it any more.
    assert "Rina" not in trail.text and "Budi" not in trail.text
    assert trail.button_texts() == []


async def test_the_trail_is_paged_from_its_newest_page_in_the_agents_chat_language(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    olle = fake.user("Olle", language_code="id")
    agent = fake.user("Agnes")
    group = fake.group("Agents", members=[agent, olle])
    settings = make_settings(
        telegram_api_url=fake.url, admin_chat_id=group.id, operator_ids=[olle.id], admin_locale="sv"
    )
    async with running(settings) as app:
        desk = app.bot_data.desk
        customer = Person(fake, fake.user("Rina"))
        await customer.says("/start")
        await desk.register_user(agent.id, "Agnes", None, None, "en")
        for _ in range(6):  # 12 events: two pages of ten
            await desk.ban(customer.id, True, by=agent.id)
            await desk.ban(customer.id, False, by=agent.id)
        mark = len(fake.sent(group.id))
        group.send(olle, "/audit")
        page = await fake.wait_for(group.id, since=mark)
        newest, newest_buttons = page.text, page.button_texts()
        fake.press(olle, page, button=tr("‹ Earlier", "sv"))
        await fake.idle()
        turned = fake.sent_message(group.id, page.message_id)
        # In the operator's private chat: their own language, Indonesian.
        private = await Person(fake, olle).says("/audit")
        times = await _trail_times(desk, "sv")
        id_times = await _trail_times(desk, "id")
    lines = newest.splitlines()
    assert lines[0] == tr("The desk's trail, page {page} of {pages}", "sv").format(page=2, pages=2)
    banned = tr("banned the customer {customer}", "sv").format(customer=f"Rina ({customer.id})")
    lifted = tr("lifted the ban on the customer {customer}", "sv").format(
        customer=f"Rina ({customer.id})"
    )
    assert lines[1:] == [
        f"{times[10]} · Agnes ({agent.id}): {banned}",
        f"{times[11]} · Agnes ({agent.id}): {lifted}",
    ]
    assert newest_buttons == [tr("‹ Earlier", "sv")]
    assert turned is not None
    turned_lines = turned.text.splitlines()
    assert turned_lines[0] == tr("The desk's trail, page {page} of {pages}", "sv").format(
        page=1, pages=2
    )
    assert turned_lines[1] == f"{times[0]} · Agnes ({agent.id}): {banned}"
    assert len(turned_lines) == 11
    assert turned.button_texts() == [tr("Later ›", "sv")]
    header = tr("The desk's trail, page {page} of {pages}", "id").format(page=2, pages=2)
    assert private.text.splitlines()[0] == header
    banned_id = tr("banned the customer {customer}", "id").format(customer=f"Rina ({customer.id})")
    assert private.text.splitlines()[1] == f"{id_times[10]} · Agnes ({agent.id}): {banned_id}"
    assert id_times[10] != times[10]  # Babel writes the date in each language


async def test_only_operators_get_the_desk_trail(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    olle = fake.user("Olle")
    agent = fake.user("Agnes")
    group = fake.group("Agents", members=[agent, olle])
    elsewhere = fake.group("Friends", members=[agent, olle])
    settings = make_settings(
        telegram_api_url=fake.url, admin_chat_id=group.id, operator_ids=[olle.id]
    )
    refusal = tr("Only operators can do that.")
    async with running(settings) as app:
        customer = Person(fake, fake.user("Rina"))
        assert (await customer.says("/audit")).text == refusal
        await app.bot_data.desk.ban(customer.id, False, by=agent.id)  # a trail to show
        mark = len(fake.sent(group.id))
        group.send(agent, "/audit")
        assert (await fake.wait_for(group.id, since=mark)).text == refusal
        elsewhere.send(agent, "/audit")
        elsewhere.send(olle, "/audit")
        await fake.idle()
        mark = len(fake.sent(group.id))
        group.send(olle, "/audit")
        shown = await fake.wait_for(group.id, since=mark)
    assert fake.sent(elsewhere.id) == []
    assert shown.text.startswith("The desk's trail, page 1 of 1")
    said = [m.text for chat in (customer.id, group.id) for m in fake.sent(chat)]
    assert sum("The desk's trail" in text for text in said) == 1  # the operator's only


async def test_a_bad_argument_is_explained_and_an_empty_trail_said_so(
    fake: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    operator = Person(fake, fake.user("Olle", language_code="sv"))
    settings = make_settings(telegram_api_url=fake.url, operator_ids=[operator.id])
    async with running(settings):
        empty = await operator.says("/audit")
        usage = await operator.says("/audit last week")
    assert empty.text == tr("Nothing has been recorded for the desk yet.", "sv")
    assert usage.text == tr(
        "Give a ticket's number for its trail (/audit 1001), or nothing for the desk's own "
        "trail: bans, languages, the agents' chat, forgotten customers, exports.",
        "sv",
    )

"""The command menus and the bot's descriptions, published per language at start-up.

Customers see their commands in their own language (`setMyCommands` with
`language_code`); the agents' chat and each operator get their own scope.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from telegram import (
    Bot,
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
)
from telegram.error import TelegramError

from bot.config import SUPPORTED_LOCALES
from bot.domain.desk import Desk
from bot.i18n import N_, gettext, use_locale

log = logging.getLogger(__name__)

CUSTOMER_COMMANDS = (
    ("new", N_("Open a new ticket")),
    ("tickets", N_("Your tickets and their status")),
    ("faq", N_("Answers to common questions")),
    ("language", N_("Change the language")),
    ("help", N_("How this desk works")),
    ("cancel", N_("Stop what you are doing")),
)
AGENT_COMMANDS = (
    ("queue", N_("Open tickets, most urgent first")),
    ("ticket", N_("Show a ticket by number")),
    ("note", N_("Internal note on the ticket")),
    ("assign", N_("Take the ticket")),
    ("priority", N_("Change the priority")),
    ("solve", N_("Mark the ticket solved")),
    ("close", N_("Close the ticket")),
    ("reopen", N_("Reopen a solved ticket")),
    ("faq", N_("Send an FAQ answer to the customer")),
    ("ban", N_("Stop a customer from opening tickets")),
    ("unban", N_("Allow a customer again")),
    ("help", N_("The agents' commands")),
)
# The operators' private menu: /bind only means something in a group, so it is left out.
OPERATOR_COMMANDS = (
    ("locale", N_("Default language for new users")),
    ("stats", N_("Desk figures")),
    ("export", N_("All tickets as CSV")),
    ("audit", N_("The desk's trail, or a ticket's")),
    ("forget", N_("Forget a customer on request")),
)
DESCRIPTION = N_(
    "Our support desk. Open a ticket, follow it and talk to our team right here. We never "
    "ask for your password or a one-time code (OTP)."
)
SHORT_DESCRIPTION = N_("Support desk: open and follow your tickets here.")


def _commands(pairs: tuple[tuple[str, str], ...]) -> list[BotCommand]:
    return [BotCommand(name, gettext(text)) for name, text in pairs]


async def _try(call: Awaitable[object], what: str) -> None:
    """Run one publishing call; a menu is a convenience, so a failure only warns."""
    try:
        await call
    except TelegramError as exc:
        log.warning("Could not publish %s: %s", what, exc)


async def publish_commands(bot: Bot, desk: Desk) -> None:
    """Set menus and descriptions in every language; the default one for everyone else."""
    default = await desk.default_locale()
    private = BotCommandScopeAllPrivateChats()
    for code in (*SUPPORTED_LOCALES, None):
        with use_locale(code or default):
            commands = _commands(CUSTOMER_COMMANDS)
            description, short = gettext(DESCRIPTION), gettext(SHORT_DESCRIPTION)
        where = code or "default"
        await _try(
            bot.set_my_commands(commands, scope=private, language_code=code), f"menu {where}"
        )
        await _try(bot.set_my_description(description, language_code=code), f"text {where}")
        await _try(bot.set_my_short_description(short, language_code=code), f"short text {where}")
    # Staff menus are in the agents' chat's language, which the customers' default does
    # not change.
    with use_locale(await desk.admin_locale()):
        agents = _commands(AGENT_COMMANDS)
        operators = _commands(CUSTOMER_COMMANDS + OPERATOR_COMMANDS)
    admin_chat = await desk.admin_chat_id()
    if admin_chat is not None:
        await _try(
            bot.set_my_commands(agents, scope=BotCommandScopeChat(admin_chat)), "agents' menu"
        )
    for operator in desk.settings.operator_ids:
        scope: BotCommandScope = BotCommandScopeChat(operator)
        await _try(bot.set_my_commands(operators, scope=scope), "an operator's menu")

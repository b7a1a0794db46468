"""Walk a customer through `/new` up to any step (English unless told otherwise)."""

from __future__ import annotations

from bot.i18n import gettext, use_locale
from tests.fake_api import SentMessage
from tests.flows.conftest import Person

QUESTION = {
    "department": "Which team should handle it?",
    "subject": "Write a short, specific subject for your ticket.",
    "priority": "How urgent is it?",
    "message": "Now describe the problem in full. Please tell us:",
    "attachments": "Press Done when you have sent them all, or Skip if you have none.",
    "review": "Please check your ticket before you send it.",
}
STEPS = list(QUESTION)


def tr(message: str, locale: str = "en") -> str:
    with use_locale(locale):
        return gettext(message)


def question(step: str, locale: str = "en") -> str:
    return tr(QUESTION[step], locale)


async def walk_to(
    person: Person,
    step: str,
    *,
    locale: str = "en",
    subject: str = "Invoice 2026-118 charged twice",
    message: str = "I was charged twice for invoice 2026-118 on 20 November.",
    timeout: float = 5.0,
) -> SentMessage:
    """Answer every step before `step`; return the bot's question for `step`."""
    current = await person.says("/new", expect=question("department", locale), timeout=timeout)
    for done in STEPS[: STEPS.index(step)]:
        nxt = STEPS[STEPS.index(done) + 1]
        expect = question(nxt, locale)
        if done == "department":
            current = await person.presses(
                current, tr("Billing & Payments", locale), expect, timeout
            )
        elif done == "subject":
            current = await person.says(subject, expect, timeout)
        elif done == "priority":
            button = next(b for b in current.button_texts() if b.startswith(tr("Medium", locale)))
            current = await person.presses(current, button, expect, timeout)
        elif done == "message":
            current = await person.says(message, expect, timeout)
        elif done == "attachments":
            current = await person.presses(current, tr("Skip", locale), expect, timeout)
    return current

"""`/stats` in words: the period's figures, every number and duration as Babel writes them
in the current locale. The same text serves the chat (HTML) and the command line (plain)."""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import timedelta

from babel.dates import format_date

from bot.config import Settings
from bot.domain.models import Priority, Status
from bot.domain.stats import Compliance, DeskStats, Spread
from bot.i18n import current_locale, format_number, format_share, format_span, gettext, ngettext
from bot.texts import agent_status_label, department_label, priority_label

_ORDER = (Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW)
_NONE = "—"


def _duration(value: timedelta | None) -> str:
    return _NONE if value is None else format_span(value)


def department_name(settings: Settings, key: str) -> str:
    """The department's label, or its key when it is no longer configured."""
    dept = settings.department(key)
    return key if dept is None else department_label(dept)


def period_title(stats: DeskStats) -> str:
    locale = current_locale()
    first = format_date(stats.since.astimezone(stats.until.tzinfo), "medium", locale=locale)
    last = format_date(stats.until, "medium", locale=locale)
    return ngettext(
        "Desk figures, the last %(days)s day (%(first)s – %(last)s)",
        "Desk figures, the last %(days)s days (%(first)s – %(last)s)",
        stats.days,
    ) % {"days": format_number(stats.days), "first": first, "last": last}


def _spread(stats_spread: Spread) -> str:
    if not stats_spread.count:
        # The line says what it would measure, so the figures read the same when empty.
        return gettext("median —, none in this period")
    return gettext("median {median}, 90% within {p90} ({count})").format(
        median=_duration(stats_spread.median),
        p90=_duration(stats_spread.p90),
        count=ngettext("%(n)s ticket", "%(n)s tickets", stats_spread.count)
        % {"n": format_number(stats_spread.count)},
    )


def _three(values: Iterable[int]) -> str:
    """Opened / solved / closed, as one line's figures."""
    return " / ".join(format_number(v) for v in values)


def _share(compliance: Compliance) -> str:
    share = compliance.share
    if share is None:
        return _NONE
    return gettext("{met} of {due} ({share})").format(
        met=format_number(compliance.met),
        due=format_number(compliance.due),
        share=format_share(share),
    )


def render_stats(stats: DeskStats, settings: Settings, *, markup: bool = True) -> str:
    """The figures as lines; `markup`: HTML for Telegram, else plain text for a terminal."""

    def bold(text: str) -> str:
        return f"<b>{html.escape(text)}</b>" if markup else text

    def esc(text: str) -> str:
        return html.escape(text) if markup else text

    o, s, c = stats.opened, stats.solved, stats.closed
    lines = [bold(period_title(stats)), ""]
    lines.append(
        esc(
            gettext("Opened {opened} · solved {solved} · closed {closed}").format(
                opened=format_number(o.total),
                solved=format_number(s.total),
                closed=format_number(c.total),
            )
        )
    )
    departments = list(
        dict.fromkeys(
            [*settings.department_keys, *o.by_department, *s.by_department, *c.by_department]
        )
    )
    lines.append(bold(gettext("By department (opened / solved / closed)")))
    for key in departments:
        counts = _three(x.by_department.get(key, 0) for x in (o, s, c))
        lines.append(esc(f"• {department_name(settings, key)}: {counts}"))
    lines.append(bold(gettext("By priority (opened / solved / closed)")))
    for priority in _ORDER:
        counts = _three(x.by_priority.get(priority, 0) for x in (o, s, c))
        lines.append(esc(f"• {priority_label(priority)}: {counts}"))
    lines.append(bold(gettext("Backlog now")))
    for status in (Status.OPEN, Status.PENDING, Status.SOLVED):
        lines.append(
            esc(f"• {agent_status_label(status)}: {format_number(stats.backlog.get(status, 0))}")
        )
    lines.append(bold(gettext("First response")))
    lines.append(
        esc("• " + gettext("On the clock: {spread}").format(spread=_spread(stats.first_response)))
    )
    lines.append(
        esc(
            "• "
            + gettext("In business hours: {spread}").format(
                spread=_spread(stats.first_response_business)
            )
        )
    )
    lines.append(bold(gettext("Resolution")))
    lines.append(
        esc("• " + gettext("On the clock: {spread}").format(spread=_spread(stats.resolution)))
    )
    lines.append(
        esc(
            "• "
            + gettext("In business hours: {spread}").format(
                spread=_spread(stats.resolution_business)
            )
        )
    )
    lines.append(bold(gettext("Response targets met")))
    for priority in _ORDER:
        share = _share(stats.targets.get(priority, Compliance()))
        lines.append(esc(f"• {priority_label(priority)}: {share}"))
    lines.append(esc("• " + gettext("All: {share}").format(share=_share(stats.targets_overall))))
    average = stats.average_rating
    if average is None:
        lines.append(esc(gettext("Satisfaction: no ratings in this period")))
    else:
        lines.append(
            esc(
                ngettext(
                    "Satisfaction: %(average)s of 5 from %(count)s rating",
                    "Satisfaction: %(average)s of 5 from %(count)s ratings",
                    stats.ratings,
                )
                % {
                    "average": format_number(average, decimals=1),
                    "count": format_number(stats.ratings),
                }
            )
        )
    lines.append(
        esc(
            gettext("Customers who blocked the bot: {count}").format(
                count=format_number(stats.blocked_customers)
            )
        )
    )
    return "\n".join(lines)

"""The chart sent with `/stats`: opened against solved per day, and each priority's median
first response against its target. Drawn by matplotlib's Agg canvas (no display, no pyplot
state shared between threads), titled and labelled in the current locale.

matplotlib is an optional dependency (`pip install .[charts]`): without it there is no
chart, and `/stats` sends its figures alone.
"""

from __future__ import annotations

import io
import logging
from datetime import timedelta

from babel.dates import format_skeleton

from bot.config import Settings
from bot.domain.models import Priority
from bot.domain.sla import working_day_length
from bot.domain.stats import DeskStats
from bot.i18n import current_locale, format_number, gettext
from bot.texts import priority_label

log = logging.getLogger(__name__)

_ORDER = (Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW)
_SIZE = (8.0, 7.0)  # inches; at 100 dpi an 800×700 PNG, clear on a phone
_DPI = 100
_DATE_TICKS = 8  # at most this many dates under the first panel
HOUR = timedelta(hours=1)


def chart_title(stats: DeskStats) -> str:
    return gettext("The desk over the last {days} days").format(days=format_number(stats.days))


def target_hours(settings: Settings, priority: Priority) -> float:
    """The priority's target in hours of its own measure (working hours for business days)."""
    target = settings.response_targets[priority.value]
    if target.business_hours:
        return working_day_length(settings.business_hours) * (target.due / timedelta(days=1)) / HOUR
    return target.due / HOUR


def render_chart(stats: DeskStats, settings: Settings) -> bytes | None:
    """The chart as PNG bytes, or None without matplotlib. CPU-bound: run it in a thread."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        log.info("matplotlib is not installed: /stats is sent without its chart")
        return None
    locale = current_locale()
    title = chart_title(stats)
    figure = Figure(figsize=_SIZE, dpi=_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    figure.suptitle(title, fontsize=14)
    daily, response = figure.subplots(2, 1)

    days = stats.days_counted
    xs = list(range(len(days)))
    daily.plot(xs, [d.opened for d in days], marker="o", markersize=3, label=gettext("Opened"))
    daily.plot(xs, [d.solved for d in days], marker="o", markersize=3, label=gettext("Solved"))
    step = max(1, -(-len(days) // _DATE_TICKS))
    daily.set_xticks(xs[::step])
    daily.set_xticklabels(
        [str(format_skeleton("MMMd", d.day, locale=locale)) for d in days[::step]]
    )
    daily.set_title(gettext("Tickets opened and solved per day"))
    daily.set_ylabel(gettext("Tickets"))
    daily.set_ylim(bottom=0)
    daily.legend()
    daily.grid(alpha=0.3)

    names = [priority_label(p) for p in _ORDER]
    medians = []
    for priority in _ORDER:
        spread = stats.first_response_by_priority.get(priority)
        medians.append(spread.median / HOUR if spread and spread.median is not None else 0.0)
    positions = list(range(len(_ORDER)))
    response.bar(positions, medians, width=0.5, label=gettext("Median first response"))
    response.scatter(
        positions,
        [target_hours(settings, p) for p in _ORDER],
        marker="_",
        s=900,
        linewidths=3,
        color="tab:red",
        zorder=3,
        label=gettext("Target"),
    )
    response.set_xticks(positions)
    response.set_xticklabels(names)
    response.set_title(gettext("First response against the target, by priority"))
    response.set_ylabel(gettext("Hours (business hours for a business-day target)"))
    response.legend()
    response.grid(axis="y", alpha=0.3)

    buffer = io.BytesIO()
    # The title is kept in the PNG's text chunk too: whoever files the image can read it.
    figure.savefig(buffer, format="png", metadata={"Title": title})
    return buffer.getvalue()

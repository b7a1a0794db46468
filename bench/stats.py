"""Percentiles and the one results table the benchmark prints."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (``share`` in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def ms(seconds: float | None) -> str:
    """Seconds shown as milliseconds with sensible precision."""
    if seconds is None:
        return "–"
    value = seconds * 1000
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    return f"{value:.2f} ms"


def num(value: float | None, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "–"
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}".rstrip()


def ratio(desk: float | None, floor: float | None) -> float | None:
    if desk is None or floor is None or floor == 0:
        return None
    return desk / floor


@dataclass(frozen=True)
class Row:
    section: str
    metric: str
    desk: str
    floor: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None  # None: no target

    def cells(self) -> list[str]:
        shown = "" if self.ratio is None else f"{self.ratio:.2f}×"
        verdict = "" if self.met is None else ("yes" if self.met else "**no**")
        return [self.section, self.metric, self.desk, self.floor, shown, self.target, verdict]


HEADER = ["section", "metric", "desk", "floor", "ratio", "target", "met"]


def markdown(rows: Sequence[Row]) -> str:
    """The rows as one GitHub-flavoured markdown table."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in rows:
        cells = [c.replace("|", "\\|") for c in row.cells()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)

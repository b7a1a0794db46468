"""The hardening suites' figures, printed at the end of the run (see tests/conftest.py).

A suite records what it tried as it goes (`record("bad input", tried=1, answered=1)`); the
terminal summary prints one line per suite, so a run shows its figures, not only a dot.
"""

from __future__ import annotations

from collections import Counter

FIGURES: dict[str, Counter[str]] = {}


def record(suite: str, **counts: int) -> None:
    """Add `counts` to `suite`'s figures (zero counts are kept: "lost 0" is a figure)."""
    figures = FIGURES.setdefault(suite, Counter())
    for name, value in counts.items():
        figures[name] += value


def summary_lines() -> list[str]:
    return [
        f"{suite}: " + ", ".join(f"{name} {value}" for name, value in figures.items())
        for suite, figures in FIGURES.items()
    ]

"""Flood control without Telegram: the sliding minute, one notice a minute, albums once."""

from __future__ import annotations

import pytest

from bot.domain.flood import FloodGuard, Verdict
from handlers.callbacks import is_forged, parse_id


def test_past_the_limit_one_notice_then_quiet_until_the_minute_passes() -> None:
    guard = FloodGuard(3)
    verdicts = [guard.admit(1, 0.1 * n) for n in range(8)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.WARN] + [Verdict.QUIET] * 4
    assert guard.admit(1, 60.05) is Verdict.ALLOW  # the first message left the window
    assert guard.admit(2, 1.0) is Verdict.ALLOW  # others are not touched


def test_the_notice_comes_again_after_a_minute_of_flooding() -> None:
    guard = FloodGuard(2)
    seen = [guard.admit(1, float(second)) for second in range(0, 130)]
    # Each of the three minutes started: two answered, one notice, the rest quiet.
    assert [n for n, v in enumerate(seen) if v is not Verdict.QUIET] == [
        0,
        1,
        2,
        60,
        61,
        62,
        120,
        121,
        122,
    ]
    assert seen.count(Verdict.WARN) == 3


def test_an_album_counts_once_and_shares_its_first_files_fate() -> None:
    guard = FloodGuard(1)
    assert [guard.admit(1, 0.0, album="a") for _ in range(5)] == [Verdict.ALLOW] * 5
    assert guard.admit(1, 0.1, album="b") is Verdict.WARN
    assert [guard.admit(1, 0.2, album="b") for _ in range(3)] == [Verdict.QUIET] * 3


def test_memory_stays_bounded() -> None:
    guard = FloodGuard(5, max_customers=100)
    for customer in range(1000):
        guard.admit(customer, 0.0)
    assert len(guard) == 100


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1001", 1001),
        ("#1001", 1001),
        ("0", 0),
        ("²", None),
        ("١٢٣", None),
        ("99999999999999999999", None),
        (str(2**53), None),
        ("-5", None),
        ("+5", None),
        (" 5", None),
        ("", None),
        (None, None),
    ],
)
def test_numbers_are_read_strictly(text: str | None, expected: int | None) -> None:
    assert parse_id(text) == expected


@pytest.mark.parametrize(
    ("data", "forged"),
    [
        ("tk1:open:1001", False),
        ("rt1:rate:1001:5", False),
        ("nt1:dep:billing", False),
        ("tk1:open:²", True),
        ("tk1:open:" + "9" * 20, True),
        ("x" * 65, True),
        ("tk1:open:\x00", True),
    ],
)
def test_button_data_no_button_of_ours_carries_is_forged(data: str, forged: bool) -> None:
    assert is_forged(data) is forged

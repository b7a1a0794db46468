"""The fraud guard masks card numbers and one-time codes, and leaves other digits alone."""

from __future__ import annotations

import pytest

from bot.domain.fraud import guard, luhn_valid, mask_cards


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111111111111111", "411111******1111"),
        ("my card 4111 1111 1111 1111 was charged", "my card 4111 11** **** 1111 was charged"),
        ("4111-1111-1111-1111", "4111-11**-****-1111"),
        ("kartu 5555 5555 5555 4444.", "kartu 5555 55** **** 4444."),
        ("Amex 3782 822463 10005", "Amex 3782 82**** *0005"),
        ("19 digits 6011000990139424000", "19 digits 6011000990139424000"),  # not Luhn-valid
        ("Visa 4012888888881881, thanks", "Visa 401288******1881, thanks"),
        (
            "two: 4111111111111111 and 5500000000000004",
            "two: 411111******1111 and 550000******0004",
        ),
    ],
)
def test_card_numbers_keep_first_six_and_last_four(text: str, expected: str) -> None:
    masked, found = mask_cards(text)
    assert masked == expected
    assert found == (masked != text)


@pytest.mark.parametrize(
    "text",
    [
        "order id 4111111111111112",  # fails Luhn
        "call 081299900914",  # a phone number: 12 digits
        "invoice 2026-11-23 amount 150000",
        "IBAN SE3550000000054910000003",
        "transaction 1234567890123",  # 13 digits, not Luhn-valid
        "tracking AB41111111111111111",  # glued to letters
        "error 500 at 10:45",
    ],
)
def test_other_digit_runs_stay_untouched(text: str) -> None:
    assert guard(text).text == text
    assert not guard(text).flagged


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my OTP is 482913", "my OTP is ******"),
        ("kode OTP saya 123456 tolong cek", "kode OTP saya ****** tolong cek"),
        ("Kode verifikasi: 5521", "Kode verifikasi: ****"),
        ("min engångskod är 774411", "min engångskod är ******"),
        ("verifieringskod 90817263", "verifieringskod ********"),
        ("I got 123456 as OTP", "I got ****** as OTP"),
    ],
)
def test_one_time_codes_are_masked(text: str, expected: str) -> None:
    result = guard(text)
    assert result.text == expected
    assert result.otp_masked and not result.card_masked


def test_luhn() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1111 please",
        "nomor kartu 4111-1111-1111-1111",
        "kode OTP 123456",
        "min engångskod är 9921 tack",
        "4111111111111111 is the card. The bank app then showed: OTP 5566",
    ],
)
def test_a_masked_text_guarded_again_is_flagged_again(text: str) -> None:
    # An update replayed from the inbox (or handled by another worker) is the masked copy:
    # the customer must be warned all the same.
    first = guard(text)
    again = guard(first.text)
    assert first.flagged
    assert (again.text, again.card_masked, again.otp_masked) == (
        first.text,
        first.card_masked,
        first.otp_masked,
    )


def test_asterisks_alone_are_not_taken_for_a_masked_card() -> None:
    assert not guard("rating ***** and 12 ** 34").flagged
    assert not guard("order 1234 5678 9").flagged


def test_a_card_next_to_a_one_time_code_leaves_neither_in_the_clear() -> None:
    guarded = guard("4111111111111111 and OTP 5566")
    assert guarded.card_masked and guarded.otp_masked
    assert "5566" not in guarded.text
    assert guarded.text.startswith("411111******1111 ")

"""Amounts as people write them: what is accepted, what is refused, and round trips."""

from __future__ import annotations

import math
import unicodedata
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spendwise.money import MAX_AMOUNT, AmountError, parse_amount

#: Text and the amount it means.
ACCEPTED = [
    ("1200000", 1_200_000.0), ("1,200,000", 1_200_000.0), ("1.2M", 1_200_000.0),
    ("1.2m", 1_200_000.0), ("300k", 300_000.0), ("300K", 300_000.0),
    ("1.5bn", 1_500_000_000.0), ("1.5B", 1_500_000_000.0), ("120万", 1_200_000.0),
    ("1.2亿", 120_000_000.0), ("3千", 3_000.0), ("0.1亿", 10_000_000.0),
    ("3千万", 30_000_000.0), ("2百万", 2_000_000.0), ("$1.2M", 1_200_000.0),
    ("¥120万", 1_200_000.0), ("￥１２０万", 1_200_000.0), ("１，２００，０００", 1_200_000.0),
    ("€5k", 5_000.0), ("£250", 250.0), ("USD 1.2M", 1_200_000.0), ("1.2M USD", 1_200_000.0),
    ("CNY 120万", 1_200_000.0), ("120万元", 1_200_000.0), ("RMB 3千", 3_000.0),
    ("US$3k", 3_000.0), ("  1,200,000.50\t", 1_200_000.5), ("\u3000120 万\u3000", 1_200_000.0),
    ("1.2 million", 1_200_000.0), ("300 thousand", 300_000.0), ("$1.2MM", 1_200_000.0),
    (".5M", 500_000.0), ("0", 0.0), ("1,000,000,000,000", 1e12), ("1万", 10_000.0),
]
#: Text, and the reason it is refused.
REFUSED = [
    ("", "empty"), ("   ", "empty"), ("1,20,000", "grouping"), ("12,00", "grouping"),
    ("1,2345", "grouping"), ("1.2MK", "two_units"), ("1.2M万", "two_units"),
    ("3kk", "two_units"), ("1.2 M K", "two_units"), ("-5", "negative"), ("−5", "negative"),
    ("$-5", "negative"), ("(500)", "negative"), ("nan", "not_finite"), ("inf", "not_finite"),
    ("-inf", "not_finite"), ("∞", "not_finite"), ("1e6", "not_an_amount"),
    ("1.2.3", "not_an_amount"), ("1,200,000.", "not_an_amount"), ("abc", "not_an_amount"),
    ("1 200 000", "not_an_amount"), ("5 apples", "currency"), ("1.2 XYZ", "currency"),
    ("$5 €", "currency"), ("¥5 USD", "currency"), ("1.1e12", "not_an_amount"),
    ("1,000,000,000,001", "too_large"),
    ("1.5万亿", "two_units"), ("2000bn", "too_large"),
]


@pytest.mark.parametrize(("text", "amount"), ACCEPTED, ids=[t for t, _ in ACCEPTED])
def test_amounts_people_write_are_read(text: str, amount: float) -> None:
    """Each accepted way of writing an amount gives exactly its value."""
    assert parse_amount(text) == amount


@pytest.mark.parametrize(("text", "reason"), REFUSED, ids=[t or "empty" for t, _ in REFUSED])
def test_other_text_is_refused_with_a_sentence(text: str, reason: str) -> None:
    """Anything else is a ValueError whose reason is named and whose message is one line."""
    with pytest.raises(ValueError) as caught:
        parse_amount(text)
    assert isinstance(caught.value, AmountError) and caught.value.reason == reason
    message = str(caught.value)
    assert "\n" not in message and (message[0] == "'" or message.startswith("enter an amount"))


def test_another_currency_than_the_workspaces_is_refused() -> None:
    """An amount naming a currency other than the one given is refused, not converted; a
    shared symbol ($, ¥) is the workspace's."""
    assert parse_amount("$1.2M", "USD") == parse_amount("¥1.2M", "CNY") == 1_200_000.0
    assert parse_amount("¥5k", "JPY") == 5_000.0
    for text, currency in (("€5k", "USD"), ("CNY 120万", "USD"), ("120万元", "EUR"),
                           ("USD 5", "cny")):
        with pytest.raises(AmountError) as caught:
            parse_amount(text, currency)
        assert caught.value.reason == "other_currency"
        assert f"amounts here are in {currency.upper()}" in str(caught.value)


def test_the_message_names_the_problem() -> None:
    """The sentences say how to write the amount instead."""
    with pytest.raises(AmountError, match=r"'1,20,000': the thousands separator must group "
                                          r"three digits, as in 1,200,000"):
        parse_amount("1,20,000")
    with pytest.raises(AmountError, match=r"above the largest amount accepted, "
                                          r"1,000,000,000,000"):
        parse_amount("2000bn")


# -- round trips ------------------------------------------------------------------------------

#: Amounts with cents, up to the largest accepted.
CENTS = st.integers(0, int(MAX_AMOUNT * 100)).map(lambda c: Decimal(c) / 100)
#: Units and their multipliers, as a formatter writes them.
UNITS = st.sampled_from([("k", 10**3), ("K", 10**3), ("M", 10**6), ("m", 10**6),
                         ("bn", 10**9), ("B", 10**9), ("千", 10**3), ("万", 10**4),
                         ("亿", 10**8), (" million", 10**6)])
CURRENCIES = st.sampled_from(["", "$", "¥", "USD ", "CNY "])


def full_width(text: str) -> str:
    """``text`` with its ASCII digits, comma and point in their full-width forms."""
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isdigit() or ch in ",." else ch for ch in text)


@given(value=CENTS, currency=CURRENCIES, wide=st.booleans())
def test_thousands_separated_amounts_read_back(value: Decimal, currency: str,
                                               wide: bool) -> None:
    """An amount written with thousands separators and two decimals reads back exactly."""
    text = currency + f"{value:,.2f}"
    text = full_width(text) if wide else text
    assert unicodedata.normalize("NFKC", text) == currency + f"{value:,.2f}"
    assert parse_amount(text) == float(value)


@given(value=st.floats(0, MAX_AMOUNT, allow_nan=False), unit=UNITS,
       digits=st.integers(0, 4), currency=CURRENCIES)
def test_amounts_with_a_unit_read_back_to_its_precision(value: float, unit: tuple[str, int],
                                                        digits: int, currency: str) -> None:
    """An amount written as a number of units (``1.2345M``) reads back to within half its
    last digit."""
    suffix, multiple = unit
    text = f"{currency}{value / multiple:.{digits}f}{suffix}"
    amount = float(Decimal(f"{value / multiple:.{digits}f}") * multiple)
    if amount > MAX_AMOUNT:
        with pytest.raises(AmountError):
            parse_amount(text)
        return
    parsed = parse_amount(text)
    assert parsed == amount
    assert math.isclose(parsed, value, abs_tol=0.5 * 10**-digits * multiple + 1e-6 * value)


@given(value=st.integers(0, 10**12))
def test_plain_and_grouped_integers_agree(value: int) -> None:
    """``1200000`` and ``1,200,000`` are the same amount."""
    assert parse_amount(str(value)) == parse_amount(f"{value:,}") == float(value)

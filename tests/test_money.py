"""Money is Decimal in an ISO 4217 currency, with that currency's minor units."""

from decimal import Decimal

import pytest

from huikuan.core.errors import InvalidCommand
from huikuan.core.money import minor_units, money


def test_amounts_are_kept_with_exactly_the_currencys_minor_units():
    assert money("10", "CNY") == Decimal("10.00")
    assert str(money("10", "CNY")) == "10.00"
    assert str(money("1250", "JPY")) == "1250"
    assert str(money("1.5", "KWD")) == "1.500"


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("10.001", "CNY", "CNY has 2 decimal places"),
        ("10.000", "CNY", "CNY has 2 decimal places"),
        ("1.5", "JPY", "JPY has 0 decimal places"),
        ("-1.00", "CNY", "must not be negative"),
        ("0", "CNY", "greater than zero"),
        (Decimal("NaN"), "CNY", "finite"),
        (Decimal("Infinity"), "CNY", "finite"),
        (Decimal("1E+20"), "CNY", r"below 10\^15"),
        ("1" * 16, "CNY", r"below 10\^15"),
        # A string is read in plain decimal notation only (issue 12).
        ("NaN", "CNY", "plain decimal notation"),
        ("Infinity", "CNY", "plain decimal notation"),
        ("1e20", "CNY", "plain decimal notation"),
        ("abc", "CNY", "plain decimal notation"),
        (" 5 ", "CNY", "plain decimal notation"),
        ("\uff11\uff12", "CNY", "plain decimal notation"),
        (10.5, "CNY", "never floating point"),
        ("10", "XYZ", "not an ISO 4217 currency"),
    ],
)
def test_bad_amounts_are_refused_with_the_reason(amount, currency, message):
    with pytest.raises(InvalidCommand, match=message):
        money(amount, currency)


def test_zero_is_allowed_where_it_makes_sense():
    assert money("0", "CNY", allow_zero=True) == Decimal("0.00")


def test_minor_units_of_common_currencies():
    assert [minor_units(c) for c in ("CNY", "USD", "EUR", "JPY", "KRW", "BHD", "CLF")] == [
        2, 2, 2, 0, 0, 3, 4,
    ]

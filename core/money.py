"""Money: ``Decimal`` amounts in an ISO 4217 currency, never floats.

An amount is always a :class:`~decimal.Decimal` held beside the three-letter code of
its currency, and it never has more decimal places than the currency's minor unit
allows (two for CNY 元/角/分, none for JPY, three for KWD). Amounts are stored with
exactly that many places, so ``Decimal("10")`` in CNY is recorded as ``10.00``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from huikuan.core.errors import InvalidCommand

# Active ISO 4217 codes and the number of digits of their minor unit.
# Most currencies have two; the exceptions are listed apart so the table stays readable.
_ZERO_DIGITS = {
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
    "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
}
_THREE_DIGITS = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"}
_FOUR_DIGITS = {"CLF", "UYW"}
_TWO_DIGITS = {
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHE", "CHF", "CHW", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK", "DKK",
    "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP",
    "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD",
    "KES", "KGS", "KHR", "KPW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD",
    "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV",
    "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK", "PHP",
    "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD",
    "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT",
    "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "USD", "USN", "UYU", "UZS", "VED", "VES",
    "WST", "XCD", "XCG", "YER", "ZAR", "ZMW", "ZWG",
}

MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(_TWO_DIGITS, 2),
    **dict.fromkeys(_ZERO_DIGITS, 0),
    **dict.fromkeys(_THREE_DIGITS, 3),
    **dict.fromkeys(_FOUR_DIGITS, 4),
}

ZERO = Decimal(0)

# Large enough for any invoice a company will issue, small enough that sums of
# millions of them stay exact in the default 28-digit decimal context.
MAX_INTEGER_DIGITS = 15


PLAIN_DECIMAL = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")
"""The one way an amount is written: ``1250.00``, ``-3``, ``0.5``; ASCII digits only (no
exponent, sign ``+``, spaces, ``_`` separators, ``.5`` or ``5.``, no other scripts' digits)."""


def plain_decimal(value: str) -> Decimal:
    """``value`` read as a decimal written in plain notation, or ValueError saying why.

    Bounded before any arithmetic: at most :data:`MAX_INTEGER_DIGITS` digits before the
    point and 20 after, so no amount a client sends can overflow a later sum."""
    if not PLAIN_DECIMAL.fullmatch(value):
        raise ValueError(f'amounts are written in plain decimal notation such as "1250.00", '
                         f'not {value[:40]!r}')
    whole, _point, fraction = value.lstrip("-").partition(".")
    if len(whole.lstrip("0")) > MAX_INTEGER_DIGITS or len(fraction) > 20:
        raise ValueError(f"amount must be below 10^{MAX_INTEGER_DIGITS} with at most 20 "
                         "decimal places")
    parsed = Decimal(value)
    return parsed.copy_abs() if parsed == 0 else parsed  # "-0.00" is 0.00


def minor_units(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (ISO 4217)."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        msg = f"{currency!r} is not an ISO 4217 currency code"
        raise InvalidCommand(msg, field="currency") from None


def is_currency(code: str) -> bool:
    return code in MINOR_UNITS


def money(
    amount: Decimal | int | str,
    currency: str,
    *,
    field: str = "amount",
    allow_zero: bool = False,
) -> Decimal:
    """Check ``amount`` against ``currency`` and return it with exactly its minor units.

    Refuses floats, non-finite values, negative amounts, zero (unless ``allow_zero``)
    and more decimal places than the currency has.
    """
    if isinstance(amount, (float, bool)):
        msg = "amounts are decimal strings such as \"1250.00\", never floating point numbers"
        raise InvalidCommand(msg, field=field)
    try:
        value = plain_decimal(amount) if isinstance(amount, str) else Decimal(amount)
    except ValueError as error:
        raise InvalidCommand(str(error), field=field) from None
    except (InvalidOperation, TypeError):
        msg = f"{amount!r} is not a decimal amount"
        raise InvalidCommand(msg, field=field) from None
    if not value.is_finite():
        raise InvalidCommand("amount must be a finite number", field=field)
    digits = minor_units(currency)
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > digits:
        msg = f"{currency} has {digits} decimal places; {value} has more"
        raise InvalidCommand(msg, field=field)
    if value < 0:
        raise InvalidCommand("amount must not be negative", field=field)
    if value == 0 and not allow_zero:
        raise InvalidCommand("amount must be greater than zero", field=field)
    if value.adjusted() >= MAX_INTEGER_DIGITS:
        msg = f"amount must be below 10^{MAX_INTEGER_DIGITS}"
        raise InvalidCommand(msg, field=field)
    return value.quantize(Decimal(1).scaleb(-digits))


def zero(currency: str) -> Decimal:
    """Zero in ``currency``, written with its minor units (``0.00`` for CNY)."""
    return ZERO.quantize(Decimal(1).scaleb(-minor_units(currency)))

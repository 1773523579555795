"""Money and percentages as ``Decimal``.

Amounts are euros quantized to the cent with ROUND_HALF_UP (the rounding of French
reimbursement statements). Percentages are plain numbers: ``60`` means 60 %.
Floats are accepted on input only through their shortest text (``12.34`` stays
12.34), never through their binary value.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from tierspayant.coverage.errors import CoverageError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)
#: Inputs are refused from here on: no amount or percentage of a case comes near it, and
#: beyond the decimal context's precision the cent cannot be computed at all.
TOO_LARGE = Decimal("1e12")


def cents(value: Decimal) -> Decimal:
    """Quantize euros to the cent, ROUND_HALF_UP (``Decimal("2.345")`` -> ``2.35``)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def percent_of(base: Decimal, percent: Decimal) -> Decimal:
    """``percent`` % of ``base`` euros, rounded to the cent (``percent_of(30, 70)`` = 21.00)."""
    return cents(base * percent / HUNDRED)


def fmt(amount: Decimal) -> str:
    """Render euros as a plain string with two decimals (``"12.34"``), for JSON."""
    return f"{cents(amount):.2f}"


def parse_decimal(value: object, *, field: str, error: type[CoverageError]) -> Decimal:
    """Read a non-negative number with at most two decimals.

    Accepts ``Decimal``, ``int``, ``float`` (through its shortest text) and strings such
    as ``"12.34"``. Raises ``error(field, why)`` for booleans, other types, text that is
    not a number, NaN or infinities, negative values, values of 10^12 or more and more than
    two decimals.
    """
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        raise error(field, f'must be a number such as "12.34", not {type(value).__name__}')
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise error(field, f"{value!r} is not a number") from None
    if not number.is_finite():
        raise error(field, "must be a finite number")
    if number < 0:
        raise error(field, f"must not be negative (got {value})")
    if number >= TOO_LARGE:
        raise error(field, f"must be less than 1000000000000 (got {value})")
    if number != cents(number):
        raise error(field, f"has more than two decimal places (got {value})")
    return cents(number)

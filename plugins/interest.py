"""Late interest (罚息): off by default.

    [interest]
    enabled = true
    annual_rate = "0.0365"        # a fixed rate, or:
    benchmark_rate = "0.0310"     # LPR
    markup = "0.0155"             # added to the benchmark

Interest on an overdue invoice is its undisputed open amount × annual rate / 365 ×
the days since interest was last charged (or since the due date), rounded to the
currency's minor unit. Interest already charged stays when the principal is paid.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from huikuan.core.money import minor_units
from huikuan.core.plugin import AccountView, InterestCharge, InvoiceView, Settings, hookimpl


def annual_rate(settings: Settings) -> Decimal:
    section = settings.section("interest")
    if "benchmark_rate" in section:
        return Decimal(str(section["benchmark_rate"])) + Decimal(str(section.get("markup", "0")))
    return Decimal(str(section.get("annual_rate", "0")))


@hookimpl
def huikuan_late_interest(
    invoice: InvoiceView, account: AccountView, as_of: date, settings: Settings
) -> InterestCharge | None:
    if not settings.section("interest").get("enabled", False):
        return None
    since = invoice.interest_accrued_to or invoice.due_on
    days = (as_of - since).days
    rate = annual_rate(settings)
    principal = invoice.undisputed_open
    if days <= 0 or rate <= 0 or principal <= 0:
        return None
    exponent = Decimal(1).scaleb(-minor_units(account.currency))
    amount = (principal * rate / 365 * days).quantize(exponent, rounding=ROUND_HALF_UP)
    if amount <= 0:
        return None
    return InterestCharge(
        amount=amount, from_on=since, to_on=as_of, annual_rate=rate,
        based_on={"principal": str(principal), "days": days, "annual_rate": str(rate)},
    )


@hookimpl
def huikuan_next_review(account: AccountView, as_of: date, settings: Settings) -> date | None:
    # Interest accrues day by day on what is overdue, from the day after the due date.
    if not settings.section("interest").get("enabled", False) or annual_rate(settings) <= 0:
        return None
    tomorrow = as_of + timedelta(days=1)
    return min((max(tomorrow, i.due_on + timedelta(days=1)) for i in account.open_invoices()
                if i.undisputed_open > 0), default=None)

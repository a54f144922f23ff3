"""Late interest (罚息): off by default.

    [interest]
    enabled = true
    # One of these rate settings (the first present wins, in this order):
    rates = [{from = "2019-08-20", annual = "0.0425"}, {from = "2024-01-01", annual = "0.05"}]
    daily = "0.0005"              # a rate per day: 0.05 %/day (= 18.25 % a year)
    benchmark = "lpr_1y"          # the one-year LPR table shipped in plugins/lpr.py …
    multiplier = "1.5"            # … times this (PRC sales contracts: 1.3–1.5× LPR), plus
    markup = "0"                  # … this added (optional)
    benchmark_rates = [{from = "2026-12-22", annual = "0.0290"}]  # later LPR fixings
    benchmark_rate = "0.0310"     # v1: one fixed benchmark …
    markup = "0.0155"             # … plus a markup
    annual_rate = "0.0365"        # v1: one fixed rate
    settle = "principal_first"    # or "costs_interest_principal" (Civil Code art. 561)

Interest accrues day by day (:mod:`huikuan.core.interest`): each day from the day after the
due date accrues the principal open at the end of that day × the annual rate in force that
day / 365, money in dispute that day excluded; the total is rounded to the currency's minor
unit once. A cycle charges what has accrued through its date less what was charged before,
so how often the cycle runs never changes the total. Interest already charged stays when
the principal is paid.

A rate setting that is not a decimal, a rate below zero or a ``from`` that is not a date is
a :class:`InterestSettingError` naming the setting, raised when the plugin is first asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from huikuan.core.interest import DAY_COUNT, RateSchedule, accrued, rate_on, schedule
from huikuan.core.plugin import (
    SETTLE_ORDERS,
    AccountView,
    ContestedSpan,
    InterestCharge,
    InterestTerms,
    InvoiceView,
    RatePeriod,
    Settings,
    SettleOrder,
    hookimpl,
)
from huikuan.plugins.lpr import LPR_1Y

BENCHMARKS: Mapping[str, tuple[RatePeriod, ...]] = {"lpr_1y": LPR_1Y}
SINCE_ALWAYS = date(1900, 1, 1)


class InterestSettingError(ValueError):
    """A setting of ``[interest]`` in plugins.toml that cannot be a rate."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"[interest] {setting}: {problem}")
        self.setting = setting


def _decimal(value: Any, setting: str) -> Decimal:
    if isinstance(value, bool | float):  # a float would carry binary noise into money
        raise InterestSettingError(setting, "write the rate as a decimal string, e.g. \"0.0365\"")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise InterestSettingError(setting, f"{value!r} is not a decimal") from None
    if not number.is_finite() or number < 0:
        raise InterestSettingError(setting, f"{value!r} is not a rate of zero or more")
    return number


def _periods(table: Any, setting: str) -> list[RatePeriod]:
    if not isinstance(table, list) or not table:
        raise InterestSettingError(setting, "a list of {from = \"YYYY-MM-DD\", annual = \"…\"}")
    periods = []
    for n, row in enumerate(table):
        where = f"{setting}[{n}]"
        if not isinstance(row, Mapping) or "from" not in row or "annual" not in row:
            raise InterestSettingError(where, "needs from and annual")
        start = row["from"]
        if not isinstance(start, date):
            try:
                start = date.fromisoformat(str(start))
            except ValueError:
                raise InterestSettingError(f"{where}.from", f"{start!r} is not a date") from None
        periods.append(RatePeriod(from_on=start, annual=_decimal(row["annual"],
                                                                 f"{where}.annual")))
    return periods


def rate_schedule(settings: Settings) -> RateSchedule:
    """The annual rates in force, by date, that ``[interest]`` sets."""
    section = settings.section("interest")
    if "rates" in section:
        return schedule(_periods(section["rates"], "rates"))
    if "daily" in section:
        daily = _decimal(section["daily"], "daily")
        return (RatePeriod(from_on=SINCE_ALWAYS, annual=daily * 365),)
    if "benchmark" in section:
        name = str(section["benchmark"])
        if name not in BENCHMARKS:
            raise InterestSettingError("benchmark", f"{name!r} is not one of {sorted(BENCHMARKS)}")
        table = list(BENCHMARKS[name])
        if "benchmark_rates" in section:
            table += _periods(section["benchmark_rates"], "benchmark_rates")
        multiplier = _decimal(section.get("multiplier", "1"), "multiplier")
        markup = _decimal(section.get("markup", "0"), "markup")
        return tuple(RatePeriod(from_on=p.from_on, annual=p.annual * multiplier + markup)
                     for p in schedule(table))
    if "benchmark_rate" in section:
        rate = (_decimal(section["benchmark_rate"], "benchmark_rate")
                + _decimal(section.get("markup", "0"), "markup"))
    else:
        rate = _decimal(section.get("annual_rate", "0"), "annual_rate")
    return (RatePeriod(from_on=SINCE_ALWAYS, annual=rate),)


def settle_order(settings: Settings) -> SettleOrder:
    """``[interest] settle``: what a payment naming no invoices settles first."""
    chosen = settings.section("interest").get("settle", "principal_first")
    for order in SETTLE_ORDERS:
        if chosen == order:
            return order
    raise InterestSettingError("settle", f"{chosen!r} is not one of {', '.join(SETTLE_ORDERS)}")


def annual_rate(settings: Settings, on: date | None = None) -> Decimal:
    """The annual rate in force on ``on`` (the latest rate when no day is given)."""
    rates = rate_schedule(settings)
    if on is None:
        return rates[-1].annual if rates else Decimal(0)
    return rate_on(rates, on)


def _enabled(settings: Settings) -> bool:
    return bool(settings.section("interest").get("enabled", False))


@hookimpl
def huikuan_interest_terms(account: AccountView, as_of: date,
                           settings: Settings) -> InterestTerms | None:
    # Enabled: the rates as configured (recorded on each account the cycle reviews, so
    # the views accrue through any day). Turned off: no rate from now on, said once to
    # an account that was given rates before; an account never given any records nothing.
    if _enabled(settings):
        return InterestTerms(rates=rate_schedule(settings), settle=settle_order(settings))
    return None


@hookimpl
def huikuan_late_interest(
    invoice: InvoiceView, account: AccountView, as_of: date, settings: Settings
) -> InterestCharge | None:
    if not _enabled(settings):
        return None
    rates = rate_schedule(settings)
    if as_of <= invoice.due_on or not any(p.annual > 0 for p in rates):
        return None
    # A view built without dated history (a plugin test) stands still at what it shows.
    movements = invoice.movements or ((invoice.issued_on, invoice.open_amount),)
    contested = invoice.contested or ((ContestedSpan(
        amount=invoice.disputed_amount, raised_on=invoice.issued_on),)
        if invoice.disputed_amount > 0 else ())
    owed = accrued(movements=movements, due_on=invoice.due_on, through=as_of, rates=rates,
                   currency=account.currency, contested=contested)
    amount = owed - invoice.interest
    if amount <= 0:
        return None
    since = invoice.interest_accrued_to or invoice.due_on
    return InterestCharge(
        amount=amount, from_on=since, to_on=as_of, annual_rate=rate_on(rates, as_of),
        based_on={
            "principal": str(invoice.undisputed_open),
            "days": (as_of - since).days,
            "annual_rate": str(rate_on(rates, as_of)),
            "accrued_through_to_on": str(owed),
            "charged_before": str(invoice.interest),
            "day_count": DAY_COUNT,
            "disputed": "excluded",
            "rates": [[p.from_on.isoformat(), str(p.annual)] for p in rates
                      if p.from_on <= as_of and _after_due(p, rates, invoice.due_on)],
        },
    )


def _after_due(period: RatePeriod, rates: RateSchedule, due_on: date) -> bool:
    """Whether ``period`` is in force on some day after ``due_on`` (kept in based_on)."""
    later = [p.from_on for p in rates if p.from_on > period.from_on]
    return not later or min(later) > due_on + timedelta(days=1)


@hookimpl
def huikuan_next_review(account: AccountView, as_of: date, settings: Settings) -> date | None:
    # Interest accrues day by day on what is overdue, from the day after the due date.
    if not _enabled(settings) or not any(p.annual > 0 for p in rate_schedule(settings)):
        return None
    tomorrow = as_of + timedelta(days=1)
    return min((max(tomorrow, i.due_on + timedelta(days=1)) for i in account.open_invoices()
                if i.undisputed_open > 0), default=None)

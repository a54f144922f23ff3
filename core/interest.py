"""Late interest (罚息) day by day: one pure function the cycle's charges are computed with.

Each day from the day after the due date through ``through`` (inclusive) accrues

    principal open at the end of that day × annual rate in force that day / 365

and the total is rounded to the currency's minor unit once, never per day. A charge
recorded at a cycle is ``round(accrued through to_on) − what was charged before``, so how
often the cycle runs never changes what is charged in total (a cycle every 9 days around a
part payment charges what a single cycle at the end would).

"Principal open" is the invoice's open amount at the end of the day, from its dated
movements (the amount on its issue date, less payments, credit notes and write-offs on
their business dates, plus a bounce on its date): a payment received on a day lowers that
day's principal. Money in dispute (争议) on a day does not accrue that day: it is not
demanded while contested (a demand never includes it), and when the dispute is upheld it
ends in a credit note, so interest on it would be interest on money never owed. A dispute
rejected later does not accrue for its days either; a credit manager who wants that agrees
it with the customer, and the recorded figures never change after the fact.

No clock, no plugin, no I/O: the same inputs give the same figure in the cycle, a view or
a letter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from huikuan.core.money import minor_units
from huikuan.core.plugin import ContestedSpan, RatePeriod

DAY_COUNT = "actual/365"
"""Every calendar day counts, a year is 365 days (also in a leap year)."""

YEAR_DAYS = 365
ONE_DAY = timedelta(days=1)
ZERO = Decimal(0)


RateSchedule = tuple[RatePeriod, ...]
"""Rate periods, earliest first; no rate (zero) before the first."""


def schedule(periods: Iterable[RatePeriod]) -> RateSchedule:
    """Periods sorted by start; of two starting the same day, the later given wins."""
    by_day: dict[date, RatePeriod] = {}
    for period in periods:
        by_day[period.from_on] = period
    return tuple(by_day[d] for d in sorted(by_day))


def rate_on(rates: RateSchedule, day: date) -> Decimal:
    """The annual rate in force on ``day`` (zero before the first period)."""
    found = ZERO
    for period in rates:
        if period.from_on > day:
            break
        found = period.annual
    return found


def accrued_exact(*, movements: Sequence[tuple[date, Decimal]], due_on: date, through: date,
                  rates: RateSchedule, contested: Sequence[ContestedSpan] = ()) -> Decimal:
    """Interest accrued from the day after ``due_on`` through ``through``, unrounded.

    ``movements`` are the invoice's (business date, change of the open amount), the first
    being the amount on its issue date. Computed by spans of days over which neither the
    principal nor the rate changes; the sum is the same as adding day by day.
    """
    start = due_on + ONE_DAY
    if through < start:
        return ZERO
    changes = {d for d, _ in movements}
    changes |= {p.from_on for p in rates}
    for span in contested:
        changes.add(span.raised_on)
        if span.resolved_on is not None:
            changes.add(span.resolved_on)
    days = sorted({start, *(d for d in changes if start < d <= through)})
    total = ZERO
    for i, first in enumerate(days):
        after = days[i + 1] if i + 1 < len(days) else through + ONE_DAY
        principal = _principal_on(movements, contested, first)
        rate = rate_on(rates, first)
        if principal > 0 and rate > 0:
            total += principal * rate * (after - first).days
    return total / YEAR_DAYS


def accrued(*, movements: Sequence[tuple[date, Decimal]], due_on: date, through: date,
            rates: RateSchedule, currency: str,
            contested: Sequence[ContestedSpan] = ()) -> Decimal:
    """:func:`accrued_exact`, rounded once to the currency's minor unit (half up)."""
    exact = accrued_exact(movements=movements, due_on=due_on, through=through, rates=rates,
                          contested=contested)
    return exact.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


def _principal_on(movements: Sequence[tuple[date, Decimal]],
                  contested: Sequence[ContestedSpan], day: date) -> Decimal:
    open_ = sum((delta for d, delta in movements if d <= day), ZERO)
    disputed = sum((s.amount for s in contested
                    if s.raised_on <= day and (s.resolved_on is None or day < s.resolved_on)),
                   ZERO)
    return open_ - min(max(disputed, ZERO), max(open_, ZERO))


# ---- what an account owes in interest and fees (the views, letters and waivers)


def recorded_rates(account: Any) -> RateSchedule:
    """The rates recorded on the account (``InterestTermsSet``); empty: none."""
    return tuple(RatePeriod(from_on=date.fromisoformat(str(on)), annual=Decimal(str(annual)))
                 for on, annual in account.interest_rates)


def interest_accrued(account: Any, invoice_id: str, through: date,
                     rates: RateSchedule | None = None) -> Decimal:
    """Late interest accrued on an invoice through ``through`` under the recorded rates,
    and never less than the cycle charged (a charge stays when terms change later)."""
    invoice = account.invoices[invoice_id]
    rates = recorded_rates(account) if rates is None else rates
    contested = tuple(ContestedSpan(amount=d.amount, raised_on=d.raised_on,
                                    resolved_on=d.resolved_on)
                      for d in account.disputes.values() if d.invoice_id == invoice_id)
    found = accrued(movements=[(d, Decimal(v)) for d, v in invoice.movements],
                    due_on=invoice.due_on, through=through, rates=rates,
                    currency=account.currency, contested=contested) if rates else ZERO
    charged: Decimal = invoice.interest
    return max(found, charged)


def interest_waived(account: Any, invoice_id: str, on: date) -> Decimal:
    return sum((w["amount"] for w in account.interest_waivers.values()
                if w["invoice_id"] == invoice_id and w["waived_on"] <= on), ZERO)


def settled(account: Any, kind: str, ref: str, on: date | None) -> Decimal:
    """What payments settled of a fee (``kind`` "fees") or of an invoice's interest
    ("interest") by ``on`` under art. 561's order, less what bounced by then; with
    ``on`` None, every settlement not bounced, whatever its date (what a new payment
    must not settle again, even one dated earlier)."""
    return sum((s[kind].get(ref, ZERO) for s in account.charge_settlements.values()
                if (on is None and s["bounced_on"] is None)
                or (on is not None and s["on"] <= on
                and (s["bounced_on"] is None or s["bounced_on"] > on))), ZERO)


def interest_owed(account: Any, invoice_id: str, on: date,
                  rates: RateSchedule | None = None, *, settled_ever: bool = False) -> Decimal:
    """Interest accrued on an invoice through ``on``, less what was waived and what
    payments settled by then (``settled_ever``: settled at any date, for a payment
    deciding what it may still settle)."""
    owed = (interest_accrued(account, invoice_id, on, rates)
            - interest_waived(account, invoice_id, on)
            - settled(account, "interest", invoice_id, None if settled_ever else on))
    return max(owed, ZERO) + _zero(account.currency)


def fees_owed(account: Any, on: date, *, settled_ever: bool = False) -> list[dict[str, Any]]:
    """The fees charged by ``on``, each with whether it was waived by then, what
    payments settled of it (art. 561's order; ``settled_ever``: at any date) and what
    is still owed."""
    none = _zero(account.currency)
    shown = []
    for f in account.fees.values():
        if f["charged_on"] > on:
            continue
        waived = f["waived_on"] is not None and f["waived_on"] <= on
        paid = settled(account, "fees", f["fee_id"], None if settled_ever else on) + none
        shown.append({"fee_id": f["fee_id"], "amount": f["amount"] + none,
                      "stage": f["stage"], "charged_on": f["charged_on"], "waived": waived,
                      "waived_on": f["waived_on"] if waived else None, "settled": paid,
                      "owed": none if waived else max(f["amount"] - paid, ZERO) + none})
    return shown


def charges(account: Any, on: date) -> dict[str, Any]:
    """What the customer view adds: ``interest`` (accrued through ``on``, unpaid, not
    waived), ``fees`` (charged, not waived), ``fees_detail`` and each invoice's
    ``interest`` (``invoice_interest``)."""
    rates = recorded_rates(account)
    per_invoice = {i: interest_owed(account, i, on, rates) for i in account.invoices}
    detail = fees_owed(account, on)
    none = _zero(account.currency)
    return {
        "interest": sum(per_invoice.values(), none),
        "fees": sum((f["owed"] for f in detail), none),
        "fees_detail": detail,
        "invoice_interest": per_invoice,
    }


def _zero(currency: str) -> Decimal:
    return ZERO.quantize(Decimal(1).scaleb(-minor_units(currency)))


def demanded_charges(account: Any, invoice_ids: Iterable[str],
                     on: date) -> tuple[Decimal, Decimal, dict[str, Decimal]]:
    """What a demand about ``invoice_ids`` states beside the principal on ``on``: the
    interest owed on those invoices (total and each), and every fee owed on the account."""
    rates = recorded_rates(account)
    each = {i: interest_owed(account, i, on, rates) for i in invoice_ids
            if i in account.invoices}
    none = _zero(account.currency)
    fees = sum((f["owed"] for f in fees_owed(account, on)), none)
    return sum(each.values(), none), fees, each

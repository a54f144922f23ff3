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

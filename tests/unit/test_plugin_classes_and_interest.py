"""Classes of receivable by days past due (plugins.classes), late interest (plugins.interest)."""

from datetime import date
from decimal import Decimal

import pytest

from huikuan.core.plugin import ClassStep
from huikuan.core.testing import account_view, invoice_view, settings
from huikuan.plugins.classes import huikuan_class_schedule, huikuan_classify
from huikuan.plugins.interest import huikuan_late_interest

DUE = date(2026, 1, 31)
INVOICE = invoice_view(due_on=DUE)


@pytest.mark.parametrize(("as_of", "expected"), [
    (date(2026, 1, 31), "not_due"),
    (date(2026, 2, 1), "in_collection"),
    (date(2026, 5, 2), "doubtful"),   # +91
    (date(2026, 7, 31), "bad"),       # +181
    (date(2027, 2, 1), "dead"),       # +366
])
def test_an_invoice_changes_class_with_the_days_past_due(as_of, expected):
    assert huikuan_classify(INVOICE, account_view(), as_of, settings()) == expected


def test_the_thresholds_come_from_plugins_toml():
    at_61 = date(2026, 4, 2)
    assert huikuan_classify(INVOICE, account_view(), at_61, settings()) == "in_collection"
    assert huikuan_classify(INVOICE, account_view(), at_61,
                            settings(classes={"doubtful_from": 61})) == "doubtful"


WRITTEN_OFF_ON = date(2026, 3, 1)


def written_off(amount: str, paid_after: bool = False):
    """I-1 (1000.00, due 2026-01-31) with ``amount`` written off on 2026-03-01; the rest
    paid the day after if ``paid_after``."""
    part = Decimal(amount)
    moves = [(date(2026, 1, 1), Decimal("1000.00")), (WRITTEN_OFF_ON, -part)]
    if paid_after:
        moves.append((date(2026, 3, 2), part - Decimal("1000.00")))
    return invoice_view(due_on=DUE, open_amount=str(sum(d for _, d in moves)),
                        written_off=amount, write_offs=((WRITTEN_OFF_ON, part),),
                        movements=tuple(moves))


def test_an_invoice_written_off_in_full_is_dead_and_one_written_off_in_part_is_not():
    assert huikuan_classify(written_off("1000.00"), account_view(), DUE, settings()) == "dead"
    assert huikuan_classify(written_off("100.00"), account_view(), DUE,
                            settings()) == "not_due"
    at_40 = date(2026, 3, 12)
    assert huikuan_classify(written_off("100.00"), account_view(), at_40,
                            settings()) == "in_collection"


def test_the_schedule_is_the_thresholds_from_the_due_date():
    schedule = huikuan_class_schedule(INVOICE, settings())
    assert schedule.steps == (
        ClassStep(date(2026, 2, 1), "in_collection"), ClassStep(date(2026, 5, 2), "doubtful"),
        ClassStep(date(2026, 7, 31), "bad"), ClassStep(date(2027, 2, 1), "dead"))
    assert [schedule.class_on(d) for d in (DUE, date(2026, 2, 1), date(2030, 1, 1))] == [
        "not_due", "in_collection", "dead"]
    moved = huikuan_class_schedule(INVOICE, settings(classes={"doubtful_from": 61}))
    assert moved.steps[1] == ClassStep(date(2026, 4, 2), "doubtful")


def test_the_schedule_of_an_invoice_written_off_in_full_ends_dead_that_day():
    schedule = huikuan_class_schedule(written_off("1000.00"), settings())
    assert schedule.steps == (ClassStep(date(2026, 2, 1), "in_collection"),
                              ClassStep(WRITTEN_OFF_ON, "dead"))
    assert schedule.based_on["written_off_in_full"] == "2026-03-01"
    # In part, or settled by a payment after the write-off: the thresholds as ever.
    for invoice in (written_off("100.00"), written_off("100.00", paid_after=True)):
        assert huikuan_class_schedule(invoice, settings()).steps == (
            huikuan_class_schedule(INVOICE, settings()).steps)


def test_no_interest_unless_switched_on():
    assert huikuan_late_interest(INVOICE, account_view(), date(2026, 2, 10), settings()) is None


def test_interest_on_the_undisputed_open_amount_for_the_days_since_the_due_date():
    on = settings(interest={"enabled": True, "annual_rate": "0.0365"})
    disputed = invoice_view(due_on=DUE, amount="1200.00", disputed_amount="200.00")
    charge = huikuan_late_interest(disputed, account_view(), date(2026, 2, 10), on)
    assert (charge.amount, charge.from_on, charge.to_on) == (
        Decimal("1.00"), DUE, date(2026, 2, 10))


def test_interest_runs_on_from_where_it_was_last_charged_at_benchmark_plus_markup():
    on = settings(interest={"enabled": True, "benchmark_rate": "0.0310", "markup": "0.0155"})
    # 1.27 was charged through 10 February (1000.00 × 4.65 % / 365 × 10 = 1.2740).
    charged = invoice_view(due_on=DUE, interest_accrued_to=date(2026, 2, 10), interest="1.27")
    charge = huikuan_late_interest(charged, account_view(), date(2026, 2, 20), on)
    assert charge.annual_rate == Decimal("0.0465")
    # 20 days accrue 2.5479 → 2.55 in all, rounded once: 1.28 more, not a second 1.27.
    assert (charge.from_on, charge.amount) == (date(2026, 2, 10), Decimal("1.28"))

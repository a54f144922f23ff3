"""Classes of receivable by days past due (plugins.classes), late interest (plugins.interest)."""

from datetime import date
from decimal import Decimal

import pytest

from huikuan.core.testing import account_view, invoice_view, settings
from huikuan.plugins.classes import huikuan_classify
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


def test_a_written_off_invoice_is_dead_at_once():
    written_off = invoice_view(due_on=DUE, written_off="100.00")
    assert huikuan_classify(written_off, account_view(), DUE, settings()) == "dead"


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

"""huikuan.core.testing gives a plugin the values huikuan itself would give it."""

from datetime import date
from decimal import Decimal

from huikuan.core.account import Account
from huikuan.core.policy import view_of
from huikuan.core.testing import (
    DAY,
    account_view,
    invoice_view,
    payment_view,
    plan_view,
    settings,
)


def registered(**fields):
    return Account.register(customer_id="C-1", name="华东贸易有限公司", currency="CNY",
                            registered_on=DAY, **fields)


def test_the_default_account_is_a_customer_just_registered():
    assert account_view() == view_of(registered())
    assert account_view(collector="li.wei", tags=["key-account"]) == view_of(
        registered(collector="li.wei", tags=["key-account"]))


def test_the_default_invoice_is_the_one_a_thirty_day_customer_is_issued():
    account = registered()
    account.issue_invoice(invoice_id="I-1", amount="1000.00", currency="CNY", issued_on=DAY)
    assert view_of(account).invoices == (invoice_view(),)
    assert account_view(invoices=[invoice_view()]) == view_of(account)


def test_amounts_may_be_strings_and_sequences_lists():
    payment = payment_view(amount="600.00", allocations={"I-1": "400.00"})
    assert payment.unapplied == Decimal("200.00")
    assert payment.allocations == {"I-1": Decimal("400.00")}
    assert invoice_view(amount="500.00").open_amount == Decimal("500.00")
    plan = plan_view((date(2026, 3, 1), "300.00"), (date(2026, 4, 1), "300.00"), missed=[1])
    assert [(i.number, i.amount) for i in plan.installments] == [(1, Decimal("300.00")),
                                                                 (2, Decimal("300.00"))]
    assert plan.missed == (1,)


def test_settings_are_plugins_toml_tables_by_name():
    given = settings({"risk": {"lookback_days": 90}}, escalation={"exclude_customers": ["C-9"]},
                     env={"HUIKUAN_SMTP_URL": "smtp://localhost"})
    assert given.section("risk") == {"lookback_days": 90}
    assert given.section("escalation")["exclude_customers"] == ["C-9"]
    assert given.section("nothing") == {}
    assert given.env["HUIKUAN_SMTP_URL"] == "smtp://localhost"

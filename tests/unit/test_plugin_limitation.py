"""The limitation plugin (诉讼时效, Civil Code arts. 188, 195), unit by unit: three years
from the due date, restarted by a demand that reached the debtor and by a suit or an
arbitration filed, each only for the invoices it concerns."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from huikuan.core.account import Account
from huikuan.core.errors import Conflict, InvalidCommand, NotFound
from huikuan.core.policy import view_of
from huikuan.core.testing import (
    DAY,
    account_view,
    filing_view,
    invoice_view,
    message_view,
    policy_host,
    settings,
)
from huikuan.plugins import limitation

I1 = invoice_view()  # issued 2026-01-01, due 2026-01-31
I2 = invoice_view(invoice_id="I-2", issued_on=date(2026, 3, 1))  # due 2026-03-31
THREE_YEARS = settings()


def deadline(invoice, account, chosen=THREE_YEARS):
    return limitation.huikuan_limitation_deadline(invoice, account, chosen)


def test_three_years_from_the_due_date_when_nothing_restarted_it():
    assert deadline(I1, account_view(invoices=[I1])) == date(2029, 1, 31)
    assert deadline(I1, account_view(invoices=[I1]), settings(limitation={"years": 2})) \
        == date(2028, 1, 31)


def test_a_suit_for_the_whole_account_restarts_every_invoice():
    account = account_view(invoices=[I1, I2], filings=[filing_view(filed_on=date(2026, 6, 1))])
    assert deadline(I1, account) == date(2029, 6, 1)
    assert deadline(I2, account) == date(2029, 6, 1)


def test_an_arbitration_for_some_invoices_restarts_those_only():
    account = account_view(invoices=[I1, I2], filings=[
        filing_view(kind="arbitration", filed_on=date(2026, 7, 15), invoice_ids=["I-2"])])
    assert deadline(I1, account) == date(2029, 1, 31)
    assert deadline(I2, account) == date(2029, 7, 15)


def test_a_filing_before_an_invoice_was_issued_does_not_cover_it():
    account = account_view(invoices=[I1, I2], filings=[filing_view(filed_on=date(2026, 2, 1))])
    assert deadline(I1, account) == date(2029, 2, 1)
    assert deadline(I2, account) == date(2029, 3, 31)


def test_the_latest_restart_counts():
    account = account_view(invoices=[I1], filings=[
        filing_view(filed_on=date(2026, 6, 1)), filing_view(filed_on=date(2026, 4, 1))],
        messages=[message_view(kind="warning", status="sent", invoice_ids=["I-1"],
                               delivered_on=date(2026, 5, 1))])
    assert deadline(I1, account) == date(2029, 6, 1)


def test_a_delivered_demand_restarts_its_invoices_only():
    delivered = message_view(kind="warning", channel="letter", status="sent",
                             invoice_ids=["I-1"], delivered_on=date(2026, 2, 20))
    account = account_view(invoices=[I1, I2], messages=[delivered])
    assert deadline(I1, account) == date(2029, 2, 20)
    assert deadline(I2, account) == date(2029, 3, 31)


def test_a_demand_sent_without_proof_of_delivery_or_a_task_restarts_nothing():
    sent = message_view(kind="lawyer_letter", status="sent", invoice_ids=["I-1"])
    task = message_view(message_id="M-2", kind="call_task", channel="worklist",
                        status="sent", invoice_ids=["I-1"], delivered_on=date(2026, 2, 20))
    assert deadline(I1, account_view(invoices=[I1], messages=[sent, task])) \
        == date(2029, 1, 31)


def test_a_reminder_delivered_before_the_due_date_does_not_shorten_the_period():
    early = message_view(kind="reminder", status="sent", invoice_ids=["I-1"],
                         delivered_on=date(2026, 1, 20))
    assert deadline(I1, account_view(invoices=[I1], messages=[early])) == date(2029, 1, 31)


@given(st.lists(st.dates(min_value=date(2026, 1, 1), max_value=date(2035, 12, 31)),
                max_size=5),
       st.lists(st.dates(min_value=date(2026, 1, 1), max_value=date(2035, 12, 31)),
                max_size=5))
def test_restarts_only_ever_move_the_deadline_later(filed, delivered):
    """Whatever suits and deliveries there are: never before three years from the due
    date, and three years from the latest of them that concerns the invoice."""
    account = account_view(
        invoices=[I1],
        filings=[filing_view(filed_on=d) for d in filed],
        messages=[message_view(message_id=f"M-{n}", kind="notice", status="sent",
                               invoice_ids=["I-1"], delivered_on=d)
                  for n, d in enumerate(delivered)])
    latest = max([I1.due_on, *filed, *delivered])
    assert deadline(I1, account) == limitation.add_years(latest, 3)


def test_the_host_asks_the_plugin_with_the_filings_and_deliveries():
    account = account_view(invoices=[I1], filings=[filing_view(filed_on=date(2027, 3, 3))])
    found = policy_host().first("huikuan_limitation_deadline", invoice=I1, account=account)
    assert found is not None
    assert found[0] == date(2030, 3, 3) and found[1].name == "limitation"


# ---- the account: what plugins are given


def warned(sent: bool = True) -> Account:
    account = Account.register(customer_id="C-1", name="华东贸易有限公司", currency="CNY",
                               registered_on=DAY)
    account.issue_invoice(invoice_id="I-1", amount="1000.00", currency="CNY", issued_on=DAY)
    for message_id, kind, channel in (("M-1", "warning", "letter"),
                                      ("M-2", "call_task", "worklist")):
        account.record_decision(
            Account.MessageQueued, decided_on=date(2026, 2, 16), plugin="escalation",
            plugin_version="test", based_on={}, message_id=message_id, kind=kind,
            channel=channel, recipient=None, language="zh-CN", subject="律师函前警告",
            body="", amount=1000, invoice_ids=["I-1"], deadline=None)
        if sent:
            account.record_delivery_outcome(
                Account.MessageSent, message_id=message_id,
                sent_at=datetime(2026, 2, 17, 2, 0, tzinfo=UTC), attempt=1, receipt=None)
    return account


def test_a_recorded_delivery_is_what_the_plugin_sees():
    account = warned()
    assert view_of(account).filings == ()
    assert account.record_demand_delivery(message_id="M-1", delivered_on=date(2026, 2, 20),
                                          proof_ref="EMS 1", method="courier")
    [letter] = [m for m in view_of(account).messages if m.message_id == "M-1"]
    assert letter.delivered_on == date(2026, 2, 20)
    assert deadline(view_of(account).invoices[0], view_of(account)) == date(2029, 2, 20)
    # The same proof again is a repeat: nothing recorded.
    assert not account.record_demand_delivery(message_id="M-1", delivered_on=date(2026, 2, 20),
                                              proof_ref="EMS 1", method="courier")


def test_a_delivery_is_refused_for_a_message_unsent_a_task_or_a_day_before_sending():
    with pytest.raises(Conflict, match="not been sent"):
        warned(sent=False).record_demand_delivery(message_id="M-1",
                                                  delivered_on=date(2026, 2, 20))
    with pytest.raises(Conflict, match="not a demand"):
        warned().record_demand_delivery(message_id="M-2", delivered_on=date(2026, 2, 20))
    with pytest.raises(InvalidCommand) as before:
        warned().record_demand_delivery(message_id="M-1", delivered_on=date(2026, 2, 16))
    assert before.value.field == "delivered_on"
    with pytest.raises(NotFound):
        warned().record_demand_delivery(message_id="M-9", delivered_on=date(2026, 2, 20))

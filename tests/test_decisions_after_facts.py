"""A fact moves the worklist and the limitation deadlines at once, not at the next cycle.

When a command records facts on an account, the policy is asked again, for the date of
the last cycle, what the views need (the priority, the deadlines the facts may have
moved), and what changed is recorded in the same save as the facts.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from litestar.testing import TestClient

from huikuan.adapters.bootstrap import Huikuan
from huikuan.adapters.http import Services, create_app
from huikuan.core import decisions
from huikuan.core.access import issue_key
from huikuan.core.commands import AcknowledgeDebt, AgreePaymentPlan, ReceivePayment
from huikuan.core.cycle import DailyCycle
from huikuan.core.policy import view_of
from huikuan.projections.views import snapshot_tables
from tests import portfolio

CYCLE_DAY = date(2026, 3, 20)


@pytest.fixture
def hk(ledger, policy):
    """huikuan as the bootstrap puts it together, on the test's store and policy."""
    huikuan = Huikuan(ledger, {}, host=policy)
    yield huikuan
    if "views" in huikuan.__dict__:
        huikuan.views.close()
        huikuan.projector.close()


@pytest.fixture
def client(hk):
    key = issue_key(hk.ledger, "admin")[1]
    with TestClient(create_app(Services(hk.ledger, hk.host, hk.views))) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        yield client


def kinds(ledger, customer_id: str) -> list[str]:
    return [entry.type for entry in ledger.history(customer_id)]


def test_a_payment_over_http_ranks_the_account_again_at_once(hk, client, policy):
    portfolio.build(hk.ledger)
    DailyCycle(hk.ledger, policy).run(CYCLE_DAY)
    [before] = [r for r in client.get("/v1/worklist?collector=zhang.min").json()
                if r["customer_id"] == "C-2"]
    assert before["overdue"] == "4500.00"
    answer = client.post("/v1/customers/C-2/payments", json={
        "payment_id": "P-9", "amount": "1000.00", "currency": "CNY",
        "received_on": "2026-03-20"})
    assert answer.status_code == 201
    # Ranked again for the last cycle's date, as the priority plugin says.
    account = hk.ledger.account("C-2")
    said = policy.decide("huikuan_worklist_priority", account=view_of(account), as_of=CYCLE_DAY)
    [row] = [r for r in client.get("/v1/worklist?collector=zhang.min").json()
             if r["customer_id"] == "C-2"]
    assert (row["priority"], row["reasons"], row["suggested_action"]) == (
        said.score, list(said.reasons), said.suggested_action)
    assert "3500.00 CNY overdue" in row["reasons"] and row["overdue"] == "3500.00"
    assert row["priority"] != before["priority"]
    # Recorded beside the payment, in the same save, for the cycle's date.
    assert kinds(hk.ledger, "C-2")[-3:] == ["PaymentReceived", "DeadlinesDecided",
                                            "PriorityDecided"]
    assert decisions.recorded_priority(account).decided_on == CYCLE_DAY
    # The payment settles part of I-1: its limitation period runs from the payment.
    ending = client.get("/v1/limitations?as_of=2029-03-01&within_days=60").json()
    assert [(r["invoice_id"], r["deadline"]) for r in ending if r["customer_id"] == "C-2"
            ] == [("I-1", "2029-03-20")]


def test_an_acknowledgment_over_http_moves_the_deadline_at_once(hk, client, policy):
    portfolio.build(hk.ledger)
    DailyCycle(hk.ledger, policy).run(CYCLE_DAY)
    ending = client.get("/v1/limitations?as_of=2028-10-01&within_days=60").json()
    assert [(r["customer_id"], r["deadline"]) for r in ending] == [("C-2", "2028-10-31")]
    answer = client.post("/v1/customers/C-2/acknowledgments", json={
        "acknowledged_on": "2026-03-20", "document_ref": "ACK-1"})
    assert answer.status_code == 201
    assert client.get("/v1/limitations?as_of=2028-10-01&within_days=60").json() == []
    ending = client.get("/v1/limitations?as_of=2029-03-01&within_days=60").json()
    assert [r["deadline"] for r in ending if r["customer_id"] == "C-2"] == ["2029-03-20"]
    history = hk.ledger.history("C-2")
    assert history[-1].type == "DeadlinesDecided"
    assert history[-1].data["deadlines"] == {"I-1": date(2029, 3, 20)}
    assert history[-1].data["decided_on"] == CYCLE_DAY


def test_a_plan_asks_again_for_every_open_invoice(hk, policy):
    portfolio.build(hk.ledger)
    DailyCycle(hk.ledger, policy).run(CYCLE_DAY)
    hk.ledger.execute("C-1", AgreePaymentPlan(plan_id="PL-1", agreed_on=CYCLE_DAY, installments=[
        {"due_on": date(2026, 4, 30), "amount": "300.00"},
        {"due_on": date(2027, 6, 30), "amount": "300.00"}]))
    account = hk.ledger.account("C-1")
    view = view_of(account)
    assert decisions.recorded_deadlines(account) == {
        i.invoice_id: date(2030, 6, 30) for i in view.open_invoices()}


def test_through_the_bootstraps_ledger_then_a_rebuild_gives_the_same_views(hk, policy):
    portfolio.build(hk.ledger, step=hk.views.fresh)
    DailyCycle(hk.ledger, policy, hk.views).run(CYCLE_DAY)
    hk.views.fresh()
    hk.ledger.execute("C-1", ReceivePayment(payment_id="P-9", amount="100.00", currency="CNY",
                                            received_on=CYCLE_DAY))
    hk.ledger.execute("C-2", AcknowledgeDebt(acknowledged_on=CYCLE_DAY, invoice_ids=["I-1"]))
    hk.views.fresh()
    said = policy.decide("huikuan_worklist_priority",
                         account=view_of(hk.ledger.account("C-1")), as_of=CYCLE_DAY)
    [row] = [r for r in hk.views.worklist("li.wei") if r["customer_id"] == "C-1"]
    assert (row["priority"], list(row["reasons"])) == (said.score, list(said.reasons))
    live = snapshot_tables(hk.views.db, hk.views.conn)
    hk.projector.rebuild(batch_size=5)
    assert snapshot_tables(hk.views.db, hk.views.conn) == live


def test_nothing_is_decided_before_any_cycle_nor_by_a_bare_ledger(hk, ledger, policy):
    portfolio.build(hk.ledger)  # through the bootstrap's ledger, before any cycle
    for customer_id in ("C-1", "C-2", "C-3"):
        assert not {"DeadlinesDecided", "PriorityDecided"} & set(kinds(ledger, customer_id))
    DailyCycle(ledger, policy).run(CYCLE_DAY)
    ledger.decide_after_facts = None  # a ledger nobody wired records the facts alone
    version = ledger.account("C-2").version
    ledger.execute("C-2", ReceivePayment(payment_id="P-9", amount="1000.00", currency="CNY",
                                         received_on=CYCLE_DAY))
    assert ledger.account("C-2").version == version + 1
    assert kinds(ledger, "C-2")[-1] == "PaymentReceived"


def test_an_import_is_decided_for_in_the_same_save(hk, policy, tmp_path: Path):
    from huikuan.adapters.importer import import_ledger

    portfolio.build(hk.ledger)
    DailyCycle(hk.ledger, policy).run(CYCLE_DAY)
    path = tmp_path / "ledger.csv"
    path.write_text("customer_id,customer_name,invoice_id,amount,currency,issued_on,due_on,"
                    "paid_amount\nC-2,Customer C-2,I-9,900.00,CNY,2026-01-10,2026-02-09,100.00\n",
                    encoding="utf-8")
    import_ledger(hk.ledger, path, as_of=CYCLE_DAY)
    account = hk.ledger.account("C-2")
    # The paid part, with no paid date in the file, is dated its due date (before the
    # import's date), and a part payment restarts limitation from that day.
    assert decisions.recorded_deadlines(account)["I-9"] == date(2029, 2, 9)
    said = policy.decide("huikuan_worklist_priority", account=view_of(account), as_of=CYCLE_DAY)
    recorded = decisions.recorded_priority(account)
    assert recorded is not None and recorded.reasons == tuple(said.reasons)
    assert "4500.00 CNY overdue" not in recorded.reasons

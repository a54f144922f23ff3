"""An account is decided again when a fact arrives, not only at the nightly cycle.

As Kill Bill's overdue engine does, a payment (a credit note, a dispute, a write-off)
that settles what put supply on hold releases it in the same request: the payment's
answer says ``supply_hold: false`` and the credit check allows at once. The stage and
the risk a person sees follow the facts. The plugins still decide, and what they
decided is recorded beside the fact, in the same save. A fact never queues a demand:
climbing the ladder stays the cycle's job.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from litestar.testing import TestClient

from huikuan.adapters.bootstrap import Huikuan
from huikuan.adapters.http import Services, create_app
from huikuan.core.access import issue_key
from huikuan.core.account import Account
from huikuan.core.plugin import hookimpl
from huikuan.core.policy import PolicyHost

ISSUED = date(2026, 1, 1)  # due 2026-01-31 on 30-day terms


def day(n: int) -> str:
    """The due date plus ``n`` days, as the wire writes it."""
    return (date(2026, 1, 31) + timedelta(days=n)).isoformat()


@pytest.fixture
def hk(ledger, policy):
    """huikuan as the bootstrap puts it together, on the test's store and policy."""
    huikuan = Huikuan(ledger, {}, host=policy)
    yield huikuan
    if "views" in huikuan.__dict__:
        huikuan.views.close()
        huikuan.projector.close()


@pytest.fixture
def http(hk):
    key = issue_key(hk.ledger, "admin")[1]
    with TestClient(create_app(Services(hk.ledger, hk.host, hk.views))) as client:
        client.headers["Authorization"] = f"Bearer {key}"

        def post(path: str, body: dict[str, object], status: int = 201) -> dict[str, object]:
            response = client.post(path, json=body)
            assert response.status_code == status, response.text
            answer: dict[str, object] = response.json()
            return answer

        client.post_ok = post  # type: ignore[attr-defined]
        yield client


@pytest.fixture
def held(http):
    """C-1 owes 1000.00 due 2026-01-31 and 500.00 due 2026-03-31; the cycle of +30 held
    its supply."""
    http.post_ok("/v1/customers", {"customer_id": "C-1", "name": "华东贸易有限公司",
                                   "currency": "CNY", "collector": "li.wei",
                                   "contacts": [{"name": "财务", "email": "ap@c1.example"}]})
    http.post_ok("/v1/customers/C-1/invoices", {"invoice_id": "I-1", "amount": "1000.00",
                                                "currency": "CNY", "issued_on": "2026-01-01"})
    http.post_ok("/v1/customers/C-1/invoices", {"invoice_id": "I-2", "amount": "500.00",
                                                "currency": "CNY", "issued_on": "2026-03-01"})
    for n in (-1, 1, 15, 30):
        http.post_ok("/v1/cycle", {"as_of": day(n)}, status=200)
    account = http.get("/v1/customers/C-1").json()
    assert (account["stage"], account["supply_hold"]) == ("hold", True)
    check = http.get("/v1/customers/C-1/credit-check", params={"amount": "100.00"}).json()
    assert check["allowed"] is False
    return http


def test_a_payment_that_settles_what_caused_the_hold_releases_it_in_its_own_request(held, hk):
    messages = len(held.get("/v1/messages?customer_id=C-1").json())
    answer = held.post_ok("/v1/customers/C-1/payments", {
        "payment_id": "P-1", "amount": "1000.00", "currency": "CNY", "received_on": day(31)})
    # The payment's own answer says the hold is gone; the stage stays while I-2 is owed.
    assert answer["supply_hold"] is False
    assert answer["stage"] == "hold"
    # The credit check allows at once: no cycle has run since the payment.
    check = held.get("/v1/customers/C-1/credit-check", params={"amount": "100.00"}).json()
    assert check == {**check, "allowed": True, "reasons": []}
    assert held.get("/v1/customers/C-1").json()["supply_hold"] is False
    # Decided by the escalation plugin and recorded beside the payment, in the same save.
    events = list(hk.ledger.events.get(hk.ledger.account("C-1").id))
    payment = next(n for n, e in enumerate(events) if isinstance(e, Account.PaymentReceived))
    released = next(e for e in events[payment:] if isinstance(e, Account.SupplyReleased))
    assert released.plugin == "escalation"
    between = events[payment + 1:events.index(released)]
    assert all(isinstance(e, Account.Decision) for e in between)
    assert released.based_on["prompted_by"] == ["PaymentReceived P-1"]
    # No message: a fact never queues a demand.
    assert len(held.get("/v1/messages?customer_id=C-1").json()) == messages


def test_paid_in_full_the_account_falls_back_to_none_at_once(held):
    answer = held.post_ok("/v1/customers/C-1/payments", {
        "payment_id": "P-1", "amount": "1500.00", "currency": "CNY", "received_on": day(31)})
    assert (answer["stage"], answer["supply_hold"]) == ("none", False)
    account = held.get("/v1/customers/C-1").json()
    assert (account["stage"], account["supply_hold"]) == ("none", False)
    # The next cycle finds nothing left to decide about the ladder.
    summary = held.post_ok("/v1/cycle", {"as_of": day(32)}, status=200)
    assert not {k for k in summary["counts"] if k.startswith(("stage", "supply", "message"))}


@pytest.mark.parametrize("fact", ["credit-notes", "disputes", "write-offs"])
def test_a_credit_note_a_dispute_or_a_write_off_of_what_was_held_for_releases_it(held, fact):
    body = {"credit-notes": {"credit_note_id": "CN-1", "invoice_id": "I-1",
                             "amount": "1000.00", "issued_on": day(31)},
            "disputes": {"dispute_id": "D-1", "invoice_id": "I-1", "amount": "1000.00",
                         "raised_on": day(31)},
            "write-offs": {"invoice_id": "I-1", "amount": "1000.00",
                           "written_off_on": day(31)}}[fact]
    answer = held.post_ok(f"/v1/customers/C-1/{fact}", body)
    assert answer["supply_hold"] is False
    check = held.get("/v1/customers/C-1/credit-check", params={"amount": "100.00"}).json()
    assert check["allowed"] is True


def test_a_part_payment_that_leaves_the_cause_owed_keeps_the_hold(held):
    answer = held.post_ok("/v1/customers/C-1/payments", {
        "payment_id": "P-1", "amount": "400.00", "currency": "CNY", "received_on": day(31)})
    assert (answer["stage"], answer["supply_hold"]) == ("hold", True)
    check = held.get("/v1/customers/C-1/credit-check", params={"amount": "100.00"}).json()
    assert check["allowed"] is False


def test_a_bounce_holds_again_and_the_risk_follows_at_once(held):
    held.post_ok("/v1/customers/C-1/payments", {
        "payment_id": "P-1", "amount": "1000.00", "currency": "CNY", "received_on": day(31)})
    assert held.get("/v1/customers/C-1").json()["risk"]["signals"] == []
    answer = held.post_ok("/v1/customers/C-1/payments/P-1/bounce", {"bounced_on": day(33)})
    assert (answer["stage"], answer["supply_hold"]) == ("hold", True)
    account = held.get("/v1/customers/C-1").json()
    assert account["supply_hold"] is True
    assert account["risk"]["signals"] == ["bounced_payment"]
    assert account["risk"]["grade"] == "C"  # 25 points: grade C from 25


def test_a_fact_never_climbs_the_ladder_nor_queues_a_demand(http, hk):
    # The cycle has run; an invoice far overdue arrives (back-dated, from an import).
    http.post_ok("/v1/customers", {"customer_id": "C-2", "name": "x", "currency": "CNY",
                                   "contacts": [{"name": "财务", "email": "ap@c2.example"}]})
    http.post_ok("/v1/cycle", {"as_of": day(40)}, status=200)
    answer = http.post_ok("/v1/customers/C-2/invoices", {
        "invoice_id": "I-9", "amount": "800.00", "currency": "CNY", "issued_on": "2026-01-01"})
    assert answer["open_amount"] == "800.00"
    account = http.get("/v1/customers/C-2").json()
    assert (account["stage"], account["supply_hold"]) == ("none", False)
    assert http.get("/v1/messages?customer_id=C-2").json() == []
    # The cycle climbs, once per step: the next one queues the demand.
    http.post_ok("/v1/cycle", {"as_of": day(41)}, status=200)
    account = http.get("/v1/customers/C-2").json()
    assert (account["stage"], account["supply_hold"]) == ("hold", True)
    kinds = sorted((m["kind"], m["channel"]) for m in
                   http.get("/v1/messages?customer_id=C-2").json())
    assert kinds == [("manager_review", "worklist"), ("warning", "email"),
                     ("warning", "letter")]
    http.post_ok("/v1/cycle", {"as_of": day(42)}, status=200)
    assert len(http.get("/v1/messages?customer_id=C-2").json()) == 3


class Failing:
    """A risk plugin that fails once it is ``down``."""

    down = False

    @hookimpl(tryfirst=True)
    def huikuan_risk_score(self, account, signals, as_of, settings):
        if self.down:
            raise RuntimeError("the risk service is down")


def test_a_plugin_failing_on_a_fact_leaves_the_fact_recorded(ledger, policy):
    failing = Failing()
    host = PolicyHost(policy.settings, load_entry_points=False,
                      extra_plugins=[("failing", failing)])
    huikuan = Huikuan(ledger, {}, host=host)
    try:
        key = issue_key(ledger, "admin")[1]
        with TestClient(create_app(Services(ledger, host, huikuan.views))) as client:
            client.headers["Authorization"] = f"Bearer {key}"
            client.post("/v1/customers", json={"customer_id": "C-3", "name": "x",
                                               "currency": "CNY"})
            client.post("/v1/customers/C-3/invoices", json={
                "invoice_id": "I-1", "amount": "100.00", "currency": "CNY",
                "issued_on": "2026-01-01"})
            client.post("/v1/cycle", json={"as_of": day(5)})
            assert ledger.account("C-3").stage == "notice"
            failing.down = True
            paid = client.post("/v1/customers/C-3/payments", json={
                "payment_id": "P-1", "amount": "100.00", "currency": "CNY",
                "received_on": day(6)})
            assert paid.status_code == 201
            account = ledger.account("C-3")
            assert account.invoices["I-1"].open_amount == 0
            # Each decision stands alone: the ladder still followed the payment.
            assert account.stage == "none"
    finally:
        huikuan.views.close()
        huikuan.projector.close()

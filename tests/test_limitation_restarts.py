"""Limitation (诉讼时效, Civil Code art. 195) through HTTP: a demand that reached the debtor
restarts the period of its invoices at once, and a claim whose period ended stays listed.

A warning letter is queued by the cycle and sent by the dispatcher; the collector then
records the courier's proof of delivery (``POST /messages/{id}/delivery``). The deadline
of the invoices the letter is about moves to the delivery date plus three years in the
same request; an invoice the letter is not about keeps its deadline.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from litestar.testing import TestClient

from huikuan.adapters.bootstrap import Huikuan
from huikuan.adapters.http import Services, create_app
from huikuan.core.access import ROLES, issue_key
from huikuan.core.outbox import Dispatcher

CUSTOMER = {"customer_id": "C-1", "name": "华东贸易有限公司", "currency": "CNY",
            "contacts": [{"name": "财务", "email": "ap@acme.example"}],
            "collector": "li.wei"}
CYCLE_DAY = "2026-02-16"  # I-1, due 2026-01-31, is 16 days late: the warning step
# 10:00 in Shanghai, within contact hours.
SENDING = datetime(2026, 2, 17, 2, 0, tzinfo=UTC)
PROOF = {"delivered_on": "2026-02-20", "proof_ref": "EMS 1234567890", "method": "courier"}


@pytest.fixture
def hk(ledger, policy):
    huikuan = Huikuan(ledger, {}, host=policy)
    yield huikuan
    if "views" in huikuan.__dict__:
        huikuan.views.close()
        huikuan.projector.close()


@pytest.fixture
def api(hk):
    keys = {role: issue_key(hk.ledger, role)[1] for role in ROLES}
    with TestClient(create_app(Services(hk.ledger, hk.host, hk.views))) as client:
        client.as_role = lambda role: {"Authorization": f"Bearer {keys[role]}"}  # type: ignore[attr-defined]
        client.headers["Authorization"] = f"Bearer {keys['collector']}"
        yield client


def post(api, path: str, body: dict[str, object], role: str = "admin"):
    return api.post(path, json=body, headers=api.as_role(role))


@pytest.fixture
def warned(api, hk):
    """A warning to C-1 about I-1: the letter sent, the e-mail still queued."""
    assert post(api, "/v1/customers", CUSTOMER).status_code == 201
    assert post(api, "/v1/customers/C-1/invoices", {
        "invoice_id": "I-1", "amount": "1000.00", "currency": "CNY",
        "issued_on": "2026-01-01"}).status_code == 201
    assert post(api, "/v1/cycle", {"as_of": CYCLE_DAY}).status_code == 200
    # An invoice issued after the warning: the letter is not about it.
    assert post(api, "/v1/customers/C-1/invoices", {
        "invoice_id": "I-2", "amount": "500.00", "currency": "CNY",
        "issued_on": "2026-02-17"}).status_code == 201
    warnings = {m["channel"]: m["message_id"] for m in api.get("/v1/messages").json()
                if m["kind"] == "warning"}
    assert set(warnings) == {"letter", "email"}
    assert Dispatcher(hk.ledger, hk.host).dispatch("C-1", warnings["letter"], SENDING) == "sent"
    return warnings


def deadlines(api, as_of: str = "2026-03-01") -> dict[str, tuple[str, bool]]:
    listed = api.get(f"/v1/limitations?as_of={as_of}&within_days=36500").json()
    return {r["invoice_id"]: (r["deadline"], r["expired"]) for r in listed}


def test_a_delivered_warning_restarts_limitation_for_its_invoices_at_once(api, hk, warned):
    assert deadlines(api) == {"I-1": ("2029-01-31", False), "I-2": ("2029-03-19", False)}
    letter = warned["letter"]
    answer = api.post(f"/v1/messages/{letter}/delivery", json=PROOF)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"customer_id": "C-1", "message_id": letter, **PROOF,
                             "invoice_ids": ["I-1"]}
    # Three years from the day it reached the debtor, for I-1 only; in the same request.
    assert deadlines(api) == {"I-1": ("2029-02-20", False), "I-2": ("2029-03-19", False)}
    types = [e.type for e in hk.ledger.history("C-1")]
    assert types[-2:] == ["DemandDelivered", "DeadlinesDecided"]
    decided = hk.ledger.history("C-1")[-1].data
    assert decided["plugin"] == "limitation" and decided["deadlines"] == {
        "I-1": date(2029, 2, 20)}
    # The message shows its proof of delivery.
    shown = api.get(f"/v1/messages/{letter}").json()
    assert shown["status"] == "sent" and shown["delivery"] == PROOF
    assert api.get(f"/v1/messages/{warned['email']}").json()["delivery"] is None
    # The cycle decides the same: nothing moves back.
    assert post(api, "/v1/cycle", {"as_of": "2026-02-21"}).status_code == 200
    assert deadlines(api)["I-1"] == ("2029-02-20", False)


def test_the_same_proof_again_records_nothing_and_another_is_a_conflict(api, hk, warned):
    letter = warned["letter"]
    first = api.post(f"/v1/messages/{letter}/delivery", json=PROOF)
    events = len(hk.ledger.history("C-1"))
    again = api.post(f"/v1/messages/{letter}/delivery", json=PROOF)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert len(hk.ledger.history("C-1")) == events
    other = api.post(f"/v1/messages/{letter}/delivery",
                     json={**PROOF, "delivered_on": "2026-02-21"})
    assert other.status_code == 409
    assert len(hk.ledger.history("C-1")) == events


def test_a_message_not_sent_yet_is_a_conflict_and_an_unknown_one_not_found(api, hk, warned):
    events = len(hk.ledger.history("C-1"))
    unsent = api.post(f"/v1/messages/{warned['email']}/delivery", json=PROOF)
    assert unsent.status_code == 409, unsent.text
    assert unsent.json()["errors"][0]["field"] == "message_id"
    assert "not been sent" in unsent.json()["detail"]
    unknown = api.post("/v1/messages/m-000000000000000000000000/delivery", json=PROOF)
    assert unknown.status_code == 404
    assert len(hk.ledger.history("C-1")) == events
    assert deadlines(api)["I-1"] == ("2029-01-31", False)


@pytest.mark.parametrize(("body", "field"), [
    ({}, "delivered_on"),
    ({**PROOF, "delivered_on": "2026-02-30"}, "delivered_on"),
    ({**PROOF, "delivered_on": "20 Feb"}, "delivered_on"),
    ({**PROOF, "delivered_on": "2026-02-16"}, "delivered_on"),  # before it was sent
    ({**PROOF, "method": "pigeon"}, "method"),
    ({**PROOF, "proof_ref": "x" * 201}, "proof_ref"),
    ({**PROOF, "proof_ref": "EMS\x00"}, "proof_ref"),
    ({**PROOF, "signed": True}, "signed"),
])
def test_a_bad_proof_is_refused_naming_the_field(api, hk, warned, body, field):
    events = len(hk.ledger.history("C-1"))
    answer = api.post(f"/v1/messages/{warned['letter']}/delivery", json=body)
    assert answer.status_code == 422, answer.text
    assert field in {e["field"].rpartition(".")[2] for e in answer.json()["errors"]}
    assert len(hk.ledger.history("C-1")) == events


@pytest.mark.parametrize(("role", "status"), [
    ("admin", 201), ("manager", 201), ("collector", 201), ("integration", 403),
    ("auditor", 403),
])
def test_those_who_keep_the_case_file_record_a_delivery(api, warned, role, status):
    answer = api.post(f"/v1/messages/{warned['letter']}/delivery", json=PROOF,
                      headers=api.as_role(role))
    assert answer.status_code == status


def test_an_expired_claim_stays_listed_as_expired(api):
    assert post(api, "/v1/customers", CUSTOMER).status_code == 201
    for invoice_id, issued_on in (("I-1", "2026-01-01"), ("I-2", "2026-06-01")):
        assert post(api, "/v1/customers/C-1/invoices", {
            "invoice_id": invoice_id, "amount": "1000.00", "currency": "CNY",
            "issued_on": issued_on}).status_code == 201
    # I-1's period ended on 2029-01-31; I-2's ends on 2029-07-01.
    listed = api.get("/v1/limitations?as_of=2029-03-01&within_days=30").json()
    assert [(r["invoice_id"], r["deadline"], r["expired"]) for r in listed] == [
        ("I-1", "2029-01-31", True)]
    listed = api.get("/v1/limitations?as_of=2029-06-15&within_days=30").json()
    assert [(r["invoice_id"], r["deadline"], r["expired"]) for r in listed] == [
        ("I-1", "2029-01-31", True), ("I-2", "2029-07-01", False)]
    # On its last day a claim may still be brought: not expired.
    listed = api.get("/v1/limitations?as_of=2029-01-31&within_days=0").json()
    assert [(r["invoice_id"], r["expired"]) for r in listed] == [("I-1", False)]
    # Paid, it is no longer a claim.
    assert post(api, "/v1/customers/C-1/payments", {
        "payment_id": "P-1", "amount": "1000.00", "currency": "CNY",
        "received_on": "2029-03-01",
        "allocations": [{"invoice_id": "I-1", "amount": "1000.00"}]}).status_code == 201
    assert api.get("/v1/limitations?as_of=2029-03-01&within_days=30").json() == []

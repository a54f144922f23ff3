"""The credit check held to (前款不结，后货不送): with ``[credit] enforce = true`` an invoice
that would break the limit, or is posted while supply is held, is refused with 409
``credit-refused`` and its reasons, recording nothing, unless a manager or an admin
gives ``override_reason``; the override is recorded with who gave it."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from huikuan.adapters.http import Services, create_app
from huikuan.core.access import ROLES, issue_key
from huikuan.core.plugin import Settings
from huikuan.core.policy import PolicyHost
from huikuan.projections.queries import Views

CUSTOMER = {"customer_id": "C-1", "name": "华东贸易有限公司", "currency": "CNY",
            "credit_limit": "100000.00", "contacts": [{"name": "财务", "email": "ap@acme.example"}]}
SALE = {"invoice_id": "I-2", "amount": "20000.00", "currency": "CNY", "issued_on": "2026-02-01"}


def client_for(ledger, policy, enforce: bool):
    sections = {**policy.settings.sections, "credit": {"enforce": enforce}}
    host = PolicyHost(Settings(sections=sections, env=policy.settings.env),
                      load_entry_points=False)
    views = Views(ledger)
    keys = {role: issue_key(ledger, role) for role in ROLES}
    client = TestClient(create_app(Services(ledger, host, views)))
    client.key_ids = {role: key_id for role, (key_id, _) in keys.items()}  # type: ignore[attr-defined]
    client.as_role = lambda role: {"Authorization": f"Bearer {keys[role][1]}"}  # type: ignore[attr-defined]
    return client, views


@pytest.fixture
def api(ledger, policy):
    """The API with [credit] enforce = true, C-1 owing 90000.00 of its 100000.00 limit."""
    client, views = client_for(ledger, policy, enforce=True)
    with client:
        client.headers.update(client.as_role("integration"))
        assert client.post("/v1/customers", json=CUSTOMER).status_code == 201
        assert client.post("/v1/customers/C-1/invoices", json={
            "invoice_id": "I-1", "amount": "90000.00", "currency": "CNY",
            "issued_on": "2026-01-01"}).status_code == 201
        yield client
    views.close()
    views.projector.close()


def history(ledger) -> list[str]:
    return [e.type for e in ledger.history("C-1")]


def test_an_invoice_over_the_limit_is_refused_with_the_reasons_and_nothing_recorded(
        api, ledger):
    before = history(ledger)
    refused = api.post("/v1/customers/C-1/invoices", json=SALE)
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert problem["type"].endswith("credit-refused")
    assert problem["reasons"] == [
        "exposure 90000.00 + 20000.00 exceeds the credit limit 100000.00"]
    assert history(ledger) == before
    assert [i["invoice_id"] for i in api.get("/v1/customers/C-1").json()["invoices"]] == ["I-1"]
    # What credit-check says for the same amount is what the sale was held to.
    check = api.get("/v1/customers/C-1/credit-check?amount=20000.00").json()
    assert check["allowed"] is False and check["reasons"] == problem["reasons"]
    # Within the limit it goes.
    within = api.post("/v1/customers/C-1/invoices", json={**SALE, "amount": "10000.00"})
    assert within.status_code == 201 and within.json()["credit_override"] is None


def test_an_invoice_while_supply_is_held_is_refused(api, ledger):
    # 34 days past due: the cycle holds supply (the hold step, +30).
    assert api.post("/v1/cycle", json={"as_of": "2026-03-06"},
                    headers=api.as_role("manager")).status_code == 200
    assert api.get("/v1/customers/C-1").json()["supply_hold"] is True
    before = history(ledger)
    refused = api.post("/v1/customers/C-1/invoices", json={**SALE, "amount": "1.00"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("credit-refused")
    assert refused.json()["reasons"] == ["supply is on hold until the overdue debt is paid"]
    assert history(ledger) == before


@pytest.mark.parametrize("role", ["manager", "admin"])
def test_a_manager_overrides_with_a_reason_and_the_override_is_recorded(api, ledger, role):
    body = {**SALE, "override_reason": "老客户, 总经理批准"}
    accepted = api.post("/v1/customers/C-1/invoices", json=body, headers=api.as_role(role))
    assert accepted.status_code == 201, accepted.text
    who = f"key:{api.key_ids[role]}"
    override = {"reasons": ["exposure 90000.00 + 20000.00 exceeds the credit limit 100000.00"],
                "override_reason": "老客户, 总经理批准", "overridden_by": who}
    assert accepted.json()["credit_override"] == override
    assert accepted.json()["open_amount"] == "20000.00"
    [event] = [e for e in ledger.history("C-1") if e.type == "CreditOverridden"]
    assert event.data["invoice_id"] == "I-2" and event.data["overridden_by"] == who
    assert event.data["override_reason"] == "老客户, 总经理批准"
    assert history(ledger)[-2:] == ["InvoiceIssued", "CreditOverridden"]
    # The same invoice again is a repeat, with or without the reason: 200, nothing new.
    events = len(history(ledger))
    for again in (body, SALE):
        repeat = api.post("/v1/customers/C-1/invoices", json=again, headers=api.as_role(role))
        assert repeat.status_code == 200 and repeat.json()["credit_override"] == override
    assert len(history(ledger)) == events


@pytest.mark.parametrize("role", ["collector", "integration"])
def test_another_role_giving_an_override_is_forbidden(api, ledger, role):
    before = history(ledger)
    answer = api.post("/v1/customers/C-1/invoices",
                      json={**SALE, "amount": "1.00", "override_reason": "please"},
                      headers=api.as_role(role))
    assert answer.status_code == 403
    assert history(ledger) == before


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501, "a\x00b", 7])
def test_a_bad_override_reason_is_refused_naming_the_field(api, ledger, reason):
    before = history(ledger)
    answer = api.post("/v1/customers/C-1/invoices", json={**SALE, "override_reason": reason},
                      headers=api.as_role("manager"))
    assert answer.status_code == 422, answer.text
    assert "override_reason" in {e["field"] for e in answer.json()["errors"]}
    assert history(ledger) == before


def test_a_repeat_of_an_invoice_recorded_before_is_a_repeat_whatever_the_check_says(
        api, ledger):
    # I-1 alone is within the limit; sent again now that more is owed, it is still 200.
    assert api.post("/v1/customers/C-1/invoices", json={**SALE, "amount": "10000.00"}
                    ).status_code == 201
    again = api.post("/v1/customers/C-1/invoices", json={
        "invoice_id": "I-1", "amount": "90000.00", "currency": "CNY",
        "issued_on": "2026-01-01"})
    assert again.status_code == 200


def test_bad_input_comes_before_the_credit_check(api, ledger):
    wrong = api.post("/v1/customers/C-1/invoices", json={**SALE, "currency": "USD"})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "currency"


def test_without_enforce_an_invoice_over_the_limit_is_accepted_as_in_v1(ledger, policy):
    client, views = client_for(ledger, policy, enforce=False)
    try:
        with client:
            client.headers.update(client.as_role("integration"))
            assert client.post("/v1/customers", json=CUSTOMER).status_code == 201
            over = client.post("/v1/customers/C-1/invoices", json={**SALE, "amount": "200000.00"})
            assert over.status_code == 201 and over.json()["credit_override"] is None
            check = client.get("/v1/customers/C-1/credit-check?amount=1.00").json()
            assert check["allowed"] is False  # advisory: the sale was not held to it
            # An override reason from a manager changes nothing when nothing is enforced.
            assert client.post("/v1/customers/C-1/invoices", json={
                **SALE, "invoice_id": "I-3", "override_reason": "ok"},
                headers=client.as_role("manager")).json()["credit_override"] is None
            assert "CreditOverridden" not in history(ledger)
    finally:
        views.close()
        views.projector.close()


def test_two_sales_at_once_cannot_both_pass_on_the_same_room(api, ledger):
    """10000.00 left under the limit, two sales of 6000.00 posted at the same moment from
    two threads: the check is made inside the save, so one is recorded, one refused."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    start = Barrier(2)

    def sell(invoice_id: str) -> int:
        start.wait()
        return api.post("/v1/customers/C-1/invoices",
                        json={**SALE, "invoice_id": invoice_id, "amount": "6000.00"}
                        ).status_code

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(sell, ["I-A", "I-B"]))
    assert statuses == [201, 409]
    assert ledger.account("C-1").balance == 96000

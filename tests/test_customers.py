"""Customers as people keep them: master data changed by PATCH, and the customer list.

Through HTTP on both backends, with huikuan put together as the bootstrap does (facts
decided for at once): a reassigned account moves in the worklist and in aging by
collector at once, a changed language, contact or address is used by the next message
the cycle queues, the list pages with a stable cursor while customers are registered.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from litestar.testing import TestClient

from huikuan.adapters.bootstrap import Huikuan
from huikuan.adapters.http import Services, create_app
from huikuan.core.access import ROLES, issue_key
from huikuan.core.clock import company_today
from huikuan.projections.customers import CustomerFilter
from huikuan.projections.views import snapshot_tables


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
        client.headers["Authorization"] = f"Bearer {keys['admin']}"
        yield client


def register(api, customer_id: str, **fields: Any) -> dict[str, Any]:
    body = {"customer_id": customer_id, "name": "华东贸易有限公司", "currency": "CNY",
            "collector": "li.wei", **fields}
    answer = api.post("/v1/customers", json=body)
    assert answer.status_code == 201, answer.json()
    return answer.json()


def invoice(api, customer_id: str, invoice_id: str, amount: str, issued_on: str,
            **fields: Any) -> dict[str, Any]:
    answer = api.post(f"/v1/customers/{customer_id}/invoices", json={
        "invoice_id": invoice_id, "amount": amount, "currency": "CNY",
        "issued_on": issued_on, **fields})
    assert answer.status_code == 201, answer.json()
    return answer.json()


def events(api, customer_id: str) -> list[dict[str, Any]]:
    return api.get(f"/v1/customers/{customer_id}/history").json()["events"]


def queue(api, collector: str, **query: str) -> list[str]:
    found = api.get("/v1/worklist", params={"collector": collector, **query})
    assert found.status_code == 200
    return [row["customer_id"] for row in found.json()]


def aging_by_collector(api, as_of: str) -> dict[str, str]:
    rows = api.get("/v1/aging", params={"group_by": "collector", "as_of": as_of}).json()
    return {row["key"]: row["total"] for row in rows["rows"]}


# ---- master data


def test_a_reassigned_account_moves_in_the_worklist_and_aging_at_once(api, hk):
    register(api, "C-1")
    register(api, "C-2", collector="zhang.min")
    invoice(api, "C-1", "I-1", "1000.00", "2026-01-01")
    invoice(api, "C-2", "I-1", "300.00", "2026-01-01")
    assert api.post("/v1/customers/C-1/payments", json={
        "payment_id": "P-1", "amount": "100.00", "currency": "CNY",
        "received_on": "2026-02-10"}).status_code == 201
    assert api.post("/v1/cycle", json={"as_of": "2026-03-01"}).status_code == 200
    assert queue(api, "li.wei") == ["C-1"]
    assert queue(api, "wang.fang") == []
    # Aging as of three dates, each read by its own route: the movements (money moved
    # after it), the invoice rows (classified after it) and the running totals.
    dates = ("2026-02-01", "2026-02-15", "2026-03-01")
    before = {day: aging_by_collector(api, day) for day in dates}
    assert before["2026-03-01"] == {"li.wei": "900.00", "zhang.min": "300.00"}
    assert before["2026-02-01"] == {"li.wei": "1000.00", "zhang.min": "300.00"}

    changed = api.patch("/v1/customers/C-1", json={"collector": "wang.fang"})
    assert changed.status_code == 200
    assert (changed.json()["collector"], changed.json()["changed"]) == ("wang.fang",
                                                                        ["collector"])
    # At once: the cycle's queue, another day's queue, aging by collector on every route.
    assert queue(api, "li.wei") == []
    assert queue(api, "wang.fang") == ["C-1"]
    assert queue(api, "wang.fang", as_of="2026-03-05") == ["C-1"]
    assert queue(api, "li.wei", as_of="2026-03-05") == []
    for day in dates:
        moved = {("wang.fang" if k == "li.wei" else k): v for k, v in before[day].items()}
        assert aging_by_collector(api, day) == moved, day
    assert aging_by_collector(api, company_today({}).isoformat()) == {
        "wang.fang": "900.00", "zhang.min": "300.00"}
    # History says what changed, from what, and from when.
    [change] = [e for e in events(api, "C-1") if e["type"] == "CustomerChanged"]
    assert change["data"]["changes"] == {"collector": "wang.fang"}
    assert change["data"]["previous"] == {"collector": "li.wei"}
    assert change["occurred_on"] == company_today({}).isoformat()
    # The views folded live are the views folded again from the events alone.
    live = snapshot_tables(hk.views.db, hk.views.conn)
    hk.projector.rebuild()
    assert snapshot_tables(hk.views.db, hk.views.conn) == live


def test_a_retried_or_empty_change_records_nothing(api):
    register(api, "C-1")
    first = api.patch("/v1/customers/C-1", json={"credit_limit": "5000", "tags": ["vip"]})
    assert first.status_code == 200 and first.json()["changed"] == ["credit_limit", "tags"]
    count = len(events(api, "C-1"))
    again = api.patch("/v1/customers/C-1", json={"credit_limit": "5000.00", "tags": ["vip"]})
    assert (again.status_code, again.json()["changed"]) == (200, [])
    assert {k: v for k, v in again.json().items() if k != "changed"} == {
        k: v for k, v in first.json().items() if k != "changed"}
    empty = api.patch("/v1/customers/C-1", json={})
    assert (empty.status_code, empty.json()["changed"], empty.json()["credit_limit"]) == (
        200, [], "5000.00")
    # Only what differs is recorded: the collector is the same, the grade is new.
    part = api.patch("/v1/customers/C-1", json={"collector": "li.wei", "credit_grade": "B"})
    assert part.json()["changed"] == ["credit_grade"]
    assert len(events(api, "C-1")) == count + 1
    assert events(api, "C-1")[-1]["data"]["changes"] == {"credit_grade": "B"}
    # A registration repeated after a change is still the same registration.
    repeat = api.post("/v1/customers", json={"customer_id": "C-1", "name": "华东贸易有限公司",
                                             "currency": "CNY", "collector": "li.wei"})
    assert repeat.status_code == 200


def test_null_clears_what_may_be_empty(api):
    register(api, "C-1", credit_limit="1000.00", credit_grade="A", tax_id="91310000X")
    cleared = api.patch("/v1/customers/C-1", json={
        "collector": None, "credit_limit": None, "credit_grade": None, "tax_id": None})
    assert cleared.json()["changed"] == ["collector", "credit_limit", "credit_grade", "tax_id"]
    shown = api.get("/v1/customers/C-1").json()
    assert [shown[f] for f in ("collector", "credit_limit", "credit_grade", "tax_id")] == [
        None, None, None, None]
    assert api.get("/v1/customers/C-1/credit-check?amount=1000000").json()["allowed"]


@pytest.mark.parametrize(("body", "field"), [
    ({"bogus": 1}, "bogus"),
    ({"credit_grade": "F"}, "credit_grade"),
    ({"credit_limit": "-1.00"}, "credit_limit"),
    ({"credit_limit": "10.001"}, "credit_limit"),
    ({"credit_limit": 10.5}, "credit_limit"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"language": "fr"}, "language"),
    ({"payment_terms_days": -1}, "payment_terms_days"),
    ({"name": None}, "name"),
    ({"name": "  "}, "name"),
    ({"tags": ["has space"]}, "tags.0"),
    ({"contacts": [{"email": "x@y.example"}]}, "contacts.0.name"),
    ({"address": {"city": "上海市"}}, "address.line1"),
    ({"address": {"line1": "张江路1号", "country": "China"}}, "address.country"),
    ({"currency": "USD"}, "currency"),
    ({"customer_id": "C-2"}, "customer_id"),
    ({"effective_on": "2026/12/01"}, "effective_on"),
    ({"collector": "wang.fang", "credit_grade": "Z"}, "credit_grade"),
])
def test_bad_input_is_422_naming_the_field_and_records_nothing(api, body, field):
    register(api, "C-1")
    count = len(events(api, "C-1"))
    refused = api.patch("/v1/customers/C-1", json=body)
    assert refused.status_code == 422, refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in refused.json()["errors"]], refused.json()
    assert len(events(api, "C-1")) == count
    assert api.get("/v1/customers/C-1").json()["collector"] == "li.wei"


def test_the_same_currency_is_no_change_and_an_unknown_customer_is_404(api):
    register(api, "C-1")
    same = api.patch("/v1/customers/C-1", json={"currency": "CNY"})
    assert (same.status_code, same.json()["changed"]) == (200, [])
    assert api.patch("/v1/customers/NOPE", json={"collector": "x"}).status_code == 404


def test_roles_a_collector_may_change_contacts_and_address_only(api):
    register(api, "C-1")
    count = len(events(api, "C-1"))
    refused = api.patch("/v1/customers/C-1", json={"credit_limit": "100.00"},
                        headers=api.as_role("collector"))
    assert refused.status_code == 403
    assert "credit_limit" in refused.json()["detail"]
    mixed = api.patch("/v1/customers/C-1", headers=api.as_role("collector"), json={
        "contacts": [{"name": "王会计"}], "collector": "someone.else"})
    assert mixed.status_code == 403 and "collector" in mixed.json()["detail"]
    assert len(events(api, "C-1")) == count
    for role in ("integration", "auditor"):
        assert api.patch("/v1/customers/C-1", json={"contacts": []},
                         headers=api.as_role(role)).status_code == 403
    contacts = [{"name": "王会计", "role": "AP", "email": "ap@huadong.example",
                 "phone": "+86 21 5555 0101"}]
    address = {"line1": "浦东新区张江路123号", "city": "上海市", "province": "上海市",
               "postal_code": "201203"}
    done = api.patch("/v1/customers/C-1", json={"contacts": contacts, "address": address},
                     headers=api.as_role("collector"))
    assert done.status_code == 200 and done.json()["changed"] == ["contacts", "address"]
    assert len(events(api, "C-1")) == count + 1
    shown = api.get("/v1/customers/C-1", headers=api.as_role("auditor")).json()
    assert shown["contacts"] == contacts
    assert shown["address"] == {**address, "line2": None, "country": None}
    for role, grade in (("manager", "B"), ("admin", "C")):
        assert api.patch("/v1/customers/C-1", json={"credit_grade": grade},
                         headers=api.as_role(role)).json()["changed"] == ["credit_grade"]


def test_the_next_messages_use_the_changed_language_contact_and_address(api):
    register(api, "C-1", contacts=[{"name": "财务", "email": "old@huadong.example"}])
    invoice(api, "C-1", "I-1", "1000.00", "2026-01-01")
    assert api.post("/v1/cycle", json={"as_of": "2026-02-01"}).status_code == 200
    [notice] = [m for m in api.get("/v1/messages?customer_id=C-1").json()
                if m["kind"] == "notice" and m["channel"] == "email"]
    assert notice["subject"].startswith("逾期付款通知")
    assert api.get(f"/v1/messages/{notice['message_id']}").json()["recipient"] == (
        "old@huadong.example")
    assert api.patch("/v1/customers/C-1", json={
        "language": "en", "name": "East China Trading Co.",
        "contacts": [{"name": "Accounts", "email": "ap@huadong.example"}],
        "address": {"line1": "123 Zhangjiang Rd", "city": "Shanghai",
                    "postal_code": "201203", "country": "CN"},
    }).json()["changed"] == ["name", "language", "contacts", "address"]
    assert api.post("/v1/cycle", json={"as_of": "2026-02-17"}).status_code == 200
    warnings = {m["channel"]: api.get(f"/v1/messages/{m['message_id']}").json()
                for m in api.get("/v1/messages?customer_id=C-1").json()
                if m["kind"] == "warning"}
    assert warnings["email"]["recipient"] == "ap@huadong.example"
    assert warnings["email"]["subject"].startswith("Warning: 1000.00 CNY")
    assert "East China Trading Co." in warnings["email"]["body"]
    assert warnings["letter"]["recipient"] == (
        "East China Trading Co.\n123 Zhangjiang Rd\nShanghai 201203\nCN")
    # What was queued before the change keeps what it was queued with.
    assert api.get(f"/v1/messages/{notice['message_id']}").json()["recipient"] == (
        "old@huadong.example")


def test_new_terms_apply_to_invoices_issued_from_their_date(api):
    register(api, "C-1", payment_terms_days=30)
    assert invoice(api, "C-1", "I-1", "100.00", "2026-03-05")["due_on"] == "2026-04-04"
    changed = api.patch("/v1/customers/C-1", json={"payment_terms_days": 60,
                                                   "effective_on": "2026-03-01"})
    assert changed.json()["changed"] == ["payment_terms_days"]
    assert changed.json()["payment_terms_changes"] == [
        {"effective_on": "2026-03-01", "days": 60}]
    # Issued before the date: the old terms; from it: the new. None is re-dated, and a
    # retry of one recorded before the change is the same invoice still.
    assert invoice(api, "C-1", "I-2", "100.00", "2026-02-28")["due_on"] == "2026-03-30"
    assert invoice(api, "C-1", "I-3", "100.00", "2026-03-01")["due_on"] == "2026-04-30"
    retry = api.post("/v1/customers/C-1/invoices", json={
        "invoice_id": "I-1", "amount": "100.00", "currency": "CNY", "issued_on": "2026-03-05"})
    assert (retry.status_code, retry.json()["due_on"]) == (200, "2026-04-04")
    due = {i["invoice_id"]: i["due_on"] for i in api.get("/v1/customers/C-1").json()["invoices"]}
    assert due == {"I-1": "2026-04-04", "I-2": "2026-03-30", "I-3": "2026-04-30"}
    # As of a date before the change, the account shows the terms then.
    assert api.get("/v1/customers/C-1?as_of=2026-02-28").json()["payment_terms_days"] == 30
    assert api.get("/v1/customers/C-1").json()["payment_terms_days"] == 60


def test_history_as_of_before_the_change_shows_the_master_data_then(api):
    register(api, "C-1", registered_on="2026-01-01")
    api.patch("/v1/customers/C-1", json={"collector": "wang.fang", "effective_on": "2026-06-01"})
    assert api.get("/v1/customers/C-1?as_of=2026-05-31").json()["collector"] == "li.wei"
    assert api.get("/v1/customers/C-1?as_of=2026-06-01").json()["collector"] == "wang.fang"


def test_registration_takes_address_and_language_and_answers_the_master_data(api):
    address = {"line1": "天河路1号", "line2": "5楼", "city": "广州市", "province": "广东省",
               "postal_code": "510000"}
    made = register(api, "C-1", language="en", address=address, tags=["vip", "key"],
                    contacts=[{"name": "王会计"}], payment_terms_days=45)
    assert made["address"] == {**address, "country": None}
    assert made["language"] == "en"
    shown = api.get("/v1/customers/C-1").json()
    assert {k: shown[k] for k in ("collector", "payment_terms_days", "credit_limit",
                                  "credit_grade", "timezone", "language", "tags", "tax_id",
                                  "payment_terms_changes")} == {
        "collector": "li.wei", "payment_terms_days": 45, "credit_limit": None,
        "credit_grade": None, "timezone": "Asia/Shanghai", "language": "en",
        "tags": ["key", "vip"], "tax_id": None, "payment_terms_changes": []}
    assert shown["contacts"] == [{"name": "王会计", "role": None, "email": None,
                                  "phone": None}]
    # The same registration again is a repeat; with another address, a conflict.
    body = {"customer_id": "C-1", "name": "华东贸易有限公司", "currency": "CNY",
            "collector": "li.wei", "language": "en", "address": address,
            "tags": ["key", "vip"], "contacts": [{"name": "王会计"}], "payment_terms_days": 45}
    assert api.post("/v1/customers", json=body).status_code == 200
    other = api.post("/v1/customers", json={**body, "address": {"line1": "别处"}})
    assert other.status_code == 409


# ---- the list


def page_through(api, limit: int, between=None, **query: str) -> list[str]:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": str(limit), **query, **({"cursor": cursor} if cursor else {})}
        answer = api.get("/v1/customers", params=params)
        assert answer.status_code == 200, answer.json()
        body = answer.json()
        assert len(body["customers"]) <= limit
        seen += [c["customer_id"] for c in body["customers"]]
        cursor = body["next"]
        pages += 1
        if cursor is None:
            return seen
        if between is not None:
            between(pages)


def test_120_customers_page_through_without_repeat_or_gap_while_others_arrive(api):
    ids = [f"P-{n:03d}" for n in range(0, 240, 2)]  # P-000, P-002, … P-238
    for customer_id in ids:
        register(api, customer_id)
    assert page_through(api, 7) == ids

    arrived: list[str] = []

    def register_more(page: int) -> None:
        # Before the cursor, after it, and at the very end.
        for customer_id in (f"P-{page * 14 - 13:03d}", f"P-{page * 14 + 3:03d}", f"Q-{page}"):
            register(api, customer_id, name=f"新客户 {customer_id}")
            arrived.append(customer_id)

    seen = page_through(api, 7, between=register_more)
    assert len(seen) == len(set(seen)), "a customer was listed twice"
    assert seen == sorted(seen)
    assert set(ids) <= set(seen), "a customer that existed throughout was skipped"
    assert set(seen) - set(ids) <= set(arrived)
    # Every page but the last is full; the last says there is no next.
    assert api.get("/v1/customers", params={"limit": "500"}).json()["next"] is None
    assert len(api.get("/v1/customers").json()["customers"]) == 50


@pytest.mark.parametrize(("query", "field"), [
    ({"limit": "0"}, "limit"), ({"limit": "501"}, "limit"), ({"limit": "x"}, "limit"),
    ({"cursor": "not-a-cursor"}, "cursor"), ({"cursor": "YzpbXQ"}, "cursor"),
    ({"stage": "asleep"}, "stage"), ({"class": "good"}, "class"), ({"hold": "maybe"}, "hold"),
])
def test_bad_list_queries_are_422_naming_the_field(api, query, field):
    answer = api.get("/v1/customers", params=query)
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == [field]


def test_q_finds_by_id_and_by_chinese_name_fragment_in_any_case(api):
    register(api, "HD-001", name="华东机电有限公司")
    register(api, "hd-002", name="Huadong Trading Ltd")
    register(api, "SZ-001", name="深圳东方贸易公司")
    register(api, "X_1", name="École 100% Ltd")

    def found(q: str) -> list[str]:
        return [c["customer_id"] for c in
                api.get("/v1/customers", params={"q": q}).json()["customers"]]

    assert found("hd-0") == ["HD-001", "hd-002"]
    assert found("华东") == ["HD-001"]
    assert found("东") == ["HD-001", "SZ-001"]
    assert found("TRADING") == ["hd-002"]
    assert found("école") == ["X_1"]
    assert found("100%") == ["X_1"]
    assert found("x_") == ["X_1"]
    assert found("_") == ["X_1"]
    assert found("%") == ["X_1"]
    assert found("nothing") == []


def test_filters_and_figures_are_those_of_the_account(api):
    register(api, "C-1")
    register(api, "C-2", collector="wang.fang")
    register(api, "C-3")
    invoice(api, "C-1", "I-1", "1000.00", "2026-01-01")
    invoice(api, "C-1", "I-2", "200.00", "2026-12-01", due_on="2099-01-01")
    invoice(api, "C-2", "I-1", "50.00", "2026-02-20")
    assert api.post("/v1/cycle", json={"as_of": "2026-03-10"}).status_code == 200

    def listed(**query: str) -> dict[str, dict[str, Any]]:
        body = api.get("/v1/customers", params=query).json()
        return {c["customer_id"]: c for c in body["customers"]}

    everyone = listed()
    one = api.get("/v1/customers/C-1").json()
    assert {k: everyone["C-1"][k] for k in ("name", "currency", "outstanding", "overdue",
                                            "stage", "class", "supply_hold")} == {
        k: one[k] for k in ("name", "currency", "outstanding", "overdue", "stage", "class",
                            "supply_hold")}
    assert everyone["C-1"]["risk_grade"] == one["risk"]["grade"]
    assert (everyone["C-1"]["outstanding"], everyone["C-1"]["overdue"]) == ("1200.00",
                                                                          "1000.00")
    assert everyone["C-3"]["outstanding"] == "0.00" and everyone["C-3"]["class"] == "not_due"
    assert list(listed(collector="wang.fang")) == ["C-2"]
    assert list(listed(collector="li.wei")) == ["C-1", "C-3"]
    assert list(listed(hold="true")) == ["C-1"]
    assert list(listed(hold="false")) == ["C-2", "C-3"]
    assert list(listed(stage="hold")) == ["C-1"]
    # The class is the day's, as the customer's own view gives it (not the cycle's).
    same = listed(**{"class": one["class"]})
    assert "C-1" in same and {c["class"] for c in same.values()} == {one["class"]}
    assert list(listed(**{"class": "not_due"})) == ["C-3"]
    assert list(listed(stage="hold", collector="wang.fang")) == []
    # A change shows in the list at once.
    api.patch("/v1/customers/C-3", json={"collector": "wang.fang", "name": "西南贸易"})
    assert listed(collector="wang.fang")["C-3"]["name"] == "西南贸易"


def test_sealed_names_are_matched_in_process_with_the_same_answers(store):
    """With a cipher key the read tables hold names sealed, which the database cannot
    match: the list opens each and matches it here, as the database would in clear."""
    import base64
    import secrets

    from huikuan.core.commands import RegisterCustomer
    from huikuan.projections.queries import Views

    ledger = store.open(base64.b64encode(secrets.token_bytes(32)).decode())
    names = {f"S-{n:02d}": "华东机电" if n % 7 == 0 else f"Other {n}" for n in range(30)}
    for customer_id, name in names.items():
        ledger.register_customer(RegisterCustomer(customer_id=customer_id, name=name,
                                                  currency="CNY", collector="li.wei"))
    views = Views(ledger).fresh()
    assert views.names_sealed
    stored = [row[0] for row in views._q("SELECT name FROM hk_accounts")]
    assert stored and not set(stored) & set(names.values())

    def pages(q: str) -> list[tuple[str, str]]:
        seen, cursor = [], None
        while True:
            found = views.customers(CustomerFilter(q=q), 2, cursor, date(2026, 12, 1))
            seen += [(c["customer_id"], c["name"]) for c in found["customers"]]
            cursor = found["next"]
            if cursor is None:
                return seen

    for q in ("华东", "s-1", "other 2", "OTHER 1", "sealed", "s1:"):
        expected = sorted((c, n) for c, n in names.items()
                          if q.lower() in c.lower() or q.lower() in n.lower())
        assert pages(q) == expected, q
    assert len(pages("华东")) == 5
    views.close()
    views.projector.close()


def test_every_role_may_list(api):
    register(api, "C-1")
    for role in ROLES:
        assert api.get("/v1/customers", headers=api.as_role(role)).status_code == 200
    assert api.get("/v1/customers", headers={"Authorization": ""}).status_code == 401


def test_the_command_line_changes_and_lists(api, store):
    import json
    import os
    import subprocess
    import sys

    # In processes of their own, as a person runs them (the command line configures the
    # process's logging, which must not leak into other tests).
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "huikuan.adapters.cli", *args], capture_output=True,
            text=True, timeout=300, check=False,
            env={**os.environ, "HUIKUAN_DATABASE_URL": store.url, "HUIKUAN_LOG_LEVEL": "WARNING"})

    register(api, "C-1")
    register(api, "C-2")
    changed = run("customer-change", "C-1", "--collector", "wang.fang",
                  "--json", '{"address": {"line1": "张江路1号"}}')
    assert changed.returncode == 0, changed.stdout + changed.stderr
    assert "changed collector, address" in changed.stdout
    again = run("customer-change", "C-1", "--collector", "wang.fang")
    assert "nothing changed" in again.stdout
    bad = run("customer-change", "C-1", "--grade", "Q")
    assert bad.returncode == 2 and "credit_grade" in bad.stdout + bad.stderr
    listed = run("customers", "--collector", "wang.fang", "--format", "json")
    assert [c["customer_id"] for c in json.loads(listed.stdout)["customers"]] == ["C-1"]
    assert api.get("/v1/customers/C-1").json()["address"]["line1"] == "张江路1号"

"""Hand-offs as cases (移交), collection costs (催收成本) and guarantees (担保), through HTTP.

A handed-off account leaves the ladder: what was queued is cancelled, nothing more is
queued until the case comes back (``returned``), and then the ladder resumes where it
stood, the days with the party not counted. A suit or arbitration filed restarts the
limitation period (art. 195) in the same request, whether or not a cycle ever ran. Costs
and guarantees show in the customer view; costs are a table of their own in the views.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from litestar.testing import TestClient

from huikuan.adapters.bootstrap import Huikuan
from huikuan.adapters.http import Services, create_app
from huikuan.adapters.settings import load_settings
from huikuan.core.access import ROLES, issue_key
from huikuan.core.outbox import Dispatcher
from huikuan.core.policy import PolicyHost
from huikuan.projections.views import snapshot_tables
from tests.conftest import REPO

CUSTOMER = {"customer_id": "C-1", "name": "华东贸易有限公司", "currency": "CNY",
            "collector": "li.wei",
            "contacts": [{"name": "财务", "email": "ap@acme.example", "phone": "+86 21 5555 0101"}]}
AGENCY = {"handoff_id": "H-1", "to": "agency", "handed_on": "2026-02-02",
          "party": "某某商账催收公司", "reference": "委托合同 17"}
SUIT = {"handoff_id": "H-1", "to": "litigation", "handed_on": "2026-06-01",
        "party": "上海某某律师事务所", "invoice_ids": ["I-1"], "filed_on": "2026-06-10"}


@pytest.fixture
def hk(ledger, settings_env, mailbox, webhook):
    env = {**settings_env, "HUIKUAN_SMTP_URL": mailbox.url,
           "HUIKUAN_SMS_WEBHOOK_URL": webhook.url}
    host = PolicyHost(load_settings(REPO / "plugins.toml", env=env), load_entry_points=False)
    huikuan = Huikuan(ledger, env, host=host)
    yield huikuan
    if "views" in huikuan.__dict__:
        huikuan.views.close()
        huikuan.projector.close()


@pytest.fixture
def api(hk):
    keys = {role: issue_key(hk.ledger, role)[1] for role in ROLES}
    with TestClient(create_app(Services(hk.ledger, hk.host, hk.views))) as client:
        client.as_role = lambda role: {"Authorization": f"Bearer {keys[role]}"}  # type: ignore[attr-defined]
        client.headers["Authorization"] = f"Bearer {keys['manager']}"
        yield client


@pytest.fixture
def owed(api):
    """C-1 owes I-1 (1000.00, due 2026-01-31) and I-2 (500.00, due 2026-05-31)."""
    assert api.post("/v1/customers", json=CUSTOMER).status_code == 201
    for invoice_id, amount, issued_on in (("I-1", "1000.00", "2026-01-01"),
                                          ("I-2", "500.00", "2026-05-01")):
        assert api.post("/v1/customers/C-1/invoices", json={
            "invoice_id": invoice_id, "amount": amount, "currency": "CNY",
            "issued_on": issued_on}).status_code == 201
    return api


def cycle(api, day: str) -> dict[str, int]:
    answer = api.post("/v1/cycle", json={"as_of": day})
    assert answer.status_code == 200, answer.text
    counts: dict[str, int] = answer.json()["counts"]
    return counts


def acting(counts: dict[str, int]) -> list[str]:
    return [k for k in counts if k.startswith(("message:", "stage:"))]


def deadlines(api, as_of: str = "2026-07-01") -> dict[str, str]:
    listed = api.get(f"/v1/limitations?as_of={as_of}&within_days=36500").json()
    return {r["invoice_id"]: r["deadline"] for r in listed}


def at_ten(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T02:00:00+00:00").astimezone(UTC)


# ---- limitation


def test_a_suit_filed_restarts_limitation_at_once_though_no_cycle_ever_ran(api, hk, owed):
    assert deadlines(api) == {"I-1": "2029-01-31", "I-2": "2029-05-31"}
    answer = api.post("/v1/customers/C-1/handoffs", json=SUIT)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"customer_id": "C-1", **SUIT, "reference": None,
                             "message_id": None, "covered_invoice_ids": ["I-1"],
                             "status": "filed"}
    # Three years from the filing, for the invoice sued for only; in the same request.
    assert deadlines(api) == {"I-1": "2029-06-10", "I-2": "2029-05-31"}
    types = [e.type for e in hk.ledger.history("C-1")]
    assert types[-2:] == ["HandedOff", "DeadlinesDecided"]
    # A cycle decides the same.
    cycle(api, "2026-07-01")
    assert deadlines(api) == {"I-1": "2029-06-10", "I-2": "2029-05-31"}


def test_an_arbitration_filed_by_an_update_restarts_limitation_for_the_case(api, hk, owed):
    cycle(api, "2026-06-01")
    case = {"handoff_id": "H-2", "to": "arbitration", "handed_on": "2026-06-05",
            "party": "上海仲裁委员会"}
    answer = api.post("/v1/customers/C-1/handoffs", json=case)
    assert answer.status_code == 201, answer.text
    assert answer.json()["covered_invoice_ids"] == ["I-1", "I-2"]  # all open then
    assert deadlines(api) == {"I-1": "2029-01-31", "I-2": "2029-05-31"}
    update = {"on": "2026-07-01", "status": "filed", "case_number": "(2026)沪仲字第88号"}
    filed = api.post("/v1/customers/C-1/handoffs/H-2/updates", json=update,
                     headers=api.as_role("collector"))
    assert filed.status_code == 201, filed.text
    assert filed.json()["update_id"].startswith("h-")
    assert deadlines(api) == {"I-1": "2029-07-01", "I-2": "2029-07-01"}
    [shown] = api.get("/v1/customers/C-1").json()["cases"]
    assert (shown["status"], shown["filed_on"], shown["case_number"]) == (
        "filed", "2026-07-01", "(2026)沪仲字第88号")


# ---- the ladder


def test_a_handed_off_account_gets_no_more_demands_until_the_case_comes_back(
        api, hk, owed, mailbox, webhook):
    cycle(api, "2026-02-01")  # the notice about I-1, queued
    answer = api.post("/v1/customers/C-1/handoffs", json=AGENCY)
    assert answer.status_code == 201, answer.text
    assert answer.json()["covered_invoice_ids"] == ["I-1"]  # I-2 was not issued yet
    # What was queued is not sent: the agency pursues the money now.
    counts = Dispatcher(hk.ledger, hk.host).run_once(at_ten("2026-02-02")).counts
    assert dict(counts) == {"cancelled": 3}
    assert mailbox.messages == [] and webhook.requests == []
    cancelled = next(e for e in reversed(hk.ledger.history("C-1"))
                     if e.type == "MessageCancelled")
    assert cancelled.data["reason"] == "handed off: case H-1 (agency)"
    # The ladder stands: no warning, no hold, no lawyer's letter for I-1.
    for day in ("2026-02-16", "2026-03-02", "2026-03-17"):
        assert acting(cycle(api, day)) == []
    assert api.get("/v1/customers/C-1").json()["stage"] == "notice"
    [row] = api.get("/v1/worklist?collector=li.wei").json()
    assert "handed off to agency 某某商账催收公司: case H-1, handed_off" in row["reasons"]
    assert row["suggested_action"] == "follow the case"
    # The agency reports money recovered: information only, the ledger is unchanged.
    update = {"on": "2026-03-10", "status": "accepted", "recovered_amount": "200.00",
              "note": "已联系债务人"}
    assert api.post("/v1/customers/C-1/handoffs/H-1/updates", json=update).status_code == 201
    shown = api.get("/v1/customers/C-1").json()
    assert shown["outstanding"] == "1500.00"
    assert shown["cases"][0]["recovered"] == "200.00"
    # The agency gives up: from 2026-03-20 the ladder resumes where it stood. The days
    # with the agency (2026-02-02 to 2026-03-19: 46) do not count: the warning is due
    # 15 counted days after 2026-01-31 (2026-02-01, then 2026-03-20 to 2026-04-02).
    back = {"on": "2026-03-20", "status": "returned", "note": "无法联系"}
    assert api.post("/v1/customers/C-1/handoffs/H-1/updates", json=back).status_code == 201
    assert acting(cycle(api, "2026-04-01")) == []
    counts = cycle(api, "2026-04-02")
    assert counts["message:warning"] == 2, counts
    # A returned case is over: another update is a conflict, recording nothing.
    late = api.post("/v1/customers/C-1/handoffs/H-1/updates",
                    json={"on": "2026-04-03", "status": "closed"})
    assert late.status_code == 409
    assert late.json()["errors"][0]["field"] == "handoff_id"


def test_a_case_closed_with_money_owed_keeps_it_off_the_ladder(api, hk, owed):
    assert api.post("/v1/customers/C-1/handoffs", json=SUIT).status_code == 201
    closed = {"on": "2026-09-01", "status": "closed", "note": "执行终结"}
    assert api.post("/v1/customers/C-1/handoffs/H-1/updates", json=closed).status_code == 201
    # I-1 stays with the case; I-2 (due 2026-05-31) is chased on its own.
    cycle(api, "2026-09-02")
    queued = [m for m in api.get("/v1/messages?customer_id=C-1").json()]
    assert queued and all("I-1" not in api.get(f"/v1/messages/{m['message_id']}").json()["body"]
                          for m in queued)


# ---- the hand-off review's proposal


def test_the_hand_off_review_proposes_a_case_a_manager_accepts(api, hk, owed):
    cycle(api, "2026-05-01")  # I-1 90 days late: the hand-off review
    [task] = [m for m in api.get("/v1/messages?customer_id=C-1").json()
              if m["kind"] == "handoff_review"]
    proposal = api.get(f"/v1/messages/{task['message_id']}").json()["proposal"]
    assert proposal == {"handoff_id": "H-" + task["message_id"][2:], "to": "agency",
                        "invoice_ids": ["I-1"], "amount": "1000.00", "currency": "CNY",
                        "message_id": task["message_id"], "accepted_as": None}
    accept = {k: proposal[k] for k in ("handoff_id", "to", "invoice_ids", "message_id")}
    # Accepting is a hand-off: a manager's decision.
    assert api.post("/v1/customers/C-1/handoffs", json={**accept, "handed_on": "2026-05-03"},
                    headers=api.as_role("collector")).status_code == 403
    answer = api.post("/v1/customers/C-1/handoffs",
                      json={**accept, "handed_on": "2026-05-03", "party": "某某催收"})
    assert answer.status_code == 201, answer.text
    shown = api.get(f"/v1/messages/{task['message_id']}").json()["proposal"]
    assert shown["accepted_as"] == proposal["handoff_id"]
    [case] = api.get("/v1/customers/C-1").json()["cases"]
    assert case["accepted_proposal"] == task["message_id"]
    # One proposal, one case.
    again = api.post("/v1/customers/C-1/handoffs", json={
        **accept, "handoff_id": "H-other", "handed_on": "2026-05-04"})
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "message_id"
    # Other messages have no proposal.
    notice = next(m for m in api.get("/v1/messages?customer_id=C-1").json()
                  if m["kind"] != "handoff_review")
    assert "proposal" not in api.get(f"/v1/messages/{notice['message_id']}").json()


# ---- costs and guarantees


COSTS = [
    {"cost_id": "CO-1", "amount": "30.00", "currency": "CNY", "incurred_on": "2026-02-05",
     "kind": "postage", "note": "EMS"},
    {"cost_id": "CO-2", "amount": "1500.00", "currency": "HKD", "incurred_on": "2026-06-12",
     "kind": "legal_fee", "handoff_id": "H-1"},
    {"cost_id": "CO-3", "amount": "2000", "currency": "JPY", "incurred_on": "2026-06-13",
     "kind": "travel"},
    {"cost_id": "CO-4", "amount": "470.00", "currency": "CNY", "incurred_on": "2026-06-15",
     "kind": "court_fee", "handoff_id": "H-1"},
]
GUARANTEE = {"guarantee_id": "G-1", "kind": "personal", "given_on": "2026-04-02",
             "guarantor": "张三（法定代表人）", "amount": "50000.00",
             "document_ref": "保证合同 BZ-2026-03"}


def test_costs_and_guarantees_appear_in_the_customer_view(api, hk, owed):
    assert api.post("/v1/customers/C-1/handoffs", json=SUIT).status_code == 201
    for cost in COSTS:
        answer = api.post("/v1/customers/C-1/costs", json=cost, headers=api.as_role("collector"))
        assert answer.status_code == 201, answer.text
        assert answer.json() == {"customer_id": "C-1", "handoff_id": None, "note": None,
                                 **cost, "collector": "li.wei"}
    answer = api.post("/v1/customers/C-1/guarantees", json=GUARANTEE,
                      headers=api.as_role("collector"))
    assert answer.status_code == 201, answer.text
    shown = api.get("/v1/customers/C-1").json()
    assert shown["costs"] == [{"currency": "CNY", "total": "500.00", "count": 2},
                              {"currency": "HKD", "total": "1500.00", "count": 1},
                              {"currency": "JPY", "total": "2000", "count": 1}]
    assert shown["guarantees"] == [GUARANTEE]
    [case] = shown["cases"]
    assert {k: case[k] for k in ("handoff_id", "to", "party", "status", "case_number",
                                 "filed_on", "recovered")} == {
        "handoff_id": "H-1", "to": "litigation", "party": "上海某某律师事务所",
        "status": "filed", "case_number": None, "filed_on": "2026-06-10",
        "recovered": "0.00"}
    # As of a date, what had been spent and given by then.
    before = api.get("/v1/customers/C-1?as_of=2026-03-01").json()
    assert before["costs"] == [{"currency": "CNY", "total": "30.00", "count": 1}]
    assert before["guarantees"] == [] and before["cases"] == []
    # The costs are a table of the views, with the collector of the time, to fold KPIs from.
    views = hk.views.fresh()
    rows = views._q("SELECT customer_id, cost_id, collector, incurred_on, amount_minor, "
                    "currency, kind, handoff_id FROM hk_costs ORDER BY cost_id")
    assert [tuple(r) for r in rows] == [
        ("C-1", "CO-1", "li.wei", "2026-02-05", 3000, "CNY", "postage", None),
        ("C-1", "CO-2", "li.wei", "2026-06-12", 150000, "HKD", "legal_fee", "H-1"),
        ("C-1", "CO-3", "li.wei", "2026-06-13", 2000, "JPY", "travel", None),
        ("C-1", "CO-4", "li.wei", "2026-06-15", 47000, "CNY", "court_fee", "H-1")]
    # Folded again from the events alone, the views are the same.
    live = snapshot_tables(views.db, views.conn)
    hk.projector.rebuild()
    assert snapshot_tables(views.db, views.conn) == live


@pytest.mark.parametrize(("path", "body"), [
    ("costs", COSTS[0]), ("guarantees", GUARANTEE)])
def test_a_cost_or_guarantee_repeated_is_answered_again_and_changed_is_a_conflict(
        api, hk, owed, path, body):
    first = api.post(f"/v1/customers/C-1/{path}", json=body)
    events = len(hk.ledger.history("C-1"))
    again = api.post(f"/v1/customers/C-1/{path}", json=body)
    assert (first.status_code, again.status_code, again.json()) == (201, 200, first.json())
    changed = {**body, "amount": "31.00" if path == "costs" else "1.00"}
    assert api.post(f"/v1/customers/C-1/{path}", json=changed).status_code == 409
    assert len(hk.ledger.history("C-1")) == events


@pytest.mark.parametrize(("body", "field", "status"), [
    ({**COSTS[0], "currency": "cny"}, "currency", 422),
    ({**COSTS[0], "currency": "XXX"}, "currency", 422),
    ({**COSTS[0], "amount": "1.001"}, "amount", 422),
    ({**COSTS[0], "amount": 30.5}, "amount", 422),
    ({**COSTS[0], "amount": "0"}, "amount", 422),
    ({**COSTS[2], "amount": "2000.5"}, "amount", 422),
    ({**COSTS[0], "kind": "gift"}, "kind", 422),
    ({**COSTS[0], "incurred_on": "2026/2/5"}, "incurred_on", 422),
    ({**COSTS[0], "handoff_id": "H-9"}, "handoff_id", 404),
])
def test_a_bad_cost_is_refused_naming_the_field(api, hk, owed, body, field, status):
    events = len(hk.ledger.history("C-1"))
    answer = api.post("/v1/customers/C-1/costs", json=body)
    assert answer.status_code == status, answer.text
    assert field in {e["field"] for e in answer.json()["errors"]}
    assert len(hk.ledger.history("C-1")) == events


@pytest.mark.parametrize(("body", "field", "status"), [
    ({**GUARANTEE, "kind": "promise"}, "kind", 422),
    ({**GUARANTEE, "guarantor": ""}, "guarantor", 422),
    ({**GUARANTEE, "amount": "5.001"}, "amount", 422),
    ({k: v for k, v in GUARANTEE.items() if k != "given_on"}, "given_on", 422),
])
def test_a_bad_guarantee_is_refused_naming_the_field(api, hk, owed, body, field, status):
    answer = api.post("/v1/customers/C-1/guarantees", json=body)
    assert answer.status_code == status, answer.text
    assert field in {e["field"] for e in answer.json()["errors"]}


# ---- hand-offs refused


@pytest.mark.parametrize(("body", "field", "status"), [
    ({**SUIT, "to": "court"}, "to", 422),
    ({**SUIT, "filed_on": "2026-05-31"}, "filed_on", 422),
    ({**AGENCY, "filed_on": "2026-02-03"}, "filed_on", 422),
    ({**SUIT, "invoice_ids": ["I-9"]}, "invoice_ids[0]", 404),
    ({**SUIT, "handed_on": "2025-12-01", "filed_on": None}, "handed_on", 422),
    ({**SUIT, "message_id": "m-000000000000000000000000"}, "message_id", 404),
    ({**SUIT, "handoff_id": ""}, "handoff_id", 422),
])
def test_a_bad_hand_off_is_refused_naming_the_field(api, hk, owed, body, field, status):
    events = len(hk.ledger.history("C-1"))
    answer = api.post("/v1/customers/C-1/handoffs", json=body)
    assert answer.status_code == status, answer.text
    assert field in {e["field"] for e in answer.json()["errors"]}
    assert len(hk.ledger.history("C-1")) == events


def test_money_has_one_party_at_a_time_and_a_paid_invoice_none(api, hk, owed):
    assert api.post("/v1/customers/C-1/handoffs", json=SUIT).status_code == 201
    twice = api.post("/v1/customers/C-1/handoffs", json={**SUIT, "handoff_id": "H-2"})
    assert twice.status_code == 409
    assert twice.json()["errors"][0]["field"] == "invoice_ids[0]"
    assert api.post("/v1/customers/C-1/payments", json={
        "payment_id": "P-1", "amount": "500.00", "currency": "CNY", "received_on": "2026-06-02",
        "allocations": [{"invoice_id": "I-2", "amount": "500.00"}]}).status_code == 201
    paid = api.post("/v1/customers/C-1/handoffs", json={
        **AGENCY, "handoff_id": "H-3", "handed_on": "2026-06-03", "invoice_ids": ["I-2"]})
    assert paid.status_code == 422
    # Nothing left without a party: a hand-off of "the account" finds nothing to take.
    rest = api.post("/v1/customers/C-1/handoffs", json={**AGENCY, "handoff_id": "H-4",
                                                        "handed_on": "2026-06-03"})
    assert rest.status_code == 422
    assert rest.json()["errors"][0]["field"] == "invoice_ids"


def test_an_update_repeated_is_answered_again_and_a_bad_one_refused(api, hk, owed):
    assert api.post("/v1/customers/C-1/handoffs", json=SUIT).status_code == 201
    update = {"on": "2026-08-01", "status": "hearing", "note": "开庭"}
    first = api.post("/v1/customers/C-1/handoffs/H-1/updates", json=update)
    again = api.post("/v1/customers/C-1/handoffs/H-1/updates", json=update)
    assert (first.status_code, again.status_code, again.json()) == (201, 200, first.json())
    with_id = {**update, "update_id": "U-1"}
    assert api.post("/v1/customers/C-1/handoffs/H-1/updates", json=with_id).status_code == 201
    assert api.post("/v1/customers/C-1/handoffs/H-1/updates",
                    json={**with_id, "note": "改期"}).status_code == 409
    for body, field, status in (
        ({**update, "status": "handed_off"}, "status", 422),
        ({**update, "status": "won"}, "status", 422),
        ({**update, "on": "2026-05-01"}, "on", 422),
        ({**update, "recovered_amount": "-1.00"}, "recovered_amount", 422),
    ):
        answer = api.post("/v1/customers/C-1/handoffs/H-1/updates", json=body)
        assert answer.status_code == status, (body, answer.text)
        assert field in {e["field"] for e in answer.json()["errors"]}
    assert api.post("/v1/customers/C-1/handoffs/H-9/updates", json=update).status_code == 404
    assert api.post("/v1/customers/C-1/handoffs", json={
        **AGENCY, "handoff_id": "H-2", "invoice_ids": ["I-2"], "handed_on": "2026-06-01"}
    ).status_code == 201
    agency_filed = api.post("/v1/customers/C-1/handoffs/H-2/updates",
                            json={"on": "2026-06-02", "status": "filed"})
    assert agency_filed.status_code == 422
    assert agency_filed.json()["errors"][0]["field"] == "status"


@pytest.mark.parametrize(("role", "allowed"), [
    ("admin", {"handoff", "update", "cost", "guarantee"}),
    ("manager", {"handoff", "update", "cost", "guarantee"}),
    ("collector", {"update", "cost", "guarantee"}),
    ("integration", set()),
    ("auditor", set()),
])
def test_who_may_keep_the_cases(api, owed, role, allowed):
    # The hand-off itself by a manager, so the others have a case to update.
    assert api.post("/v1/customers/C-1/handoffs", json=SUIT).status_code == 201
    writes = {
        "handoff": ("/v1/customers/C-1/handoffs", {**AGENCY, "handoff_id": "H-2",
                                                   "invoice_ids": ["I-2"],
                                                   "handed_on": "2026-06-01"}),
        "update": ("/v1/customers/C-1/handoffs/H-1/updates",
                   {"on": "2026-07-01", "status": "accepted"}),
        "cost": ("/v1/customers/C-1/costs", COSTS[0]),
        "guarantee": ("/v1/customers/C-1/guarantees", GUARANTEE),
    }
    for name, (path, body) in writes.items():
        answer = api.post(path, json=body, headers=api.as_role(role))
        assert answer.status_code == (201 if name in allowed else 403), (name, answer.text)
    # Everyone reads.
    assert api.get("/v1/customers/C-1", headers=api.as_role(role)).status_code == 200


def test_a_step_handing_off_to_no_known_party_is_refused_at_start(tmp_path):
    from huikuan.adapters.settings import SettingsError, load_settings

    file = tmp_path / "plugins.toml"
    file.write_text('[[escalation.steps]]\nstage = "handoff"\ndays = 90\n'
                    'tasks = ["handoff_review"]\nhandoff_to = "court"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="handoff_to"):
        load_settings(file, env={})

"""The HTTP API: roles, problem details, idempotent repeats, the contract's shapes."""

import re
from datetime import timedelta

import pytest

ACME = {"customer_id": "C-1", "name": "华东贸易有限公司", "currency": "CNY",
        "contacts": [{"name": "财务", "email": "ap@acme.example"}], "collector": "li.wei"}
INVOICE = {"invoice_id": "I-1", "amount": "1000.00", "currency": "CNY",
           "issued_on": "2026-01-01"}


@pytest.fixture
def acme(api):
    assert api.post("/v1/customers", json=ACME, headers=api.as_role("admin")).status_code == 201
    assert api.post("/v1/customers/C-1/invoices", json=INVOICE,
                    headers=api.as_role("admin")).status_code == 201
    return api


def test_health_needs_no_key_and_everything_else_does(api):
    assert api.get("/health").json() == {"status": "ok"}
    missing = api.get("/v1/aging")
    assert missing.status_code == 401
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.json()["status"] == 401
    assert api.get("/v1/aging", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert api.get("/v1/aging", headers={"Authorization": "Basic abc"}).status_code == 401


WRITE = [
    ("POST", "/v1/customers/C-1/invoices", {**INVOICE, "invoice_id": "I-2"}),
    ("POST", "/v1/customers/C-1/payments",
     {"payment_id": "P-9", "amount": "1.00", "currency": "CNY", "received_on": "2026-02-01"}),
    ("POST", "/v1/customers/C-1/contacts",
     {"occurred_at": "2026-02-02T10:00:00+08:00", "channel": "phone", "direction": "outbound",
      "outcome": "no_answer"}),
    ("POST", "/v1/customers/C-1/promises",
     {"promise_id": "PR-1", "amount": "10.00", "due_on": "2026-02-20", "made_on": "2026-02-02"}),
    ("POST", "/v1/customers/C-1/write-offs",
     {"invoice_id": "I-1", "amount": "1.00", "written_off_on": "2026-03-01"}),
    ("POST", "/v1/cycle", {"as_of": "2026-03-01"}),
    ("GET", "/v1/customers/C-1", None),
    ("GET", "/v1/customers/C-1/history", None),
    ("GET", "/v1/audit/verify", None),
]
ALLOWED = {
    "admin": {0, 1, 2, 3, 4, 5, 6, 7, 8},
    "manager": {0, 1, 2, 3, 4, 5, 6, 7, 8},
    "collector": {0, 1, 2, 3, 6, 7, 8},
    "integration": {0, 1, 6, 7, 8},
    "auditor": {6, 7, 8},
}


@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_every_role_boundary(acme, role):
    for n, (method, path, body) in enumerate(WRITE):
        response = acme.request(method, path, json=body, headers=acme.as_role(role))
        if n in ALLOWED[role]:
            assert response.status_code in (200, 201), (role, path, response.json())
        else:
            assert response.status_code == 403, (role, path)
            assert response.json()["title"] == "Forbidden"


def test_writes_answer_201_then_200_for_a_repeat_and_409_for_different_content(acme):
    admin = acme.as_role("admin")
    first = acme.post("/v1/customers/C-1/payments", headers=admin, json={
        "payment_id": "P-1", "amount": "400.00", "currency": "CNY", "received_on": "2026-02-01"})
    assert first.status_code == 201
    assert first.json()["applied"] == [{"invoice_id": "I-1", "amount": "400.00"}]
    again = acme.post("/v1/customers/C-1/payments", headers=admin, json={
        "payment_id": "P-1", "amount": "400.00", "currency": "CNY", "received_on": "2026-02-01"})
    assert (again.status_code, again.json()) == (200, first.json())
    other = acme.post("/v1/customers/C-1/payments", headers=admin, json={
        "payment_id": "P-1", "amount": "401.00", "currency": "CNY", "received_on": "2026-02-01"})
    assert other.status_code == 409
    assert other.json()["errors"] == [{"field": "payment_id", "message":
                                       "payment 'P-1' was recorded before with different content"}]
    assert acme.get("/v1/customers/C-1", headers=admin).json()["outstanding"] == "600.00"


@pytest.mark.parametrize(("body", "field"), [
    ({**INVOICE, "invoice_id": "I-3", "amount": 12.5}, "amount"),
    ({**INVOICE, "invoice_id": "I-3", "amount": "-1.00"}, "amount"),
    ({**INVOICE, "invoice_id": "I-3", "amount": "0"}, "amount"),
    ({**INVOICE, "invoice_id": "I-3", "amount": "1.001"}, "amount"),
    ({**INVOICE, "invoice_id": "I-3", "currency": "USD"}, "currency"),
    ({**INVOICE, "invoice_id": "bad id!"}, "invoice_id"),
    ({**INVOICE, "invoice_id": "I-3", "issued_on": "01/02/2026"}, "issued_on"),
    ({**INVOICE, "invoice_id": "I-3", "due_on": "2025-12-31"}, "due_on"),
    ({**INVOICE, "invoice_id": "I-3", "unknown": 1}, "unknown"),
    ({"invoice_id": "I-3"}, "amount"),
])
def test_bad_input_is_a_422_naming_the_field_and_records_nothing(acme, body, field):
    admin = acme.as_role("admin")
    before = len(acme.get("/v1/customers/C-1/history", headers=admin).json()["events"])
    response = acme.post("/v1/customers/C-1/invoices", json=body, headers=admin)
    assert response.status_code == 422, response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert {"type", "title", "status", "detail", "errors"} <= set(problem)
    assert any(field in e["field"] for e in problem["errors"]), problem
    assert "Traceback" not in response.text
    assert len(acme.get("/v1/customers/C-1/history", headers=admin).json()["events"]) == before


def test_malformed_json_is_400_unknown_is_404_and_oversized_is_413(acme):
    admin = {**acme.as_role("admin"), "Content-Type": "application/json"}
    assert acme.post("/v1/customers/C-1/invoices", content=b"{not json",
                     headers=admin).status_code == 400
    assert acme.post("/v1/customers/NOBODY/invoices", json=INVOICE,
                     headers=admin).status_code == 404
    assert acme.get("/v1/customers/NOBODY", headers=admin).status_code == 404
    assert acme.get("/v1/messages/m-nothing", headers=admin).status_code == 404
    assert acme.post("/v1/customers/C-1/payments/P-X/bounce", json={"bounced_on": "2026-02-01"},
                     headers=admin).status_code == 404
    big = acme.post("/v1/customers/C-1/invoices", content=b"[" + b"1," * 600_000 + b"1]",
                    headers=admin)
    assert big.status_code == 413
    assert big.json()["status"] == 413


@pytest.mark.parametrize("path", [
    "/v1/aging?as_of=yesterday", "/v1/aging?group_by=planet", "/v1/kpis?from=2026-02-01",
    "/v1/kpis?from=2026-02-01&to=2026-01-01", "/v1/limitations?within_days=-1",
    "/v1/events?limit=0", "/v1/customers/C-1/credit-check?amount=NaN",
    "/v1/customers/C-1?as_of=2026-13-40",
])
def test_bad_queries_are_client_errors_never_500(acme, path):
    response = acme.get(path, headers=acme.as_role("auditor"))
    assert 400 <= response.status_code < 500, (path, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")


def test_reads_follow_the_contract(acme):
    admin = acme.as_role("admin")
    acme.post("/v1/customers/C-1/disputes", headers=admin, json={
        "dispute_id": "D-1", "invoice_id": "I-1", "amount": "100.00", "raised_on": "2026-01-10"})
    summary = acme.get("/v1/customers/C-1?as_of=2026-02-15", headers=admin).json()
    assert {k: summary[k] for k in ("outstanding", "overdue", "disputed", "unapplied_credit",
                                    "stage", "supply_hold")} == {
        "outstanding": "1000.00", "overdue": "1000.00", "disputed": "100.00",
        "unapplied_credit": "0.00", "stage": "none", "supply_hold": False}
    assert summary["invoices"][0] == {
        "invoice_id": "I-1", "amount": "1000.00", "open_amount": "1000.00",
        "due_on": "2026-01-31", "days_overdue": 15, "disputed_amount": "100.00",
        "class": "in_collection", "written_off": "0.00", "recovered": "0.00",
        "interest": "0.00"}
    aging = acme.get("/v1/aging?as_of=2026-02-15&group_by=currency", headers=admin).json()
    assert aging["buckets"] == ["current", "1-30", "31-60", "61-90", "91-180", "181-365", "365+"]
    assert aging["rows"] == [{"key": "CNY", "currency": "CNY", "current": "0.00",
                              "1-30": "1000.00", "31-60": "0.00", "61-90": "0.00",
                              "91-180": "0.00", "181-365": "0.00", "365+": "0.00",
                              "total": "1000.00"}]
    cycle = acme.post("/v1/cycle", json={"as_of": "2026-02-15"}, headers=admin).json()
    assert cycle["counts"]["stage:warning"] == 1
    messages = acme.get("/v1/messages?customer_id=C-1", headers=admin).json()
    assert {m["kind"] for m in messages} == {"warning"}
    body = acme.get(f"/v1/messages/{messages[0]['message_id']}", headers=admin).json()["body"]
    assert "900.00 CNY" in body  # only the undisputed part
    queue = acme.get("/v1/worklist?collector=li.wei", headers=admin).json()
    assert queue[0]["customer_id"] == "C-1" and queue[0]["overdue"] == "900.00"
    assert acme.get("/v1/worklist?collector=li.wei&limit=1", headers=admin).json() == queue[:1]
    assert acme.get("/v1/worklist?limit=0", headers=admin).status_code == 422
    history = acme.get("/v1/customers/C-1/history?as_of=2026-01-05", headers=admin).json()
    assert [e["type"] for e in history["events"]] == ["Registered", "InvoiceIssued",
                                                      "ClassScheduled"]
    assert history["balance_as_of"] == "1000.00"
    check = acme.get("/v1/customers/C-1/credit-check?amount=10", headers=admin).json()
    assert set(check) >= {"allowed", "reasons", "exposure", "credit_limit"}
    feed = acme.get("/v1/events?after=0&limit=2", headers=admin).json()
    assert len(feed["events"]) == 2 and feed["next"] == feed["events"][-1]["id"]
    assert acme.get("/v1/audit/verify", headers=acme.as_role("auditor")).json()["ok"] is True


def test_openapi_document(api):
    document = api.get("/schema/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert "/v1/customers/{customer_id}/invoices" in document["paths"]


def _operations(document):
    return {op["operationId"]: op for ops in document["paths"].values() for op in ops.values()}


def test_every_operation_is_named_for_what_it_does_and_has_a_row_in_the_role_matrix(api):
    from huikuan.adapters.api.access import MAY

    operations = _operations(api.get("/schema/openapi.json").json())
    assert {"registerCustomer", "issueInvoice", "receivePayment", "bouncePayment",
            "resolveDispute", "getCustomer", "getCustomerHistory", "checkCredit", "getAging",
            "getWorklist", "listMessages", "getMessage", "getKpis", "listLimitations",
            "listEvents", "verifyAudit", "runCycle", "getHealth"} <= set(operations)
    assert all(re.fullmatch(r"[a-z]+([A-Z][a-z]+)*", name) for name in operations), operations
    assert set(operations) - {"getHealth"} == set(MAY)


def test_every_success_body_has_a_model_with_amounts_as_strings(api):
    document = api.get("/schema/openapi.json").json()
    schemas = document["components"]["schemas"]
    for name, op in _operations(document).items():
        answers = [r for status, r in op["responses"].items() if status.startswith("2")]
        assert answers, name
        for response in answers:
            if "application/pdf" in response["content"]:  # a letter as printed
                assert response["content"]["application/pdf"]["schema"]["type"] == "string"
                continue
            schema = response["content"]["application/json"]["schema"]
            ref = schema.get("$ref") or schema.get("items", {}).get("$ref")
            assert ref, (name, schema)  # a named model, never a bare object
            assert schemas[ref.rsplit("/", 1)[1]]["properties"], name
    summary = schemas["CustomerSummary"]["properties"]
    assert summary["outstanding"]["type"] == "string"
    assert {"class", "invoices", "risk", "supply_hold"} <= set(summary)
    assert set(schemas["AgingRow"]["properties"]) == {
        "key", "currency", "current", "1-30", "31-60", "61-90", "91-180", "181-365", "365+",
        "total"}
    # A write documents its idempotent repeat (200) beside the first recording (201).
    invoices = _operations(document)["issueInvoice"]["responses"]
    assert invoices["200"]["content"] == invoices["201"]["content"]
    assert schemas["IssueInvoice"]["properties"]["amount"]["type"] == "string"


def test_history_names_balance_as_of_only_when_asked_for_a_date(acme):
    admin = acme.as_role("admin")
    assert "balance_as_of" not in acme.get("/v1/customers/C-1/history", headers=admin).json()
    dated = acme.get("/v1/customers/C-1/history?as_of=2026-01-05", headers=admin).json()
    assert dated["balance_as_of"] == "1000.00"


def test_options_need_no_key(api):
    response = api.options("/v1/aging")
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, OPTIONS"


def test_a_view_without_a_date_is_as_of_today_where_the_company_is(store, ledger, policy):
    """Not the server's date: [company] timezone decides what "today" is."""
    from litestar.testing import TestClient

    from huikuan.adapters.http import Services, create_app
    from huikuan.core.access import issue_key
    from huikuan.core.clock import today_in
    from huikuan.core.plugin import Settings
    from huikuan.core.policy import PolicyHost
    from huikuan.projections.queries import Views

    # UTC+14: most hours of the day its date is not the server's.
    zone = "Etc/GMT-14"
    settings = Settings({**policy.settings.sections, "company": {"timezone": zone}},
                        policy.settings.env)
    host = PolicyHost(settings, load_entry_points=False)
    views = Views(ledger)
    key = {"Authorization": f"Bearer {issue_key(ledger, 'admin')[1]}"}
    today = today_in(zone)
    try:
        with TestClient(create_app(Services(ledger, host, views))) as client:
            assert client.post("/v1/customers", json=ACME, headers=key).status_code == 201
            assert client.get("/v1/aging", headers=key).json()["as_of"] == today.isoformat()
            if (today.month, today.day) == (2, 29):
                return  # no limitation period of three years ends on a 29 February
            # Due three years ago today: its limitation period ends today, there.
            due = today.replace(year=today.year - 3)
            assert client.post("/v1/customers/C-1/invoices", headers=key, json={
                **INVOICE, "issued_on": (due - timedelta(days=30)).isoformat(),
                "due_on": due.isoformat()}).status_code == 201
            ending = client.get("/v1/limitations?within_days=0", headers=key).json()
            assert [(e["invoice_id"], e["deadline"]) for e in ending] == [
                ("I-1", today.isoformat())]
    finally:
        views.close()
        views.projector.close()

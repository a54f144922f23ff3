"""Each collector's results and money by stage (issue 14), against a hand computation,
through HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from tests.conftest import REPO


@pytest.fixture
def http(api):
    api.headers.update(api.as_role("admin"))
    return api


def post(http: Any, path: str, body: dict[str, Any], status: int = 201) -> dict[str, Any]:
    answer = http.post(path, json=body)
    assert answer.status_code == status, (path, answer.text)
    found: dict[str, Any] = answer.json()
    return found


def stage(http: Any, customer_id: str) -> str:
    found: str = http.get(f"/v1/customers/{customer_id}").json()["stage"]
    return found


def pay(http: Any, customer_id: str, payment_id: str, amount: str, on: str,
        currency: str = "CNY") -> None:
    post(http, f"/v1/customers/{customer_id}/payments", {
        "payment_id": payment_id, "amount": amount, "currency": currency, "received_on": on})


def portfolio(http: Any) -> None:
    """Three customers on 30-day terms, invoiced on 1 January (due 31 January):
    C-1 10,000.00 CNY and C-3 2,000.00 USD with li.wei, C-2 5,000.00 CNY with wang.fang."""
    for customer_id, currency, collector, amount in (
            ("C-1", "CNY", "li.wei", "10000.00"), ("C-2", "CNY", "wang.fang", "5000.00"),
            ("C-3", "USD", "li.wei", "2000.00")):
        post(http, "/v1/customers", {"customer_id": customer_id, "name": f"客户 {customer_id}",
                                     "currency": currency, "collector": collector})
        post(http, f"/v1/customers/{customer_id}/invoices", {
            "invoice_id": f"{customer_id}-I", "amount": amount, "currency": currency,
            "issued_on": "2026-01-01"})
    pay(http, "C-1", "P-0", "1000.00", "2026-02-15")  # before the period: not counted
    post(http, "/v1/cycle", {"as_of": "2026-03-01"}, status=200)
    # 29 days past due on 1 March: the warning (+15) is the stage of all three.
    assert [stage(http, c) for c in ("C-1", "C-2", "C-3")] == ["warning"] * 3
    pay(http, "C-1", "P-1", "2000.00", "2026-03-05")
    post(http, "/v1/customers/C-1/contacts", {
        "occurred_at": "2026-03-06T10:00:00+08:00", "channel": "phone",
        "direction": "outbound", "outcome": "promised"})
    post(http, "/v1/customers/C-1/promises", {"promise_id": "PR-1", "amount": "3000.00",
                                             "made_on": "2026-03-06", "due_on": "2026-03-20"})
    post(http, "/v1/customers/C-1/costs", {"cost_id": "K-1", "amount": "100.00",
                                          "currency": "CNY", "incurred_on": "2026-03-07",
                                          "kind": "travel"})
    post(http, "/v1/customers/C-2/promises", {"promise_id": "PR-2", "amount": "1000.00",
                                             "made_on": "2026-03-02", "due_on": "2026-03-09"})
    post(http, "/v1/cycle", {"as_of": "2026-03-10"}, status=200)  # PR-2 broken; holds
    assert [stage(http, c) for c in ("C-1", "C-2", "C-3")] == ["hold"] * 3
    pay(http, "C-2", "P-3", "500.00", "2026-03-10")
    post(http, "/v1/customers/C-2/payments/P-3/bounce", {"bounced_on": "2026-03-12"})
    post(http, "/v1/customers/C-2/contacts", {
        "occurred_at": "2026-03-11T10:00:00+08:00", "channel": "visit",
        "direction": "outbound", "outcome": "reached", "collector": "zhao.lei"})
    pay(http, "C-3", "P-4", "500.00", "2026-03-15", currency="USD")
    post(http, "/v1/customers/C-3/costs", {"cost_id": "K-2", "amount": "20.00",
                                          "currency": "USD", "incurred_on": "2026-03-16",
                                          "kind": "postage"})
    answer = http.patch("/v1/customers/C-1", json={"collector": "wang.fang",
                                                   "effective_on": "2026-03-18"})
    assert answer.status_code == 200, answer.text
    pay(http, "C-1", "P-2", "3000.00", "2026-03-20")
    post(http, "/v1/cycle", {"as_of": "2026-03-21"}, status=200)  # PR-1 kept


def test_collector_results_are_the_hand_computation(http):
    portfolio(http)
    answer = http.get("/v1/kpis/collectors", params={"from": "2026-03-01", "to": "2026-03-31"})
    assert answer.status_code == 200, answer.text
    rows = {(r["collector"], r["currency"]): r for r in answer.json()["collectors"]}
    fields = ("recovered", "accounts", "contacts", "promises_made", "promises_kept",
              "promises_broken", "cost", "cost_per_recovered")
    assert {key: tuple(row[f] for f in fields) for key, row in rows.items()} == {
        # li.wei, CNY: P-1 2,000.00 (C-1 was theirs then; P-2 came after the reassignment);
        # no CNY account now; the call of 6 March; PR-1 made with them and kept; the
        # 100.00 trip while C-1 was theirs: 100 / 2000 = 0.0500.
        ("li.wei", "CNY"): ("2000.00", 0, 1, 1, 1, 0, "100.00", "0.0500"),
        # li.wei, USD: P-4 500.00 on C-3, still theirs; the 20.00 postage: 20 / 500.
        ("li.wei", "USD"): ("500.00", 1, 0, 0, 0, 0, "20.00", "0.0400"),
        # wang.fang, CNY: P-2 3,000.00 after the reassignment, P-3 500.00 less its bounce;
        # C-1 and C-2 now; PR-2 made and broken; no cost: 0 / 3000.
        ("wang.fang", "CNY"): ("3000.00", 2, 0, 1, 0, 1, "0.00", "0.0000"),
        # zhao.lei visited C-2 (the contact names them): a contact, nothing recovered.
        ("zhao.lei", "CNY"): ("0.00", 0, 1, 0, 0, 0, "0.00", None),
    }


def test_kpis_add_money_by_stage_and_the_cost_of_collecting_it(http):
    portfolio(http)
    found = http.get("/v1/kpis", params={"from": "2026-03-01", "to": "2026-03-31"}).json()
    by_currency = {c["currency"]: c for c in found["currencies"]}
    # CNY: P-1 2,000.00 at the warning; P-3 500.00 at the hold, bounced (−500.00 against
    # the stage it came at); P-2 3,000.00 at the hold. Costs 100.00 / 5,000.00.
    assert by_currency["CNY"]["recovery_by_stage"] == {"hold": "3000.00", "warning": "2000.00"}
    assert by_currency["CNY"]["collection_cost"] == "0.0200"
    assert by_currency["USD"]["recovery_by_stage"] == {"hold": "500.00"}
    assert by_currency["USD"]["collection_cost"] == "0.0400"
    # Outside the period nothing: P-0 of 15 February.
    february = http.get("/v1/kpis", params={"from": "2026-02-01", "to": "2026-02-28"}).json()
    cny = next(c for c in february["currencies"] if c["currency"] == "CNY")
    assert cny["recovery_by_stage"] == {"none": "1000.00"} and cny["collection_cost"] == "0.0000"


def test_the_command_line_prints_them_by_collector(http, store):
    portfolio(http)
    done = subprocess.run(
        [sys.executable, "-m", "huikuan.adapters.cli", "kpis", "--by", "collector",
         "--from", "2026-03-01", "--to", "2026-03-31"], capture_output=True, text=True,
        timeout=300, check=False, env={**os.environ, "HUIKUAN_DATABASE_URL": store.url,
                                       "HUIKUAN_PLUGINS": str(REPO / "plugins.toml"),
                                       "HUIKUAN_LOG_LEVEL": "WARNING", "COLUMNS": "60"})
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Collectors 2026-03-01 to 2026-03-31"
    wang = next(line for line in lines if line.startswith("wang.fang"))
    assert wang.split()[:4] == ["wang.fang", "CNY", "3000.00", "2"]

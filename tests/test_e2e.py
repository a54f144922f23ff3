"""End to end: a real server process, real SMTP, through a seed story of the documents."""

import threading
from decimal import Decimal

import pytest

from huikuan.adapters.storage import ledger_env
from huikuan.core.access import issue_key
from huikuan.core.ledger import Ledger
from tests.conftest import REPO
from tests.server import Server


@pytest.fixture
def server(store, mailbox, webhook, tmp_path):
    ledger = Ledger(env=ledger_env(store.url))
    key = issue_key(ledger, "admin")[1]
    ledger.close()
    running = Server({
        "HUIKUAN_DATABASE_URL": store.url, "HUIKUAN_PLUGINS": str(REPO / "plugins.toml"),
        "HUIKUAN_SMTP_URL": mailbox.url, "HUIKUAN_SMS_WEBHOOK_URL": webhook.url,
        "HUIKUAN_LETTER_DIR": str(tmp_path / "letters"), "HUIKUAN_DISPATCH_EVERY": "0.2",
    })
    running.client.headers["Authorization"] = f"Bearer {key}"
    yield running
    running.stop()


def test_a_seed_story_end_to_end(server, mailbox):
    http = server.client

    def post(path, body, status=201):
        response = http.post(path, json=body)
        assert response.status_code == status, (path, response.text)
        return response.json()

    # A customer on 30-day terms buys on credit; the goods are signed for (回单签收).
    post("/v1/customers", {"customer_id": "HD-001", "name": "华东机电有限公司", "currency": "CNY",
                           "collector": "li.wei", "credit_limit": "20000",
                           "contacts": [{"name": "王会计", "email": "ap@huadong.example",
                                         "phone": "+86 21 5555 0101"}]})
    post("/v1/customers/HD-001/invoices", {"invoice_id": "INV-1", "amount": "10000.00",
                                           "currency": "CNY", "issued_on": "2026-08-01"})
    post("/v1/customers/HD-001/deliveries", {"invoice_id": "INV-1", "delivered_on": "2026-08-03",
                                             "receipt_ref": "QS-88", "signed_by": "王会计"})
    # The day after the due date: the overdue notice (预告) goes out by e-mail.
    cycle = post("/v1/cycle", {"as_of": "2026-09-01"}, status=200)
    assert cycle["counts"]["message:notice"] == 2
    with mailbox.received:
        assert mailbox.received.wait_for(lambda: len(mailbox.messages) >= 1, timeout=60)
    notice = mailbox.messages[0]
    assert notice["To"] == "ap@huadong.example"
    assert "10000.00 CNY" in notice["Subject"]
    # A partial payment, then a written promise for the rest.
    post("/v1/customers/HD-001/payments", {"payment_id": "PAY-1", "amount": "3000.00",
                                           "currency": "CNY", "received_on": "2026-09-10"})
    post("/v1/customers/HD-001/promises", {"promise_id": "PR-1", "amount": "7000.00",
                                           "made_on": "2026-09-12", "due_on": "2026-09-20",
                                           "written": True})
    # The promise is broken the day after its date. The 9 days it ran (12–20 September)
    # do not count: the account resumes at the notice; the warning comes 9 days later.
    cycle = post("/v1/cycle", {"as_of": "2026-09-21"}, status=200)
    assert cycle["counts"]["promise_broken"] == 1
    account = http.get("/v1/customers/HD-001").json()
    assert account["stage"] == "notice" and "broken_promise" in account["risk"]["signals"]
    cycle = post("/v1/cycle", {"as_of": "2026-09-24"}, status=200)
    assert cycle["counts"]["message:warning"] == 2
    # The customer disputes part of it; at +30 counted days (9 October) supply is held.
    post("/v1/customers/HD-001/disputes", {"dispute_id": "D-1", "invoice_id": "INV-1",
                                           "amount": "1000.00", "raised_on": "2026-09-25",
                                           "reason": "质量异议"})
    post("/v1/cycle", {"as_of": "2026-10-08"}, status=200)
    assert http.get("/v1/customers/HD-001").json()["stage"] == "warning"
    post("/v1/cycle", {"as_of": "2026-10-09"}, status=200)
    account = http.get("/v1/customers/HD-001").json()
    assert (account["stage"], account["supply_hold"]) == ("hold", True)
    assert account["disputed"] == "1000.00"
    check = http.get("/v1/customers/HD-001/credit-check", params={"amount": "500"}).json()
    assert check["allowed"] is False
    # The undisputed rest is paid: supply is released; only the dispute remains open.
    post("/v1/customers/HD-001/payments", {"payment_id": "PAY-2", "amount": "6000.00",
                                           "currency": "CNY", "received_on": "2026-10-12"})
    post("/v1/cycle", {"as_of": "2026-10-13"}, status=200)
    account = http.get("/v1/customers/HD-001").json()
    assert (account["stage"], account["supply_hold"], account["outstanding"]) == (
        "none", False, "1000.00")
    assert http.get("/v1/customers/HD-001/credit-check", params={"amount": "500"}).json()[
        "allowed"] is True
    # History as of mid-September, and the audit.
    history = http.get("/v1/customers/HD-001/history", params={"as_of": "2026-09-15"}).json()
    assert history["balance_as_of"] == "7000.00"
    assert "PromiseBroken" not in [e["type"] for e in history["events"]]
    audit = http.get("/v1/audit/verify").json()
    assert audit["ok"] is True and audit["events_checked"] > 15
    aging = http.get("/v1/aging", params={"as_of": "2026-10-13"}).json()
    assert aging["totals"][0]["total"] == "1000.00"


def test_sixteen_threads_posting_payments_to_one_account(server):
    http = server.client
    http.post("/v1/customers", json={"customer_id": "C-1", "name": "x", "currency": "CNY"})
    http.post("/v1/customers/C-1/invoices", json={"invoice_id": "I-1", "amount": "100000.00",
                                                  "currency": "CNY", "issued_on": "2026-01-01"})
    start = threading.Barrier(16)
    statuses: list[int] = []

    def post_payments(n: int) -> None:
        with __import__("httpx").Client(base_url=server.url, timeout=120,
                                         headers=dict(http.headers)) as client:
            start.wait()
            for k in range(5):
                body = {"payment_id": f"P-{n}-{k}", "amount": "10.00", "currency": "CNY",
                        "received_on": "2026-02-01"}
                statuses.append(client.post("/v1/customers/C-1/payments", json=body).status_code)
                # Every payment is posted twice: the repeat must not count.
                statuses.append(client.post("/v1/customers/C-1/payments", json=body).status_code)

    threads = [threading.Thread(target=post_payments, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(set(statuses)) == [200, 201], [
        line for line in server.log if "unexpected" in line][:1]
    assert statuses.count(201) == 80 and statuses.count(200) == 80
    account = http.get("/v1/customers/C-1").json()
    assert Decimal(account["outstanding"]) == Decimal("100000.00") - 80 * Decimal("10.00")

"""A client generated from the OpenAPI document works as an API consumer would use it.

openapi-python-client reads the document a running server serves; the generated
package records an invoice and reads the customer back, with typed models named from
the operationIds and the answer models.
"""

import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from huikuan.adapters.storage import ledger_env
from huikuan.core.access import issue_key
from huikuan.core.ledger import Ledger
from tests.server import Server


@pytest.fixture
def server(tmp_path):
    url = f"sqlite:///{tmp_path / 'events.sqlite3'}"
    ledger = Ledger(env=ledger_env(url))
    key = issue_key(ledger, "integration")[1]
    ledger.close()
    running = Server({"HUIKUAN_DATABASE_URL": url, "HUIKUAN_IN_PROCESS_WORKERS": "0"})
    running.key = key  # type: ignore[attr-defined]
    yield running
    running.stop()


@pytest.fixture
def generated(server, tmp_path, monkeypatch):
    """The package openapi-python-client makes of the served document, importable."""
    document = tmp_path / "openapi.json"
    document.write_text(server.client.get("/schema/openapi.json").text, encoding="utf-8")
    config = tmp_path / "config.json"
    # No formatter run over the output; a letter (application/pdf) is a file to it.
    config.write_text(json.dumps({"post_hooks": [], "content_type_overrides": {
        "application/pdf": "application/octet-stream"}}))
    command = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent))
    assert command, "openapi-python-client is installed with the dev extra"
    done = subprocess.run(
        [command, "generate", "--path", str(document), "--meta", "none", "--config", str(config),
         "--output-path", str(tmp_path / "huikuan_client"), "--fail-on-warning"],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for name in [n for n in sys.modules if n.partition(".")[0] == "huikuan_client"]:
        del sys.modules[name]


def test_a_generated_client_records_an_invoice_and_reads_the_customer(server, generated):
    from huikuan_client import AuthenticatedClient
    from huikuan_client.api.facts import issue_invoice, register_customer
    from huikuan_client.api.views import get_customer
    from huikuan_client.models import (
        CustomerRegistered,
        CustomerSummary,
        InvoiceLine,
        InvoiceRecorded,
        IssueInvoice,
        RegisterCustomer,
    )

    client = AuthenticatedClient(base_url=server.url, token=server.key)
    # An integration registers its customer and posts an invoice, in typed models.
    registered = register_customer.sync(client=client, body=RegisterCustomer(
        customer_id="HD-001", name="华东机电有限公司", currency="CNY"))
    assert isinstance(registered, CustomerRegistered)
    invoice = IssueInvoice(invoice_id="INV-1", amount="12500.00", currency="CNY",
                           issued_on=date(2026, 8, 1))
    recorded = issue_invoice.sync("HD-001", client=client, body=invoice)
    assert isinstance(recorded, InvoiceRecorded)
    assert (recorded.customer_id, recorded.open_amount) == ("HD-001", "12500.00")
    assert recorded.due_on == date(2026, 8, 31)  # issued + the default 30 days' terms
    # Posting it again is a repeat: 200, the same answer.
    again = issue_invoice.sync_detailed("HD-001", client=client, body=invoice)
    assert again.status_code == 200 and again.parsed == recorded
    # The customer reads back with its invoice, amounts as the decimal strings they are.
    customer = get_customer.sync("HD-001", client=client, as_of="2026-09-10")
    assert isinstance(customer, CustomerSummary)
    assert (customer.outstanding, customer.overdue, customer.class_) == (
        "12500.00", "12500.00", "in_collection")  # 10 days past due, no cycle needed
    line = customer.invoices[0]
    assert isinstance(line, InvoiceLine)
    assert (line.invoice_id, line.amount, line.open_amount, line.due_on, line.days_overdue) == (
        "INV-1", "12500.00", "12500.00", date(2026, 8, 31), 10)

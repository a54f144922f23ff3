"""Who did it (issue 13): every event names who recorded it and the reason given,
through HTTP, the cycle, the dispatcher and the importer; old events read null."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from huikuan.core.access import issue_key
from tests.conftest import REPO


@pytest.fixture
def keyed(ledger, policy):
    """The API, with a manager's and an integration's key and their ids."""
    from huikuan.adapters.bootstrap import Huikuan
    from huikuan.adapters.http import Services, create_app

    hk = Huikuan(ledger, {}, host=policy)
    keys = {role: issue_key(ledger, role) for role in ("manager", "integration", "auditor")}
    with TestClient(create_app(Services(ledger, policy, hk.views))) as client:
        client.keys = keys  # type: ignore[attr-defined]
        client.as_ = lambda role, **more: {  # type: ignore[attr-defined]
            "Authorization": f"Bearer {keys[role][1]}", **more}
        yield client
    hk.views.close()
    hk.projector.close()


def post(api: Any, path: str, body: dict[str, Any], role: str, status: int = 201,
         **headers: str) -> dict[str, Any]:
    answer = api.post(path, json=body, headers=api.as_(role, **headers))
    assert answer.status_code == status, answer.text
    found: dict[str, Any] = answer.json()
    return found


def history(api: Any, **query: str) -> list[dict[str, Any]]:
    answer = api.get("/v1/customers/C-1/history", params=query,
                     headers=api.as_("auditor"))
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["events"]
    return found


def opened(api: Any) -> None:
    post(api, "/v1/customers", {"customer_id": "C-1", "name": "华东机电有限公司",
                                "currency": "CNY"}, "manager")
    post(api, "/v1/customers/C-1/invoices", {"invoice_id": "I-1", "amount": "1000.00",
                                             "currency": "CNY", "issued_on": "2026-01-01"},
         "integration")


def test_history_names_the_key_and_the_reason_of_each_fact(keyed):
    manager, integration = keyed.keys["manager"][0], keyed.keys["integration"][0]
    opened(keyed)
    post(keyed, "/v1/customers/C-1/payments", {"payment_id": "P-1", "amount": "100.00",
                                               "currency": "CNY", "received_on": "2026-02-01"},
         "integration", **{"X-Reason": "bank statement 2026-02"})
    post(keyed, "/v1/customers/C-1/write-offs", {"invoice_id": "I-1", "amount": "50.00",
                                                 "written_off_on": "2026-03-01",
                                                 "reason": "小额尾差"}, "manager")
    post(keyed, "/v1/customers/C-1/contacts", {
        "occurred_at": "2026-03-02T10:00:00+08:00", "channel": "phone",
        "direction": "outbound", "outcome": "reached"}, "manager",
        **{"X-Reason": "月初对账".encode()})  # UTF-8 bytes, as clients send
    by_type = {e["type"]: e for e in history(keyed)}
    assert by_type["Registered"]["recorded_by"] == f"key:{manager}"
    assert by_type["InvoiceIssued"]["recorded_by"] == f"key:{integration}"
    assert (by_type["PaymentReceived"]["recorded_by"], by_type["PaymentReceived"]["reason"]) \
        == (f"key:{integration}", "bank statement 2026-02")
    # The body's own reason is the request's reason when no header gives one.
    assert (by_type["WrittenOff"]["recorded_by"], by_type["WrittenOff"]["reason"]) == (
        f"key:{manager}", "小额尾差")
    assert by_type["ContactLogged"]["reason"] == "月初对账"
    assert "recorded_by" not in by_type["PaymentReceived"]["data"]
    # Filtered by who recorded it: its facts, and the decisions made on them in the
    # same request (each naming the plugin that made it).
    mine = history(keyed, recorded_by=f"key:{integration}")
    assert {e["recorded_by"] for e in mine} == {f"key:{integration}"}
    assert [e["type"] for e in mine if "plugin" not in e["data"]] == [
        "InvoiceIssued", "PaymentReceived"]
    # The global feed says the same.
    feed = keyed.get("/v1/events", headers=keyed.as_("auditor")).json()["events"]
    paid = next(e for e in feed if e["type"] == "PaymentReceived")
    assert (paid["recorded_by"], paid["reason"]) == (f"key:{integration}",
                                                     "bank statement 2026-02")


def test_the_cycle_and_the_dispatcher_say_so(keyed, mailbox, monkeypatch):
    opened(keyed)
    post(keyed, "/v1/cycle", {"as_of": "2026-02-05"}, "manager", status=200)
    decided = [e for e in history(keyed) if e["type"] in ("StageEntered", "MessageQueued")]
    assert decided and {e["recorded_by"] for e in decided} == {"cycle"}


def test_the_dispatcher_records_as_the_dispatcher(ledger, policy, mailbox):
    from datetime import UTC, date, datetime

    from huikuan.adapters.bootstrap import Huikuan
    from huikuan.core.commands import RegisterCustomer
    from tests.conftest import invoice

    hk = Huikuan(ledger, {"HUIKUAN_SMTP_URL": f"smtp://127.0.0.1:{mailbox.port}"},
                 host=policy)
    ledger.register_customer(RegisterCustomer(
        customer_id="C-1", name="华东机电", currency="CNY",
        contacts=[{"name": "王会计", "email": "ap@hd.example"}]))
    ledger.execute("C-1", invoice("I-1", "1000.00", date(2026, 1, 1)))
    hk.cycle.run(date(2026, 2, 5))
    hk.dispatcher.run_once(datetime(2026, 2, 5, 3, tzinfo=UTC))
    sent = [e for e in ledger.history("C-1") if e.type in ("MessageSent", "MessageFailed",
                                                           "MessageHeld")]
    assert sent and {e.recorded_by for e in sent} == {"dispatcher"}
    assert ledger.history("C-1")[0].recorded_by == "system"  # no one said otherwise


def test_an_import_says_import(store, tmp_path: Path):
    ledger_csv = tmp_path / "ledger.csv"
    ledger_csv.write_text("customer_id,customer_name,invoice_id,amount,currency,issued_on,"
                          "due_on,paid_amount\nIMP-1,导入客户,IMP-1-A,100.00,CNY,2026-10-01,"
                          "2026-10-31,40.00\n", encoding="utf-8")
    env = {**os.environ, "HUIKUAN_DATABASE_URL": store.url, "HUIKUAN_LOG_LEVEL": "WARNING",
           "HUIKUAN_PLUGINS": str(REPO / "plugins.toml")}

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "huikuan.adapters.cli", *args], env=env,
                              capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    run("import", str(ledger_csv), "--as-of", "2026-11-23")
    lines = run("history", "IMP-1", "--json").splitlines()
    import json

    found = [json.loads(line) for line in lines]
    assert found and {e["recorded_by"] for e in found} == {"import"}
    assert "import" in run("history", "IMP-1", "--recorded-by", "import")


def test_events_stored_before_read_null(tmp_path: Path):
    """The kept store of 2 December: its events have no recorder; they read null."""
    import gzip
    import shutil

    from huikuan.adapters.storage import ledger_env
    from huikuan.core.audit import verify
    from huikuan.core.ledger import Ledger

    target = tmp_path / "v2.sqlite3"
    with gzip.open(REPO / "tests" / "fixtures" / "v2_store.sqlite3.gz", "rb") as src, \
            target.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    ledger = Ledger(env=ledger_env(f"sqlite:///{target}", None))
    entries = ledger.history("FIX-1")
    assert entries and {(e.recorded_by, e.reason) for e in entries} == {(None, None)}
    assert verify(ledger).ok
    ledger.close()


@pytest.mark.parametrize("reason", ["x" * 501, "bad\x07bell", "line\nbreak"])
def test_a_reason_too_long_or_with_control_characters_is_a_422(keyed, reason):
    opened(keyed)
    answer = keyed.post("/v1/customers/C-1/payments", json={
        "payment_id": "P-1", "amount": "1.00", "currency": "CNY",
        "received_on": "2026-02-01"}, headers=keyed.as_("integration", **{"X-Reason": reason}))
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["X-Reason"]
    assert "PaymentReceived" not in [e["type"] for e in history(keyed)]


@pytest.fixture
def require_write_off_reason(settings_env, tmp_path: Path):
    from huikuan.adapters.settings import load_settings
    from huikuan.core.policy import PolicyHost

    shipped = (REPO / "plugins.toml").read_text(encoding="utf-8")
    file = tmp_path / "plugins.toml"
    file.write_text(shipped.replace("require_reason = []", 'require_reason = ["write_off"]'),
                    encoding="utf-8")
    return PolicyHost(load_settings(file, env=settings_env), load_entry_points=False)


@pytest.mark.parametrize("required", [True, False])
def test_a_write_off_needs_a_reason_only_when_the_policy_says_so(ledger, policy, required,
                                                                 request):
    from huikuan.adapters.bootstrap import Huikuan
    from huikuan.adapters.http import Services, create_app

    host = request.getfixturevalue("require_write_off_reason") if required else policy
    hk = Huikuan(ledger, {}, host=host)
    _, key = issue_key(ledger, "manager")
    auth = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(Services(ledger, host, hk.views))) as api:
        api.post("/v1/customers", json={"customer_id": "C-1", "name": "华东",
                                        "currency": "CNY"}, headers=auth)
        api.post("/v1/customers/C-1/invoices", headers=auth, json={
            "invoice_id": "I-1", "amount": "100.00", "currency": "CNY",
            "issued_on": "2026-01-01"})
        body = {"invoice_id": "I-1", "amount": "10.00", "written_off_on": "2026-03-01"}
        answer = api.post("/v1/customers/C-1/write-offs", json=body, headers=auth)
        if required:
            assert answer.status_code == 422, answer.text
            assert [e["field"] for e in answer.json()["errors"]] == ["reason"]
            assert "WrittenOff" not in [e.type for e in ledger.history("C-1")]
            given = api.post("/v1/customers/C-1/write-offs", json=body,
                             headers={**auth, "X-Reason": "approved by CFO"})
            assert given.status_code == 201, given.text
        else:
            assert answer.status_code == 201, answer.text
    hk.views.close()
    hk.projector.close()


def test_an_unknown_kind_in_require_reason_is_refused_at_start(tmp_path: Path):
    from huikuan.adapters.settings import SettingsError, load_settings

    file = tmp_path / "plugins.toml"
    file.write_text('[audit]\nrequire_reason = ["write_off", "writeoff"]\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"\[audit\] require_reason names writeoff"):
        load_settings(file, env={})

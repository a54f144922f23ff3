"""The gentle ladder, switched on through its entry point and plugins.toml alone."""

from datetime import date
from decimal import Decimal
from pathlib import Path

from huikuan.adapters.settings import load_settings
from huikuan.adapters.storage import open_ledger
from huikuan.core.commands import IssueInvoice, RegisterCustomer
from huikuan.core.cycle import DailyCycle
from huikuan.core.policy import PolicyHost

PLUGINS_TOML = """
[huikuan]
plugins = ["commitments", "classes", "risk", "escalation", "templates", "worklist", "gentle"]

[gentle]
tags = ["key-account"]
courtesy_call_days = 3
"""


def ledger_with_two_customers(tmp_path: Path):
    ledger = open_ledger(f"sqlite:///{tmp_path / 'events.sqlite3'}")
    for customer_id, tags in (("KEY-1", ["key-account"]), ("PLAIN-1", [])):
        ledger.register_customer(RegisterCustomer(
            customer_id=customer_id, name="x", currency="CNY", tags=tags))
        ledger.execute(customer_id, IssueInvoice(
            invoice_id="I-1", amount=Decimal("500.00"), currency="CNY",
            issued_on=date(2026, 1, 1)))
    return ledger


def run(tmp_path: Path, ledger, as_of: date, toml: str | None) -> None:
    path = None
    if toml is not None:
        path = tmp_path / "plugins.toml"
        path.write_text(toml, encoding="utf-8")
    host = PolicyHost(load_settings(path, env={}))
    DailyCycle(ledger, host).run(as_of)


def test_key_accounts_get_a_courtesy_call_instead_of_a_notice(tmp_path):
    ledger = ledger_with_two_customers(tmp_path)
    run(tmp_path, ledger, date(2026, 2, 3), PLUGINS_TOML)  # +3
    key = ledger.account("KEY-1")
    assert key.stage == "notice"
    assert [(m.kind, m.channel) for m in key.messages.values()] == [("call_task", "worklist")]
    stage_event = [e for e in ledger.history("KEY-1") if e.type == "StageEntered"][-1]
    assert (stage_event.data["plugin"], stage_event.data["plugin_version"]) == ("gentle", "1.0.0")
    # Others keep the default ladder: a notice by e-mail and text and a call task.
    plain = ledger.account("PLAIN-1")
    assert sorted(m.kind for m in plain.messages.values()) == ["call_task", "notice", "notice"]


def test_key_accounts_never_have_supply_held(tmp_path):
    ledger = ledger_with_two_customers(tmp_path)
    run(tmp_path, ledger, date(2026, 3, 20), PLUGINS_TOML)  # +48
    assert ledger.account("KEY-1").stage == "hold"
    assert ledger.account("KEY-1").supply_hold is False
    assert ledger.account("PLAIN-1").supply_hold is True


def test_without_plugins_toml_naming_it_the_plugin_does_nothing(tmp_path):
    ledger = ledger_with_two_customers(tmp_path)
    run(tmp_path, ledger, date(2026, 2, 3), PLUGINS_TOML.replace(', "gentle"', ""))
    assert sorted(m.kind for m in ledger.account("KEY-1").messages.values()) == [
        "call_task", "notice", "notice"]

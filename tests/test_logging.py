"""Logs: JSON lines with the account and command bound; never personal data."""

import io
import json
from datetime import UTC, date, datetime

import pytest

from huikuan.adapters.logging import configure_logging
from huikuan.core.commands import LogContact, RegisterCustomer
from huikuan.core.errors import InvalidCommand
from tests.conftest import invoice

NAME, CONTACT = "深圳市某某科技有限公司", "王芳"
PHONE, EMAIL = "+86 755 8888 1234", "cfo@example.cn"


def test_log_lines_are_json_with_account_and_command_and_no_personal_data(ledger):
    out = io.StringIO()
    configure_logging(json=True, stream=out, force=True)
    ledger.register_customer(RegisterCustomer(
        customer_id="C-1", name=NAME, currency="CNY",
        contacts=[{"name": CONTACT, "phone": PHONE, "email": EMAIL}]))
    ledger.execute("C-1", invoice("I-1", "10.00", date(2026, 1, 1)))
    ledger.execute("C-1", LogContact(occurred_at=datetime(2026, 1, 2, 3, tzinfo=UTC),
                                     channel="phone", direction="outbound", outcome="reached",
                                     note=f"spoke to {CONTACT} at {PHONE}"))
    with pytest.raises(InvalidCommand):
        ledger.execute("C-1", invoice("I-2", "10.001", date(2026, 1, 1)))

    text = out.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    assert [(x["event"], x["command"]) for x in lines] == [
        ("command.recorded", "register"),
        ("command.recorded", "issue_invoice"),
        ("command.recorded", "log_contact"),
        ("command.refused", "issue_invoice"),
    ]
    assert all(x["customer_id"] == "C-1" and "timestamp" in x and "level" in x for x in lines)
    assert lines[-1]["field"] == "amount"
    for secret in (NAME, PHONE, EMAIL, CONTACT):
        assert secret not in text


def test_a_traceback_on_the_console_shows_no_local_variable():
    import io

    import structlog

    out = io.StringIO()
    configure_logging(json=False, stream=out, force=True)
    try:
        # Built at run time, so only a frame's locals could show it (the source lines
        # a traceback quotes do not hold it).
        secret = "".join(reversed("gol-eht-rof-ton"))  # noqa: F841
        raise RuntimeError("boom")
    except RuntimeError:
        structlog.get_logger("test").exception("http.unexpected")
    text = out.getvalue()
    assert "RuntimeError" in text and "boom" in text
    assert "not-for-the-log" not in text
    configure_logging(json=True, force=True)

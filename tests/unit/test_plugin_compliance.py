"""Lawful contact: decent hours in the customer's time zone, not too often (plugins.compliance)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from huikuan.core.testing import (
    account_view,
    contact_view,
    message_view,
    outgoing_message,
    settings,
)
from huikuan.plugins.compliance import huikuan_contact_allowed

SHANGHAI = ZoneInfo("Asia/Shanghai")
TEXT = outgoing_message(channel="sms", recipient="13800000000")


def test_a_text_at_ten_at_night_waits_for_eight_the_next_morning_local_time():
    late = datetime(2026, 2, 1, 22, 0, tzinfo=SHANGHAI)
    verdict = huikuan_contact_allowed(TEXT, account_view(), late, settings())
    assert verdict.allowed is False
    assert verdict.hold_until == datetime(2026, 2, 2, 8, 0, tzinfo=SHANGHAI)


def test_the_hours_are_the_customers():
    ten_am_in_shanghai = datetime(2026, 2, 1, 2, 0, tzinfo=UTC)
    berlin = account_view(timezone="Europe/Berlin")
    assert huikuan_contact_allowed(TEXT, account_view(), ten_am_in_shanghai,
                                   settings()).allowed is True
    assert huikuan_contact_allowed(TEXT, berlin, ten_am_in_shanghai, settings()).allowed is False


def test_email_and_letters_may_go_at_any_time():
    midnight = datetime(2026, 2, 1, 0, 0, tzinfo=SHANGHAI)
    assert huikuan_contact_allowed(outgoing_message(channel="email"), account_view(), midnight,
                                   settings()) is None


def test_no_more_than_seven_attempts_in_seven_days_counting_sent_texts():
    now = datetime(2026, 2, 8, 10, 0, tzinfo=SHANGHAI)
    calls = [contact_view(occurred_at=now - timedelta(days=n, hours=1)) for n in range(5)]
    texts = [message_view(message_id=f"M-{n}", channel="sms", status="sent",
                          sent_at=now - timedelta(hours=n + 2)) for n in range(2)]
    verdict = huikuan_contact_allowed(TEXT, account_view(contact_log=calls, messages=texts),
                                      now, settings())
    assert (verdict.allowed, verdict.reason) == (False, "7 attempts in 7 days")
    fewer = account_view(contact_log=calls, messages=texts[:1])
    assert huikuan_contact_allowed(TEXT, fewer, now, settings()).allowed is True

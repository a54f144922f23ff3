"""Sending what the cycle queued: real SMTP and webhook on loopback, holds, retries, crashes."""

import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from huikuan.adapters.settings import load_settings
from huikuan.core.account import Account, account_id
from huikuan.core.commands import LogContact, RegisterCustomer
from huikuan.core.cycle import DailyCycle
from huikuan.core.outbox import Dispatcher
from huikuan.core.policy import PolicyHost
from tests.conftest import REPO, invoice
from tests.receivers import text_body

NOTICE_DAY = date(2026, 2, 1)  # +1 for an invoice issued 2026-01-01 on 30-day terms
MORNING = datetime(2026, 2, 1, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def env(settings_env, mailbox, webhook):
    return {**settings_env, "HUIKUAN_SMTP_URL": mailbox.url,
            "HUIKUAN_SMS_WEBHOOK_URL": webhook.url}


@pytest.fixture
def host(env):
    return PolicyHost(load_settings(REPO / "plugins.toml", env=env), load_entry_points=False)


def customer_with_notice(ledger, host, customer_id="C-1", n=1):
    ledger.register_customer(RegisterCustomer(
        customer_id=customer_id, name="华东贸易有限公司", currency="CNY", collector="li.wei",
        contacts=[{"name": "财务", "email": f"ap{n}@acme.example",
                   "phone": f"+86 21 5555 {n:04d}"}]))
    ledger.execute(customer_id, invoice("I-1", "1000.00", date(2026, 1, 1)))


def statuses(ledger, customer_id="C-1"):
    return {(m.kind, m.channel): m.status for m in ledger.account(customer_id).messages.values()}


def test_notice_goes_out_by_email_and_text_and_the_task_to_the_worklist(
    ledger, host, mailbox, webhook
):
    customer_with_notice(ledger, host)
    DailyCycle(ledger, host).run(NOTICE_DAY)
    summary = Dispatcher(ledger, host).run_once(MORNING)
    assert summary.counts == Counter(sent=3)
    assert statuses(ledger) == {("notice", "email"): "sent", ("notice", "sms"): "sent",
                                ("call_task", "worklist"): "sent"}
    # What the SMTP server received.
    [mail] = mailbox.messages
    queued = {m.channel: m for m in ledger.account("C-1").messages.values()}
    assert mail["To"] == "ap1@acme.example"
    assert mail["Message-ID"] == f"<{queued['email'].message_id}@huikuan>"
    assert "1000.00 CNY" in mail["Subject"]
    assert "2026-02-08" in text_body(mail)
    # What the SMS webhook received.
    [text] = webhook.requests
    assert text["json"]["to"] == "+86 21 5555 0001"
    assert text["headers"]["Idempotency-Key"] == queued["sms"].message_id
    assert "1000.00 CNY" in text["json"]["text"]
    # Nothing is sent twice.
    assert Dispatcher(ledger, host).run_once(MORNING + timedelta(hours=1)).counts == Counter()
    assert len(mailbox.messages) == 1 and len(webhook.requests) == 1


def test_texts_wait_for_contact_hours_in_the_customers_time_zone(ledger, host, mailbox, webhook):
    customer_with_notice(ledger, host)
    DailyCycle(ledger, host).run(NOTICE_DAY)
    late_evening = datetime(2026, 2, 1, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
    summary = Dispatcher(ledger, host).run_once(late_evening)
    # The e-mail goes; the text and the call task wait for 08:00 Shanghai time.
    assert summary.counts == Counter(sent=1, held=2)
    assert webhook.requests == []
    held = [m for m in ledger.account("C-1").messages.values() if m.status == "held"]
    assert {m.next_attempt_at for m in held} == {datetime(2026, 2, 2, 0, 0, tzinfo=UTC)}
    # Before 08:00 nothing more happens; at 08:00 they go.
    assert Dispatcher(ledger, host).run_once(datetime(2026, 2, 1, 23, 0, tzinfo=UTC)).counts \
        == Counter()
    assert Dispatcher(ledger, host).run_once(datetime(2026, 2, 2, 0, 0, tzinfo=UTC)).counts \
        == Counter(sent=2)
    assert len(webhook.requests) == 1


def test_no_more_than_seven_attempts_in_seven_days(ledger, host, webhook):
    customer_with_notice(ledger, host)
    for n in range(7):
        ledger.execute("C-1", LogContact(
            occurred_at=datetime(2026, 1, 26 + n % 6, 3, n, tzinfo=UTC), channel="phone",
            direction="outbound", outcome="no_answer"))
    DailyCycle(ledger, host).run(NOTICE_DAY)
    summary = Dispatcher(ledger, host).run_once(MORNING)
    assert summary.counts == Counter(sent=1, held=2)  # only the e-mail
    assert webhook.requests == []


def test_failed_text_is_retried_with_backoff_then_given_up(ledger, host, webhook):
    customer_with_notice(ledger, host)
    DailyCycle(ledger, host).run(NOTICE_DAY)
    webhook.statuses.extend([503, 503])
    dispatcher = Dispatcher(ledger, host)
    assert dispatcher.run_once(MORNING).counts == Counter(sent=2, retry=1)
    sms = next(m for m in ledger.account("C-1").messages.values() if m.channel == "sms")
    assert sms.next_attempt_at == MORNING + timedelta(minutes=5)
    # Not yet due: nothing is tried.
    assert dispatcher.run_once(MORNING + timedelta(minutes=4)).counts == Counter()
    assert dispatcher.run_once(MORNING + timedelta(minutes=5)).counts == Counter(retry=1)
    sms = ledger.account("C-1").messages[sms.message_id]
    assert sms.next_attempt_at == MORNING + timedelta(minutes=15)  # 5 + 10
    assert dispatcher.run_once(MORNING + timedelta(minutes=15)).counts == Counter(sent=1)
    assert [r["status"] for r in webhook.requests] == [503, 503, 200]
    # A final refusal is not retried.
    webhook.statuses.append(400)
    customer_with_notice(ledger, host, "C-2", n=2)
    DailyCycle(ledger, host).run(NOTICE_DAY)
    assert dispatcher.run_once(MORNING).counts == Counter(sent=2, failed=1)
    assert statuses(ledger, "C-2")[("notice", "sms")] == "failed"


def test_a_dispatcher_killed_mid_batch_loses_nothing_and_repeats_only_the_message_in_flight(
    store, ledger, host, env, webhook
):
    for n in range(1, 6):
        customer_with_notice(ledger, host, f"C-{n}", n=n)
    DailyCycle(ledger, host).run(NOTICE_DAY)
    sms_ids = [m.message_id for n in range(1, 6)
               for m in ledger.account(f"C-{n}").messages.values() if m.channel == "sms"]
    # A dispatcher in its own process dies right after the third text was accepted.
    crashed = subprocess.run(
        [sys.executable, "-m", "tests.crash_dispatch", store.url, json.dumps(env),
         MORNING.isoformat(), "3"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 3, crashed.stderr
    assert [r["json"]["message_id"] for r in webhook.requests] == sms_ids[:3]
    # A new dispatcher finishes the batch.
    Dispatcher(store.open(), host).run_once(MORNING)
    received = [r["json"]["message_id"] for r in webhook.requests]
    assert Counter(received) == Counter({**dict.fromkeys(sms_ids, 1), sms_ids[2]: 2})
    # Every message is recorded sent exactly once.
    fresh = store.open()
    for n in range(1, 6):
        account = fresh.account(f"C-{n}")
        assert {m.status for m in account.messages.values()} == {"sent"}
        sent_events = [e for e in fresh.events.get(account_id(f"C-{n}"))
                       if isinstance(e, Account.MessageSent)]
        assert len(sent_events) == 3


def test_letters_are_rendered_as_documents(ledger, host, settings_env):
    customer_with_notice(ledger, host)
    DailyCycle(ledger, host).run(date(2026, 2, 15))  # +15: the warning letter
    Dispatcher(ledger, host).run_once(MORNING + timedelta(days=14))
    letter = next(m for m in ledger.account("C-1").messages.values() if m.channel == "letter")
    assert letter.status == "sent"
    from pathlib import Path

    import pypdfium2

    printed = Path(settings_env["HUIKUAN_LETTER_DIR"]) / f"{letter.message_id}.pdf"
    text = "".join(page.get_textpage().get_text_range()
                   for page in pypdfium2.PdfDocument(printed.read_bytes()))
    assert "警告函" in text and "1000.00 CNY" in text and "2026-02-22" in text


def test_a_demand_for_money_no_longer_owed_is_cancelled_not_sent(ledger, host, webhook,
                                                                 mailbox):
    from huikuan.core.commands import ReceivePayment

    customer_with_notice(ledger, host)
    DailyCycle(ledger, host).run(NOTICE_DAY)
    # The customer pays before the dispatcher gets to the notice.
    ledger.execute("C-1", ReceivePayment(payment_id="P-1", amount="1000.00", currency="CNY",
                                         received_on=NOTICE_DAY))
    summary = Dispatcher(ledger, host).run_once(MORNING)
    assert summary.counts == Counter(cancelled=3)
    assert mailbox.messages == [] and webhook.requests == []
    assert set(statuses(ledger).values()) == {"cancelled"}


def test_two_dispatchers_at_once_send_each_message_once(ledger, host, webhook):
    import threading

    for n in range(1, 4):
        customer_with_notice(ledger, host, f"C-{n}", n=n)
    DailyCycle(ledger, host).run(NOTICE_DAY)
    start = threading.Barrier(2)
    results = []

    def run():
        start.wait()
        results.append(Dispatcher(ledger, host).run_once(MORNING).counts)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Whichever ran, every text went out once; a second run finds nothing to do.
    assert sorted(r["json"]["message_id"] for r in webhook.requests) == sorted(
        {r["json"]["message_id"] for r in webhook.requests})
    assert len(webhook.requests) == 3
    assert Dispatcher(ledger, host).run_once(MORNING).counts == Counter()


def test_a_failing_plugin_does_not_block_the_outbox(ledger, settings_env, env, webhook):
    from huikuan.core.plugin import hookimpl

    class Picky:
        @hookimpl
        def huikuan_contact_allowed(self, message):
            if message.customer_id == "C-1":
                raise RuntimeError("boom")

    host = PolicyHost(load_settings(REPO / "plugins.toml", env=env),
                      extra_plugins=[("picky", Picky())], load_entry_points=False)
    customer_with_notice(ledger, host, "C-1", n=1)
    customer_with_notice(ledger, host, "C-2", n=2)
    DailyCycle(ledger, host).run(NOTICE_DAY)
    summary = Dispatcher(ledger, host).run_once(MORNING)
    assert summary.counts["error"] == 3 and summary.counts["sent"] == 3
    assert statuses(ledger, "C-2")[("notice", "sms")] == "sent"


def test_history_before_a_message_was_queued_reads_fine_after_it_was_sent(ledger, host):
    customer_with_notice(ledger, host)
    DailyCycle(ledger, host).run(NOTICE_DAY)
    # Sent at 17:00 UTC on 31 January: already 1 February in Shanghai.
    Dispatcher(ledger, host).run_once(datetime(2026, 2, 1, 1, 0, tzinfo=UTC))
    assert ledger.account_as_of("C-1", date(2026, 1, 31)).messages == {}


def test_sent_texts_count_towards_the_seven_attempts(ledger, host, webhook):
    customer_with_notice(ledger, host)
    for n in range(5):
        ledger.execute("C-1", LogContact(
            occurred_at=datetime(2026, 1, 27 + n, 3, tzinfo=UTC), channel="phone",
            direction="outbound", outcome="no_answer"))
    DailyCycle(ledger, host).run(NOTICE_DAY)
    # 5 calls + the text + the call task = 7: the next text must wait.
    assert Dispatcher(ledger, host).run_once(MORNING).counts == Counter(sent=3)
    from huikuan.core.plugin import OutgoingMessage
    from huikuan.core.policy import view_of

    verdicts = host.collect("huikuan_contact_allowed", message=OutgoingMessage(
        message_id="m-x", customer_id="C-1", kind="notice", channel="sms", recipient="x",
        subject="", body="", attempt=1), account=view_of(ledger.account("C-1")),
        now=MORNING + timedelta(hours=1))
    assert [v.allowed for v, _ in verdicts] == [False]


def test_plugins_say_where_a_message_goes_and_whether_it_is_still_wanted(ledger, env, mailbox,
                                                                        webhook):
    """The recipient and the obsolete-demand rule are hooks: a plugin of the customer's
    own takes over from the default rules, and what it decided is what happens."""
    from huikuan.core.commands import ReceivePayment
    from huikuan.core.plugin import ObsoleteVerdict, hookimpl

    class Finance:
        @hookimpl
        def huikuan_message_recipient(self, request):
            return "finance@acme.example" if request.channel == "email" else None

        @hookimpl
        def huikuan_message_obsolete(self, message):
            # Texts are informational here: they go even once paid.
            return ObsoleteVerdict(False) if message.channel == "sms" else None

    host = PolicyHost(load_settings(REPO / "plugins.toml", env=env),
                      extra_plugins=[("finance", Finance())], load_entry_points=False)
    customer_with_notice(ledger, host)
    DailyCycle(ledger, host).run(NOTICE_DAY)
    recipients = {m.channel: m.recipient for m in ledger.account("C-1").messages.values()}
    assert recipients == {"email": "finance@acme.example", "sms": "+86 21 5555 0001",
                          "worklist": "li.wei"}
    ledger.execute("C-1", ReceivePayment(payment_id="P-1", amount="1000.00", currency="CNY",
                                         received_on=NOTICE_DAY))
    summary = Dispatcher(ledger, host).run_once(MORNING)
    assert summary.counts == Counter(cancelled=2, sent=1)
    assert statuses(ledger) == {("notice", "email"): "cancelled", ("notice", "sms"): "sent",
                                ("call_task", "worklist"): "cancelled"}
    assert mailbox.messages == [] and len(webhook.requests) == 1


def test_a_notice_states_what_is_owed_when_it_is_sent_not_when_it_was_queued(
    ledger, host, mailbox, webhook, api
):
    """Queued for 10,000.00; 2,000.00 paid and 3,000.00 disputed before it goes: the
    e-mail, the text and the message kept for people all state the 5,000.00 left."""
    from huikuan.core.commands import RaiseDispute, ReceivePayment

    ledger.register_customer(RegisterCustomer(
        customer_id="C-1", name="华东贸易有限公司", currency="CNY", collector="li.wei",
        contacts=[{"name": "财务", "email": "ap1@acme.example", "phone": "+86 21 5555 0001"}]))
    ledger.execute("C-1", invoice("I-1", "10000.00", date(2026, 1, 1)))
    DailyCycle(ledger, host).run(NOTICE_DAY)
    email = next(m for m in ledger.account("C-1").messages.values() if m.channel == "email")
    assert "10000.00 CNY" in email.subject  # as queued
    admin = api.as_role("admin")
    queued = api.get(f"/v1/messages/{email.message_id}", headers=admin).json()
    assert queued["status"] == "pending" and "10000.00 CNY" in queued["body"]
    ledger.execute("C-1", ReceivePayment(payment_id="P-1", amount="2000.00", currency="CNY",
                                         received_on=NOTICE_DAY))
    ledger.execute("C-1", RaiseDispute(dispute_id="D-1", invoice_id="I-1", amount="3000.00",
                                       raised_on=NOTICE_DAY))
    assert Dispatcher(ledger, host).run_once(MORNING).counts == Counter(sent=3)
    [mail] = mailbox.messages
    text = text_body(mail)
    assert "5000.00 CNY" in mail["Subject"] and "5000.00 CNY" in text
    assert "10000.00" not in mail["Subject"] + text
    assert "2026-02-08" in text  # the deadline given when queued stands
    [sms] = webhook.requests
    assert "5000.00 CNY" in sms["json"]["text"] and "10000.00" not in sms["json"]["text"]
    # What people see is what was sent.
    kept = api.get(f"/v1/messages/{email.message_id}", headers=admin).json()
    assert kept["status"] == "sent"
    assert kept["subject"] == mail["Subject"] and "5000.00 CNY" in kept["body"]
    assert "10000.00" not in kept["subject"] + kept["body"]
    listed = api.get("/v1/messages?customer_id=C-1", headers=admin).json()
    assert {m["subject"] for m in listed if m["kind"] == "notice"} == {kept["subject"]}
    # The task for the collector is not a demand: it is unchanged.
    task = next(m for m in ledger.account("C-1").messages.values() if m.channel == "worklist")
    assert task.status == "sent"


def test_credit_notes_and_write_offs_count_and_the_text_goes_as_queued_when_nothing_changed(
    ledger, host, mailbox
):
    from huikuan.core.commands import IssueCreditNote, WriteOff

    for n in (1, 2):
        ledger.register_customer(RegisterCustomer(
            customer_id=f"C-{n}", name="华东贸易有限公司", currency="CNY",
            contacts=[{"name": "财务", "email": f"ap{n}@acme.example"}]))
        ledger.execute(f"C-{n}", invoice("I-1", "6000.00", date(2026, 1, 1)))
        ledger.execute(f"C-{n}", invoice("I-2", "4000.00", date(2026, 1, 1)))
    DailyCycle(ledger, host).run(NOTICE_DAY)
    queued = {n: next(m for m in ledger.account(f"C-{n}").messages.values()
                      if m.channel == "email") for n in (1, 2)}
    # C-1: 1,000.00 credited on I-1, I-2 written off whole: 5,000.00 left, on I-1 only.
    ledger.execute("C-1", IssueCreditNote(credit_note_id="CN-1", invoice_id="I-1",
                                          amount="1000.00", issued_on=NOTICE_DAY))
    ledger.execute("C-1", WriteOff(invoice_id="I-2", amount="4000.00",
                                   written_off_on=NOTICE_DAY))
    Dispatcher(ledger, host).run_once(MORNING)
    mails = {m["To"]: m for m in mailbox.messages}
    restated = text_body(mails["ap1@acme.example"])
    assert "5000.00 CNY" in mails["ap1@acme.example"]["Subject"]
    assert "I-1" in restated and "I-2" not in restated and "10000.00" not in restated
    # C-2: nothing changed, so what went is exactly what was queued.
    sent = ledger.account("C-2").messages[queued[2].message_id]
    assert (sent.subject, sent.body) == (queued[2].subject, queued[2].body)
    assert mails["ap2@acme.example"]["Subject"] == queued[2].subject

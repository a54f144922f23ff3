"""Tamper evidence: verify passes on a clean store and names any altered event."""

from datetime import date

import pytest
from eventsourcing.cryptography import AESCipher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huikuan.core.audit import verify
from huikuan.core.commands import RaiseDispute, ReceivePayment, RegisterCustomer
from tests.conftest import invoice


def fill(ledger, customers=("C-1", "C-2")):
    for c in customers:
        ledger.register_customer(RegisterCustomer(customer_id=c, name="客户" + c, currency="CNY"))
        ledger.execute(c, invoice("I-1", "1000.00", date(2026, 1, 5)))
        ledger.execute(c, ReceivePayment(payment_id="P-1", amount="250.00", currency="CNY",
                                         received_on=date(2026, 2, 1)))
        ledger.execute(c, RaiseDispute(dispute_id="D-1", invoice_id="I-1", amount="50.00",
                                       raised_on=date(2026, 2, 2), reason="短少"))


def row(store, ledger, customer_id, version):
    account = ledger.account(customer_id)
    rows = store.execute(
        "SELECT state FROM {events} WHERE originator_id = %s AND originator_version = %s",
        (_id(store, account.id), version),
    )
    return account.id, bytes(rows[0][0])


def _id(store, account_id):
    # SQLite keeps the uuid as text, PostgreSQL as uuid.
    return account_id.hex if store.backend == "sqlite" else account_id


def verify_afresh(store, cipher_key=None):
    """Verify with a newly opened ledger, as an auditor's process would."""
    ledger = store.open(cipher_key=cipher_key)
    try:
        return verify(ledger)
    finally:
        store.ledgers.remove(ledger)
        ledger.close()


def write(store, account_id, version, state):
    store.execute(
        "UPDATE {events} SET state = %s WHERE originator_id = %s AND originator_version = %s",
        (state, _id(store, account_id), version),
    )


def test_verify_passes_on_a_clean_store(store, ledger):
    fill(ledger)
    report = verify(ledger)
    assert report.ok
    assert report.events_checked == 8
    assert report.first_failure is None


def test_a_changed_amount_is_named(store, ledger):
    fill(ledger)
    account_id, state = row(store, ledger, "C-2", 2)
    assert b'"1000.00"' in state
    write(store, account_id, 2, state.replace(b'"1000.00"', b'"9000.00"'))
    report = verify_afresh(store)
    assert not report.ok
    failure = report.first_failure
    assert (failure.customer_id, failure.originator_version) == ("C-2", 2)
    assert failure.topic == "huikuan:Account.InvoiceIssued"
    assert failure.reason == "content does not match its chain hash"
    assert report.failure_count == 1


@pytest.mark.parametrize("version", [1, 4])
def test_a_flipped_byte_is_named_even_in_the_first_or_latest_event(store, ledger, version):
    fill(ledger, customers=("C-1",))
    account_id, state = row(store, ledger, "C-1", version)
    offset = len(state) // 2
    write(store, account_id, version,
          state[:offset] + bytes([state[offset] ^ 0x01]) + state[offset + 1:])
    report = verify_afresh(store)
    failure = report.first_failure
    assert (failure.originator_id, failure.originator_version) == (str(account_id), version)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_flipped_bit_is_reported(store, ledger, data):
    # Drawn before reading the row, so each example draws the same way.
    if not ledger.has_customer("C-1"):
        fill(ledger, customers=("C-1",))
    version = data.draw(st.integers(1, 4), label="version")
    position = data.draw(st.integers(0, 9999), label="position")
    bit = data.draw(st.integers(0, 7), label="bit")
    account_id, state = row(store, ledger, "C-1", version)
    offset = position * len(state) // 10000
    write(store, account_id, version,
          state[:offset] + bytes([state[offset] ^ (1 << bit)]) + state[offset + 1:])
    try:
        report = verify_afresh(store)
        assert report.first_failure is not None
        assert report.first_failure.originator_version == version
    finally:
        write(store, account_id, version, state)


def test_a_removed_event_breaks_the_chain_of_the_next(store, ledger):
    fill(ledger, customers=("C-1",))
    account_id, _ = row(store, ledger, "C-1", 2)
    store.execute("DELETE FROM {events} WHERE originator_id = %s AND originator_version = 2",
                  (_id(store, account_id),))
    report = verify_afresh(store)
    assert report.first_failure.originator_version == 3
    assert "1 event(s) missing" in report.first_failure.reason


def test_an_undecodable_row_is_reported_not_raised(store, ledger):
    fill(ledger, customers=("C-1",))
    account_id, _ = row(store, ledger, "C-1", 3)
    write(store, account_id, 3, b"\xff\xfe not json at all")
    report = verify_afresh(store)
    assert report.first_failure.originator_version == 3
    assert "cannot be decoded" in report.first_failure.reason


def test_encrypted_store_hides_data_and_still_verifies(store):
    key = AESCipher.create_key(num_bytes=32)
    ledger = store.open(cipher_key=key)
    fill(ledger, customers=("C-1",))
    account_id, state = row(store, ledger, "C-1", 1)
    assert "客户C-1".encode() not in state
    assert verify(ledger).ok
    # Without the key nothing can be read: every event is reported.
    assert verify_afresh(store).failure_count == 4
    write(store, account_id, 1, state[:-1] + bytes([state[-1] ^ 0x80]))
    report = verify_afresh(store, cipher_key=key)
    assert report.first_failure.originator_version == 1
    assert "cannot be decoded" in report.first_failure.reason


def test_a_tampered_snapshot_is_reported(store, ledger):
    from huikuan.core.account import account_id

    fill(ledger, customers=("C-1",))
    ledger.take_snapshot(account_id("C-1"))
    table = "stored_snapshots" if store.backend == "sqlite" else \
        f'"{store.schema}".huikuan_snapshots'
    [(state,)] = store.execute(f"SELECT state FROM {table}")
    state = bytes(state)
    assert b'"250.00"' in state
    store.execute(f"UPDATE {table} SET state = %s", (state.replace(b'"250.00"', b'"950.00"'),))
    report = verify_afresh(store)
    assert report.snapshots_checked == 1
    assert [(f.topic, f.customer_id, f.reason) for f in report.failures] == [
        ("snapshot", "C-1", "snapshot does not match the events")]


def test_the_heads_digest_changes_when_an_accounts_latest_event_is_removed(store, ledger):
    fill(ledger, customers=("C-1",))
    before = verify_afresh(store)
    account_id, _ = row(store, ledger, "C-1", 4)
    store.execute("DELETE FROM {events} WHERE originator_id = %s AND originator_version = 4",
                  (_id(store, account_id),))
    after = verify_afresh(store)
    # The chain alone still holds, but the digest kept from the last audit no longer matches.
    assert after.ok
    assert after.heads_digest != before.heads_digest

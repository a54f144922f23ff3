"""The red team's tampers, each caught: by `huikuan audit verify` (exit 1) and by
`GET /v1/audit/verify` (ok false), on both backends, with the audit key set; the
untampered store verifies. A tampered account is refused with a clear problem."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from litestar.testing import TestClient
from typer.testing import CliRunner

from huikuan.adapters.cli import app as cli
from huikuan.adapters.http import Services, create_app
from huikuan.adapters.storage import ledger_env
from huikuan.core import chain
from huikuan.core.access import KEYRING_ID, issue_key, role_of
from huikuan.core.account import account_id
from huikuan.core.anchors import AnchorBook, AnchorRefused, take_anchor
from huikuan.core.audit import verify
from huikuan.core.commands import ReceivePayment
from huikuan.core.errors import Tampered
from huikuan.core.ledger import Ledger
from huikuan.projections.queries import Views
from tests.test_audit import _id, fill, row, write

KEY = "audit-key-for-tests"
TRANSCODER = Ledger(env=ledger_env("sqlite:///:memory:")).mapper.transcoder


@pytest.fixture
def book(tmp_path: Path) -> AnchorBook:
    return AnchorBook(tmp_path / "anchors")


def open_keyed(store, book, key=KEY) -> Ledger:
    env = ledger_env(store.url)
    if key:
        env["HUIKUAN_AUDIT_KEY"] = key
    ledger = Ledger(env=env)
    ledger.guard.anchors = book
    store.ledgers.append(ledger)
    return ledger


@pytest.fixture
def keyed(store, book) -> Ledger:
    return open_keyed(store, book)


def cli_verify(store, book, key=KEY):
    env = {"HUIKUAN_DATABASE_URL": store.url, "HUIKUAN_AUDIT_ANCHOR": str(book.folder),
           "HUIKUAN_AUDIT_KEY": key or ""}
    return CliRunner().invoke(cli, ["audit", "verify"], env=env)


def http_verify(store, book, policy, auditor_key, key=KEY):
    ledger = open_keyed(store, book, key)
    views = Views(ledger)
    try:
        with TestClient(create_app(Services(ledger, policy, views))) as client:
            return client.get("/v1/audit/verify",
                              headers={"Authorization": f"Bearer {auditor_key}"}).json()
    finally:
        views.close()
        views.projector.close()


def prepared(store, keyed, book):
    """Two customers, an auditor's key, an anchor taken: the store as the red team found it."""
    fill(keyed)
    _, auditor_key = issue_key(keyed, "auditor")
    take_anchor(keyed, book, datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    return auditor_key


def stored_state(store, originator_id, version):
    """The event's stored state, decoded as the library decodes it (dates, decimals…)."""
    [(state,)] = store.execute(
        "SELECT state FROM {events} WHERE originator_id = %s AND originator_version = %s",
        (_id(store, originator_id), version))
    return TRANSCODER.decode(bytes(state))


def encoded(state):
    return TRANSCODER.encode(state)


def rechain_plain(store, originator_id, versions, topic_of, edit=None):
    """Rewrite an aggregate's events from ``versions[0]`` with a recomputed plain SHA-256
    chain, as a tamperer without the key would (``edit`` changes the first)."""
    previous = chain.GENESIS if versions[0] == 1 else \
        stored_state(store, originator_id, versions[0] - 1)["chain_hash"]
    for version in versions:
        state = stored_state(store, originator_id, version)
        if edit is not None and version == versions[0]:
            edit(state)
        content = chain.stored_content(topic_of(version), originator_id, version, state)
        state["chain_hash"] = hashlib.sha256(
            previous.encode() + b"\n" + content).hexdigest()
        previous = state["chain_hash"]
        write(store, originator_id, version, encoded(state))


def topics(store, originator_id):
    rows = store.execute("SELECT originator_version, topic FROM {events} "
                         "WHERE originator_id = %s", (_id(store, originator_id),))
    by_version = dict(rows)
    return lambda version: by_version[version]


def edit_a_field(store, keyed, book):
    aggregate, state = row(store, keyed, "C-2", 2)
    write(store, aggregate, 2, state.replace(b'"1000.00"', b'"9000.00"'))


def delete_the_last_event(store, keyed, book):
    aggregate, _ = row(store, keyed, "C-1", 4)
    store.execute("DELETE FROM {events} WHERE originator_id = %s AND originator_version = 4",
                  (_id(store, aggregate),))


def delete_an_account(store, keyed, book):
    store.execute("DELETE FROM {events} WHERE originator_id = %s",
                  (_id(store, account_id("C-1")),))


def reorder(store, keyed, book):
    aggregate = account_id("C-1")
    _, third = row(store, keyed, "C-1", 3)
    _, fourth = row(store, keyed, "C-1", 4)
    write(store, aggregate, 3, fourth)
    write(store, aggregate, 4, third)


def rechain_with_plain_sha256(store, keyed, book):
    aggregate = account_id("C-1")

    def more(state):
        state["amount"] = Decimal("999.00")

    rechain_plain(store, aggregate, [3, 4], topics(store, aggregate), more)


def forge_a_key(store, keyed, book):
    # A KeyIssued(admin) appended to the ring, its chain recomputed with plain SHA-256.
    forged = "hk_forged"
    last = store.execute("SELECT max(originator_version) FROM {events} "
                         "WHERE originator_id = %s", (_id(store, KEYRING_ID),))[0][0]
    state = stored_state(store, KEYRING_ID, last)
    new = {"timestamp": state["timestamp"], "key_id": "key-forged",
           "key_hash": hashlib.sha256(forged.encode()).hexdigest(), "role": "admin"}
    topic = "huikuan:KeyRing.KeyIssued"
    content = chain.stored_content(topic, KEYRING_ID, last + 1, new)
    new["chain_hash"] = hashlib.sha256(
        state["chain_hash"].encode() + b"\n" + content).hexdigest()
    store.execute("INSERT INTO {events} (originator_id, originator_version, topic, state) "
                  "VALUES (%s, %s, %s, %s)",
                  (_id(store, KEYRING_ID), last + 1, topic,
                   encoded(new)))


def delete_the_anchor(store, keyed, book):
    for path in book.folder.glob("anchor-*.json"):
        path.unlink()


def forge_the_anchor(store, keyed, book):
    # Lower C-1's count in the anchor to cover a deletion, and sign it with plain SHA-256.
    delete_the_last_event(store, keyed, book)
    [path] = book.folder.glob("anchor-*.json")
    document = json.loads(path.read_text())
    document["aggregates"][str(account_id("C-1"))]["version"] = 3
    document["aggregates"][str(account_id("C-1"))]["head"] = stored_state(
        store, account_id("C-1"), 3)["chain_hash"]
    document.pop("signature")
    body = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    document["signature"] = "sha256:" + hashlib.sha256(body.encode()).hexdigest()
    path.write_text(json.dumps(document))


TAMPERS = [edit_a_field, delete_the_last_event, delete_an_account, reorder,
           rechain_with_plain_sha256, forge_a_key, delete_the_anchor, forge_the_anchor]


def test_the_untampered_store_verifies_by_cli_and_http(store, keyed, book, policy):
    auditor_key = prepared(store, keyed, book)
    result = cli_verify(store, book)
    assert result.exit_code == 0, result.output
    assert "anchor 1 taken at 2026-11-30T12:00:00+00:00: ok" in result.output
    answer = http_verify(store, book, policy, auditor_key)
    assert answer["ok"] is True
    assert answer["anchor"] == {"ok": True, "taken_at": "2026-11-30T12:00:00+00:00",
                                "sequence": 1, "signed": True}
    assert answer["events_checked"] == 12  # 8 of accounts, 2 of the key ring, 2 of the audit log


@pytest.mark.parametrize("tamper", TAMPERS, ids=[t.__name__ for t in TAMPERS])
def test_each_tamper_is_caught_by_cli_and_http(store, keyed, book, policy, tamper):
    auditor_key = prepared(store, keyed, book)
    tamper(store, keyed, book)
    result = cli_verify(store, book)
    assert result.exit_code == 1, result.output
    assert "FAILED" in result.output
    answer = http_verify(store, book, policy, auditor_key)
    assert answer["ok"] is False
    assert answer["failures"] >= 1


def test_a_forged_key_does_not_work_and_the_keys_before_it_still_do(store, keyed, book):
    _, admin = issue_key(keyed, "admin")
    forge_a_key(store, keyed, book)
    fresh = open_keyed(store, book)
    assert role_of(fresh, "hk_forged") is None
    assert role_of(fresh, admin) is not None
    assert role_of(fresh, admin)[1] == "admin"
    # The running process, whose ring was cached before the forgery, refuses it too.
    assert role_of(keyed, "hk_forged") is None


def test_a_plain_rechain_without_a_key_is_caught_only_by_the_anchor(store, book):
    ledger = open_keyed(store, book, key=None)
    fill(ledger)
    take_anchor(ledger, book)
    rechain_with_plain_sha256(store, ledger, book)
    report = verify(open_keyed(store, book, key=None), book)
    assert [f.reason.split(":")[0] for f in report.failures] == ["rewritten"]
    assert report.anchor.signed is False


@pytest.mark.parametrize("tamper", [delete_the_last_event, delete_an_account, reorder,
                                    edit_a_field],
                         ids=["delete last", "delete account", "reorder", "edit"])
def test_a_tampered_account_is_refused_with_a_clear_problem(store, keyed, book, policy,
                                                            tamper):
    auditor_key = prepared(store, keyed, book)
    _, manager_key = issue_key(keyed, "manager")
    tamper(store, keyed, book)
    customer = "C-2" if tamper is edit_a_field else "C-1"
    fresh = open_keyed(store, book)
    with pytest.raises(Tampered):
        fresh.history(customer)
    with pytest.raises(Tampered):
        fresh.execute(customer, ReceivePayment(payment_id="P-9", amount="1.00", currency="CNY",
                                               received_on=date(2026, 3, 1)))
    views = Views(fresh)
    try:
        with TestClient(create_app(Services(fresh, policy, views))) as client:
            headers = {"Authorization": f"Bearer {manager_key}"}
            answers = [
                client.get(f"/v1/customers/{customer}/history", headers=headers),
                client.get(f"/v1/customers/{customer}", headers=headers),
                client.get(f"/v1/customers/{customer}?as_of=2026-02-01", headers=headers),
                client.get(f"/v1/customers/{customer}/credit-check?amount=1.00",
                           headers=headers),
                client.post(f"/v1/customers/{customer}/payments", headers=headers,
                            json={"payment_id": "P-9", "amount": "1.00",
                                  "currency": "CNY", "received_on": "2026-03-01"}),
            ]
    finally:
        views.close()
        views.projector.close()
    for answer in answers:
        assert answer.status_code == 409, answer.text
        assert answer.json()["type"] == "urn:huikuan:problem:tampered"
        assert "restores" in answer.json()["detail"]
    # The other customer is untouched and still answers.
    other = "C-1" if customer == "C-2" else "C-2"
    assert fresh.history(other)
    assert auditor_key


def test_a_new_anchor_never_covers_a_loss(store, keyed, book):
    prepared(store, keyed, book)
    delete_the_last_event(store, keyed, book)
    with pytest.raises(AnchorRefused) as refused:
        take_anchor(open_keyed(store, book), book)
    assert "missing" in " ".join(refused.value.reasons)
    assert sorted(p.name for p in book.folder.glob("anchor-*.json")) == ["anchor-00000001.json"]
    env = {"HUIKUAN_DATABASE_URL": store.url, "HUIKUAN_AUDIT_ANCHOR": str(book.folder),
           "HUIKUAN_AUDIT_KEY": KEY}
    result = CliRunner().invoke(cli, ["audit", "anchor"], env=env)
    assert result.exit_code == 1


def test_without_a_key_a_recomputed_anchor_digest_is_caught_by_the_stores_record(store, book):
    ledger = open_keyed(store, book, key=None)
    fill(ledger)
    take_anchor(ledger, book)
    forge_the_anchor(store, ledger, book)
    report = verify(open_keyed(store, book, key=None), book)
    assert not report.ok
    assert report.anchor.problems == ["anchor 1 is not the one the store recorded (forged?)"]


def test_anchors_follow_each_other_and_growth_is_no_loss(store, keyed, book):
    prepared(store, keyed, book)
    keyed.execute("C-1", ReceivePayment(payment_id="P-2", amount="10.00", currency="CNY",
                                        received_on=date(2026, 3, 1)))
    second = take_anchor(keyed, book)
    assert second.sequence == 2
    assert second.heads[str(account_id("C-1"))][0] == 5
    report = verify(open_keyed(store, book), book)
    assert report.ok, report.failures
    assert report.anchor.sequence == 2


def test_the_workers_anchor_after_a_cycle_and_at_least_hourly(store, keyed, book, policy):
    from huikuan.adapters.workers import Anchoring
    from huikuan.core.cycle import DailyCycle

    fill(keyed)
    now = [datetime(2026, 11, 30, 9, 0, tzinfo=UTC)]
    anchoring = Anchoring(keyed, book, timedelta(hours=1), clock=lambda: now[0])
    assert anchoring.tick()  # the first look takes one
    now[0] += timedelta(minutes=10)
    assert not anchoring.tick()  # nothing new, not an hour yet
    DailyCycle(keyed, policy).run(date(2026, 11, 30), allow_future=True)
    assert anchoring.tick()  # a cycle completed since
    now[0] += timedelta(minutes=59)
    assert not anchoring.tick()
    now[0] += timedelta(minutes=1)
    assert anchoring.tick()  # an hour since the last
    assert len(list(book.folder.glob("anchor-*.json"))) == 3


@pytest.mark.parametrize("anchored", [True, False], ids=["anchored", "no anchor"])
@pytest.mark.parametrize("tamper", [delete_the_last_event, delete_an_account, edit_a_field],
                         ids=["delete last", "delete account", "edit"])
def test_a_running_server_refuses_an_account_tampered_under_it(store, keyed, book, policy,
                                                               tamper, anchored):
    """The server read and wrote the account before the tamper: from then on its view,
    its history and any write on it are refused, whether or not an anchor was taken
    (this process knows what it saw), until the store is restored."""
    fill(keyed)
    _, manager_key = issue_key(keyed, "manager")
    if anchored:
        take_anchor(keyed, book)
    customer = "C-2" if tamper is edit_a_field else "C-1"
    payment = {"payment_id": "P-8", "amount": "1.00", "currency": "CNY",
               "received_on": "2026-03-01"}
    views = Views(keyed)
    try:
        with TestClient(create_app(Services(keyed, policy, views))) as client:
            headers = {"Authorization": f"Bearer {manager_key}"}
            assert client.get(f"/v1/customers/{customer}", headers=headers).status_code == 200
            assert client.post(f"/v1/customers/{customer}/payments", headers=headers,
                               json=payment).status_code == 201
            # The account now has 5 events. (A change behind its head, after this process
            # last looked, is for the history and verify to show: both read every event.)
            if tamper is edit_a_field:
                _, state = row(store, keyed, customer, 5)
                write(store, account_id(customer), 5, state.replace(b'"1.00"', b'"9.00"'))
            elif tamper is delete_the_last_event:
                store.execute("DELETE FROM {events} WHERE originator_id = %s AND "
                              "originator_version = 5", (_id(store, account_id(customer)),))
            else:
                tamper(store, keyed, book)
            answers = [
                client.get(f"/v1/customers/{customer}", headers=headers),
                client.get(f"/v1/customers/{customer}/history", headers=headers),
                client.post(f"/v1/customers/{customer}/payments", headers=headers,
                            json={**payment, "payment_id": "P-9"}),
            ]
            other = "C-1" if customer == "C-2" else "C-2"
            untouched = client.get(f"/v1/customers/{other}", headers=headers)
    finally:
        views.close()
        views.projector.close()
    for answer in answers:
        assert answer.status_code == 409, answer.text
        assert answer.json()["type"] == "urn:huikuan:problem:tampered"
    assert untouched.status_code == 200
    # Nothing was written on it: the store holds no P-9.
    assert not [v for v, in store.execute(
        "SELECT originator_version FROM {events} WHERE originator_id = %s "
        "AND originator_version > 5", (_id(store, account_id(customer)),))]


@pytest.mark.parametrize("anchored", [True, False], ids=["anchored", "no anchor"])
def test_a_revocation_deleted_trusts_no_key(store, keyed, book, anchored):
    """Deleting a KeyRevoked would bring a revoked key back. A running server that read
    the revocation then trusts no key; so does any process once the ring is shorter than
    its anchor (and verify names the loss)."""
    from huikuan.core.access import revoke_key

    fill(keyed)
    _, admin = issue_key(keyed, "admin")
    revoked_id, revoked = issue_key(keyed, "collector")
    revoke_key(keyed, revoked_id)
    if anchored:
        take_anchor(keyed, book)
    assert role_of(keyed, revoked) is None
    assert role_of(keyed, admin) is not None
    keyed.repository.cache.get(KEYRING_ID, evict=True)  # even once the ring left the cache
    last = store.execute("SELECT max(originator_version) FROM {events} "
                         "WHERE originator_id = %s", (_id(store, KEYRING_ID),))[0][0]
    store.execute("DELETE FROM {events} WHERE originator_id = %s AND originator_version = %s",
                  (_id(store, KEYRING_ID), last))
    assert role_of(keyed, revoked) is None
    assert role_of(keyed, admin) is None
    if anchored:
        fresh = open_keyed(store, book)
        assert role_of(fresh, revoked) is None
        assert role_of(fresh, admin) is None
        assert cli_verify(store, book).exit_code == 1

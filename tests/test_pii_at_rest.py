"""Personal data sealed at rest: with HUIKUAN_CIPHER_KEY the bytes of the store hold no
customer's name, contact, e-mail address or phone number, and no message text.

A real server process on each backend records customers, invoices and a cycle; the real
command line sends the messages through a real SMTP server (aiosmtpd) and a real webhook
on loopback, then rebuilds the views. The SQLite file (with its -wal and -shm), a
``pg_dump`` of the PostgreSQL schema, every other file the store wrote and what the
processes logged are then searched for each name, address and number, as UTF-8, as
escaped JSON and as UTF-16; the API still answers them in clear.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from huikuan.adapters.storage import ledger_env
from huikuan.core.access import issue_key
from huikuan.core.commands import RegisterCustomer
from huikuan.core.cycle import DailyCycle
from huikuan.core.ledger import Ledger, WrongCipherKey
from huikuan.projections.queries import Views
from huikuan.projections.views import Projector
from tests.conftest import POSTGRES_URL, REPO, invoice
from tests.server import Server

# Distinctive enough that no ciphertext or id holds them by chance.
CUSTOMERS = [
    {"customer_id": "PII-1", "name": "鹦鹉螺精密机电有限公司", "currency": "CNY",
     "contacts": [{"name": "欧阳娜娜会计", "role": "AP", "email": "ouyang.nana@yingwuluo.example",
                   "phone": "+86 139 8765 4321"}]},
    {"customer_id": "PII-2", "name": "Quokkaville Tractor Works", "currency": "CNY",
     "language": "en",
     "contacts": [{"name": "Ophelia Quillfeather", "email": "o.quillfeather@quokkaville.example",
                   "phone": "+44 7700 900123"}]},
]
PERSONAL = [
    "鹦鹉螺精密机电有限公司", "鹦鹉螺精密", "欧阳娜娜会计", "ouyang.nana@yingwuluo.example",
    "yingwuluo", "+86 139 8765 4321", "13987654321",
    "Quokkaville Tractor Works", "Quokkaville", "Ophelia Quillfeather", "Quillfeather",
    "o.quillfeather@quokkaville.example", "+44 7700 900123", "447700900123",
]


def _forms(text: str) -> list[bytes]:
    """The ways a text may sit in a file: UTF-8, JSON with escapes, UTF-16."""
    return [text.encode(), json.dumps(text)[1:-1].encode(), text.encode("utf-16-le"),
            text.lower().encode()]


def _found_in(data: bytes) -> list[str]:
    return [text for text in PERSONAL if any(form in data for form in _forms(text))]


def _printed(pdf: bytes) -> bytes:
    """A letter's text as a reader sees it (the PDF holds glyph ids, not the text)."""
    import pypdfium2

    return "".join(page.get_textpage().get_text_range()
                   for page in pypdfium2.PdfDocument(pdf)).encode()


def _run(env: dict[str, str], *args: str, code: int = 0) -> tuple[str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "huikuan.adapters.cli", *args], cwd=REPO,
        env={**os.environ, **env}, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == code, (args, done.stdout + done.stderr)
    assert "Traceback" not in done.stderr, (args, done.stderr)
    return done.stdout, done.stderr


def _store_bytes(store: Any, tmp_path: Path) -> dict[str, bytes]:
    """What the store holds at rest: every file under the test's folder but the letters
    (documents to print and post: out of the cipher's reach, see README), and on
    PostgreSQL a dump of the store's schema."""
    found = {str(path): path.read_bytes() for path in tmp_path.rglob("*")
             if path.is_file() and "letters" not in path.relative_to(tmp_path).parts}
    if store.backend == "postgres":
        url = urlsplit(POSTGRES_URL)
        dump = subprocess.run(
            ["pg_dump", "-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432),
             "-U", url.username or "postgres", "--schema", store.schema,
             url.path.lstrip("/")], capture_output=True, check=True, timeout=120)
        assert f"{store.schema}.hk_accounts".encode() in dump.stdout
        found["pg_dump"] = dump.stdout
    else:
        assert any(name.endswith("events.sqlite3") for name in found)
    return found


@pytest.fixture
def sealed_env(store, mailbox, webhook, tmp_path: Path) -> dict[str, str]:
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    return {
        "HUIKUAN_DATABASE_URL": store.url, "HUIKUAN_CIPHER_KEY": key,
        "HUIKUAN_PLUGINS": str(REPO / "plugins.toml"), "HUIKUAN_SMTP_URL": mailbox.url,
        "HUIKUAN_SMS_WEBHOOK_URL": webhook.url, "HUIKUAN_IN_PROCESS_WORKERS": "0",
        "HUIKUAN_LETTER_DIR": str(tmp_path / "letters"),
        "HUIKUAN_AUDIT_ANCHOR": str(tmp_path / "anchors"),
        "HUIKUAN_LOG_FORMAT": "json", "HUIKUAN_LOG_LEVEL": "INFO", "COLUMNS": "200",
    }


def test_a_store_written_with_a_cipher_key_holds_no_personal_data_in_clear(
        store, sealed_env, mailbox, webhook, tmp_path):
    env = sealed_env
    ledger = Ledger(env=ledger_env(store.url, env["HUIKUAN_CIPHER_KEY"]))
    admin = issue_key(ledger, "admin")[1]
    ledger.close()
    server = Server(env)
    logged: list[str] = []
    try:
        http = server.client
        http.headers["Authorization"] = f"Bearer {admin}"

        def post(path: str, body: dict[str, Any], status: int = 201) -> Any:
            response = http.post(path, json=body)
            assert response.status_code == status, (path, response.text)
            return response.json()

        # Two customers with contacts, each owing an invoice due on 31 August.
        for customer in CUSTOMERS:
            post("/v1/customers", customer)
            post(f"/v1/customers/{customer['customer_id']}/invoices",
                 {"invoice_id": "INV-1", "amount": "8800.00", "currency": "CNY",
                  "issued_on": "2026-08-01"})
        # The overdue notice (e-mail and text) is queued the day after, and sent at 10:00
        # in Shanghai by the dispatcher; then the warning (a letter and an e-mail).
        counts = post("/v1/cycle", {"as_of": "2026-09-01"}, status=200)["counts"]
        assert counts["message:notice"] == 4
        out, err = _run(env, "dispatch", "--now", "2026-09-01T10:00:00+08:00")
        logged += [out, err]
        post("/v1/cycle", {"as_of": "2026-09-16"}, status=200)
        out, err = _run(env, "dispatch", "--now", "2026-09-16T10:00:00+08:00")
        logged += [out, err]
        assert sorted(str(m["To"]) for m in mailbox.messages) == sorted(
            2 * [c["contacts"][0]["email"] for c in CUSTOMERS])
        assert sorted(r["json"]["to"] for r in webhook.delivered()) == sorted(
            c["contacts"][0]["phone"] for c in CUSTOMERS)

        def answered_in_clear() -> None:
            for customer in CUSTOMERS:
                cid = customer["customer_id"]
                assert http.get(f"/v1/customers/{cid}").json()["name"] == customer["name"]
                listed = http.get("/v1/messages", params={"customer_id": cid}).json()
                by_channel = {}
                for item in listed:
                    message = http.get(f"/v1/messages/{item['message_id']}").json()
                    assert message["subject"] == item["subject"]
                    by_channel.setdefault(message["channel"], []).append(message)
                contact = customer["contacts"][0]
                assert {m["recipient"] for m in by_channel["email"]} == {contact["email"]}
                assert [m["recipient"] for m in by_channel["sms"]] == [contact["phone"]]
                assert [m["recipient"] for m in by_channel["letter"]] == [customer["name"]]
                assert all(m["status"] == "sent" for m in by_channel["email"])
                assert all(customer["name"] in m["body"] for m in by_channel["email"])
                sent = next(m for m in mailbox.messages if m["To"] == contact["email"])
                assert sent["Subject"] in {m["subject"] for m in by_channel["email"]}

        answered_in_clear()
        # What any process wrote at rest holds none of it.
        for where, data in _store_bytes(store, tmp_path).items():
            assert _found_in(data) == [], where
        # The views folded again from the events by the command line: sealed again.
        out, err = _run(env, "projections", "rebuild")
        logged += [out, err]
        answered_in_clear()
    finally:
        server.stop()
        logged += server.log
    for where, data in _store_bytes(store, tmp_path).items():
        assert _found_in(data) == [], where
    # Nor did anything logged or printed carry it.
    assert _found_in("".join(logged).encode()) == []
    # The letters are documents to print and post: they name the customer.
    letters = list((tmp_path / "letters").iterdir())
    assert len(letters) == 2 and all(_found_in(_printed(p.read_bytes())) for p in letters)


def test_a_wrong_or_missing_key_is_refused_in_one_clear_line(store, sealed_env, tmp_path):
    env = sealed_env
    _run(env, "import", str(_ledger_csv(tmp_path)))
    other = base64.b64encode(secrets.token_bytes(32)).decode()
    for key, says in [
        (other, "HUIKUAN_CIPHER_KEY does not open this store's events"),
        ("", "this store's events are encrypted: set HUIKUAN_CIPHER_KEY"),
        ("not a key", "HUIKUAN_CIPHER_KEY is the base64 of a 16, 24 or 32 byte key"),
    ]:
        for command in (["aging", "--as-of", "2026-09-01"], ["projections", "rebuild"],
                        ["serve", "--port", "1"]):
            _, err = _run({**env, "HUIKUAN_CIPHER_KEY": key}, *command, code=2)
            assert says in " ".join(err.split()), (command, err)
    # The right key still reads it all: nothing was dropped or rebuilt by the refusals.
    out, _ = _run(env, "account", "PII-1")
    assert "鹦鹉螺精密机电有限公司" in out


def _ledger_csv(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.csv"
    path.write_text("customer_id,customer_name,invoice_id,amount,currency,issued_on,due_on\n"
                    "PII-1,鹦鹉螺精密机电有限公司,INV-1,100.00,CNY,2026-08-01,2026-08-31\n",
                    encoding="utf-8")
    return path


# ---- in one process: the views' seal, what breaks it, and searching sealed names

NAME, OTHER = "鹦鹉螺精密机电有限公司", "Quokkaville Tractor Works"


def _register(ledger: Ledger, customer_id: str, name: str) -> None:
    ledger.register_customer(RegisterCustomer(
        customer_id=customer_id, name=name, currency="CNY", collector="li.wei",
        contacts=[{"name": "欧阳娜娜会计", "email": f"{customer_id.lower()}@yingwuluo.example",
                   "phone": "+86 139 8765 4321"}]))
    ledger.execute(customer_id, invoice("INV-1", "8800.00", date(2026, 8, 1)))


def _views_sql(store: Any, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """SQL on the read tables, as a person with the database in hand would run it."""
    if store.backend == "postgres":
        sql = sql.replace("hk_", f'"{store.schema}".hk_')
    return list(store.execute(sql, params))


@pytest.fixture
def cipher_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def sealed_api(store, cipher_key, policy):
    """The HTTP API over a store opened with a cipher key, as an admin."""
    from litestar.testing import TestClient

    from huikuan.adapters.http import Services, create_app

    ledger = store.open(cipher_key)
    views = Views(ledger)
    with TestClient(create_app(Services(ledger, policy, views))) as client:
        client.headers["Authorization"] = f"Bearer {issue_key(ledger, 'admin')[1]}"
        client.ledger = ledger  # type: ignore[attr-defined]
        client.views = views  # type: ignore[attr-defined]
        yield client
    views.close()
    views.projector.close()


def test_without_a_key_the_views_are_written_as_they_always_were(store, api):
    ledger = store.ledgers[0]
    _register(ledger, "PII-1", NAME)
    assert api.get("/v1/customers/PII-1", headers=api.as_role("auditor")).json()["name"] == NAME
    assert _views_sql(store, "SELECT name FROM hk_accounts") == [(NAME,)]
    assert _views_sql(store, "SELECT value FROM hk_meta WHERE key = 'sealed'") == []


def test_a_sealed_value_changed_by_hand_is_answered_from_the_account(
        store, sealed_api, policy):
    _register(sealed_api.ledger, "PII-1", NAME)
    _register(sealed_api.ledger, "PII-2", OTHER)
    DailyCycle(sealed_api.ledger, policy).run(date(2026, 9, 1))
    assert sealed_api.get("/v1/customers/PII-2").json()["name"] == OTHER
    [(one,), (two,)] = _views_sql(store, "SELECT name FROM hk_accounts ORDER BY customer_id")
    assert one.startswith("s1:") and two.startswith("s1:")
    # The two sealed names swapped (each is sealed for its own row), then garbled.
    _views_sql(store, "UPDATE hk_accounts SET name = %s WHERE customer_id = 'PII-1'", (two,))
    _views_sql(store, "UPDATE hk_accounts SET name = %s WHERE customer_id = 'PII-2'", (one,))
    assert sealed_api.get("/v1/customers/PII-1").json()["name"] == NAME
    assert sealed_api.get("/v1/customers/PII-2").json()["name"] == OTHER
    _views_sql(store, "UPDATE hk_accounts SET name = %s", ("s1:AAAA",))
    assert sealed_api.get("/v1/customers/PII-1").json()["name"] == NAME
    # A message's text and recipient, put back in clear by hand: answered from the account.
    [email] = [m for m in sealed_api.get("/v1/messages", params={"customer_id": "PII-1"}).json()
               if m["channel"] == "email"]
    sealed = sealed_api.get(f"/v1/messages/{email['message_id']}").json()
    assert sealed["recipient"] == "pii-1@yingwuluo.example" and NAME in sealed["body"]
    _views_sql(store, "UPDATE hk_messages SET body = 'x', recipient = 'x', subject = 'x'")
    assert sealed_api.get(f"/v1/messages/{email['message_id']}").json() == sealed
    assert email in sealed_api.get("/v1/messages", params={"customer_id": "PII-1"}).json()


def test_views_written_in_clear_on_an_encrypted_store_are_folded_again_sealed(
        store, cipher_key, tmp_path):
    ledger = store.open(cipher_key)
    for n in range(40):
        ledger.register_customer(RegisterCustomer(
            customer_id=f"PII-{n}", name=f"{NAME}{n}", currency="CNY"))
    views = Views(ledger)
    assert views.fresh().customer("PII-1")["name"] == f"{NAME}1"
    views.close()
    views.projector.close()
    # As a huikuan before sealing left them: the names in clear (in the database file,
    # not only in its log), no check value.
    _views_sql(store, "UPDATE hk_accounts SET name = %s || customer_id", (NAME,))
    _views_sql(store, "DELETE FROM hk_meta WHERE key = 'sealed'")
    if store.backend == "sqlite":
        _views_sql(store, "PRAGMA wal_checkpoint(TRUNCATE)")
    # The next process to open the views folds them again, sealed.
    views = Views(ledger)
    try:
        assert _views_sql(store, "SELECT COUNT(*) FROM hk_accounts") == [(0,)]
        assert views.fresh().customer("PII-1")["name"] == f"{NAME}1"
        names = _views_sql(store, "SELECT name FROM hk_accounts")
        assert len(names) == 40 and all(name.startswith("s1:") for (name,) in names)
        if store.backend == "sqlite":
            # Nor is the clear name left in the database's free pages or its log.
            files = [p for p in tmp_path.iterdir() if p.name.startswith("events.sqlite3")]
            assert [p.name for p in files if NAME.encode() in p.read_bytes()] == []
    finally:
        views.close()
        views.projector.close()


def test_views_sealed_under_one_key_are_kept_when_opened_with_another_or_none(
        store, cipher_key):
    ledger = store.open(cipher_key)
    _register(ledger, "PII-1", NAME)
    views = Views(ledger)
    views.fresh()
    views.close()
    views.projector.close()
    [(sealed,)] = _views_sql(store, "SELECT name FROM hk_accounts")
    other = base64.b64encode(secrets.token_bytes(32)).decode()
    for key in (other, None):
        with pytest.raises(WrongCipherKey):
            Projector(store.open(key))
    # Refused, not folded again: the views are as they were.
    assert _views_sql(store, "SELECT name FROM hk_accounts") == [(sealed,)]


def test_a_search_by_name_opens_the_sealed_names_in_the_process(store, cipher_key):
    ledger = store.open(cipher_key)
    for n, name in enumerate([NAME, OTHER, "华东机电有限公司"]):
        ledger.register_customer(RegisterCustomer(
            customer_id=f"C-{n}", name=name, currency="CNY"))
    views = Views(ledger)
    try:
        names = views.fresh().customer_names()
        assert names == {"C-0": NAME, "C-1": OTHER, "C-2": "华东机电有限公司"}
        # Issue 14's ?q= (id or name contains) and a list sorted by name, over sealed names.
        found = sorted((n, c) for c, n in names.items() if "机电" in n or "机电" in c)
        assert [c for _, c in found] == ["C-2", "C-0"]
        assert "s1:" in str(_views_sql(store, "SELECT name FROM hk_accounts"))
    finally:
        views.close()
        views.projector.close()


class _Refusing:
    """An SMTP server that refuses every mailbox, quoting it, as real servers do."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return f"550 5.1.1 <{address}>: Recipient address rejected: user unknown"


def test_a_refused_mailbox_is_not_named_in_the_dispatchers_log(ledger, settings_env):
    import io

    from aiosmtpd.controller import Controller

    from huikuan.adapters.logging import configure_logging
    from huikuan.adapters.settings import load_settings
    from huikuan.core.outbox import Dispatcher
    from huikuan.core.policy import PolicyHost
    from tests.receivers import free_port

    port = free_port()
    smtp = Controller(_Refusing(), hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        host = PolicyHost(load_settings(REPO / "plugins.toml", env={
            **settings_env, "HUIKUAN_SMTP_URL": f"smtp://127.0.0.1:{port}"}),
            load_entry_points=False)
        _register(ledger, "PII-1", NAME)
        DailyCycle(ledger, host).run(date(2026, 9, 1))
        out = io.StringIO()
        configure_logging(json=True, stream=out, force=True)
        Dispatcher(ledger, host).run_once(datetime(2026, 9, 1, 2, 0, tzinfo=UTC))
    finally:
        smtp.stop()
    failed = [json.loads(line) for line in out.getvalue().splitlines()
              if '"message.failed"' in line]
    assert any("550" in line["error"] and "<recipient>" in line["error"] for line in failed)
    assert _found_in(out.getvalue().encode()) == []


def test_one_damaged_event_is_left_to_the_audit_not_taken_for_a_wrong_key(store, cipher_key):
    from huikuan.adapters.storage import open_ledger
    from huikuan.core.audit import verify

    ledger = store.open(cipher_key)
    _register(ledger, "PII-1", NAME)
    _register(ledger, "PII-2", OTHER)
    originator = ledger.account("PII-1").id
    # The first event stored, garbled in place.
    originator_id = str(originator) if store.backend == "postgres" else originator.hex
    store.execute("UPDATE {events} SET state = %s WHERE originator_id = %s "
                  "AND originator_version = 1", (b"garbled", originator_id))
    reopened = open_ledger(store.url, cipher_key, env={})
    try:
        report = verify(reopened)
        assert not report.ok and report.failures[0].notification_id == 1
    finally:
        reopened.close()

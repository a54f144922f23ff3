"""Documents as a debtor and a court read them: every written demand printed as a PDF on
the letterhead in both languages, statements of account in four formats, the 对账函
confirmation, all read back from the files (pypdf text, embedded fonts, a drawn page).

Pages of a Chinese lawyer's letter and of a statement are drawn to PNG in
``var/test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from email import message_from_bytes
from pathlib import Path

import pypdf
import pytest
from litestar.testing import TestClient
from openpyxl import load_workbook

from huikuan.adapters.bootstrap import Huikuan
from huikuan.adapters.http import Services, create_app
from huikuan.adapters.settings import load_settings
from huikuan.core.access import ROLES, issue_key
from huikuan.core.commands import RaiseDispute, RegisterCustomer
from huikuan.core.cycle import DailyCycle
from huikuan.core.outbox import Dispatcher
from huikuan.core.plugin import Settings
from huikuan.core.policy import PolicyHost
from tests.conftest import REPO, invoice

ARTIFACTS = REPO / "var" / "test-artifacts"
COMPANY = {"name": "上海回款示范贸易有限公司", "address": "上海市浦东新区示范路 88 号",
           "phone": "+86 21 5555 0188", "email": "ar@example.com",
           "bank_account": "招商银行上海分行 账号 1219 0000 0000 0088", "signatory": "李伟"}
STEPS = [
    {"stage": "notice", "days": 1, "fee": "50.00",
     "messages": [{"kind": "notice", "channels": ["email", "letter"], "deadline_days": 7}]},
    {"stage": "warning", "days": 15,
     "messages": [{"kind": "warning", "channels": ["letter", "email"], "deadline_days": 7}]},
    {"stage": "lawyer_letter", "days": 45,
     "messages": [{"kind": "lawyer_letter", "channels": ["letter"], "deadline_days": 10}]},
]
SENDING = {date(2026, 2, 1): datetime(2026, 2, 1, 2, tzinfo=UTC),
           date(2026, 2, 15): datetime(2026, 2, 15, 2, tzinfo=UTC),
           date(2026, 3, 17): datetime(2026, 3, 17, 2, tzinfo=UTC)}


def text_of(pdf: bytes) -> str:
    """The PDF's text as PDFium reads it (Chrome's reader), every space and line break
    taken out, so a phrase is found wherever a line broke it."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    text = "".join(page.get_textpage().get_text_range() for page in document)
    return re.sub(r"\s+", "", text)


def embedded_fonts(pdf: bytes) -> list[str]:
    """The fonts a PDF uses that it does not embed (none may be missing)."""
    missing = []
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for name, font in page["/Resources"]["/Font"].items():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            described = (descendants[0].get_object() if descendants else font).get(
                "/FontDescriptor")
            files = [k for k in (described.get_object() if described else {})
                     if str(k).startswith("/FontFile")]
            if not files:
                missing.append(f"{name} {font.get('/BaseFont')}")
    return missing


def draw(pdf: bytes, name: str) -> Path:
    import pypdfium2

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pypdfium2.PdfDocument(pdf)[0].render(scale=1.5).to_pil().save(path)
    return path


@pytest.fixture
def host(settings_env, mailbox):
    shipped = load_settings(REPO / "plugins.toml", env=settings_env)
    sections = {**shipped.sections, "company": {**shipped.section("company"), **COMPANY},
                "interest": {"enabled": True, "annual_rate": "0.0365"},
                "escalation": {**shipped.section("escalation"), "steps": STEPS}}
    return PolicyHost(Settings(sections=sections,
                               env={**settings_env, "HUIKUAN_SMTP_URL": mailbox.url}),
                      load_entry_points=False)


@pytest.fixture
def desk(store, ledger, host):
    """Two customers, one writing Chinese and one English, taken up the whole ladder
    (notice, warning, lawyer's letter), each step's letters sent."""
    for customer_id, name, language in (("C-ZH", "华东贸易有限公司", "zh-CN"),
                                        ("C-EN", "Harbour Trading Ltd", "en")):
        ledger.register_customer(RegisterCustomer(
            customer_id=customer_id, name=name, currency="CNY", language=language,
            registered_on=date(2025, 12, 1),
            contacts=[{"name": "AP", "email": f"ap@{customer_id.lower()}.example"}],
            address={"line1": "南京西路 1266 号", "city": "上海", "province": "上海",
                     "postal_code": "200040"}))
        ledger.execute(customer_id, invoice("I-1", "10000.00", date(2026, 1, 1)))
        ledger.execute(customer_id, invoice("I-2", "5000.00", date(2026, 1, 1)))
        ledger.execute(customer_id, RaiseDispute(dispute_id="D-1", invoice_id="I-2",
                                                 amount="1200.00", raised_on=date(2026, 1, 20)))
    for day, now in SENDING.items():
        DailyCycle(ledger, host).run(day)
        Dispatcher(ledger, host).run_once(now)
    hk = Huikuan(ledger, {}, host=host)
    keys = {role: issue_key(ledger, role)[1] for role in ROLES}
    with TestClient(create_app(Services(ledger, host, hk.views))) as client:
        client.headers["Authorization"] = f"Bearer {keys['manager']}"
        client.hk = hk  # type: ignore[attr-defined]
        yield client
    hk.views.close()
    hk.views.projector.close()


def written(client, customer_id):
    return [m for m in client.get(f"/v1/messages?customer_id={customer_id}").json()
            if m["kind"] in ("notice", "warning", "lawyer_letter")]


def test_every_written_demand_prints_on_the_letterhead_in_both_languages(desk):
    seen = set()
    for customer_id, name in (("C-ZH", "华东贸易有限公司"), ("C-EN", "Harbour Trading Ltd")):
        for message in written(desk, customer_id):
            answer = desk.get(f"/v1/messages/{message['message_id']}/document")
            assert answer.status_code == 200, answer.text
            assert answer.headers["content-type"] == "application/pdf"
            pdf = answer.content
            assert embedded_fonts(pdf) == []
            text = text_of(pdf)
            # The debtor, the sender, the invoices and the exact undisputed amount open:
            # 10,000.00 + (5,000.00 − 1,200.00 disputed) = 13,800.00.
            for expected in (name, COMPANY["name"], COMPANY["bank_account"], "I-1", "I-2",
                             "13800.00", "1200.00", message["message_id"]):
                assert re.sub(r"\s+", "", expected) in text, (message["kind"], expected)
            seen.add((customer_id, message["kind"]))
            if (customer_id, message["kind"]) == ("C-ZH", "lawyer_letter"):
                assert "律师函" in text and "保留" in text and "盖章" in text
                draw(pdf, "lawyer-letter-zh")
            if (customer_id, message["kind"]) == ("C-EN", "warning"):
                assert "reserve" in text and "Authorisedsignatory" in text
                draw(pdf, "warning-en")
    assert seen == {(c, k) for c in ("C-ZH", "C-EN")
                    for k in ("notice", "warning", "lawyer_letter")}


def test_the_letter_states_interest_and_fees_apart_from_the_principal(desk):
    [lawyer] = [m for m in written(desk, "C-ZH") if m["kind"] == "lawyer_letter"]
    text = text_of(desk.get(f"/v1/messages/{lawyer['message_id']}/document").content)
    # Sent on 17 March: interest at 3.65 % from 1 February on I-1's 10,000.00 (45 days:
    # 45.00) and on I-2's undisputed 3,800.00 (45 × 0.38 = 17.10); the notice's fee 50.00.
    assert "催缴本金合计:13800.00CNY" in text
    assert "逾期利息:62.10CNY" in text and "催收费用:50.00CNY" in text
    assert "合计应付:13912.10CNY" in text


def test_the_letter_channel_writes_the_pdf_and_email_attaches_it(desk, settings_env, mailbox):
    letters = Path(settings_env["HUIKUAN_LETTER_DIR"])
    pdfs = sorted(letters.glob("*.pdf"))
    assert len(pdfs) == 6 and not list(letters.glob("*.txt"))
    assert all(text_of(p.read_bytes()).count("I-1") >= 1 for p in pdfs)
    attached = []
    for mail in mailbox.messages:
        parsed = message_from_bytes(mail.as_bytes())
        attached += [part.get_filename() for part in parsed.walk()
                     if part.get_content_type() == "application/pdf"]
    # The notice and the warning went by e-mail too, each with its letter attached.
    assert len(attached) == 4 and all(name.endswith(".pdf") for name in attached)


def test_a_message_that_is_no_written_demand_has_no_letter(desk):
    answer = desk.get("/v1/messages/m-none/document")
    assert answer.status_code == 404
    task = next(m for m in desk.get("/v1/messages").json() if m["channel"] == "worklist") \
        if any(m["channel"] == "worklist" for m in desk.get("/v1/messages").json()) else None
    if task is not None:
        assert desk.get(f"/v1/messages/{task['message_id']}/document").status_code == 404


def closing_in_every_format(client, customer_id, as_of):
    base = f"/v1/customers/{customer_id}/statement?as_of={as_of}&from=2026-01-01"
    json_answer = client.get(base).json()
    rows = list(csv.reader(io.StringIO(client.get(base + "&format=csv").content
                                        .decode("utf-8-sig"))))
    from_csv = next(r[5] for r in rows if r and r[0] == "closing")
    book = load_workbook(io.BytesIO(client.get(base + "&format=xlsx").content))
    from_xlsx = next(str(row[1]) for row in book["Statement"].iter_rows(values_only=True)
                     if row[0] == "closing balance")
    pdf = client.get(base + "&format=pdf").content
    return json_answer, from_csv, from_xlsx, pdf


def test_a_statement_closes_at_the_as_of_balance_in_all_four_formats(desk):
    desk.post("/v1/customers/C-ZH/payments", json={
        "payment_id": "P-1", "amount": "3000.00", "currency": "CNY",
        "received_on": "2026-03-20"})
    as_of = "2026-03-31"
    view = desk.get(f"/v1/customers/C-ZH?as_of={as_of}").json()
    owed = Decimal(view["outstanding"]) - Decimal(view["unapplied_credit"])
    figures, from_csv, from_xlsx, pdf = closing_in_every_format(desk, "C-ZH", as_of)
    assert Decimal(figures["closing_balance"]) == owed == Decimal("12000.00")
    assert Decimal(from_csv) == Decimal(from_xlsx) == owed
    assert Decimal(figures["opening_balance"]) + sum(
        Decimal(x["amount"]) for x in figures["lines"]) == owed
    assert [x["kind"] for x in figures["lines"]] == ["invoice", "invoice", "payment"]
    assert embedded_fonts(pdf) == []
    text = text_of(pdf)
    assert "对账单" in text and "期末余额:12000.00CNY" in text and "对账函" in text
    assert "华东贸易有限公司" in text and COMPANY["name"] in text
    draw(pdf, "statement-zh")


def test_a_statement_issued_is_kept_exactly_and_its_confirmation_restarts_limitation(desk):
    issued = desk.post("/v1/customers/C-ZH/statements", json={
        "statement_id": "ST-1", "as_of": "2026-03-31", "from": "2026-01-01"})
    assert issued.status_code == 201, issued.text
    assert desk.post("/v1/customers/C-ZH/statements", json={
        "statement_id": "ST-1", "as_of": "2026-03-31", "from": "2026-01-01"}).status_code == 200
    # A payment dated inside the period, recorded later, changes a new statement, never
    # the one issued.
    desk.post("/v1/customers/C-ZH/payments", json={
        "payment_id": "P-9", "amount": "100.00", "currency": "CNY", "received_on": "2026-03-10"})
    kept = desk.get("/v1/customers/C-ZH/statements/ST-1").json()
    assert kept == issued.json()["figures"]
    assert desk.get("/v1/customers/C-ZH/statement?as_of=2026-03-31&from=2026-01-01"
                    ).json()["closing_balance"] != kept["closing_balance"]
    assert desk.get("/v1/customers/C-ZH/statements/ST-1?format=pdf").status_code == 200
    before = {r["invoice_id"]: r["deadline"] for r in desk.get(
        "/v1/limitations?as_of=2026-04-15&within_days=3650").json()
        if r["customer_id"] == "C-ZH"}
    confirmed = desk.post("/v1/customers/C-ZH/statements/ST-1/confirm", json={
        "confirmed_on": "2026-04-15", "signed_by": "王芳", "document_ref": "对账函 DZH-1",
        "differences": [{"invoice_id": "I-2", "amount": "300.00", "note": "货损未扣"}]})
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["confirmed_invoice_ids"] == ["I-1"]
    assert confirmed.json()["dispute_ids"] == ["ST-1-I-2"]
    after = {r["invoice_id"]: r["deadline"] for r in desk.get(
        "/v1/limitations?as_of=2026-04-15&within_days=3650").json()
        if r["customer_id"] == "C-ZH"}
    assert after["I-1"] == "2029-04-15" != before["I-1"]   # confirmed: three years anew
    assert after["I-2"] == before["I-2"]                   # a difference keeps its deadline
    disputed = desk.get("/v1/customers/C-ZH?as_of=2026-04-15").json()["invoices"]
    assert [i["disputed_amount"] for i in disputed if i["invoice_id"] == "I-2"] == ["1500.00"]
    again = desk.post("/v1/customers/C-ZH/statements/ST-1/confirm", json={
        "confirmed_on": "2026-04-16", "signed_by": "王芳"})
    assert again.status_code == 409


@pytest.mark.parametrize(("body", "field"), [
    ({"confirmed_on": "2026-03-01", "signed_by": "王芳"}, "confirmed_on"),
    ({"confirmed_on": "2026-04-15", "signed_by": "王芳",
      "differences": [{"invoice_id": "I-9", "amount": "1.00"}]}, "differences[0].invoice_id"),
    ({"confirmed_on": "2026-04-15", "signed_by": "王芳",
      "differences": [{"invoice_id": "I-2", "amount": "99999.00"}]}, "differences[0].amount"),
    ({"confirmed_on": "2026-04-15", "signed_by": "王芳",
      "differences": [{"invoice_id": "I-2", "amount": "1e3"}]}, "differences.0.amount"),
])
def test_a_bad_confirmation_is_refused_naming_the_field_and_records_nothing(desk, body,
                                                                          field):
    desk.post("/v1/customers/C-ZH/statements", json={"statement_id": "ST-1",
                                                     "as_of": "2026-03-31"})
    versions = len(desk.get("/v1/customers/C-ZH/history").json()["events"])
    answer = desk.post("/v1/customers/C-ZH/statements/ST-1/confirm", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == field
    assert len(desk.get("/v1/customers/C-ZH/history").json()["events"]) == versions


def test_the_command_line_writes_a_letter_and_a_statement(store, tmp_path):
    # In processes of their own, as a person runs them (the logging a command sets up
    # stays in its process).
    import os
    import subprocess
    import sys

    env = {**os.environ, "HUIKUAN_DATABASE_URL": store.url,
           "HUIKUAN_PLUGINS": str(REPO / "plugins.toml"),
           "HUIKUAN_LETTER_DIR": str(tmp_path / "letters"), "COLUMNS": "200"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "huikuan.adapters.cli", *args], env=env,
                              capture_output=True, text=True, timeout=600, check=False)

    assert run("demo", "--customers", "12", "--as-of", "2026-11-23").returncode == 0
    assert run("cycle", "--as-of", "2026-11-23").returncode == 0
    ledger = store.open()
    written_demand = next(
        m.message_id for c in ("DEMO-0001", "DEMO-0002", "DEMO-0003", "DEMO-0004",
                               "DEMO-0005", "DEMO-0006", "DEMO-0007", "DEMO-0008")
        for m in ledger.account(c).messages.values() if m.kind in ("warning", "lawyer_letter"))
    out = tmp_path / "letter.pdf"
    done = run("letter", written_demand, "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "draft" in done.stdout and text_of(out.read_bytes())
    shown = run("statement", "DEMO-0001", "--as-of", "2026-11-23", "--format", "csv",
                "--out", "-")
    assert shown.returncode == 0 and shown.stdout.startswith("section,date"), shown.stderr
    assert run("letter", "m-nothing").returncode == 3


def test_a_statement_sent_goes_by_email_with_its_pdf_as_issued(desk, ledger, host, mailbox):
    before = len(mailbox.messages)
    issued = desk.post("/v1/customers/C-ZH/statements", json={
        "statement_id": "ST-2", "as_of": "2026-03-31", "from": "2026-01-01", "send": True})
    assert issued.status_code == 201, issued.text
    closing = issued.json()["figures"]["closing_balance"]
    Dispatcher(ledger, host).run_once(datetime(2026, 4, 1, 2, tzinfo=UTC))
    [mail] = mailbox.messages[before:]
    assert mail["To"] == "ap@c-zh.example" and closing in mail["Subject"]
    [pdf] = [part.get_content() for part in mail.walk()
             if part.get_content_type() == "application/pdf"]
    text = text_of(pdf)
    assert f"期末余额:{closing}CNY" in text and "对账函" in text
    sent = next(m for m in desk.get("/v1/messages?customer_id=C-ZH").json()
                if m["message_id"] == "statement-ST-2")
    assert (sent["kind"], sent["status"]) == ("statement", "sent")


def test_the_policy_issues_a_statement_every_few_months_to_customers_owing_money(
        ledger, host, desk):
    every = PolicyHost(Settings(sections={**host.settings.sections,
                                          "statements": {"every_months": 3}},
                                env=host.settings.env), load_entry_points=False)
    for day in (date(2026, 3, 31), date(2026, 4, 30), date(2026, 6, 30), date(2026, 7, 1)):
        DailyCycle(ledger, every).run(day)
    issued = ledger.account("C-ZH").statements
    assert sorted(issued) == ["auto-2026-03-31", "auto-2026-06-30"]
    first, second = issued["auto-2026-03-31"], issued["auto-2026-06-30"]
    assert (first["from_on"], second["from_on"]) == (date(2026, 1, 1), date(2026, 4, 1))
    assert first["figures"]["closing_balance"] == "15000.00"
    queued = ledger.account("C-ZH").messages["statement-auto-2026-06-30"]
    assert (queued.kind, queued.channel, queued.recipient) == ("statement", "email",
                                                              "ap@c-zh.example")


def test_a_statements_lines_add_up_to_its_closing_balance_whatever_bounced_when(
        ledger, settings_env):
    from huikuan.core.commands import (
        BouncePayment,
        IssueCreditNote,
        ReceivePayment,
        WriteOff,
    )
    from huikuan.core.printing import statement_for

    shipped = load_settings(REPO / "plugins.toml", env=settings_env)
    host = PolicyHost(Settings(sections={
        **shipped.sections, "interest": {"enabled": True, "annual_rate": "0.0365",
                                         "settle": "costs_interest_principal"},
        "escalation": {**shipped.section("escalation"), "steps": STEPS}},
        env=settings_env), load_entry_points=False)
    ledger.register_customer(RegisterCustomer(
        customer_id="C-S", name="华北贸易有限公司", currency="CNY",
        registered_on=date(2025, 12, 1), contacts=[{"name": "AP", "email": "ap@s.example"}]))
    for invoice_id, amount in (("I-1", "10000.00"), ("I-2", "5000.00")):
        ledger.execute("C-S", invoice(invoice_id, amount, date(2026, 1, 1)))
    DailyCycle(ledger, host).run(date(2026, 2, 5))  # a fee and interest to settle
    facts = [
        ReceivePayment(payment_id="P-1", amount="2000.00", currency="CNY",
                       received_on=date(2026, 2, 10)),                 # art. 561 first
        WriteOff(invoice_id="I-2", amount="1000.00", written_off_on=date(2026, 2, 12),
                 reason="部分核销"),
        ReceivePayment(payment_id="P-2", amount="4500.00", currency="CNY",
                       received_on=date(2026, 2, 15),
                       allocations=[{"invoice_id": "I-2", "amount": "4500.00"}]),  # recovers
        IssueCreditNote(credit_note_id="CN-1", invoice_id="I-1", amount="100.00",
                        issued_on=date(2026, 2, 20)),
        BouncePayment(payment_id="P-1", bounced_on=date(2026, 3, 5)),
        BouncePayment(payment_id="P-2", bounced_on=date(2026, 4, 2)),
    ]
    for fact in facts:
        ledger.execute("C-S", fact)
    for start, end in ((date(2026, 1, 1), date(2026, 4, 30)),
                       (date(2026, 2, 11), date(2026, 3, 31)),
                       (date(2026, 3, 1), date(2026, 4, 30))):
        drawn = statement_for(ledger, host, "C-S", end, start)
        assert drawn.opening_balance + sum(x.amount for x in drawn.lines) \
            == drawn.closing_balance, (start, end, drawn.lines)
        view = ledger.account_as_of("C-S", end)
        assert drawn.closing_balance == view.outstanding - view.unapplied_credit


def test_a_spreadsheet_never_runs_a_name_that_looks_like_a_formula():
    from huikuan.adapters.api.documents import _csv, _xlsx

    figures = {"customer_id": "C-X", "customer_name": '=HYPERLINK("http://x.example","c")',
               "currency": "CNY", "from_on": "2026-01-01", "as_of": "2026-03-31",
               "opening_balance": "0.00", "closing_balance": "10.00",
               "lines": [{"on": "2026-01-02", "kind": "invoice", "ref": "@SUM(A1)",
                          "amount": "10.00", "balance": "10.00"}],
               "open_items": [], "unapplied_credit": "0.00", "interest": "0.00",
               "fees": "0.00"}
    book = load_workbook(io.BytesIO(_xlsx(figures)))
    cells = [c for row in book["Statement"].iter_rows() for c in row if c.value]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert "'@SUM(A1)" in _csv(figures)

"""Importing a ledger: Chinese headers with a BOM, XLSX, bad rows by line, repeats."""

from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook

from huikuan.adapters.importer import ImportError_, import_ledger

CHINESE = (
    "客户编号,客户名称,发票号,金额,币种,开票日期,到期日,已收金额\n"
    "SH-01,上海五金有限公司,FP-001,12000.00,CNY,2026-03-01,2026-03-31,2000.00\n"
    "SH-01,上海五金有限公司,FP-002,8000.00,CNY,2026-04-01,2026-05-01,\n"
    "SZ-02,深圳电子有限公司,FP-101,5000,CNY,2026-04-15,2026-05-15,5000\n"
)


def write(tmp_path, text, name="ledger.csv", bom=True):
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def test_chinese_headers_with_a_bom(ledger, tmp_path):
    summary = import_ledger(ledger, write(tmp_path, CHINESE), as_of=date(2026, 6, 1))
    assert (summary.rows, summary.customers_created, summary.accounts_changed) == (3, 2, 2)
    sh = ledger.account("SH-01")
    assert sh.name == "上海五金有限公司" and sh.currency == "CNY"
    assert sh.invoices["FP-001"].open_amount == Decimal("10000.00")
    assert sh.invoices["FP-002"].due_on == date(2026, 5, 1)
    assert ledger.account("SZ-02").outstanding == Decimal("0.00")
    # The paid part is a payment allocated to its invoice; the file gives no paid date, so
    # it is dated the earlier of the due date and the import's date, and the summary says so.
    assert sh.payments["FP-001-paid"].received_on == date(2026, 3, 31)
    assert summary.paid_dated_by_default == 2


def test_importing_the_same_file_again_records_nothing(ledger, tmp_path):
    path = write(tmp_path, CHINESE)
    import_ledger(ledger, path, as_of=date(2026, 6, 1))
    versions = {c: ledger.account(c).version for c in ("SH-01", "SZ-02")}
    again = import_ledger(ledger, path, as_of=date(2026, 6, 1))
    assert (again.customers_created, again.accounts_changed, again.events) == (0, 0, 0)
    assert {c: ledger.account(c).version for c in versions} == versions


def test_english_headers_without_a_bom_and_xlsx(ledger, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["customer_id", "customer_name", "invoice_id", "amount", "currency",
                  "issued_on", "due_on", "paid_amount"])
    sheet.append(["US-1", "Acme Corp", "INV-9", 1250.5, "USD", date(2026, 2, 1),
                  date(2026, 3, 3), None])
    path = tmp_path / "ledger.xlsx"
    book.save(path)
    import_ledger(ledger, path, as_of=date(2026, 6, 1))
    assert ledger.account("US-1").invoices["INV-9"].amount == Decimal("1250.50")


@pytest.mark.parametrize(("row", "line", "message"), [
    ("SZ-03,x,FP-9,12.345,CNY,2026-04-01,2026-05-01,", 5, "CNY has 2 decimal places"),
    ("SZ-03,x,FP-9,100,CNY,2026-04-01,2026-03-01,", 5, "due date is before the issue date"),
    ("SZ-03,x,FP-9,100,CNY,01/04/2026,2026-05-01,", 5, "issued_on"),
    ("SH-01,上海五金有限公司,FP-003,100,USD,2026-04-01,2026-05-01,", 5, "kept in CNY"),
    ("SH-01,上海五金有限公司,FP-001,99,CNY,2026-03-01,2026-03-31,", 5,
     "recorded before with different content"),
    ("SZ-03,x,FP-9,100,CNY,2026-04-01,2026-05-01,200", 5, "exceeds its open amount"),
    ("SZ-03,x,FP-9,abc,CNY,2026-04-01,2026-05-01,", 5, "amount"),
])
def test_a_bad_row_is_reported_by_line_and_nothing_is_recorded(ledger, tmp_path, row, line,
                                                               message):
    path = write(tmp_path, CHINESE + row + "\n")
    with pytest.raises(ImportError_) as caught:
        import_ledger(ledger, path, as_of=date(2026, 6, 1))
    [(reported_line, text)] = caught.value.problems
    assert reported_line == line and message in text
    # Nothing of the file was recorded, not even its good rows.
    assert not ledger.has_customer("SH-01") and not ledger.has_customer("SZ-03")


@pytest.mark.parametrize(("row", "line", "message"), [
    # Issue 12: each of these was a traceback, or a wrong column named.
    ("SZ-03,x,FP-9,100,CNY,2026-04-01,2026-05-01,sNaN", 5, "paid_amount: amounts are written"),
    ("SZ-03,x,FP-9,100,CNY,2026-04-01,2026-05-01,1e999999999", 5, "paid_amount"),
    ("SZ-03,x,FP-9,100,CNY,2026-04-01,2026-05-01,-5", 5, "paid_amount: the paid amount must"),
    ("SZ-03,x,FP-9,100,CNY,2026-04-01,2026-05-01,0.001", 5, "paid_amount: CNY has 2 decimal"),
    ("SZ-03,x,FP-9,1e3,CNY,2026-04-01,2026-05-01,", 5, "amount: amounts are written in plain"),
    ("SZ-03,x,FP-9,１２,CNY,2026-04-01,2026-05-01,", 5, "amount: amounts are written in plain"),
    ("SZ-03,x,FP-9,100,CNY,9999-12-31,9999-12-31,", 5, "issued_on: a business date lies"),
    ("..,x,FP-9,100,CNY,2026-04-01,2026-05-01,", 5, "customer_id: an id is not made of dots"),
    ("SZ-03,x\x00y,FP-9,100,CNY,2026-04-01,2026-05-01,", 5, "customer_name: must not contain"),
    ('SZ-03,"x\ny",FP-9,100,CNY,2026-04-01,2026-05-01,\nSZ-04,x,FP-9,1e3,CNY,2026-04-01,'
     "2026-05-01,", 7, "amount"),  # a quoted line break: the physical line is named
])
def test_a_bad_cell_is_reported_by_line_never_as_a_traceback(ledger, tmp_path, row, line,
                                                            message):
    path = write(tmp_path, CHINESE + row + "\n")
    with pytest.raises(ImportError_) as caught:
        import_ledger(ledger, path, as_of=date(2026, 6, 1))
    [(reported_line, text)] = caught.value.problems
    assert reported_line == line and message in text, (reported_line, text)
    assert not ledger.has_customer("SH-01")


@pytest.mark.parametrize(("content", "name", "line", "message"), [
    (CHINESE.encode() + "SZ-03,上海,FP-9,1,CNY,2026-04-01,2026-05-01,\n".encode("gbk"),
     "ledger.csv", 5, "not UTF-8"),
    (CHINESE.encode() + b"SZ-03," + b"x" * 200_000 + b",FP-9,1,CNY,2026-04-01,2026-05-01,\n",
     "ledger.csv", 5, "cannot be read as CSV"),
    (b"PK\x03\x04 not really a workbook", "ledger.xlsx", 1, "not an XLSX workbook"),
    (CHINESE.encode(), "folder.csv", 1, "cannot be read"),
])
def test_a_file_that_is_no_ledger_is_reported_never_as_a_traceback(ledger, tmp_path, content,
                                                                   name, line, message):
    path = tmp_path / name
    if name == "folder.csv":
        path.mkdir()
    else:
        path.write_bytes(content)
    with pytest.raises(ImportError_) as caught:
        import_ledger(ledger, path, as_of=date(2026, 6, 1))
    [(reported_line, text)] = caught.value.problems
    assert reported_line == line and message in text, (reported_line, text)
    assert not ledger.has_customer("SH-01")


def test_a_missing_column_is_reported_on_line_1(ledger, tmp_path):
    with pytest.raises(ImportError_) as caught:
        import_ledger(ledger, write(tmp_path, "客户编号,金额\nA,1\n"), as_of=date(2026, 6, 1))
    assert caught.value.problems[0][0] == 1
    assert "missing column" in caught.value.problems[0][1]


def test_the_command_line_reports_lines_and_exits_2(store, tmp_path):
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    path = write(tmp_path, CHINESE + "SZ-03,x,FP-9,12.345,CNY,2026-04-01,2026-05-01,\n")
    result = subprocess.run([sys.executable, "-m", "huikuan.adapters.cli", "import", str(path)],
                            cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "HUIKUAN_DATABASE_URL": store.url})
    assert result.returncode == 2
    assert f"{path}:5: amount: CNY has 2 decimal places" in result.stderr.replace("\n", "")

"""Ledgers as people keep them: paid dates, thousands separators, slashed dates, Excel dates.

Each is checked where it matters to a user: the as-of views before and after the paid date
(what the customer owed then), not only the recorded event.
"""

from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

from huikuan.adapters.importer import HEADERS, ImportError_, import_ledger
from huikuan.core.errors import NotFound

HAND_KEPT = (
    "客户编号,客户名称,发票号,金额,币种,开票日期,到期日,已收金额,已收日期\n"
    'SH-01,上海五金有限公司,FP-001,"12,500.00",CNY,2026/3/1,2026/3/31,"2,500.00",2026/4/20\n'
    "SH-01,上海五金有限公司,FP-002,800,CNY,2026-4-1,2026-5-1,800,2026.5.10\n"
    "SZ-02,深圳电子有限公司,FP-101,\"1,000\",CNY,2026-04-15,2026-05-15,,\n"
)


def write(tmp_path, text, name="ledger.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_paid_dates_thousands_and_slashed_dates_read_as_written(ledger, views, tmp_path):
    summary = import_ledger(ledger, write(tmp_path, HAND_KEPT), as_of=date(2026, 6, 1))
    assert summary.paid_dated_by_default == 0
    sh = ledger.account("SH-01")
    assert sh.invoices["FP-001"].amount == Decimal("12500.00")
    assert sh.invoices["FP-001"].issued_on == date(2026, 3, 1)
    assert sh.payments["FP-001-paid"].received_on == date(2026, 4, 20)
    assert sh.payments["FP-002-paid"].received_on == date(2026, 5, 10)
    assert ledger.account("SZ-02").invoices["FP-101"].amount == Decimal("1000.00")
    views.projector.catch_up()
    # Before the paid date the customer owed the whole invoice; after it, the rest.
    before = views.customer("SH-01", as_of=date(2026, 4, 19))
    after = views.customer("SH-01", as_of=date(2026, 4, 20))
    assert Decimal(before["outstanding"]) == Decimal("13300.00")
    assert Decimal(after["outstanding"]) == Decimal("10800.00")
    assert Decimal(views.customer("SH-01", as_of=date(2026, 5, 10))["outstanding"]) \
        == Decimal("10000.00")


def test_a_paid_amount_without_a_date_is_dated_by_due_date_or_import_and_counted(ledger,
                                                                                 tmp_path):
    text = ("customer_id,customer_name,invoice_id,amount,currency,issued_on,due_on,paid_amount\n"
            "A,Acme,I-1,100,CNY,2026-01-05,2026-02-04,40\n"   # due before the import
            "A,Acme,I-2,100,CNY,2026-05-20,2026-06-19,40\n")  # not due at the import
    summary = import_ledger(ledger, write(tmp_path, text), as_of=date(2026, 6, 1))
    assert summary.paid_dated_by_default == 2
    account = ledger.account("A")
    assert account.payments["I-1-paid"].received_on == date(2026, 2, 4)
    assert account.payments["I-2-paid"].received_on == date(2026, 6, 1)


def test_an_xlsx_with_date_cells_serial_days_and_text(ledger, views, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["客户编号", "客户名称", "发票号", "金额", "币种", "开票日期", "到期日",
                  "已收金额", "已收日期"])
    # A date cell, an Excel serial day (46113 = 2026-04-01) and slashed text.
    sheet.append(["BJ-1", "北京机电", "X-1", 5000, "CNY", datetime(2026, 3, 2), 46113,
                  "1,200.50", "2026/4/15"])
    path = tmp_path / "ledger.xlsx"
    book.save(path)
    import_ledger(ledger, path, as_of=date(2026, 6, 1))
    invoice = ledger.account("BJ-1").invoices["X-1"]
    assert (invoice.issued_on, invoice.due_on) == (date(2026, 3, 2), date(2026, 4, 1))
    assert ledger.account("BJ-1").payments["X-1-paid"].received_on == date(2026, 4, 15)
    views.projector.catch_up()
    assert Decimal(views.customer("BJ-1", as_of=date(2026, 4, 14))["outstanding"]) \
        == Decimal("5000.00")
    assert Decimal(views.customer("BJ-1", as_of=date(2026, 4, 15))["outstanding"]) \
        == Decimal("3799.50")


@pytest.mark.parametrize(("cells", "message"), [
    ('"12,50.00",CNY,2026-03-01,2026-03-31,,', "amount"),           # not a thousands grouping
    ("100,CNY,2026/2/30,2026-03-31,,", "issued_on"),                 # no such day
    ("100,CNY,2026-03-01,2026-03-31,50,2026-02-01", "before the invoice's issue date"),
    ("100,CNY,2026-03-01,2026-03-31,,2026-03-05", "a paid date needs a paid amount"),
    ("100,CNY,2026-03-01,2026-03-31,50,someday", "paid_on"),
])
def test_a_bad_paid_date_or_cell_is_named_by_line_and_nothing_is_recorded(ledger, tmp_path,
                                                                          cells, message):
    text = ("customer_id,customer_name,invoice_id,amount,currency,issued_on,due_on,"
            "paid_amount,paid_on\n"
            "OK,Fine,I-0,10,CNY,2026-03-01,2026-03-31,,\n"
            f"B,Bad,I-1,{cells}\n")
    with pytest.raises(ImportError_) as caught:
        import_ledger(ledger, write(tmp_path, text), as_of=date(2026, 6, 1))
    [(line, problem)] = caught.value.problems
    assert line == 3 and message in problem, problem
    with pytest.raises(NotFound):  # not even the good row
        ledger.account("OK")


def test_import_help_lists_every_header_in_both_languages():
    from huikuan.adapters import cli

    shown = CliRunner().invoke(cli.app, ["import", "--help"], env={"COLUMNS": "200"}).output
    flat = " ".join(shown.split())
    for header in HEADERS:
        assert header in flat, header

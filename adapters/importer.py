"""Import a receivables ledger from CSV (UTF-8, with or without BOM) or XLSX.

One row per invoice: ``customer_id, customer_name, invoice_id, amount, currency,
issued_on, due_on, paid_amount, paid_on`` (the last two optional), or the same in Chinese:
客户编号, 客户名称, 发票号, 金额, 币种, 开票日期, 到期日, 已收金额, 已收日期. A customer is
registered the first time it is seen; the paid part of an invoice is recorded as a payment
allocated to it, received on ``paid_on``; without one, on the earlier of the due date and
the import's as-of date (never before the invoice's issue date), and the summary counts
those rows, because a paid date the file did not give moves as-of views, KPIs and
limitation.

Cells as ledgers kept by hand have them: amounts with thousands separators (``12,500.00``),
dates as ``2026-08-01``, ``2026/8/1``, ``2026-8-1`` or ``2026.8.1``, and in a workbook a date
cell or a date column formatted as a number (an Excel serial day).

All or nothing: every row is checked against the accounts first (in memory); if any
row is bad, each bad row is reported with its line number and nothing is recorded.
Then the accounts are saved many at a time. Importing the same file again records
nothing new.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from huikuan.core.account import Account
from huikuan.core.commands import IssueInvoice, ReceivePayment, RegisterCustomer
from huikuan.core.errors import DomainError, InvalidCommand, NotFound
from huikuan.core.ledger import Ledger
from huikuan.core.money import plain_decimal

HEADERS = {
    "customer_id": "customer_id", "客户编号": "customer_id",
    "customer_name": "customer_name", "客户名称": "customer_name",
    "invoice_id": "invoice_id", "发票号": "invoice_id",
    "amount": "amount", "金额": "amount",
    "currency": "currency", "币种": "currency",
    "issued_on": "issued_on", "开票日期": "issued_on",
    "due_on": "due_on", "到期日": "due_on",
    "paid_amount": "paid_amount", "已收金额": "paid_amount",
    "paid_on": "paid_on", "已收日期": "paid_on",
}
DATES = ("issued_on", "due_on", "paid_on")
AMOUNTS = ("amount", "paid_amount")
REQUIRED = ("customer_id", "customer_name", "invoice_id", "amount", "currency", "issued_on",
            "due_on")
SAVE_BATCH = 500

_COLUMNS = {"name": "customer_name"}
"""A command's field named as the file's column is, where the two differ."""


class ImportError_(ValueError):
    """The file cannot be imported; ``problems`` lists (line, message)."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        first = "; ".join(f"line {line}: {message}" for line, message in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{len(problems)} bad row(s), nothing imported: {first}{more}")


@dataclass
class ImportSummary:
    rows: int = 0
    customers_created: int = 0
    accounts_changed: int = 0
    events: int = 0
    paid_dated_by_default: int = 0
    """Rows with a paid amount and no paid date: dated the earlier of due date and as-of."""


_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
EXCEL_EPOCH = date(1899, 12, 30)
"""Day 0 of Excel's serial days (1900 system, its phantom 1900-02-29 included)."""


def _amount(text: str) -> str:
    """``12,500.00`` → ``12500.00``; anything else is left for the command to judge."""
    return text.replace(",", "") if _THOUSANDS.match(text) else text


def _date(value: Any) -> str:
    """A date cell, an Excel serial day or ``2026/8/1`` as ISO text; else left as it is."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool) \
            and 1 <= value < 2958466 and float(value).is_integer():
        return (EXCEL_EPOCH + timedelta(days=int(value))).isoformat()
    text = _cell(value)
    found = _DATE.match(text)
    if found:
        year, month, day = (int(g) for g in found.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            return text  # 2026/2/30: the command names the column
    return text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        # XLSX stores numbers as floats; take the shortest text that reads back the same.
        return repr(value) if not value.is_integer() else str(int(value))
    return str(value).strip()


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for each data row; the header is line 1.

    A file that cannot be read as a ledger (not UTF-8, not a workbook, a cell larger than
    any field) is an :class:`ImportError_` naming the line, never a traceback."""
    rows = _xlsx_rows(path) if path.suffix.lower() == ".xlsx" else _csv_rows(path)
    try:
        _first, header = next(rows)
    except StopIteration:
        raise ImportError_([(1, "the file is empty")]) from None
    names = [HEADERS.get(_cell(h).lstrip("\ufeff")) for h in header]
    missing = [r for r in REQUIRED if r not in names]
    if missing:
        raise ImportError_([(1, f"missing column(s): {', '.join(missing)}")])
    for number, row in rows:
        if not any(_cell(cell) for cell in row):
            continue
        yield number, {name: _normal(name, cell) for name, cell in zip(names, row, strict=False)
                       if name}


def _normal(name: str, value: Any) -> str:
    if name in DATES:
        return _date(value)
    if name in AMOUNTS:
        return _amount(_cell(value))
    return _cell(value)


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """Each record with the line it starts on (a quoted cell may hold line breaks)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ImportError_([(1, f"the file cannot be read ({error.strerror})")]) from None
    try:
        text = data.decode("utf-8-sig")  # with or without BOM
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ImportError_([(line, f"the file is not UTF-8 (byte 0x{data[error.start]:02x}); "
                                   "save it as CSV UTF-8")]) from None
    reader = csv.reader(io.StringIO(text))
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportError_([(start, f"the line cannot be read as CSV ({error})")]) from None
        yield start, record
        start = reader.line_num + 1


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    """Each row of the first sheet with its row number, cells as openpyxl reads them."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises a zip, XML or key error for a bad file
        raise ImportError_([(1, f"the file is not an XLSX workbook "
                                f"({type(error).__name__})")]) from None
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        number = 0
        while True:
            number += 1
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as error:  # a cell openpyxl cannot convert (a date out of range)
                raise ImportError_([(number, f"a cell cannot be read "
                                             f"({type(error).__name__})")]) from None
            yield number, list(row)
    finally:
        book.close()


def import_ledger(ledger: Ledger, path: Path, as_of: date,
                  progress: Callable[[int], None] | None = None) -> ImportSummary:
    """Check every row, then record the whole file, or nothing.

    ``as_of`` is the import's business date (the caller's, never guessed here from the
    server's clock): a paid part without a paid date was received by then at the latest.
    """
    summary = ImportSummary()
    accounts: dict[str, Account] = {}
    created: set[str] = set()
    changed: set[str] = set()
    problems: list[tuple[int, str]] = []
    for line, row in read_rows(path):
        summary.rows += 1
        try:
            if _apply_row(ledger, row, as_of, accounts, created, changed):
                summary.paid_dated_by_default += 1
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            message = first["msg"].removeprefix("Value error, ")
            problems.append((line, f"{_COLUMNS.get(where, where)}: {message}"))
        except DomainError as error:
            problems.append((line, f"{error.field or 'row'}: {error.message}"))
    if problems:
        raise ImportError_(problems)
    pending = [accounts[c] for c in sorted(changed)]
    for start in range(0, len(pending), SAVE_BATCH):
        chunk = pending[start:start + SAVE_BATCH]
        for account in chunk:  # decided with its facts, as a command's are
            ledger.decide_for_facts(account)
        summary.events += sum(len(a.pending_events) for a in chunk)
        ledger.save(*chunk)
        if progress:
            progress(len(chunk))
    summary.customers_created = len(created)
    summary.accounts_changed = len(changed)
    return summary


def _apply_row(ledger: Ledger, row: dict[str, str], as_of: date,
               accounts: dict[str, Account], created: set[str], changed: set[str]) -> bool:
    """Check and apply one row; whether its paid part was dated by default."""
    # The invoice first, so a bad cell is named by its column in the file.
    issue = IssueInvoice(invoice_id=row.get("invoice_id", ""), amount=row.get("amount", ""),
                         currency=row.get("currency", ""), issued_on=row.get("issued_on", ""),
                         due_on=row.get("due_on") or None)
    register = RegisterCustomer(customer_id=row.get("customer_id", ""),
                                name=row.get("customer_name", ""),
                                currency=row.get("currency", ""),
                                registered_on=issue.issued_on)
    customer_id = register.customer_id
    account = accounts.get(customer_id)
    if account is None:
        try:
            account = ledger.account(customer_id)
        except NotFound:
            account = Account.register(**register.model_dump())
            created.add(customer_id)
            changed.add(customer_id)
        accounts[customer_id] = account
    if account.issue_invoice(**issue.model_dump()):
        changed.add(customer_id)
    paid = row.get("paid_amount", "")
    try:
        paid_value = plain_decimal(paid) if paid else Decimal(0)
    except ValueError as error:
        raise InvalidCommand(str(error), field="paid_amount") from None
    if paid_value < 0:
        raise InvalidCommand("the paid amount must not be negative", field="paid_amount")
    paid_on = row.get("paid_on", "")
    if paid_on and paid_value == 0:
        raise InvalidCommand("a paid date needs a paid amount", field="paid_on")
    if paid_value == 0:
        return False
    if paid_on:
        try:
            received_on = date.fromisoformat(paid_on)
        except ValueError:
            raise InvalidCommand(f"{paid_on!r} is not a date (YYYY-MM-DD or YYYY/M/D)",
                                 field="paid_on") from None
        if received_on < issue.issued_on:
            raise InvalidCommand("the paid date is before the invoice's issue date",
                                 field="paid_on")
    else:
        # Paid by the due date at the latest, and by the import at the latest.
        due_on = account.invoices[issue.invoice_id].due_on
        received_on = max(min(due_on, as_of), issue.issued_on)
    try:
        _record_paid(account, issue, paid, received_on, customer_id, changed)
    except ValidationError as error:
        raise InvalidCommand(error.errors()[0]["msg"].removeprefix("Value error, "),
                             field="paid_amount") from None
    except DomainError as error:
        raise InvalidCommand(error.message, field="paid_amount") from None
    return not paid_on


def _record_paid(account: Account, issue: IssueInvoice, paid: str, received_on: date,
                 customer_id: str, changed: set[str]) -> None:
    # The paid part of an invoice: a payment allocated to it.
    payment = ReceivePayment(
        payment_id=f"{issue.invoice_id}-paid", amount=paid, currency=issue.currency,
        received_on=received_on,
        allocations=[{"invoice_id": issue.invoice_id, "amount": paid}])
    if account.receive_payment(**payment.model_dump()):
        changed.add(customer_id)

"""Documents over HTTP: a written demand's letter, statements of account and their confirmation.

``GET /messages/{id}/document`` is the letter as printed (PDF). ``GET
/customers/{id}/statement`` draws a statement (JSON, CSV, XLSX or PDF with its
confirmation slip); ``POST …/statements`` records one issued, its figures in the event,
and ``GET …/statements/{statement_id}`` gives it again exactly as issued; ``POST
…/statements/{statement_id}/confirm`` records the customer's signed confirmation.
"""

# No ``from __future__ import annotations``: Litestar reads the handlers' body and answer
# types from their annotations.

import csv
import io
from datetime import date
from typing import Annotated, Any, Literal

from litestar import Request, Response
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter
from pydantic import BaseModel, ConfigDict, Field

from huikuan.adapters.api import answers as a
from huikuan.adapters.api.access import services
from huikuan.adapters.api.reads import _date, _today, _views
from huikuan.adapters.api.routing import answer, operation
from huikuan.core import case_commands as cc
from huikuan.core import commands as c
from huikuan.core.account import Account
from huikuan.core.account.statements import dispute_id
from huikuan.core.cycle import queue_statement
from huikuan.core.documents import Statement, company_of, recorded, statement_from
from huikuan.core.errors import InvalidCommand, NotFound
from huikuan.core.postal import address_lines
from huikuan.core.printing import letter_for, render_statement, statement_for

Format = Literal["json", "csv", "xlsx", "pdf"]
MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "pdf": "application/pdf"}


PDF = ResponseSpec(data_container=bytes, media_type="application/pdf",
                   description="The letter as printed (PDF)")
STATEMENT = ResponseSpec(
    data_container=a.StatementShown, description="The statement as JSON; with format=csv, "
    "xlsx or pdf the same figures as text/csv, a workbook or a PDF with the 对账函 slip")


@operation("GET", "/messages/{message_id:str}/document", "getMessageDocument", tag="views",
           document=PDF)
def message_document(request: Request[Any, Any, Any],
                     message_id: FromPath[str]) -> Response[bytes]:
    """A written demand's letter as printed (PDF, on the letterhead)

    Dated the day it was sent, with the text that was sent and the account as the
    ledger knew it then; a demand not sent yet is a draft dated today. 404 for a message
    that is not a written demand (notice, warning, lawyer_letter)."""
    found = _views(request).message(message_id)
    served = services(request)
    document, _ = letter_for(served.ledger, served.host, found["customer_id"], message_id,
                             _today(request))
    return Response(document, media_type=MEDIA["pdf"], headers={
        "Content-Disposition": f'inline; filename="{message_id}.pdf"'})


def _respond(request: Request[Any, Any, Any], statement: Statement, form: str,
             name: str) -> Response[Any]:
    """The statement in the format asked for."""
    figures = recorded(statement.figures())
    if form == "json":
        return Response(figures, media_type=MEDIA["json"])
    if form == "csv":
        content: bytes = _csv(figures).encode("utf-8-sig")  # Excel opens UTF-8 with a BOM
    elif form == "xlsx":
        content = _xlsx(figures)
    else:
        content = render_statement(services(request).host, statement)
    return Response(content, media_type=MEDIA[form], headers={
        "Content-Disposition": f'attachment; filename="{name}.{form}"'})


def _text(value: str) -> str:
    """Text a spreadsheet shows as text: one that begins like a formula (= + - @) is
    quoted, so a name such as ``=HYPERLINK(…)`` is never run in Excel."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@") else value


def _csv(figures: dict[str, Any]) -> str:
    out = io.StringIO()
    write = csv.writer(out, lineterminator="\n").writerow
    write(["section", "date", "entry", "reference", "amount", "balance"])
    write(["opening", figures["from_on"], "", "", "", figures["opening_balance"]])
    for x in figures["lines"]:
        write(["movement", x["on"], x["kind"], _text(x["ref"]), x["amount"], x["balance"]])
    write(["closing", figures["as_of"], "", "", "", figures["closing_balance"]])
    write([])
    write(["open_item", "due_on", "class", "invoice_id", "open_amount", "disputed",
           "days_overdue", "interest"])
    for o in figures["open_items"]:
        write(["open_item", o["due_on"], o["class"], _text(o["invoice_id"]), o["open_amount"],
               o["disputed"], o["days_overdue"], o["interest"]])
    return out.getvalue()


def _xlsx(figures: dict[str, Any]) -> bytes:
    from decimal import Decimal

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Statement"
    sheet.append(["customer", _text(figures["customer_id"]),
                  _text(figures["customer_name"])])
    sheet.append(["currency", figures["currency"]])
    sheet.append(["from", date.fromisoformat(figures["from_on"]), "as of",
                  date.fromisoformat(figures["as_of"])])
    sheet.append(["opening balance", Decimal(figures["opening_balance"])])
    sheet.append(["date", "entry", "reference", "amount", "balance"])
    for x in figures["lines"]:
        sheet.append([date.fromisoformat(x["on"]), x["kind"], _text(x["ref"]),
                      Decimal(x["amount"]),
                      Decimal(x["balance"])])
    sheet.append(["closing balance", Decimal(figures["closing_balance"])])
    items = book.create_sheet("Open items")
    items.append(["invoice", "issued", "due", "amount", "open", "disputed", "days overdue",
                  "class", "interest"])
    for o in figures["open_items"]:
        items.append([_text(o["invoice_id"]), date.fromisoformat(o["issued_on"]),
                      date.fromisoformat(o["due_on"]), Decimal(o["amount"]),
                      Decimal(o["open_amount"]), Decimal(o["disputed"]),
                      int(o["days_overdue"]), o["class"], Decimal(o["interest"])])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@operation("GET", "/customers/{customer_id:str}/statement", "getStatement", tag="views",
           document=STATEMENT)
def statement(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    as_of: Annotated[str | None, QueryParameter()] = None,
    from_: Annotated[str | None, QueryParameter(name="from")] = None,
    format: Annotated[Format, QueryParameter()] = "json",  # the contract's name
) -> Response[Any]:
    """A statement of account (对账单): JSON, CSV, XLSX or PDF with the 对账函 slip

    Opening balance, every invoice, payment, credit note and write-off in the period,
    the open items with their age, class and interest, fees and the closing balance,
    which is the customer's balance on ``as_of`` (default today). ``from`` defaults to
    the first day of the month eleven months before."""
    day = _date(as_of, "as_of") or _today(request)
    start = _date(from_, "from")
    if start is not None and start > day:
        raise InvalidCommand("from is after as_of", field="from")
    served = services(request)
    drawn = statement_for(served.ledger, served.host, customer_id, day, start)
    return _respond(request, drawn, format, f"statement-{customer_id}-{day}")


class IssueStatementBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    statement_id: c.Id
    as_of: c.BusinessDate
    from_on: c.BusinessDate | None = Field(default=None, alias="from")
    send: bool = False


class StatementIssued(a.Answer):
    customer_id: str
    statement_id: str
    as_of: date
    from_: date = Field(alias="from")
    send: bool
    figures: a.StatementShown
    """The statement's figures as recorded (the JSON statement's)."""


@operation("POST", "/customers/{customer_id:str}/statements", "issueStatement",
           tag="facts", writes=StatementIssued)
def issue_statement(request: Request[Any, Any, Any], customer_id: FromPath[str],
                    data: JSONBody[cc.IssueStatement]) -> Response[StatementIssued]:
    """A statement of account issued, its figures recorded (and e-mailed with send)

    The same statement id with the same request again records nothing and answers the
    figures recorded; with a different one, 409."""
    served = services(request)
    drawn = statement_for(served.ledger, served.host, customer_id, data.as_of, data.from_on)
    figures = recorded(drawn.figures())

    today = _today(request)

    def change(account: Account) -> bool:
        recorded_now = account.issue_statement(
            statement_id=data.statement_id, as_of=data.as_of, from_on=drawn.from_on,
            send=data.send, figures=figures)
        if recorded_now and data.send:
            queue_statement(served.host, account, data.statement_id, drawn, today)
        return recorded_now

    outcome = served.ledger.change(customer_id, "issue_statement", change)
    kept = outcome.account.statements[data.statement_id]
    return Response(answer(StatementIssued, {
        "customer_id": customer_id, "statement_id": data.statement_id, "as_of": kept["as_of"],
        "from": kept["from_on"], "send": data.send, "figures": kept["figures"]}),
        status_code=201 if outcome.recorded else 200)


@operation("GET", "/customers/{customer_id:str}/statements/{statement_id:str}",
           "getIssuedStatement", tag="views", document=STATEMENT)
def issued_statement(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    statement_id: FromPath[str],
    format: Annotated[Format, QueryParameter()] = "json",
) -> Response[Any]:
    """A statement issued, exactly as it was issued, in any format"""
    served = services(request)
    account = served.ledger.account(customer_id)
    kept = account.statements.get(statement_id)
    if kept is None:
        raise NotFound(f"no statement {statement_id!r} on this account", field="statement_id")
    drawn = statement_from(kept["figures"], language=account.language,
                           address=tuple(address_lines(account.address, account.language)),
                           company=company_of(served.host.settings))
    return _respond(request, drawn, format, f"statement-{customer_id}-{statement_id}")


class ConfirmBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirmed_on: c.BusinessDate
    signed_by: c.Name
    document_ref: c.Ref | None = None
    differences: list[cc.Difference] = Field(default_factory=list, max_length=1000)


class StatementConfirmedAnswer(cc.ConfirmStatement, a.Recorded):
    confirmed_invoice_ids: list[str]
    """The open items confirmed: their limitation period runs again from confirmed_on."""
    dispute_ids: list[str]
    """A dispute raised for each difference stated."""


@operation("POST", "/customers/{customer_id:str}/statements/{statement_id:str}/confirm",
           "confirmStatement", tag="facts", writes=StatementConfirmedAnswer)
def confirm_statement(request: Request[Any, Any, Any], customer_id: FromPath[str],
                      statement_id: FromPath[str],
                      data: JSONBody[ConfirmBody]) -> Response[StatementConfirmedAnswer]:
    """The customer's signed confirmation (对账函) of a statement

    Each open item confirmed restarts its limitation period from confirmed_on (recorded
    as an acknowledgment); each difference becomes a dispute on its invoice, which keeps
    its old deadline. 404 for an unknown statement; 409 for one confirmed before."""
    command = cc.ConfirmStatement(statement_id=statement_id, **data.model_dump())
    outcome = services(request).ledger.execute(customer_id, command)
    kept = outcome.account.statements[statement_id]["confirmation"]
    return Response(answer(StatementConfirmedAnswer, {
        "customer_id": customer_id, **command.model_dump(),
        "confirmed_invoice_ids": kept["confirmed_invoice_ids"],
        "dispute_ids": [dispute_id(statement_id, d["invoice_id"]) for d in kept["differences"]]}),
        status_code=201 if outcome.recorded else 200)


DOCUMENTS = [message_document, statement, issue_statement, issued_statement,
             confirm_statement]

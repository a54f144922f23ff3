"""The command line's customer commands: ``huikuan customers`` (the list, 客户列表) and
``huikuan customer-change`` (a change of master data, as ``PATCH /v1/customers/{id}``).

Registered on the ``huikuan`` app by importing this module (adapters.cli does).
"""

from __future__ import annotations

import csv
import json
import sys
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from huikuan.adapters.cli import (
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    _huikuan,
    _plain,
    _table,
    _today,
    _views,
    app,
    console,
    err,
)
from huikuan.adapters.tables import Column
from huikuan.core.account import Account
from huikuan.core.commands import MASTER_FIELDS, ChangeCustomer
from huikuan.core.errors import DomainError, NotFound
from huikuan.projections.customers import MAX_LIMIT, CustomerFilter

COLUMNS = ("customer_id", "name", "currency", "collector", "outstanding", "overdue", "stage",
           "class", "risk_grade", "supply_hold")


@app.command()
def customers(
    q: Annotated[str | None, typer.Option(help="A fragment of the id or name (any case).")]
    = None,
    collector: Annotated[str | None, typer.Option(help="Only this collector's.")] = None,
    stage: Annotated[str | None, typer.Option(help="Only at this escalation stage.")] = None,
    class_: Annotated[str | None, typer.Option("--class", help="Only of this class.")] = None,
    hold: Annotated[bool | None, typer.Option("--hold/--no-hold",
                                              help="Only those with supply on hold (or not).")]
    = None,
    limit: Annotated[int, typer.Option(help=f"Customers per page (1 to {MAX_LIMIT}).")] = 50,
    cursor: Annotated[str | None, typer.Option(help="Go on from a page's `next`.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every page, not only the first.")]
    = False,
    output: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """Find customers by id or name, collector, stage, class or supply hold (客户列表)."""
    if output not in ("table", "csv", "json"):
        err.print("[red]--format table|csv|json[/red]")
        raise typer.Exit(EXIT_USAGE)
    hk = _huikuan()
    views = _views(hk)
    found = CustomerFilter(q=q, collector=collector, stage=stage, class_=class_, hold=hold)
    rows: list[dict[str, Any]] = []
    try:
        while True:
            page = views.customers(found, limit, cursor, _today(hk))
            rows += page["customers"]
            cursor = page["next"]
            if not (every and cursor):
                break
    except DomainError as error:
        err.print(f"[red]--{error.field}: {error.message}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    if output == "json":
        sys.stdout.write(json.dumps(_plain({"customers": rows, "next": cursor}),
                                    ensure_ascii=False, indent=2) + "\n")
    elif output == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([_text(row[c]) for c in COLUMNS])
    else:
        _table([Column(c, right=c in ("outstanding", "overdue"), wraps=c == "name")
                for c in COLUMNS], [[_text(row[c]) for c in COLUMNS] for row in rows],
               title="Customers" + (f" matching {q!r}" if q else ""))
        if cursor:
            err.print(f"more: --cursor {cursor} (or --all)")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@app.command("customer-change")
def customer_change(
    customer_id: str,
    collector: Annotated[str | None, typer.Option(help="Reassign to this collector.")] = None,
    name: Annotated[str | None, typer.Option(help="The customer's name.")] = None,
    terms: Annotated[int | None, typer.Option(help="Payment terms in days.")] = None,
    credit_limit: Annotated[str | None, typer.Option(help="Credit limit, e.g. 200000.00.")]
    = None,
    grade: Annotated[str | None, typer.Option(help="Credit grade A–E.")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA time zone.")] = None,
    language: Annotated[str | None, typer.Option(help="zh-CN or en.")] = None,
    tax_id: Annotated[str | None, typer.Option(help="Tax id (统一社会信用代码).")] = None,
    body: Annotated[str | None, typer.Option(
        "--json", help='Any other fields as the HTTP body has them, e.g. '
                       '\'{"contacts": [...], "address": {...}, "collector": null}\'.')] = None,
    effective_on: Annotated[str | None, typer.Option(
        "--effective-on", help="The date it counts from (default: the company's today).")]
    = None,
) -> None:
    """Change a customer's master data (客户资料变更), as PATCH /v1/customers/{id} does."""
    fields: dict[str, Any] = {}
    if body:
        try:
            fields = json.loads(body)
        except ValueError:
            err.print("[red]--json is not a JSON object[/red]")
            raise typer.Exit(EXIT_USAGE) from None
        if not isinstance(fields, dict):
            err.print("[red]--json is not a JSON object[/red]")
            raise typer.Exit(EXIT_USAGE)
    given = {"collector": collector, "name": name, "payment_terms_days": terms,
             "credit_limit": credit_limit, "credit_grade": grade, "timezone": timezone,
             "language": language, "tax_id": tax_id, "effective_on": effective_on}
    fields.update({k: v for k, v in given.items() if v is not None})
    hk = _huikuan()
    fields.setdefault("effective_on", _today(hk).isoformat())
    try:
        command = ChangeCustomer.model_validate(fields)
    except ValidationError as error:
        for problem in error.errors():
            field = ".".join(str(p) for p in problem["loc"])
            err.print(f"[red]{field}: {problem['msg']}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    try:
        outcome = hk.ledger.execute(customer_id, command)
    except NotFound as error:
        err.print(f"[red]{error.message}[/red]")
        raise typer.Exit(EXIT_NOT_FOUND) from None
    except DomainError as error:
        err.print(f"[red]{error.field}: {error.message}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    changes: dict[str, Any] = next(
        (e.changes for e in outcome.events if isinstance(e, Account.CustomerChanged)), {})
    if not changes:
        console.print(f"{customer_id}: nothing changed, nothing recorded")
        return
    changed = [f for f in MASTER_FIELDS if f in changes]
    console.print(f"{customer_id}: changed {', '.join(changed)} from {command.effective_on}")

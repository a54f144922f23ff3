"""The command line's documents: ``huikuan letter`` (a written demand's PDF) and
``huikuan statement`` (a statement of account, 对账单, in any format).

Registered on the ``huikuan`` app by importing this module (adapters.cli does).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from huikuan.adapters.cli import (
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    _huikuan,
    _parse_date,
    _today,
    app,
    console,
    err,
)
from huikuan.core.documents import recorded
from huikuan.core.errors import DomainError, NotFound
from huikuan.core.printing import letter_for, render_statement, statement_for


@app.command()
def letter(
    message_id: str,
    out: Annotated[str | None, typer.Option("--out", help="Where to write the PDF "
                                                            "(default: MESSAGE_ID.pdf)")] = None,
) -> None:
    """Write a written demand's letter as printed (PDF, on the letterhead)."""
    hk = _huikuan()
    try:
        found = str(hk.views.fresh().message(message_id)["customer_id"])
        document, message = letter_for(hk.ledger, hk.host, found, message_id, _today(hk))
    except NotFound as error:
        err.print(f"[red]{error.message}[/red]")
        raise typer.Exit(EXIT_NOT_FOUND) from None
    path = Path(out or f"{message_id}.pdf")
    path.write_bytes(document)
    state = "as sent" if message.status == "sent" else "a draft: not sent yet"
    console.print(f"{path}: {message.kind} to {found} ({state}), {len(document)} bytes")


@app.command()
def statement(
    customer_id: str,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Last day (default today).")]
    = None,
    from_: Annotated[str | None, typer.Option("--from", help="First day (default: the "
                                              "first of the month 11 months before).")]
    = None,
    format_: Annotated[str, typer.Option("--format", help="json, csv, xlsx or pdf")] = "pdf",
    out: Annotated[str | None, typer.Option("--out", help="Where to write it (default: "
                                            "statement-ID-DATE.FORMAT; json and csv: "
                                            "standard output with -)")] = None,
) -> None:
    """A statement of account (对账单): opening balance, movements, open items, closing."""
    from huikuan.adapters.api.documents import _csv, _xlsx

    if format_ not in ("json", "csv", "xlsx", "pdf"):
        err.print("[red]--format is json, csv, xlsx or pdf[/red]")
        raise typer.Exit(EXIT_USAGE)
    hk = _huikuan()
    day = _parse_date(as_of) or _today(hk)
    start = _parse_date(from_)
    try:
        drawn = statement_for(hk.ledger, hk.host, customer_id, day, start)
    except (NotFound, DomainError) as error:
        err.print(f"[red]{error.message}[/red]")
        raise typer.Exit(EXIT_NOT_FOUND if isinstance(error, NotFound) else EXIT_USAGE) \
            from None
    figures = recorded(drawn.figures())
    if format_ == "json":
        content = json.dumps(figures, ensure_ascii=False, indent=1).encode()
    elif format_ == "csv":
        content = _csv(figures).encode("utf-8-sig")
    elif format_ == "xlsx":
        content = _xlsx(figures)
    else:
        content = render_statement(hk.host, drawn)
    if out == "-":
        typer.echo(content.decode("utf-8-sig"), nl=False)
        return
    path = Path(out or f"statement-{customer_id}-{day}.{format_}")
    path.write_bytes(content)
    console.print(f"{path}: {customer_id} {drawn.from_on} to {day}, closing balance "
                  f"{drawn.closing_balance} {drawn.currency}")

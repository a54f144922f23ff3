"""The ``huikuan`` command line (typer + rich).

Exit codes scripts can trust: 0 done, 1 the check failed (an audit found damage),
2 bad usage or input, 3 not found.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from adapters.logging import configure_logging
from adapters.storage import ConfigurationError, open_ledger
from core.account import Account
from core.audit import verify
from core.errors import InvalidCommand, NotFound
from core.ledger import Ledger
from core.policy import PolicyHost

app = typer.Typer(help="huikuan (回款): get paid for what you sold on credit.",
                  no_args_is_help=True, add_completion=False)
audit_app = typer.Typer(help="Check that the stored events are intact.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")

console = Console(emoji=False, highlight=False)
err = Console(stderr=True, emoji=False, highlight=False)

EXIT_FAILED, EXIT_USAGE, EXIT_NOT_FOUND = 1, 2, 3


def _ledger() -> Ledger:
    configure_logging(level="WARNING")
    try:
        return open_ledger()
    except ConfigurationError as error:
        err.print(f"[red]configuration:[/red] {error}")
        raise typer.Exit(EXIT_USAGE) from None


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]{value!r} is not a date (YYYY-MM-DD)[/red]")
        raise typer.Exit(EXIT_USAGE) from None


@app.command()
def demo(
    customers: Annotated[int, typer.Option(help="How many demo customers to load.")] = 300,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The demo's today.")] = None,
) -> None:
    """Load a realistic demo portfolio into the configured store, then show a summary."""
    from adapters.demo import load_demo

    today = _parse_date(as_of) or date.today()
    ledger = _ledger()
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                  disable=not err.is_terminal) as progress:
        task = progress.add_task("loading demo customers", total=customers)
        summary = load_demo(ledger, today, customers,
                            progress=lambda n: progress.advance(task, n))
    console.print(f"{summary.customers} demo customers; {summary.recorded} changed by this run.")
    _portfolio_table(ledger, today, limit=12)
    ledger.close()


def _portfolio_table(ledger: Ledger, today: date, limit: int) -> None:
    accounts = [ledger.repository.get(i) for i in ledger.account_ids()]
    accounts.sort(key=lambda a: a.overdue(today), reverse=True)
    table = Table(title=f"Most overdue as of {today}")
    for column in ("customer", "collector", "currency", "outstanding", "overdue", "disputed"):
        table.add_column(column, justify="right" if column[0] in "od" else "left")
    for account in accounts[:limit]:
        table.add_row(account.customer_id, account.collector or "", account.currency,
                      str(account.outstanding), str(account.overdue(today)),
                      str(account.disputed))
    console.print(table)


@app.command()
def account(
    customer_id: str,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Business date.")] = None,
) -> None:
    """Show a customer's account now, or as it stood on a business date."""
    ledger = _ledger()
    when = _parse_date(as_of)
    try:
        acc = ledger.account_as_of(customer_id, when) if when else ledger.account(customer_id)
    except NotFound as error:
        err.print(f"[red]{error.message}[/red]")
        raise typer.Exit(EXIT_NOT_FOUND) from None
    today = when or date.today()
    console.print(f"[bold]{acc.customer_id}[/bold] {acc.name} ({acc.currency}) "
                  f"outstanding {acc.outstanding}, overdue {acc.overdue(today)}, "
                  f"disputed {acc.disputed}, unapplied credit {acc.unapplied_credit}")
    table = Table()
    for column in ("invoice", "issued", "due", "amount", "open", "days overdue", "disputed"):
        table.add_column(column)
    for inv in sorted(acc.invoices.values(), key=lambda i: i.due_on):
        table.add_row(inv.invoice_id, str(inv.issued_on), str(inv.due_on), str(inv.amount),
                      str(inv.open_amount), str(Account.days_overdue(inv, today)),
                      str(acc.disputed_amount(inv)))
    console.print(table)


@app.command()
def history(
    customer_id: str,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Business date.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Every event of a customer's account, in the order recorded."""
    ledger = _ledger()
    try:
        entries = ledger.history(customer_id, as_of=_parse_date(as_of))
    except NotFound as error:
        err.print(f"[red]{error.message}[/red]")
        raise typer.Exit(EXIT_NOT_FOUND) from None
    if as_json:
        for e in entries:
            sys.stdout.write(json.dumps({"version": e.version, "type": e.type,
                                         "occurred_on": e.occurred_on,
                                         "recorded_at": e.recorded_at, "data": e.data},
                                        default=str, ensure_ascii=False) + "\n")
        return
    table = Table()
    for column in ("v", "event", "business date", "recorded at"):
        table.add_column(column)
    for e in entries:
        table.add_row(str(e.version), e.type, str(e.occurred_on or ""),
                      e.recorded_at.isoformat(timespec="seconds"))
    console.print(table)


def _policy() -> PolicyHost:
    from adapters.settings import SettingsError, open_policy
    from core.policy import PluginError

    try:
        return open_policy()
    except (SettingsError, PluginError) as error:
        err.print(f"[red]plugins:[/red] {error}")
        raise typer.Exit(EXIT_USAGE) from None


@app.command()
def cycle(
    as_of: Annotated[str, typer.Option("--as-of", help="The business date to run for.")],
) -> None:
    """Run the daily collection cycle for a business date over every account."""
    from core.cycle import DailyCycle

    when = _parse_date(as_of)
    assert when is not None
    ledger = _ledger()
    try:
        summary = DailyCycle(ledger, _policy()).run(when)
    except InvalidCommand as error:
        err.print(f"[red]{error.message}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    console.print(f"cycle {summary.as_of}: {summary.accounts} accounts, "
                  f"{summary.accounts_changed} changed")
    for kind, count in sorted(summary.counts.items()):
        console.print(f"  {kind}: {count}")
    for failure in summary.failures:
        console.print(f"  [red]plugin {failure['plugin']} failed on {failure['customer_id']}"
                      f" ({failure['hook']}): {failure['error']}[/red]")
    if summary.failures:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def dispatch(
    now: Annotated[str | None, typer.Option(help="RFC 3339 time to act as (default: now).")]
    = None,
) -> None:
    """Send the queued messages that are due through the channel plugins."""
    from core.outbox import Dispatcher

    moment = datetime.now(UTC)
    if now:
        try:
            moment = datetime.fromisoformat(now)
        except ValueError:
            err.print(f"[red]{now!r} is not an RFC 3339 time[/red]")
            raise typer.Exit(EXIT_USAGE) from None
    ledger = _ledger()
    summary = Dispatcher(ledger, _policy()).run_once(moment)
    console.print(", ".join(f"{k}: {v}" for k, v in sorted(summary.counts.items()))
                  or "nothing to send")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check every stored event against its hash chain; exit 1 if any does not match."""
    ledger = _ledger()
    report = verify(ledger)
    if report.ok:
        console.print(f"ok: {report.events_checked} events checked, all match their chain")
        return
    console.print(f"[red]FAILED[/red]: {report.failure_count} of {report.events_checked} "
                  "events do not match their chain")
    for failure in report.failures[:20]:
        who = failure.customer_id or failure.originator_id
        console.print(f"  event #{failure.notification_id}: account {who} version "
                      f"{failure.originator_version} ({failure.topic}): {failure.reason}")
    raise typer.Exit(EXIT_FAILED)


def main() -> None:
    app()

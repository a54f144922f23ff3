"""The ``huikuan`` command line (typer + rich).

Exit codes scripts can trust: 0 done, 1 the check failed (an audit found damage),
2 bad usage or input, 3 not found, 4 busy (another cycle is running on the store: try
again when it has finished).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from huikuan.adapters.bootstrap import Huikuan, bootstrap
from huikuan.adapters.logging import configure_logging
from huikuan.adapters.settings import SettingsError
from huikuan.adapters.storage import ConfigurationError
from huikuan.adapters.tables import Column, render
from huikuan.core.account import Account
from huikuan.core.actor import IMPORT, acting_as
from huikuan.core.audit import verify
from huikuan.core.cycle import CycleRunning
from huikuan.core.errors import DomainError, InvalidCommand, NotFound
from huikuan.core.interest import charges
from huikuan.core.policy import PluginError, PolicyHost

if TYPE_CHECKING:
    from huikuan.core.ledger import Ledger
    from huikuan.projections.queries import Views

app = typer.Typer(help="huikuan (回款): get paid for what you sold on credit.",
                  no_args_is_help=True, add_completion=False)
audit_app = typer.Typer(help="Check that the stored events are intact.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
projections_app = typer.Typer(help="The read views folded from the events.",
                              no_args_is_help=True)
app.add_typer(projections_app, name="projections")

# soft_wrap: a line is never folded by rich, so a figure is never split across lines.
console = Console(emoji=False, highlight=False, soft_wrap=True)
err = Console(stderr=True, emoji=False, highlight=False)


def _table(columns: list[Column], rows: list[list[object]], title: str | None = None) -> None:
    """Print a table whole: figures never cut; free text wraps only on a terminal."""
    width = console.width if console.is_terminal else None
    for line in render(columns, rows, width=width, title=title):
        console.print(line, soft_wrap=True, markup=False, highlight=False)

EXIT_FAILED, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_BUSY = 1, 2, 3, 4


def _huikuan() -> Huikuan:
    """huikuan as the environment configures it (the store opened, the rest on first use)."""
    configure_logging(level="WARNING")
    try:
        return bootstrap()
    except ConfigurationError as error:
        err.print(f"[red]configuration:[/red] {error}")
        raise typer.Exit(EXIT_USAGE) from None


def _policy(hk: Huikuan) -> PolicyHost:
    try:
        return hk.host
    except (SettingsError, PluginError) as error:
        err.print(f"[red]plugins:[/red] {error}")
        raise typer.Exit(EXIT_USAGE) from None


def _views(hk: Huikuan) -> Views:
    _policy(hk)  # a plugins.toml that cannot be used is reported as such
    return hk.views.fresh()


def _today(hk: Huikuan) -> date:
    """The company's date ([company] timezone), for a command given no date."""
    try:
        return hk.today()
    except SettingsError as error:
        err.print(f"[red]plugins:[/red] {error}")
        raise typer.Exit(EXIT_USAGE) from None


def _parse_date(value: str | None) -> date | None:
    if value is None:
        return None
    # As the API reads a date: YYYY-MM-DD within the business range, so a cycle or a
    # view never does arithmetic on a date at the calendar's edge.
    from huikuan.core.commands import business_date

    try:
        return business_date(value)
    except ValueError as error:
        err.print(f"[red]{value!r}: {error}[/red]")
        raise typer.Exit(EXIT_USAGE) from None


@app.command()
def demo(
    customers: Annotated[int, typer.Option(help="How many demo customers to load.")] = 300,
    as_of: Annotated[str | None, typer.Option("--as-of", help="The demo's today.")] = None,
) -> None:
    """Load a realistic demo portfolio into the configured store, then show a summary."""
    from huikuan.adapters.demo import load_demo

    when = _parse_date(as_of)
    hk = _huikuan()
    today = when or _today(hk)
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                  disable=not err.is_terminal) as progress:
        task = progress.add_task("loading demo customers", total=customers)
        summary = load_demo(hk.ledger, today, customers,
                            progress=lambda n: progress.advance(task, n))
    console.print(f"{summary.customers} demo customers; {summary.recorded} changed by this run.")
    _portfolio_table(hk.ledger, today, limit=12)
    hk.close()


def _portfolio_table(ledger: Ledger, today: date, limit: int) -> None:
    accounts = [ledger.get(i) for i in ledger.account_ids()]
    accounts.sort(key=lambda a: a.overdue(today), reverse=True)
    columns = [Column("customer"), Column("collector"), Column("currency"),
               Column("outstanding", right=True), Column("overdue", right=True),
               Column("disputed", right=True)]
    _table(columns, [[a.customer_id, a.collector or "", a.currency, a.outstanding,
                      a.overdue(today), a.disputed] for a in accounts[:limit]],
           title=f"Most overdue as of {today}")


@app.command()
def account(
    customer_id: str,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Business date.")] = None,
) -> None:
    """Show a customer's account now, or as it stood on a business date."""
    hk = _huikuan()
    ledger = hk.ledger
    when = _parse_date(as_of)
    try:
        acc = ledger.account_as_of(customer_id, when) if when else ledger.account(customer_id)
    except NotFound as error:
        err.print(f"[red]{error.message}[/red]")
        raise typer.Exit(EXIT_NOT_FOUND) from None
    today = when or _today(hk)
    console.print(f"[bold]{acc.customer_id}[/bold] {acc.name} ({acc.currency}) "
                  f"outstanding {acc.outstanding}, overdue {acc.overdue(today)}, "
                  f"disputed {acc.disputed}, unapplied credit {acc.unapplied_credit}")
    owed = charges(acc, today)
    if owed["interest"] or owed["fees"]:
        console.print(f"late interest {owed['interest']} and fees {owed['fees']} owed besides "
                      f"(through {today})")
    columns = [Column("invoice"), Column("issued"), Column("due"), Column("amount", right=True),
               Column("open", right=True), Column("days overdue", right=True),
               Column("disputed", right=True), Column("interest", right=True)]
    _table(columns, [[inv.invoice_id, inv.issued_on, inv.due_on, inv.amount, inv.open_amount,
                      Account.days_overdue(inv, today) if inv.open_amount > 0 else 0,
                      acc.disputed_amount(inv), owed["invoice_interest"][inv.invoice_id]]
                     for inv in sorted(acc.invoices.values(), key=lambda i: i.due_on)])


@app.command()
def history(
    customer_id: str,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Business date.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    recorded_by: Annotated[str | None, typer.Option(
        "--recorded-by", help="Only what one recorded: key:<key_id>, user:<name>, cycle, "
        "dispatcher, import or system.")] = None,
) -> None:
    """Every event of a customer's account, in the order recorded, with who recorded it
    and why."""
    ledger = _huikuan().ledger
    try:
        entries = ledger.history(customer_id, as_of=_parse_date(as_of),
                                 recorded_by=recorded_by)
    except NotFound as error:
        err.print(f"[red]{error.message}[/red]")
        raise typer.Exit(EXIT_NOT_FOUND) from None
    if as_json:
        for e in entries:
            sys.stdout.write(json.dumps({"version": e.version, "type": e.type,
                                         "occurred_on": e.occurred_on,
                                         "recorded_at": e.recorded_at, "data": e.data,
                                         "recorded_by": e.recorded_by, "reason": e.reason},
                                        default=str, ensure_ascii=False) + "\n")
        return
    columns = [Column("v", right=True), Column("event"), Column("business date"),
               Column("recorded at"), Column("by"), Column("reason", wraps=True)]
    _table(columns, [[e.version, e.type, e.occurred_on or "",
                      e.recorded_at.isoformat(timespec="seconds"), e.recorded_by or "-",
                      e.reason or ""] for e in entries])


@app.command()
def cycle(
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="The business date to run for (default: the company's today).")] = None,
    review_all: Annotated[bool, typer.Option(
        "--all", help="Look at every account, not only those due for review.")] = False,
) -> None:
    """Run the daily collection cycle for a business date over every account."""
    hk = _huikuan()
    when = _parse_date(as_of) or _today(hk)
    _views(hk)  # the cycle reviews the accounts the views say are due: bring them up to date
    try:
        summary = hk.cycle.run(when, review_all=review_all)
    except CycleRunning as error:
        err.print(f"[red]cycle {when} not run: {error.message}[/red]")
        raise typer.Exit(EXIT_BUSY) from None
    except InvalidCommand as error:
        err.print(f"[red]{error.message}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    console.print(f"cycle {summary.as_of}: {summary.accounts} accounts, "
                  f"{summary.accounts_reviewed} due for review, "
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
    moment = datetime.now(UTC)
    if now:
        from huikuan.core.commands import EARLIEST, LATEST

        try:
            moment = datetime.fromisoformat(now)
        except ValueError:
            err.print(f"[red]{now!r} is not an RFC 3339 time[/red]")
            raise typer.Exit(EXIT_USAGE) from None
        if not EARLIEST <= moment.date() <= LATEST:
            err.print(f"[red]{now!r}: a time lies between {EARLIEST} and {LATEST}[/red]")
            raise typer.Exit(EXIT_USAGE)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # a time without an offset is taken as UTC
    hk = _huikuan()
    _policy(hk)
    summary = hk.dispatcher.run_once(moment)
    console.print(", ".join(f"{k}: {v}" for k, v in sorted(summary.counts.items()))
                  or "nothing to send")


def _plain(value: object) -> object:
    """JSON for the command line: amounts and dates as strings."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (Decimal, date)):
        return str(value)
    return value


@app.command()
def aging(
    as_of: Annotated[str | None, typer.Option("--as-of", help="Business date (default today).")]
    = None,
    group_by: Annotated[str, typer.Option("--group-by",
                                          help="customer, collector, currency or class")]
    = "customer",
    output: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """Receivables by age: current, 1-30, 31-60, 61-90, 91-180, 181-365, 365+ days past due."""
    from huikuan.projections.queries import BUCKETS

    chosen = _parse_date(as_of)
    if group_by not in ("customer", "collector", "currency", "class") or output not in (
        "table", "csv", "json"
    ):
        err.print("[red]--group-by customer|collector|currency|class; --format table|csv|json")
        raise typer.Exit(EXIT_USAGE)
    hk = _huikuan()
    views = _views(hk)
    when = chosen or _today(hk)
    report = views.aging(when, group_by)
    columns = ["key", "currency", *BUCKETS, "total"]
    if output == "json":
        sys.stdout.write(json.dumps(_plain(report), ensure_ascii=False, indent=2) + "\n")
    elif output == "csv":
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        for row in report["rows"]:
            writer.writerow([row[c] for c in columns])
        for row in report["totals"]:
            writer.writerow(["TOTAL", *[row[c] for c in columns[1:]]])
    else:
        shown = [Column(c, right=c not in ("key", "currency")) for c in columns]
        rows = [[row[c] for c in columns] for row in report["rows"]]
        rows += [["TOTAL", *[row[c] for c in columns[1:]]] for row in report["totals"]]
        _table(shown, rows, title=f"Aging as of {when} by {group_by}")


@app.command()
def worklist(
    collector: Annotated[str | None, typer.Option(help="Whose queue (default: everyone's).")]
    = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Business date.")] = None,
    limit: int = 20,
) -> None:
    """A collector's queue, most urgent first (轻重缓急)."""
    from huikuan.core.worklist import worklist as rank_worklist

    hk = _huikuan()
    rows = rank_worklist(_views(hk), _policy(hk), collector, _parse_date(as_of), None,
                         _today(hk))
    columns = [Column("customer"), Column("priority", right=True),
               Column("overdue", right=True), Column("currency"),
               Column("suggested action", wraps=True), Column("why", wraps=True)]
    _table(columns, [[row["customer_id"], row["priority"], row["overdue"], row["currency"],
                      row["suggested_action"], "; ".join(row["reasons"])]
                     for row in rows[:limit]], title=f"Worklist {collector or '(all)'}")


@app.command()
def kpis(
    start: Annotated[str | None, typer.Option(
        "--from", help="First day of the period (default: 89 days before --to).")] = None,
    end: Annotated[str | None, typer.Option(
        "--to", help="Last day of the period (default: the company's today).")] = None,
    output: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
    by: Annotated[str | None, typer.Option(
        "--by", help="collector: each collector's results instead")] = None,
) -> None:
    """DSO, best possible DSO, ADD, CEI and promise-kept rate, per currency (the last 90
    days unless told); with --by collector, each collector's results."""
    if output not in ("table", "csv", "json") or by not in (None, "collector"):
        err.print("[red]--format table|csv|json; --by collector[/red]")
        raise typer.Exit(EXIT_USAGE)
    hk = _huikuan()
    last = _parse_date(end) or _today(hk)
    first = _parse_date(start) or last - timedelta(days=89)
    if first > last:
        err.print(f"[red]--from {first} is after --to {last}[/red]")
        raise typer.Exit(EXIT_USAGE)
    if by == "collector":
        _collector_kpis(_views(hk).collector_kpis(first, last), output)
        return
    report = _views(hk).kpis(first, last)
    if output == "json":
        sys.stdout.write(json.dumps(_plain(report), indent=2) + "\n")
        return
    names = ["dso", "best_possible_dso", "add", "cei", "promise_kept_rate"]
    figures = ["ar_from", "ar_to", "credit_sales", "not_due_ar_to", "promises_kept",
               "promises_broken"]
    rows = [[r["currency"], *[_or_dash(r[n]) for n in names],
             *[r["figures"][f] for f in figures]] for r in report["currencies"]]
    if output == "csv":
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(["currency", *names, *figures])
        writer.writerows(rows)
        return
    columns = [Column("currency"), *[Column(n, right=True) for n in names],
               *[Column(f, right=True) for f in figures]]
    _table(columns, rows, title=f"KPIs {first} to {last} ({(last - first).days + 1} days)")


def _collector_kpis(report: dict[str, object], output: str) -> None:
    names = ["collector", "currency", "recovered", "accounts", "contacts", "promises_made",
             "promises_kept", "promises_broken", "cost", "cost_per_recovered"]
    found = report["collectors"]
    assert isinstance(found, list)
    if output == "json":
        sys.stdout.write(json.dumps(_plain(report), indent=2, ensure_ascii=False) + "\n")
        return
    rows = [[_or_dash(r[n]) if n != "collector" else (r[n] or "(none)") for n in names]
            for r in found]
    if output == "csv":
        import csv

        writer = csv.writer(sys.stdout)
        writer.writerow(names)
        writer.writerows(rows)
        return
    columns = [Column(n, right=n not in ("collector", "currency")) for n in names]
    _table(columns, rows, title=f"Collectors {report['from']} to {report['to']}")


def _or_dash(value: object) -> object:
    """A KPI with no denominator in the period (no sales, no promises due) is shown as -."""
    return "-" if value is None else value


@projections_app.command("rebuild")
def projections_rebuild() -> None:
    """Throw the read views away and fold every event again."""
    hk = _huikuan()
    _policy(hk)
    projector = hk.projector
    total = hk.ledger.recorder.max_notification_id() or 0
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=err,
                  disable=not err.is_terminal) as progress:
        task = progress.add_task("folding events", total=total)
        applied = projector.rebuild(
            progress=lambda position, _total: progress.update(task, completed=position),
            batch_size=5000)
    console.print(f"rebuilt the views from {applied} events")


keys_app = typer.Typer(help="API keys (a key is shown once; only a salted hash is stored).",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="admin, manager, collector, integration, auditor")],
    label: Annotated[str, typer.Option(help="Whose key, or what it is for.")] = "",
    expires_on: Annotated[str | None, typer.Option(
        "--expires-on", help="The date it stops working (YYYY-MM-DD, where the company is).")]
    = None,
) -> None:
    """Make an API key for a role and print it (it is shown this once)."""
    from huikuan.core.access import issue
    from huikuan.core.commands import plain_text

    expiry = _parse_date(expires_on)
    try:
        plain_text(label)
    except ValueError:
        err.print("[red]--label must not contain control characters[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    ledger = _huikuan().ledger
    try:
        made = issue(ledger, role, label.strip(), expiry)
    except InvalidCommand as error:
        err.print(f"[red]{error.message}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    except DomainError as error:  # a key ring that does not verify
        err.print(f"[red]{error.message}[/red]")
        raise typer.Exit(EXIT_FAILED) from None
    until = f", expires on {expiry}" if expiry else ""
    err.print(f"{made.key.key_id} ({role}{until}):")
    sys.stdout.write(made.secret + "\n")


@keys_app.command("list")
def keys_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Every API key ever made: id, role, label, created, expires, revoked (never the key
    or its hash)."""
    from huikuan.core.access import list_keys

    hk = _huikuan()
    found = list_keys(hk.ledger)
    if as_json:
        for key in found:
            sys.stdout.write(json.dumps(key.listed(), default=lambda v: v.isoformat(),
                                        ensure_ascii=False) + "\n")
        return
    today = _today(hk)
    columns = [Column("key id"), Column("role"), Column("label", wraps=True),
               Column("created"), Column("expires on"), Column("state")]
    _table(columns, [[key.key_id, key.role, key.label,
                      key.created_at.isoformat(timespec="seconds"), key.expires_on or "",
                      "revoked" if key.revoked else "expired" if key.expired(today)
                      else "works"] for key in found])


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key id, key-…")]) -> None:
    """Revoke an API key: from now on every process on the store refuses it."""
    from huikuan.core.access import revoke_key

    try:
        revoked, recorded = revoke_key(_huikuan().ledger, key_id)
    except NotFound as error:
        err.print(f"[red]{error.message}[/red]")
        raise typer.Exit(EXIT_NOT_FOUND) from None
    except DomainError as error:
        err.print(f"[red]{error.message}[/red]")
        raise typer.Exit(EXIT_FAILED) from None
    when = revoked.revoked_at.isoformat(timespec="seconds") if revoked.revoked_at else ""
    console.print(f"{revoked.key_id} ({revoked.role}) "
                  f"{'revoked' if recorded else 'was already revoked'} at {when}")


@app.command("import")
def import_file(
    file: Annotated[str, typer.Argument(help="A ledger as .csv (UTF-8) or .xlsx")],
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="The import's date: paid parts without paid_on were received by "
                        "then at the latest (default: today).")]
    = None,
) -> None:
    """Import a ledger: one row per invoice; all of it, or nothing if a row is bad.

    Headers (English or Chinese): customer_id (客户编号), customer_name (客户名称),
    invoice_id (发票号), amount (金额), currency (币种), issued_on (开票日期),
    due_on (到期日), paid_amount (已收金额, optional), paid_on (已收日期, optional).
    A paid amount without paid_on is dated the earlier of its due date and --as-of.
    Amounts may have thousands separators (12,500.00); dates may be 2026-08-01,
    2026/8/1 or 2026-8-1, or a date cell in an .xlsx.
    """
    from pathlib import Path

    from huikuan.adapters.importer import ImportError_, import_ledger

    path = Path(file)
    if not path.exists():
        err.print(f"[red]{file}: no such file[/red]")
        raise typer.Exit(EXIT_USAGE)
    hk = _huikuan()
    try:
        with acting_as(IMPORT):  # every event of the import says the import recorded it
            summary = import_ledger(hk.ledger, path, _parse_date(as_of) or _today(hk))
    except ImportError_ as error:
        for line, message in error.problems[:50]:
            err.print(f"{file}:{line}: {message}")
        err.print(f"[red]{len(error.problems)} bad row(s); nothing was imported[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    console.print(f"{summary.rows} rows: {summary.customers_created} customers created, "
                  f"{summary.accounts_changed} accounts changed, {summary.events} events")
    if summary.paid_dated_by_default:
        console.print(f"{summary.paid_dated_by_default} paid amount(s) had no paid_on (已收日期): "
                      "dated the earlier of the invoice's due date and the import's date")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
) -> None:
    """Serve the HTTP API (and, in-process, the projection follower and the dispatcher)."""
    from huikuan.adapters.http import serve as run
    from huikuan.adapters.web.session import WeakSecret, secret

    configure_logging()
    # A store that cannot be opened (a wrong URL, a cipher key that is not the store's)
    # is said in one line before the server starts, not in a traceback at its start-up;
    # so is a session secret too short to sign with.
    _huikuan().close()
    try:
        secret()
    except WeakSecret as error:
        err.print(f"[red]{error}[/red]")
        raise typer.Exit(EXIT_USAGE) from None
    run(host, port)


@app.command()
def workers() -> None:
    """Run the projection follower and the message dispatcher as a process of their own."""
    import signal
    import threading

    from huikuan.adapters.workers import Workers

    configure_logging()
    hk = _huikuan()
    _policy(hk)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    running = Workers(hk)
    running.start()
    stop.wait()
    running.stop()
    hk.close()


@audit_app.command("verify")
def audit_verify() -> None:
    """Check every stored event against its hash chain and the store against the latest
    anchor; exit 1 if anything does not match."""
    hk = _huikuan()
    report = verify(hk.ledger, hk.ledger.guard.anchors)
    anchor = report.anchor
    if anchor.sequence:
        anchor_line = (f"anchor {anchor.sequence} taken at {anchor.taken_at}: "
                       f"{'ok' if anchor.ok else '[red]FAILED[/red]'}"
                       f"{'' if anchor.signed else ' (unsigned: set HUIKUAN_AUDIT_KEY)'}")
    else:
        anchor_line = f"anchor: none taken, {'ok' if anchor.ok else '[red]FAILED[/red]'}"
    if report.ok:
        console.print(f"ok: {report.events_checked} events and {report.snapshots_checked} "
                      "snapshots checked, all match their chain")
        console.print(anchor_line)
        console.print(f"heads digest: {report.heads_digest}")
        return
    console.print(f"[red]FAILED[/red]: {report.failure_count} problem(s) in "
                  f"{report.events_checked} events")
    console.print(anchor_line)
    for failure in report.failures[:20]:
        who = failure.customer_id or failure.originator_id or "anchors"
        where = f"event #{failure.notification_id}: " if failure.notification_id else ""
        console.print(f"  {where}{who} version {failure.originator_version} "
                      f"({failure.topic}): {failure.reason}")
    raise typer.Exit(EXIT_FAILED)


@audit_app.command("anchor")
def audit_anchor() -> None:
    """Record a signed checkpoint of every chain head outside the store (refused, exit 1,
    while anything is lost or damaged since the last one)."""
    from huikuan.core.anchors import AnchorRefused, take_anchor

    hk = _huikuan()
    book = hk.ledger.guard.anchors
    assert book is not None
    try:
        anchor = take_anchor(hk.ledger, book)
    except AnchorRefused as error:
        err.print(f"[red]{error.message}[/red]")
        for reason in error.reasons[:20]:
            err.print(f"  {reason}")
        raise typer.Exit(EXIT_FAILED) from None
    except DomainError as error:  # a tampered audit log, say
        err.print(f"[red]{error.message}[/red]")
        raise typer.Exit(EXIT_FAILED) from None
    signed = "signed" if hk.ledger.audit_key else "unsigned (no HUIKUAN_AUDIT_KEY)"
    console.print(f"anchor {anchor.sequence}: {len(anchor.heads)} aggregates, {signed}, "
                  f"in {book.path(anchor.sequence)}")


# The customer and document commands live in modules of their own; importing them adds
# them to ``app``.
from huikuan.adapters import cli_customers, cli_documents, cli_users  # noqa: E402, F401


def main() -> None:
    app()


if __name__ == "__main__":
    # Run as ``python -m``: this file is __main__, not the module the commands in other
    # modules (cli_customers) were added to; run that one.
    from huikuan.adapters.cli import main as installed_main

    installed_main()

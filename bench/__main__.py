"""python -m bench [all|core|import|portfolio|http] [--database sqlite|postgres] [sizes]

Each path is measured beside its floor, taken in the same run on the same kind of
database, and printed as a ratio: these machines are noisy, the ratios are the result.

- core: a single fact through the core (command, checks, save) against the
  eventsourcing library saving the same events directly;
- import: a CSV ledger through the importer against a raw batched insert of the same
  rows into a plain table;
- portfolio: a synthetic portfolio (skewed sizes, part payments, promises, disputes,
  a share overdue), then the projection rebuild against reading and decoding the same
  notifications, the daily cycle against a raw SQL scan selecting the same overdue
  accounts, and aging and worklist over HTTP from a real server process, with its
  peak memory;
- http: single facts over HTTP against the library's single-save rate.

``--database postgres`` uses a fresh schema in ``--postgres-url``, dropped after.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import POSTGRES, Baseline, database, percentile, report, timed
from bench.portfolio import COLLECTORS, TODAY, accounts, generate
from huikuan.adapters.bootstrap import bootstrap
from huikuan.adapters.logging import configure_logging
from huikuan.adapters.storage import ledger_env
from huikuan.core.account import Account
from huikuan.core.commands import IssueInvoice, RegisterCustomer
from huikuan.core.ledger import Ledger
from huikuan.projections.db import ViewDatabase

# --------------------------------------------------------------------------- core


def core_bench(args: argparse.Namespace) -> None:
    """One invoice per save, through the ledger, against the library alone."""
    count = args.facts
    with database(args, "core") as url:
        # Floor: the library saving the same Account events, aggregates kept in memory.
        app = Baseline(env=ledger_env(url))
        held = [Account.register(customer_id=f"L-{n}", name="l", currency="CNY",
                                 registered_on=TODAY)
                for n in range(16)]
        app.save(*held)

        def library() -> None:
            for n in range(count):
                account = held[n % 16]
                account.issue_invoice(invoice_id=f"I-{n}", amount=Decimal("100.00"),
                                      currency="CNY", issued_on=TODAY)
                app.save(account)

        floor = count / timed(library)
        app.close()
    with database(args, "core2") as url:
        ledger = Ledger(env=ledger_env(url))
        for n in range(16):
            ledger.register_customer(RegisterCustomer(customer_id=f"L-{n}", name="l",
                                                      currency="CNY"))
        commands = [IssueInvoice(invoice_id=f"I-{n}", amount="100.00", currency="CNY",
                                 issued_on=TODAY) for n in range(count)]

        def through_core() -> None:
            for n, command in enumerate(commands):
                ledger.execute(f"L-{n % 16}", command)

        rate = count / timed(through_core)
        ledger.close()
    report("single fact through the core", f"{rate:,.0f} events/s",
           f"{floor:,.0f} events/s", f"{rate / floor:.0%}", ">= 80 %")


# --------------------------------------------------------------------------- import


def import_bench(args: argparse.Namespace) -> None:
    from huikuan.adapters.importer import import_ledger

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ledger.csv"
        rows = 0
        with path.open("w", newline="", encoding="utf-8") as file:
            out = csv.writer(file)
            out.writerow(["customer_id", "customer_name", "invoice_id", "amount", "currency",
                          "issued_on", "due_on", "paid_amount"])
            customers = max(1, args.import_rows // 10)
            for account in accounts(customers, args.import_rows, seed=7):
                for invoice in account.invoices.values():
                    paid = invoice.amount - invoice.open_amount
                    out.writerow([account.customer_id, account.name, invoice.invoice_id,
                                  invoice.amount, "CNY", invoice.issued_on, invoice.due_on,
                                  paid if paid else ""])
                    rows += 1
        with database(args, "raw") as url:
            db = ViewDatabase(ledger_env(url))
            conn = db.connect()
            with db.transaction(conn) as cur:
                cur.execute("CREATE TABLE raw_ledger (customer_id TEXT, customer_name TEXT, "
                            "invoice_id TEXT, amount TEXT, currency TEXT, issued_on TEXT, "
                            "due_on TEXT, paid_amount TEXT)")

            def raw() -> None:
                with path.open(encoding="utf-8") as file:
                    reader = csv.reader(file)
                    next(reader)
                    batch: list[list[str]] = []
                    for row in reader:
                        batch.append(row)
                        if len(batch) == 500:
                            with db.transaction(conn) as cur:
                                db.executemany(cur, "INSERT INTO raw_ledger VALUES "
                                               "(?, ?, ?, ?, ?, ?, ?, ?)", batch)
                            batch = []
                    with db.transaction(conn) as cur:
                        db.executemany(cur, "INSERT INTO raw_ledger VALUES "
                                       "(?, ?, ?, ?, ?, ?, ?, ?)", batch)

            floor = rows / timed(raw)
            conn.close()
        with database(args, "import") as url:
            ledger = Ledger(env=ledger_env(url))
            rate = rows / timed(lambda: import_ledger(ledger, path, as_of=TODAY))
            ledger.close()
    report(f"import of a {rows:,}-row ledger", f"{rate:,.0f} rows/s", f"{floor:,.0f} rows/s",
           f"{rate / floor:.0%}", ">= 30 %")


# --------------------------------------------------------------------------- portfolio


def read_and_decode(ledger: Ledger) -> int:
    last, decoded = 0, 0
    while True:
        page = ledger.recorder.select_notifications(start=last, limit=5000,
                                                    inclusive_of_start=False)
        if not page:
            return decoded
        for row in page:
            ledger.mapper.to_domain_event(row)
            decoded += 1
        last = page[-1].id


def portfolio_bench(args: argparse.Namespace) -> None:
    with database(args, "portfolio") as url, bootstrap(env={}, database_url=url) as app:
        ledger = app.ledger
        started = time.perf_counter()
        events = generate(ledger, args.accounts, args.invoices, overdue=args.overdue)
        took = time.perf_counter() - started
        print(f"portfolio: {args.accounts:,} accounts, ~{args.invoices:,} invoices, "
              f"{events:,} events written in {took:.1f} s ({events / took:,.0f} events/s)",
              flush=True)

        started = time.perf_counter()
        decoded = read_and_decode(ledger)
        floor = time.perf_counter() - started
        projector = app.projector
        rebuild = timed(lambda: projector.rebuild(batch_size=5000))
        report(f"projection rebuild from {decoded:,} events", f"{rebuild:.1f} s",
               f"{floor:.1f} s read+decode", f"{rebuild / floor:.1f}x", "<= 2x")
        # As after an import: the views are up to date, and no cycle has run yet.
        serve_bench(args, url, ledger, fresh=True)

        # The daily cycle, against a plain SQL scan for the accounts it must chase. The
        # first cycle looks at every account; the next day's, at the accounts due.
        db = projector.db
        conn = db.connect()
        overdue_sql = ("SELECT DISTINCT customer_id FROM hk_invoices "
                       "WHERE open_minor > 0 AND due_on < ?")
        for label, day in (("first daily cycle", TODAY),
                           ("next day's cycle", TODAY + timedelta(days=1))):
            overdue = len(db.query(conn, overdue_sql, (day.isoformat(),)))
            floor = min(timed(lambda day=day: db.query(conn, overdue_sql, (day.isoformat(),)))
                        for _ in range(3))
            started = time.perf_counter()
            summary = app.cycle.run(day, allow_future=True)
            took = time.perf_counter() - started
            report(f"{label}: {summary.accounts:,} accounts, {overdue:,} overdue "
                   f"({overdue / summary.accounts:.0%}), {summary.accounts_reviewed:,} "
                   f"reviewed, {summary.accounts_changed:,} changed", f"{took:.1f} s",
                   f"{floor * 1000:.0f} ms SQL scan", f"{took / floor:,.0f}x",
                   "<= 60 s and <= 3x")
            caught = timed(projector.catch_up)
            print(f"  projections after it: {caught:.1f} s", flush=True)
        conn.close()
        serve_bench(args, url, ledger)


def serve_bench(args: argparse.Namespace, url: str, ledger: Ledger,
                fresh: bool = False) -> None:
    """Aging and worklist over HTTP from a real server process, and its peak memory;
    ``fresh``: before any cycle (right after the portfolio was recorded, as after an
    import), when the worklist has no decided queue yet."""
    from huikuan.core.access import issue_key
    from tests.server import Server

    key = issue_key(ledger, "manager")[1]
    server = Server({"HUIKUAN_DATABASE_URL": url, "HUIKUAN_IN_PROCESS_WORKERS": "0",
                     "HUIKUAN_LOG_LEVEL": "WARNING"}, timeout=900)
    print(f"  server pid {server.process.pid}", flush=True)
    headers = {"Authorization": f"Bearer {key}"}
    try:
        # "Today" is the day of the last cycle, as a manager's morning report would be.
        day = (TODAY + timedelta(days=0 if fresh else 1)).isoformat()
        earlier = (TODAY - timedelta(days=45)).isoformat()
        month = (TODAY - timedelta(days=30)).isoformat()
        long_ago = (TODAY - timedelta(days=200)).isoformat()
        when = "before any cycle: " if fresh else ""
        paths = {
            "aging by collector, 30 days ago": lambda n: f"/v1/aging?as_of={month}"
                                                         "&group_by=collector",
            "aging by collector, 200 days ago": lambda n: f"/v1/aging?as_of={long_ago}"
                                                          "&group_by=collector",
            "aging by currency, 45 days ago": lambda n: f"/v1/aging?as_of={earlier}"
                                                        "&group_by=currency",
            "aging by collector": lambda n: f"/v1/aging?as_of={day}&group_by=collector",
            "aging by class, 45 days ago": lambda n: f"/v1/aging?as_of={earlier}&group_by=class",
            "worklist, first 50": lambda n: f"/v1/worklist?collector={COLLECTORS[n % 20]}"
                                            "&limit=50",
            "worklist, whole queue": lambda n: f"/v1/worklist?collector={COLLECTORS[n % 20]}",
            "aging by customer (every row)": lambda n: f"/v1/aging?as_of={day}",
        }
        if fresh:
            paths = {name: path for name, path in paths.items()
                     if "every row" not in name}
            paths["worklist, today, first 50"] = (
                lambda n: f"/v1/worklist?collector={COLLECTORS[n % 20]}&as_of={day}&limit=50")
        pages = {} if fresh else _pages(args, url, ledger, server, headers, day)
        paths.update(pages)
        for name, path in paths.items():
            began = time.perf_counter()
            server.client.get(path(0), headers=headers).raise_for_status()  # warm
            first = (time.perf_counter() - began) * 1000
            samples = []
            for n in range(args.queries):
                began = time.perf_counter()
                response = server.client.get(path(n), headers=headers)
                samples.append((time.perf_counter() - began) * 1000)
                response.raise_for_status()
            size = len(response.content)
            # The issue's targets: 50 ms for today's views and for any view before a
            # cycle, 200 ms for a past date's aging and for the pages.
            target = "<= 50 ms" if fresh or not ("ago" in name or name in pages) \
                else "<= 200 ms"
            report(f"{when}{name} over HTTP ({size:,} bytes)",
                   f"p50 {statistics.median(samples):.1f} ms, p99 "
                   f"{percentile(samples, 0.99):.1f} ms (first {first:.0f} ms)", "—", "—",
                   target)
        peak = _peak_rss(server.process.pid)
        report(f"memory serving {args.accounts:,} accounts", f"{peak / 1024:,.0f} MiB peak RSS",
               "—", "—", "<= 1 GiB")
    finally:
        server.stop()


def _pages(args: argparse.Namespace, url: str, ledger: Ledger, server: Any,
           headers: dict[str, str], day: str) -> dict[str, Callable[[int], str]]:
    """The pages and endpoints people open in the workspace (customer list, customer,
    statement, letter PDF, KPIs, and the workspace's own pages, signed in)."""
    import re
    import secrets

    from huikuan.core.users import create_user

    db = ViewDatabase(ledger_env(url))
    conn = db.connect()
    letters = [m for (m,) in db.query(conn, "SELECT message_id FROM hk_messages "
                                      "WHERE channel = 'letter' ORDER BY message_id LIMIT 50")]
    conn.close()
    someone = [f"B-{n:07d}" for n in range(0, args.accounts, max(1, args.accounts // 50))]
    start = (TODAY - timedelta(days=89)).isoformat()
    password = secrets.token_urlsafe(12)
    create_user(ledger, "bench", "manager", password)
    form = server.client.get("/app/login")
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text).group(1)  # type: ignore[union-attr]
    server.client.cookies.set("huikuan_login", form.cookies["huikuan_login"])
    done = server.client.post("/app/login", data={"name": "bench", "password": password,
                                                  "csrf": token})
    # Secure cookies: httpx sends them over plain HTTP to loopback only when told.
    server.client.cookies.set("huikuan_session", done.cookies["huikuan_session"])
    pages: dict[str, Callable[[int], str]] = {
        "customer list, first 50": lambda n: "/v1/customers?limit=50",
        "customer search by name": lambda n: "/v1/customers?q=Customer%20"
                                             f"{n * 7919 % args.accounts}",
        "customer view": lambda n: f"/v1/customers/{someone[n % len(someone)]}",
        "statement (JSON)": lambda n: f"/v1/customers/{someone[n % len(someone)]}/statement",
        "statement (PDF)": lambda n: f"/v1/customers/{someone[n % len(someone)]}"
                                     "/statement?format=pdf",
        "KPIs, 90 days": lambda n: f"/v1/kpis?from={start}&to={day}",
        "workspace: worklist": lambda n: "/app/worklist",
        "workspace: customers": lambda n: "/app/customers",
        "workspace: customer": lambda n: f"/app/customers/{someone[n % len(someone)]}",
        "workspace: portfolio": lambda n: "/app/portfolio",
        "workspace: portfolio with KPIs": lambda n: f"/app/portfolio?from={start}&to={day}",
    }
    if letters:
        pages["letter (PDF)"] = lambda n: f"/v1/messages/{letters[n % len(letters)]}/document"
    return pages


def _peak_rss(pid: int) -> int:
    """The process's peak resident set, in KiB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", default="all",
                        choices=["all", "core", "import", "portfolio", "http"])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=POSTGRES)
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--invoices", type=int, default=20000)
    parser.add_argument("--overdue", type=float, default=0.1,
                        help="the share of customers with money overdue")
    parser.add_argument("--import-rows", type=int, default=20000)
    parser.add_argument("--facts", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--server-processes", type=int, default=1,
                        help="HTTP server processes for `http` (HUIKUAN_WORKERS)")
    args = parser.parse_args()
    # As the server below runs: warnings only (a line per command would be measured too).
    configure_logging(level="WARNING")
    print(f"huikuan bench on {args.database}: {vars(args)}")
    print("| path | measure | baseline (same run) | ratio | target |")
    print("|---|---|---|---|---|", flush=True)
    if args.what in ("core", "all"):
        core_bench(args)
    if args.what in ("http", "all"):
        from bench.http import http_bench

        http_bench(args)
    if args.what in ("import", "all"):
        import_bench(args)
    if args.what in ("portfolio", "all"):
        portfolio_bench(args)


if __name__ == "__main__":
    main()

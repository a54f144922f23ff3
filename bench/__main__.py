"""python -m bench [projections|http|all] [--accounts N] [--invoices M] [--requests R]

Generates a synthetic portfolio (skewed customer sizes, partial payments, a share
overdue) straight through the domain, saving many accounts per transaction, then
measures and prints, each beside its baseline from the same run:

- projection rebuild time against reading and decoding the same notifications;
- aging and worklist query latency (p50/p99) over the projected tables;
- HTTP writes and reads (requests/s, p50/p99) against a real server process, beside
  the eventsourcing library's own single-save rate on the same kind of database.

Numbers from a noisy machine mean little alone; the ratios are the result.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal

from adapters.settings import load_settings
from adapters.storage import ledger_env
from core.account import Account
from core.ledger import Ledger
from core.policy import PolicyHost
from projections.queries import Views
from projections.views import Projector

TODAY = date(2026, 11, 23)
COLLECTORS = [f"collector-{n}" for n in range(20)]


def generate(ledger: Ledger, accounts: int, invoices: int, seed: int = 1) -> int:
    """Write the portfolio; returns the number of events."""
    rng = random.Random(seed)  # noqa: S311 (synthetic data)
    weights = [rng.paretovariate(1.2) for _ in range(accounts)]
    scale = invoices / sum(weights)
    counts = [max(1, round(w * scale)) for w in weights]
    batch: list[Account] = []
    events = 0
    for n, count in enumerate(counts):
        account = Account.register(
            customer_id=f"B-{n:07d}", name=f"Customer {n}", currency="CNY",
            registered_on=TODAY - timedelta(days=400), collector=COLLECTORS[n % 20],
            credit_limit=Decimal(100000))
        for k in range(count):
            issued = TODAY - timedelta(days=rng.randint(0, 365))
            amount = Decimal(rng.randint(10000, 5000000)).scaleb(-2)
            account.issue_invoice(invoice_id=f"I-{k}", amount=amount, currency="CNY",
                                  issued_on=issued)
            if rng.random() < 0.7:  # most invoices get paid, some in part, some late
                share = Decimal(rng.choice(["1", "1", "1", "0.5"]))
                account.receive_payment(
                    payment_id=f"P-{k}", amount=(amount * share).quantize(Decimal("0.01")),
                    currency="CNY",
                    received_on=min(TODAY, issued + timedelta(days=rng.randint(10, 90))))
        events += account.version
        batch.append(account)
        if len(batch) >= 200:
            ledger.save(*batch)
            batch = []
    if batch:
        ledger.save(*batch)
    return events


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", default="all", choices=["projections", "http", "all"])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--invoices", type=int, default=20000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    if args.what in ("projections", "all"):
        projections_bench(args)
    if args.what in ("http", "all"):
        from bench.http import http_bench

        http_bench(args)


def projections_bench(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{os.path.join(tmp, 'bench.sqlite3')}"
        ledger = Ledger(env=ledger_env(url))
        host = PolicyHost(load_settings(None, env={}), load_entry_points=False)
        started = time.perf_counter()
        events = generate(ledger, args.accounts, args.invoices)
        generated = time.perf_counter() - started
        print(f"portfolio: {args.accounts} accounts, ~{args.invoices} invoices, "
              f"{events} events written in {generated:.1f} s ({events / generated:,.0f}/s)")

        # Baseline: read and decode every notification, nothing else.
        started = time.perf_counter()
        last, decoded = 0, 0
        while True:
            page = ledger.recorder.select_notifications(start=last, limit=500,
                                                        inclusive_of_start=False)
            if not page:
                break
            for row in page:
                ledger.mapper.to_domain_event(row)
                decoded += 1
            last = page[-1].id
        baseline = time.perf_counter() - started

        projector = Projector(ledger, host)
        started = time.perf_counter()
        projector.rebuild(batch_size=5000)
        rebuild = time.perf_counter() - started
        print(f"rebuild from {decoded} events: {rebuild:.2f} s; read+decode baseline "
              f"{baseline:.2f} s; ratio {rebuild / baseline:.2f}x (target <= 2x)")

        views = Views(ledger, host, projector)
        timings: dict[str, list[float]] = {"aging": [], "aging by collector": [],
                                           "worklist": []}
        for n in range(args.queries):
            for name, call in (
                ("aging", lambda: views.aging(TODAY)),
                ("aging by collector", lambda: views.aging(TODAY, "collector")),
                ("worklist", lambda n=n: views.worklist(COLLECTORS[n % 20], TODAY)),
            ):
                started = time.perf_counter()
                call()
                timings[name].append((time.perf_counter() - started) * 1000)
        for name, samples in timings.items():
            print(f"{name}: p50 {statistics.median(samples):.1f} ms, "
                  f"p99 {percentile(samples, 0.99):.1f} ms over {len(samples)} queries")
        views.close()
        projector.close()
        ledger.close()


if __name__ == "__main__":
    main()

"""HTTP throughput and latency beside the library's own save rate, same database kind."""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from datetime import date
from decimal import Decimal

import httpx
from eventsourcing.domain import Aggregate, event

from bench.common import Baseline, database, percentile, report
from huikuan.adapters.storage import ledger_env
from huikuan.core.access import issue_key
from huikuan.core.ledger import Ledger


class Tally(Aggregate):
    """The simplest aggregate the library can save: the baseline's unit of work."""

    @event("Created")
    def __init__(self) -> None:
        self.total = Decimal(0)

    @event("Added")
    def add(self, amount: Decimal) -> None:
        self.total += amount


def library_save_rate(url: str, count: int) -> float:
    """Events per second saving one event per save, as the library does on its own."""
    app = Baseline(env=ledger_env(url))
    tallies = [Tally() for _ in range(16)]
    app.save(*tallies)
    started = time.perf_counter()
    for n in range(count):
        tally = tallies[n % 16]
        tally.add(Decimal("1.00"))
        app.save(tally)
    elapsed = time.perf_counter() - started
    app.close()
    return count / elapsed


def _load(server_url: str, key: str, clients: int, requests: int,
          make: callable) -> tuple[float, list[float], list[int]]:  # type: ignore[valid-type]
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(n: int) -> None:
        with httpx.Client(base_url=server_url, timeout=60,
                          headers={"Authorization": f"Bearer {key}"}) as http:
            start.wait()
            for k in range(requests // clients):
                method, path, body = make(n, k)
                began = time.perf_counter()
                response = http.request(method, path, json=body)
                took = (time.perf_counter() - began) * 1000
                with lock:
                    latencies.append(took)
                    statuses.append(response.status_code)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    return len(latencies) / (time.perf_counter() - began), latencies, statuses


def http_bench(args: argparse.Namespace) -> None:
    from tests.server import Server

    with database(args, "baseline") as baseline_url:
        rate = library_save_rate(baseline_url, max(200, args.requests // 2))
    with database(args, "http") as url:
        ledger = Ledger(env=ledger_env(url))
        key = issue_key(ledger, "admin")[1]
        ledger.close()
        # (The server must log at info: its start-up line is what Server waits for.)
        server = Server({"HUIKUAN_DATABASE_URL": url, "HUIKUAN_IN_PROCESS_WORKERS": "0",
                         "HUIKUAN_LOG_LEVEL": "WARNING",
                         "HUIKUAN_WORKERS": str(args.server_processes)})
        try:
            for n in range(args.clients * 4):
                server.client.post("/v1/customers", headers={"Authorization": f"Bearer {key}"},
                                   json={"customer_id": f"H-{n}", "name": "h",
                                         "currency": "CNY"})
            issued = date(2026, 1, 1).isoformat()
            writes, write_ms, write_status = _load(
                server.url, key, args.clients, args.requests,
                lambda n, k: ("POST", f"/v1/customers/H-{(n * 4 + k) % (args.clients * 4)}"
                              "/invoices", {"invoice_id": f"I-{n}-{k}", "amount": "100.00",
                                            "currency": "CNY", "issued_on": issued}))
            reads, read_ms, read_status = _load(
                server.url, key, args.clients, args.requests,
                lambda n, k: ("GET", f"/v1/customers/H-{(n + k) % (args.clients * 4)}", None))
        finally:
            server.stop()
    assert set(write_status) == {201}, set(write_status)
    assert set(read_status) == {200}, set(read_status)
    report(f"single fact over HTTP ({args.clients} clients, "
           f"{args.server_processes} server process(es))",
           f"{writes:,.0f} req/s, p50 {statistics.median(write_ms):.1f} ms, "
           f"p99 {percentile(write_ms, 0.99):.1f} ms",
           f"{rate:,.0f} events/s library single save", f"{writes / rate:.0%}", ">= 60 %")
    report(f"account summary over HTTP ({args.clients} clients)",
           f"{reads:,.0f} req/s, p50 {statistics.median(read_ms):.1f} ms, "
           f"p99 {percentile(read_ms, 0.99):.1f} ms", "—", "—", "—")

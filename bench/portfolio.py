"""A synthetic portfolio, written straight through the domain, many accounts per save.

Customer sizes are skewed (Pareto), so a few customers hold many invoices. Invoices
are issued over the past year on 30-day terms. A share of the customers (``overdue``)
leave some invoices unpaid past their due date, with now and then a promise to pay or
a dispute; the others pay what has fallen due, often late and sometimes in two parts,
and owe only what is not yet due.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from huikuan.core.account import Account
from huikuan.core.ledger import Ledger

TODAY = date(2026, 11, 23)
COLLECTORS = [f"collector-{n}" for n in range(20)]


def sizes(accounts: int, invoices: int, seed: int = 1) -> list[int]:
    rng = random.Random(seed)  # noqa: S311 (synthetic data)
    weights = [rng.paretovariate(1.2) for _ in range(accounts)]
    scale = invoices / sum(weights)
    return [max(1, round(w * scale)) for w in weights]


def accounts(count: int, invoices: int, overdue: float = 0.1,
             seed: int = 1) -> Iterator[Account]:
    """The portfolio's accounts, each with its events pending, one at a time."""
    rng = random.Random(seed + 1)  # noqa: S311 (synthetic data)
    for n, size in enumerate(sizes(count, invoices, seed)):
        late_payer = rng.random() < overdue
        account = Account.register(
            customer_id=f"B-{n:07d}", name=f"Customer {n}", currency="CNY",
            registered_on=TODAY - timedelta(days=400), collector=COLLECTORS[n % 20],
            credit_limit=Decimal(100000))
        for k in range(size):
            issued = TODAY - timedelta(days=rng.randint(0, 365))
            due = issued + timedelta(days=30)
            amount = Decimal(rng.randint(10000, 5000000)).scaleb(-2)
            account.issue_invoice(invoice_id=f"I-{k}", amount=amount, currency="CNY",
                                  issued_on=issued)
            unpaid = due >= TODAY or (late_payer and rng.random() < 0.3)
            if unpaid:
                if due < TODAY and rng.random() < 0.1:
                    account.raise_dispute(dispute_id=f"D-{k}", invoice_id=f"I-{k}",
                                          amount=(amount / 4).quantize(Decimal("0.01")),
                                          raised_on=min(TODAY, due + timedelta(days=5)))
                continue
            paid_on = min(TODAY, due + timedelta(days=rng.randint(-20, 40)))
            if rng.random() < 0.2:  # in two parts
                half = (amount / 2).quantize(Decimal("0.01"))
                account.receive_payment(payment_id=f"P-{k}a", amount=half, currency="CNY",
                                        received_on=max(issued, paid_on - timedelta(days=10)),
                                        allocations=[{"invoice_id": f"I-{k}", "amount": half}])
                amount -= half
            account.receive_payment(payment_id=f"P-{k}", amount=amount, currency="CNY",
                                    received_on=max(issued, paid_on),
                                    allocations=[{"invoice_id": f"I-{k}", "amount": amount}])
        if late_payer and account.outstanding > 0 and rng.random() < 0.3:
            account.make_promise(promise_id="PR-1",
                                 amount=min(Decimal("1000.00"), account.outstanding),
                                 made_on=TODAY - timedelta(days=3),
                                 due_on=TODAY + timedelta(days=rng.randint(-2, 10)),
                                 written=rng.random() < 0.5)
        yield account


def generate(ledger: Ledger, count: int, invoices: int, overdue: float = 0.1,
             seed: int = 1) -> int:
    """Write the portfolio, 200 accounts per save; returns the number of events."""
    batch: list[Account] = []
    events = 0
    for account in accounts(count, invoices, overdue, seed):
        events += len(account.pending_events)
        batch.append(account)
        if len(batch) >= 200:
            ledger.save(*batch)
            batch = []
    if batch:
        ledger.save(*batch)
    return events

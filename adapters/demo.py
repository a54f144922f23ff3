"""A realistic demo portfolio: a few hundred customers and a year of trade.

Deterministic for a given seed and date, so the README's tour shows the same numbers
to everyone who runs it on the same day. Customers differ in size (a few large
accounts, many small ones) and in habit: prompt payers, slow payers, partial payers,
and a few who stop paying. Some invoices are disputed, some credited, some promised;
collectors have logged their calls.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from huikuan.core.account import Account
from huikuan.core.commands import (
    Command,
    ConfirmDelivery,
    IssueCreditNote,
    IssueInvoice,
    LogContact,
    MakePromise,
    RaiseDispute,
    ReceivePayment,
    RegisterCustomer,
    ReportRiskSignal,
)
from huikuan.core.errors import DomainError
from huikuan.core.handlers import handle
from huikuan.core.ledger import Ledger

CITIES = "上海 深圳 广州 杭州 苏州 宁波 东莞 佛山 天津 成都 武汉 青岛".split()
TRADES = "机电 建材 电子 化工 纺织 食品 医药 五金 塑胶 包装 物流 汽配".split()
SUFFIXES = "有限公司 贸易有限公司 实业有限公司 股份有限公司 科技有限公司".split()
COLLECTORS = ["li.wei", "zhang.min", "wang.fang", "chen.jie", "liu.yang"]
HABITS = ["prompt"] * 5 + ["slow"] * 3 + ["partial"] * 2 + ["stopped"]


@dataclass
class DemoSummary:
    customers: int
    recorded: int
    events: int


def _cents(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)).scaleb(-2)


def portfolio(
    today: date, customers: int = 300, seed: int = 7
) -> Iterator[tuple[RegisterCustomer, list[Command]]]:
    """Yield each demo customer's registration and its commands in business order."""
    rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
    start = today - timedelta(days=365)
    for n in range(1, customers + 1):
        customer_id = f"DEMO-{n:04d}"
        currency = "USD" if rng.random() < 0.1 else "CNY"
        terms = rng.choice([30, 30, 45, 60, 90])
        size = max(1, min(40, int(rng.paretovariate(1.3) * 3)))
        habit = rng.choice(HABITS)
        registration = RegisterCustomer(
            customer_id=customer_id,
            name="".join(rng.choice(part) for part in (CITIES, CITIES, TRADES, SUFFIXES)),
            currency=currency,
            payment_terms_days=terms,
            credit_limit=_cents(rng, 50, 500) * 1000,
            credit_grade=rng.choice("AABBBCCDE"),
            collector=COLLECTORS[n % len(COLLECTORS)],
            registered_on=start,
            contacts=[{"name": "财务部", "role": "accounts payable",
                       "email": f"ap{n:04d}@demo.example", "phone": f"+86 21 5550 {n:04d}"}],
            language="en" if currency == "USD" else "zh-CN",
        )
        dated: list[tuple[date, int, Command]] = []

        def add(
            when: date, command: Command, dated: list[tuple[date, int, Command]] = dated
        ) -> None:
            if when <= today:
                dated.append((when, len(dated), command))

        for k in range(size):
            issued = start + timedelta(days=rng.randint(0, 364))
            amount = _cents(rng, 800, 60000) if currency == "CNY" else _cents(rng, 100, 9000)
            invoice_id = f"{customer_id}-INV-{k + 1:03d}"
            due = issued + timedelta(days=terms)
            add(issued, IssueInvoice(invoice_id=invoice_id, amount=amount, currency=currency,
                                     issued_on=issued, contract_ref=f"HT-{n:04d}"))
            if rng.random() < 0.8:
                add(issued + timedelta(days=rng.randint(1, 5)),
                    ConfirmDelivery(invoice_id=invoice_id,
                                    delivered_on=issued + timedelta(days=rng.randint(1, 5)),
                                    receipt_ref=f"QS-{n:04d}-{k + 1:03d}"))
            if rng.random() < 0.05:
                disputed = (amount * Decimal(rng.choice(["0.1", "0.2", "0.5"]))).quantize(
                    Decimal("0.01"))
                add(issued + timedelta(days=rng.randint(5, 40)),
                    RaiseDispute(dispute_id=f"{invoice_id}-D", invoice_id=invoice_id,
                                 amount=disputed, raised_on=issued + timedelta(days=40),
                                 reason="货物短少/质量异议"))
            if rng.random() < 0.04:
                add(issued + timedelta(days=10),
                    IssueCreditNote(credit_note_id=f"{invoice_id}-CN", invoice_id=invoice_id,
                                    amount=(amount * Decimal("0.05")).quantize(Decimal("0.01")),
                                    issued_on=issued + timedelta(days=10), reason="折让"))
            late = {"prompt": (-5, 5), "slow": (15, 90), "partial": (0, 60),
                    "stopped": (30, 400)}[habit]
            paid_on = due + timedelta(days=rng.randint(*late))
            share = Decimal("1") if habit in ("prompt", "slow") else Decimal(
                rng.choice(["0.3", "0.5", "0.8", "1"]))
            if habit == "stopped" and issued > today - timedelta(days=200):
                share = Decimal("0")
            if share > 0:
                add(paid_on, ReceivePayment(
                    payment_id=f"{invoice_id}-PAY", amount=(amount * share).quantize(
                        Decimal("0.01")), currency=currency, received_on=paid_on,
                    method=rng.choice(["bank_transfer", "acceptance_bill", "cheque"])))
            if due < today and habit != "prompt" and rng.random() < 0.6:
                called = due + timedelta(days=rng.randint(1, 20))
                add(called, LogContact(
                    occurred_at=datetime.combine(called, time(rng.randint(6, 9), 30), UTC),
                    channel=rng.choice(["phone", "phone", "wechat", "email", "visit"]),
                    direction="outbound", collector=registration.collector,
                    outcome=rng.choice(["reached", "no_answer", "promised", "no_answer"]),
                    contact_id=f"{invoice_id}-CALL"))
        if habit in ("slow", "partial") and rng.random() < 0.5:
            made = today - timedelta(days=rng.randint(3, 30))
            add(made, MakePromise(promise_id=f"{customer_id}-PR", amount=_cents(rng, 500, 5000),
                                  made_on=made, due_on=made + timedelta(days=rng.randint(7, 15)),
                                  written=rng.random() < 0.5))
        if habit == "stopped" and rng.random() < 0.5:
            add(today - timedelta(days=rng.randint(1, 60)), ReportRiskSignal(
                signal=rng.choice(["finance_avoiding", "lawsuit", "office_downgrade"]),
                observed_on=today - timedelta(days=rng.randint(1, 60))))
        dated.sort(key=lambda item: (item[0], item[1]))
        yield registration, [command for _, _, command in dated]


def load_demo(
    ledger: Ledger,
    today: date,
    customers: int = 300,
    progress: Callable[[int], None] | None = None,
) -> DemoSummary:
    """Load the demo portfolio; loading it again records nothing new."""
    summary = DemoSummary(customers=0, recorded=0, events=0)
    for registration, commands in portfolio(today, customers):
        ledger.register_customer(registration)

        def apply_all(account: Account, commands: list[Command] = commands) -> bool:
            recorded = False
            for command in commands:
                try:
                    recorded = handle(account, command) or recorded
                except DomainError:
                    # The generator is approximate (a promise beyond what is owed…):
                    # a command the account refuses is simply left out of the demo.
                    continue
            return recorded

        outcome = ledger.change(registration.customer_id, "demo", apply_all)
        summary.customers += 1
        summary.recorded += outcome.recorded
        summary.events = max(summary.events, 0) + outcome.account.version
        if progress:
            progress(1)
    return summary

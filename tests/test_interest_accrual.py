"""Late interest day by day through the daily cycle: the issue's case to the cent, and any
invoice, payments, rates and cycle dates against a day-by-day reference written here."""

import tempfile
import uuid
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from huikuan.adapters.storage import ledger_env
from huikuan.core.account import Account, account_id
from huikuan.core.commands import ReceivePayment, RegisterCustomer
from huikuan.core.cycle import DailyCycle
from huikuan.core.interest import charges as charges_owed
from huikuan.core.ledger import Ledger
from huikuan.core.plugin import Settings
from huikuan.core.policy import PolicyHost
from tests.conftest import invoice

DUE = date(2026, 1, 31)  # I-1, issued 2026-01-01 on 30-day terms
CENT = Decimal("0.01")


def day(offset: int) -> date:
    return DUE + timedelta(days=offset)


def register(ledger: Ledger, amount: str) -> str:
    ledger.register_customer(RegisterCustomer(
        customer_id="C-1", name="华东贸易有限公司", currency="CNY",
        registered_on=date(2026, 1, 1),
        contacts=[{"name": "财务", "email": "ap@acme.example"}]))
    ledger.execute("C-1", invoice("I-1", amount, date(2026, 1, 1)))
    return "C-1"


def cycle(ledger: Ledger, interest: dict[str, object], env: dict[str, str]) -> DailyCycle:
    host = PolicyHost(Settings(sections={"interest": {"enabled": True, **interest}}, env=env),
                      load_entry_points=False)
    return DailyCycle(ledger, host)


def charges(ledger: Ledger, customer_id: str) -> list[Decimal]:
    return [e.amount for e in ledger.events.get(account_id(customer_id))
            if isinstance(e, Account.InterestCharged)]


def test_cycles_nine_days_apart_around_a_part_payment_charge_what_accrued_day_by_day(
        ledger, settings_env):
    acme = register(ledger, "12345.67")
    run = cycle(ledger, {"annual_rate": "0.0435"}, settings_env).run
    run(day(9))
    ledger.execute(acme, ReceivePayment(payment_id="P-1", amount="5000.00", currency="CNY",
                                        received_on=day(12)))
    run(day(18))
    # By hand, day by day at 4.35 % a year, actual/365:
    #   1–11 Feb (11 days) 12,345.67 open: 11 × 12,345.67 × 0.0435 / 365 = 16.1849…
    #   12–18 Feb (7 days)  7,345.67 open (paid on the 12th, that day already lower):
    #                                       7 × 7,345.67 × 0.0435 / 365 =  6.1279…
    #   accrued through 18 Feb: 22.3128 → 22.31
    # The cycle of 9 Feb charged 9 × 12,345.67 × 0.0435 / 365 = 13.2420 → 13.24, so the
    # cycle of 18 Feb charges 22.31 − 13.24 = 9.07. (Charging what is open on the day of
    # the cycle for the days since the last one gave 13.24 + 7.88 = 21.12.)
    assert charges(ledger, acme) == [Decimal("13.24"), Decimal("9.07")]
    assert ledger.account(acme).invoices["I-1"].interest == Decimal("22.31")


def test_a_daily_cycle_charges_in_total_what_one_cycle_at_the_end_charges(ledger, settings_env):
    acme = register(ledger, "12345.67")
    run = cycle(ledger, {"annual_rate": "0.0435"}, settings_env).run
    for offset in range(1, 19):
        if offset == 12:
            ledger.execute(acme, ReceivePayment(payment_id="P-1", amount="5000.00",
                                                currency="CNY", received_on=day(12)))
        run(day(offset))
    assert len(charges(ledger, acme)) == 18
    assert sum(charges(ledger, acme)) == Decimal("22.31")


# -- any invoice, payments, rates and cycle dates ---------------------------------------

def reference(amount: Decimal, payments: list[tuple[int, Decimal]],
              rates: list[tuple[int, Decimal]], through: int) -> Decimal:
    """Interest through ``day(through)``, adding day by day, rounded once at the end."""
    total = Decimal(0)
    for n in range(1, through + 1):
        paid = sum((a for on, a in payments if on <= n), Decimal(0))
        principal = max(amount - paid, Decimal(0))
        in_force = [r for start, r in sorted(rates) if start <= n]
        rate = in_force[-1] if in_force else Decimal(0)
        total += principal * rate / 365
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


cents = st.integers(1, 5_000_000).map(lambda c: Decimal(c).scaleb(-2))
percent = st.integers(0, 2400).map(lambda bp: Decimal(bp).scaleb(-4))  # 0–24 % a year


@settings(max_examples=50, deadline=None)
@given(amount=cents,
       payments=st.lists(st.tuples(st.integers(-5, 60), cents), max_size=4),
       rates=st.lists(st.tuples(st.integers(-10, 60), percent), min_size=1, max_size=3,
                      unique_by=lambda r: r[0]),
       cycle_days=st.lists(st.integers(-3, 70), min_size=1, max_size=5, unique=True))
def test_recorded_interest_is_what_accrued_day_by_day(amount, payments, rates, cycle_days):
    with tempfile.TemporaryDirectory() as folder:
        ledger = Ledger(env=ledger_env(f"sqlite:///{Path(folder) / 'events.sqlite3'}"))
        try:
            acme = register(ledger, str(amount))
            table = [{"from": day(start).isoformat(), "annual": str(rate)}
                     for start, rate in rates]
            run = cycle(ledger, {"rates": table}, {"HUIKUAN_LETTER_DIR": folder}).run
            # In the order of the days; a payment on a cycle's day is known to that cycle.
            timeline = sorted([(on, 0, a) for on, a in payments]
                              + [(on, 1, None) for on in cycle_days], key=lambda t: t[:2])
            known: list[tuple[int, Decimal]] = []
            for on, is_cycle, paid in timeline:
                if is_cycle:
                    run(day(on), allow_future=True)
                    expected = reference(amount, payments, rates, on)
                    assert ledger.account(acme).invoices["I-1"].interest == expected
                    # The customer view accrues from the recorded rates through any
                    # later day, with no cycle for it (the payments known so far).
                    later = on + 7
                    shown = charges_owed(ledger.account(acme), day(later))
                    assert shown["interest"] == reference(amount, known, rates, later)
                else:
                    known.append((on, paid))
                    ledger.execute(acme, ReceivePayment(
                        payment_id=f"P-{uuid.uuid4().hex[:8]}", amount=str(paid),
                        currency="CNY", received_on=day(on)))
        finally:
            ledger.close()

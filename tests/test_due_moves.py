"""Aging on any date from ``hk_due_moves`` equals summing every invoice's movements.

The table is kept by the projector as facts arrive, including when an invoice's key
changes after its money moved (a customer reassigned, a class schedule recorded); these
tests draw portfolios with payments dated back and forth, reassignments and cycles, and
compare the fast route with the route that folds the movements, on many dates.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huikuan.core.commands import ChangeCustomer, ReceivePayment, RegisterCustomer
from huikuan.core.cycle import DailyCycle
from huikuan.projections.views import snapshot_tables
from tests.conftest import invoice

START = date(2026, 1, 1)


def wired(ledger, policy):
    """The ledger and views as the bootstrap wires them (facts decided for at once)."""
    from huikuan.adapters.bootstrap import Huikuan

    return Huikuan(ledger, {}, host=policy).views


def invariant(views) -> None:
    """Each key's rows, summed over every day, are its row of today's ``hk_open_by_due``."""
    split = {(c, cur, k, d): int(v) for c, cur, k, d, v in views._q(
        "SELECT collector, currency, class, due_on, SUM(delta_minor) FROM hk_due_moves "
        "GROUP BY 1, 2, 3, 4 HAVING SUM(delta_minor) <> 0")}
    today = {(c, cur, k, d): int(v) for c, cur, k, d, v in views._q(
        "SELECT collector, currency, class, due_on, open_minor FROM hk_open_by_due")}
    assert split == today


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_aging_on_any_date_from_due_moves_equals_the_movements(ledger, policy, data):
    views = wired(ledger, policy)
    try:
        tag = uuid.uuid4().hex[:6]
        customers = [f"M{tag}-{n}" for n in range(data.draw(st.integers(1, 4), label="n"))]
        collectors = ["li.wei", "wang.fang", None]
        steps = []
        for customer_id in customers:
            steps.append(("register", customer_id))
            steps += [("invoice", customer_id)] * data.draw(st.integers(1, 4))
            steps += [("payment", customer_id)] * data.draw(st.integers(0, 3))
            steps += [("reassign", customer_id)] * data.draw(st.integers(0, 2))
        order = data.draw(st.permutations(range(len(steps))), label="order")
        registered: set[str] = set()
        cycle_on = None
        for n in [i for i in order if steps[i][0] == "register"] + \
                [i for i in order if steps[i][0] != "register"]:
            kind, customer_id = steps[n]
            if kind == "register":
                ledger.register_customer(RegisterCustomer(
                    customer_id=customer_id, name="x", currency="CNY",
                    collector=data.draw(st.sampled_from(collectors)), registered_on=START))
                registered.add(customer_id)
            elif kind == "invoice":
                issued = START + timedelta(days=data.draw(st.integers(0, 200)))
                ledger.execute(customer_id, invoice(
                    f"I-{n}", str(Decimal(data.draw(st.integers(100, 10**6))).scaleb(-2)),
                    issued, due_on=issued + timedelta(days=data.draw(st.integers(0, 60)))))
            elif kind == "payment":
                ledger.execute(customer_id, ReceivePayment(
                    payment_id=f"P-{n}", currency="CNY",
                    amount=Decimal(data.draw(st.integers(100, 10**6))).scaleb(-2),
                    received_on=START + timedelta(days=data.draw(st.integers(0, 260)))))
            else:
                ledger.execute(customer_id, ChangeCustomer(
                    collector=data.draw(st.sampled_from(collectors)),
                    effective_on=START + timedelta(days=data.draw(st.integers(0, 260)))))
            if cycle_on is None and data.draw(st.integers(0, 9)) == 0:
                cycle = DailyCycle(ledger, policy)
                # The store is the examples' own: a cycle never goes back a date.
                cycle_on = max(START + timedelta(days=data.draw(st.integers(30, 200))),
                               cycle.last_as_of() or START)
                cycle.run(cycle_on, allow_future=True)
        views.fresh()
        invariant(views)
        for _ in range(4):
            as_of = START + timedelta(days=data.draw(st.integers(-5, 400), label="as_of"))
            for group_by in ("collector", "currency", "class"):
                fast = views._aging(as_of, group_by, "due_moves")
                assert fast == views._aging(as_of, group_by, "movements"), (group_by, as_of)
                assert fast == views.aging(as_of, group_by)
        live = snapshot_tables(views.db, views.conn)["hk_due_moves"]
        views.projector.rebuild(batch_size=3)
        assert snapshot_tables(views.db, views.conn)["hk_due_moves"] == live
    finally:
        views.close()
        views.projector.close()

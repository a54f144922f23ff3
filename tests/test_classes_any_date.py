"""Classes on any date, write-offs in part, and money recovered after a write-off.

``GET /customers/{id}?as_of=D`` gives every invoice the class the policy's thresholds
(``[classes]``) give it on D, whether or not a cycle ran; ``GET /aging?group_by=class``
agrees. The classes plugin decides each invoice's schedule when the invoice is recorded
or its facts change (``ClassScheduled``), and the views read the class for any date off
it. Only an invoice written off in full is ``dead`` by the write-off; a payment on money
written off is a recovery (``RecoveryReceived``), shown in the customer view and the KPIs.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from huikuan.adapters.bootstrap import Huikuan
from huikuan.adapters.http import Services, create_app
from huikuan.core.access import issue_key
from huikuan.core.account import Account
from huikuan.core.commands import ReceivePayment, RegisterCustomer, WriteOff
from huikuan.core.cycle import DailyCycle
from huikuan.core.errors import DomainError
from tests.conftest import Store, invoice


@pytest.fixture
def hk(ledger, policy):
    huikuan = Huikuan(ledger, {}, host=policy)
    yield huikuan
    if "views" in huikuan.__dict__:
        huikuan.views.close()
        huikuan.projector.close()


@pytest.fixture
def http(hk):
    key = issue_key(hk.ledger, "admin")[1]
    with TestClient(create_app(Services(hk.ledger, hk.host, hk.views))) as client:
        client.headers["Authorization"] = f"Bearer {key}"

        def post(path: str, body: dict[str, object], status: int = 201) -> dict[str, object]:
            response = client.post(path, json=body)
            assert response.status_code == status, response.text
            answer: dict[str, object] = response.json()
            return answer

        client.post_ok = post  # type: ignore[attr-defined]
        client.post_ok("/v1/customers", {"customer_id": "C-1", "name": "华东贸易有限公司",
                                         "currency": "CNY", "collector": "li.wei"})
        yield client


def classes(http, as_of: str) -> dict[str, str]:
    summary = http.get("/v1/customers/C-1", params={"as_of": as_of}).json()
    return {i["invoice_id"]: i["class"] for i in summary["invoices"]}


def by_class(http, as_of: str) -> dict[str, str]:
    aging = http.get("/v1/aging", params={"as_of": as_of, "group_by": "class"}).json()
    return {row["key"]: row["total"] for row in aging["rows"]}


def test_a_never_cycled_invoice_516_days_past_due_is_dead(http):
    http.post_ok("/v1/customers/C-1/invoices", {"invoice_id": "I-1", "amount": "1000.00",
                                                "currency": "CNY", "issued_on": "2025-01-01"})
    # Due 2025-01-31; 2026-07-01 is 516 days past due. No cycle has ever run.
    summary = http.get("/v1/customers/C-1", params={"as_of": "2026-07-01"}).json()
    assert summary["invoices"][0]["days_overdue"] == 516
    assert (summary["class"], summary["invoices"][0]["class"]) == ("dead", "dead")
    assert by_class(http, "2026-07-01") == {"dead": "1000.00"}
    # Every other date too, by the thresholds of plugins.toml (1, 91, 181, 366).
    for as_of, expected in (("2025-01-31", "not_due"), ("2025-02-01", "in_collection"),
                            ("2025-05-01", "in_collection"), ("2025-05-02", "doubtful"),
                            ("2025-07-31", "bad"), ("2026-01-30", "bad"),
                            ("2026-01-31", "bad"), ("2026-02-01", "dead")):
        assert classes(http, as_of) == {"I-1": expected}, as_of
        assert by_class(http, as_of) == {expected: "1000.00"}, as_of
    # Today (no as_of): far past a year.
    assert http.get("/v1/customers/C-1").json()["invoices"][0]["class"] == "dead"
    assert by_class(http, date.today().isoformat()) == {"dead": "1000.00"}


def test_classes_follow_the_thresholds_whether_or_not_a_cycle_ran(http):
    http.post_ok("/v1/customers/C-1/invoices", {"invoice_id": "I-1", "amount": "1000.00",
                                                "currency": "CNY", "issued_on": "2026-01-01"})
    http.post_ok("/v1/cycle", {"as_of": "2026-02-10"}, status=200)  # 10 days: in collection
    # Long after the only cycle, before any other.
    assert classes(http, "2026-05-02") == {"I-1": "doubtful"}
    assert by_class(http, "2026-05-02") == {"doubtful": "1000.00"}
    # Before the cycle's date too.
    assert classes(http, "2026-01-15") == {"I-1": "not_due"}
    assert by_class(http, "2026-01-15") == {"not_due": "1000.00"}


def test_a_partial_write_off_keeps_the_class_of_what_is_still_open(http):
    http.post_ok("/v1/customers/C-1/invoices", {"invoice_id": "I-1", "amount": "1000.00",
                                                "currency": "CNY", "issued_on": "2026-01-01"})
    http.post_ok("/v1/customers/C-1/write-offs", {"invoice_id": "I-1", "amount": "300.00",
                                                  "written_off_on": "2026-03-01"})
    http.post_ok("/v1/cycle", {"as_of": "2026-03-10"}, status=200)
    # 43 days past due: in collection, the 700.00 still open.
    assert classes(http, "2026-03-15") == {"I-1": "in_collection"}
    assert by_class(http, "2026-03-15") == {"in_collection": "700.00"}
    summary = http.get("/v1/customers/C-1", params={"as_of": "2026-03-15"}).json()
    assert summary["invoices"][0]["written_off"] == "300.00"
    # The rest written off: dead from that day, and nothing left to age.
    http.post_ok("/v1/customers/C-1/write-offs", {"invoice_id": "I-1", "amount": "700.00",
                                                  "written_off_on": "2026-04-01"})
    assert classes(http, "2026-03-31") == {"I-1": "in_collection"}
    assert classes(http, "2026-04-01") == {"I-1": "dead"}
    assert classes(http, "2027-04-01") == {"I-1": "dead"}
    assert by_class(http, "2026-04-01") == {}


def test_a_paid_invoice_keeps_the_class_it_had_when_it_was_paid(http):
    http.post_ok("/v1/customers/C-1/invoices", {"invoice_id": "I-1", "amount": "1000.00",
                                                "currency": "CNY", "issued_on": "2026-01-01"})
    http.post_ok("/v1/customers/C-1/payments", {"payment_id": "P-1", "amount": "1000.00",
                                                "currency": "CNY", "received_on": "2026-05-15"})
    assert classes(http, "2026-05-14") == {"I-1": "doubtful"}
    assert classes(http, "2027-06-01") == {"I-1": "doubtful"}
    assert http.get("/v1/customers/C-1").json()["invoices"][0]["class"] == "doubtful"


def test_money_received_after_a_write_off_is_a_recovery(http, hk):
    http.post_ok("/v1/customers/C-1/invoices", {"invoice_id": "I-1", "amount": "1000.00",
                                                "currency": "CNY", "issued_on": "2026-01-01"})
    http.post_ok("/v1/customers/C-1/write-offs", {"invoice_id": "I-1", "amount": "1000.00",
                                                  "written_off_on": "2026-06-30"})
    # Named for the written-off invoice: a recovery, not a refusal.
    paid = http.post_ok("/v1/customers/C-1/payments", {
        "payment_id": "P-1", "amount": "400.00", "currency": "CNY", "received_on": "2026-08-01",
        "allocations": [{"invoice_id": "I-1", "amount": "400.00"}]})
    assert paid["applied"] == []
    assert paid["recovered"] == [{"invoice_id": "I-1", "amount": "400.00"}]
    assert paid["unapplied"] == "0.00"
    # Without allocations: what nothing open absorbs recovers written-off money first.
    paid = http.post_ok("/v1/customers/C-1/payments", {
        "payment_id": "P-2", "amount": "700.00", "currency": "CNY", "received_on": "2026-08-20"})
    assert paid["recovered"] == [{"invoice_id": "I-1", "amount": "600.00"}]
    assert paid["unapplied"] == "100.00"
    summary = http.get("/v1/customers/C-1").json()
    assert (summary["recovered"], summary["outstanding"], summary["unapplied_credit"]) == (
        "1000.00", "0.00", "100.00")
    assert summary["invoices"][0]["recovered"] == "1000.00"
    assert summary["invoices"][0]["class"] == "dead"
    assert http.get("/v1/customers/C-1", params={"as_of": "2026-08-10"}).json()[
        "recovered"] == "400.00"
    events = [e for e in hk.ledger.events.get(hk.ledger.account("C-1").id)
              if isinstance(e, Account.RecoveryReceived)]
    assert [(e.payment_id, e.invoice_id, e.amount, e.received_on) for e in events] == [
        ("P-1", "I-1", Decimal("400.00"), date(2026, 8, 1)),
        ("P-2", "I-1", Decimal("600.00"), date(2026, 8, 20))]
    # The KPIs of a period count what was recovered in it, per currency.
    kpis = http.get("/v1/kpis", params={"from": "2026-08-01", "to": "2026-08-10"}).json()
    [cny] = kpis["currencies"]
    assert (cny["recovered"], cny["figures"]["recovered"]) == ("400.00", "400.00")
    kpis = http.get("/v1/kpis", params={"from": "2026-08-01", "to": "2026-08-31"}).json()
    assert kpis["currencies"][0]["recovered"] == "1000.00"
    # A recovery that bounces is taken back.
    http.post_ok("/v1/customers/C-1/payments/P-1/bounce", {"bounced_on": "2026-09-01"})
    assert http.get("/v1/customers/C-1").json()["recovered"] == "600.00"
    kpis = http.get("/v1/kpis", params={"from": "2026-08-01", "to": "2026-09-30"}).json()
    assert kpis["currencies"][0]["recovered"] == "600.00"


def test_a_recovery_is_no_more_than_was_written_off_by_that_day(http):
    http.post_ok("/v1/customers/C-1/invoices", {"invoice_id": "I-1", "amount": "1000.00",
                                                "currency": "CNY", "issued_on": "2026-01-01"})
    http.post_ok("/v1/customers/C-1/write-offs", {"invoice_id": "I-1", "amount": "600.00",
                                                  "written_off_on": "2026-06-30"})
    # 400.00 open and 600.00 written off: 1000.00 at most, the open part first.
    paid = http.post_ok("/v1/customers/C-1/payments", {
        "payment_id": "P-1", "amount": "500.00", "currency": "CNY", "received_on": "2026-07-01",
        "allocations": [{"invoice_id": "I-1", "amount": "500.00"}]})
    assert paid["applied"] == [{"invoice_id": "I-1", "amount": "400.00"}]
    assert paid["recovered"] == [{"invoice_id": "I-1", "amount": "100.00"}]
    too_much = http.post("/v1/customers/C-1/payments", json={
        "payment_id": "P-2", "amount": "600.00", "currency": "CNY", "received_on": "2026-07-02",
        "allocations": [{"invoice_id": "I-1", "amount": "600.00"}]})
    assert too_much.status_code == 422
    assert too_much.json()["errors"][0]["field"] == "allocations[0].amount"
    # Before the write-off there was nothing written off to recover.
    early = http.post("/v1/customers/C-1/payments", json={
        "payment_id": "P-3", "amount": "10.00", "currency": "CNY", "received_on": "2026-06-29",
        "allocations": [{"invoice_id": "I-1", "amount": "10.00"}]})
    assert early.status_code == 422
    assert http.get("/v1/customers/C-1").json()["recovered"] == "100.00"


def test_thresholds_changed_apply_from_the_next_cycle_and_earlier_dates_keep_theirs(
        ledger, policy):
    from huikuan.core.plugin import Settings
    from huikuan.core.policy import PolicyHost

    hk = Huikuan(ledger, {}, host=policy)
    try:
        ledger.register_customer(RegisterCustomer(customer_id="C-1", name="x", currency="CNY"))
        ledger.execute("C-1", invoice("I-1", "1000.00", date(2026, 1, 1)))  # due 01-31
        DailyCycle(ledger, policy, hk.views).run(date(2026, 3, 1))
        sections = {**policy.settings.sections,
                    "classes": {**policy.settings.section("classes"), "doubtful_from": 31}}
        stricter = PolicyHost(Settings(sections=sections, env=policy.settings.env),
                              load_entry_points=False)
        DailyCycle(ledger, stricter, hk.views).run(date(2026, 3, 10))
        views = hk.views.fresh()

        def class_on(day: date) -> str:
            [line] = views.customer("C-1", day)["invoices"]
            by_aging = {r["key"] for r in views.aging(day, "class")["rows"]}
            assert by_aging == {line["class"]}, day
            return str(line["class"])

        # 33 days past due on 03-05: in collection then, as it was shown then.
        assert class_on(date(2026, 3, 5)) == "in_collection"
        # From the cycle under the new rule: doubtful from 31 days; bad from 181 as ever.
        assert class_on(date(2026, 3, 10)) == "doubtful"
        assert class_on(date(2026, 4, 15)) == "doubtful"
        assert class_on(date(2026, 7, 31)) == "bad"
        scheduled = [e for e in ledger.events.get(ledger.account("C-1").id)
                     if isinstance(e, Account.ClassScheduled)]
        assert [e.decided_on for e in scheduled] == [date(2026, 1, 1), date(2026, 3, 10)]
    finally:
        hk.views.close()
        hk.projector.close()


# ---- any invoices, any dates, cycles or none

THRESHOLDS = ((366, "dead"), (181, "bad"), (91, "doubtful"), (1, "in_collection"))
START = date(2025, 1, 1)


def by_thresholds(days_past_due: int) -> str:
    return next((name for from_day, name in THRESHOLDS if days_past_due >= from_day),
                "not_due")


def expected_class(amount: Decimal, due_on: date, moves: list[tuple[date, Decimal, str]],
                   as_of: date) -> str:
    """The class on ``as_of`` computed from the facts alone: the thresholds applied to the
    days past due while money is open; once nothing is open, the class of the day it was
    settled, dead if a write-off settled it."""
    def open_on(day: date) -> Decimal:
        return amount + sum((delta for on, delta, _ in moves if on <= day), Decimal(0))

    if open_on(as_of) > 0:
        return by_thresholds((as_of - due_on).days)
    settled = max(on for on, _, _ in moves if on <= as_of)
    write_offs = [on for on, _, kind in moves if kind == "write_off" and on <= as_of]
    if write_offs and open_on(max(write_offs)) == 0:
        return "dead"
    return by_thresholds((settled - due_on).days)


days = st.integers(0, 900).map(lambda n: START + timedelta(days=n))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_the_class_of_every_invoice_on_any_date_is_the_thresholds(store, policy, tmp_path,
                                                                  data):
    # A store of its own per example: cycles only go forward.
    folder = tmp_path / uuid.uuid4().hex
    folder.mkdir()
    fresh = Store(store.backend, folder)
    ledger = fresh.open()
    hk = Huikuan(ledger, {}, host=policy)
    try:
        ledger.register_customer(RegisterCustomer(customer_id="P-1", name="x",
                                                  currency="CNY"))
        invoices: dict[str, tuple[Decimal, date, list[tuple[date, Decimal, str]]]] = {}
        cycles = sorted(set(data.draw(st.lists(days, max_size=3), label="cycles")))
        facts = data.draw(st.lists(st.tuples(st.sampled_from(["invoice", "pay", "write_off"]),
                                             st.integers(0, 3), days,
                                             st.integers(1, 200)),
                                   min_size=1, max_size=10), label="facts")
        facts = [("invoice", 0, START, 50), *facts]
        run_after = data.draw(st.integers(0, len(facts)), label="cycles after fact")
        for n, (kind, k, on, share) in enumerate(facts):
            if n == run_after:
                for cycle_day in cycles:
                    DailyCycle(ledger, hk.host, hk.views).run(cycle_day, allow_future=True)
            invoice_id = f"I-{k}"
            if kind == "invoice":
                if invoice_id in invoices:
                    continue
                terms = share % 61
                amount = Decimal(min(share, 100) * 10)
                ledger.execute("P-1", invoice(invoice_id, str(amount), on,
                                              due_on=on + timedelta(days=terms)))
                invoices[invoice_id] = (amount, on + timedelta(days=terms), [])
                continue
            if invoice_id not in invoices:
                continue
            open_now = ledger.account("P-1").invoices[invoice_id].open_amount
            # Half of the payments and write-offs settle all that is open.
            part = (open_now * min(share, 100) / 100).quantize(Decimal("0.01"))
            if part <= 0:
                continue
            command = (ReceivePayment(payment_id=f"PAY-{n}", amount=part, currency="CNY",
                                      received_on=on,
                                      allocations=[{"invoice_id": invoice_id, "amount": part}])
                       if kind == "pay" else
                       WriteOff(invoice_id=invoice_id, amount=part, written_off_on=on))
            try:
                ledger.execute("P-1", command)
            except DomainError:
                continue  # before the invoice, beyond what was open then: not recorded
            invoices[invoice_id][2].append((on, -part, kind))
        if run_after == len(facts):
            for cycle_day in cycles:
                DailyCycle(ledger, hk.host, hk.views).run(cycle_day, allow_future=True)
        event("cycles run" if cycles else "no cycle")
        views = hk.views.fresh()
        for as_of in data.draw(st.lists(days, min_size=1, max_size=4), label="as_of"):
            summary = views.customer("P-1", as_of)
            expected_aging: dict[str, Decimal] = {}
            for line in summary["invoices"]:
                amount, due_on, moves = invoices[line["invoice_id"]]
                expected = expected_class(amount, due_on, moves, as_of)
                event(f"{expected}, {'open' if line['open_amount'] > 0 else 'settled'}")
                assert line["class"] == expected, (line, as_of)
                if line["open_amount"] > 0:
                    expected_aging[expected] = (expected_aging.get(expected, Decimal(0))
                                                + line["open_amount"])
            aging = views.aging(as_of, "class")
            assert {row["key"]: row["total"] for row in aging["rows"]} == expected_aging
    finally:
        hk.views.close()
        hk.projector.close()
        fresh.close()

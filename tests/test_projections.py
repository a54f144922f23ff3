"""Projections: identical live and rebuilt, exact as of any date, crash-safe, read-your-writes."""

import json
import subprocess
import sys
import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from huikuan.core.commands import (
    AcknowledgeDebt,
    AgreePaymentPlan,
    MakePromise,
    ReceivePayment,
    RegisterCustomer,
)
from huikuan.core.credit import credit_check
from huikuan.core.cycle import DailyCycle
from huikuan.core.outbox import Dispatcher
from huikuan.projections.views import Projector, snapshot_tables
from tests import portfolio
from tests.conftest import REPO, invoice


def tables(views):
    return snapshot_tables(views.db, views.conn)


def test_views_built_live_equal_views_rebuilt_from_scratch(store, ledger, policy, views):
    # Live: the views follow every single write, then two cycles and a dispatch.
    portfolio.build(ledger, step=views.fresh)
    for day in (date(2026, 3, 11), date(2026, 3, 20)):
        DailyCycle(ledger, policy).run(day)
        views.fresh()
    from datetime import UTC, datetime
    Dispatcher(ledger, policy).run_once(datetime(2026, 3, 20, 3, tzinfo=UTC))
    views.fresh()
    live = tables(views)
    assert live["hk_messages"] and live["hk_worklist"] and live["hk_class_changes"]
    # Rebuilt: all thrown away and folded again in one go.
    views.projector.rebuild()
    assert tables(views) == live
    # And with tiny batches, as a projector catching up after a pause would, or big ones.
    views.projector.rebuild(batch_size=3)
    assert tables(views) == live
    views.projector.rebuild(batch_size=5000)
    assert tables(views) == live


class WholeAccounts(Projector):
    """The oracle: rewrites every row of every account a batch touches, whatever the
    events say they changed."""

    def _write_accounts(self, cur, batch):
        for touched in batch.accounts.values():
            touched.invoices = touched.promises = touched.messages = None
        super()._write_accounts(cur, batch)


def test_rows_rewritten_only_where_events_say_equal_whole_accounts_rewritten(
        ledger, policy, views):
    # Live, one event at a time: only the rows each event says it changed (plus every
    # open invoice, whose limitation deadline a promise, plan or acknowledgment moves).
    portfolio.build(ledger, step=views.fresh)
    for command in (
        MakePromise(promise_id="PR-W", amount="100.00", made_on=date(2026, 3, 5),
                    due_on=date(2026, 3, 25), written=True),
        AgreePaymentPlan(plan_id="PL-1", agreed_on=date(2026, 3, 6), installments=[
            {"due_on": date(2026, 4, 30), "amount": "300.00"},
            {"due_on": date(2027, 6, 30), "amount": "300.00"}]),
        AcknowledgeDebt(acknowledged_on=date(2026, 3, 7), invoice_ids=["I-1"]),
    ):
        ledger.execute("C-1", command)
        views.fresh()
    for day in (date(2026, 3, 11), date(2026, 3, 20)):
        DailyCycle(ledger, policy).run(day)
        views.fresh()
    live = tables(views)
    assert any(row[-1] != "None" for row in live["hk_invoices"])  # deadlines were computed
    oracle = WholeAccounts(ledger)
    oracle.rebuild(batch_size=1)
    assert snapshot_tables(oracle.db, oracle._conn) == live
    oracle.close()


def test_aging_as_of_dates(ledger, views):
    portfolio.build(ledger)
    views.fresh()
    aging = views.aging(date(2026, 2, 28))
    rows = {(r["key"], r["currency"]): r for r in aging["rows"]}
    # C-1 on 02-28: I-1 (due 01-31) 600.00 is 28 days late; I-2 not yet due.
    assert rows[("C-1", "CNY")]["1-30"] == Decimal("600.00")
    assert rows[("C-1", "CNY")]["current"] == Decimal("2000.00")
    # C-2: 5000 bounced back, 300 credited: 4700.00, 120 days late on 02-28.
    assert rows[("C-2", "CNY")]["91-180"] == Decimal("4700.00")
    # C-3 in USD: I-1 paid from the payment, I-2 700 − 200 credit − 100 dispute credit.
    assert rows[("C-3", "USD")]["current"] == Decimal("400.00")
    assert aging["totals"] == [
        {"currency": "CNY", "current": Decimal("2000.00"), "1-30": Decimal("600.00"),
         "31-60": Decimal("0.00"), "61-90": Decimal("0.00"), "91-180": Decimal("4700.00"),
         "181-365": Decimal("0.00"), "365+": Decimal("0.00"), "total": Decimal("7300.00")},
        {"currency": "USD", "current": Decimal("400.00"), "1-30": Decimal("0.00"),
         "31-60": Decimal("0.00"), "61-90": Decimal("0.00"), "91-180": Decimal("0.00"),
         "181-365": Decimal("0.00"), "365+": Decimal("0.00"), "total": Decimal("400.00")},
    ]
    # Before anything was issued there is nothing to age.
    assert views.aging(date(2025, 9, 30))["rows"] == []
    by_collector = {(r["key"], r["currency"]): r["total"]
                    for r in views.aging(date(2026, 2, 28), "collector")["rows"]}
    assert by_collector == {("li.wei", "CNY"): Decimal("2600.00"),
                            ("li.wei", "USD"): Decimal("400.00"),
                            ("zhang.min", "CNY"): Decimal("4700.00")}


def test_aging_by_class_follows_the_recorded_classes(ledger, policy, views):
    portfolio.build(ledger)
    DailyCycle(ledger, policy).run(date(2026, 3, 20))
    views.fresh()
    by_class = {(r["key"], r["currency"]): r["total"]
                for r in views.aging(date(2026, 3, 20), "class")["rows"]}
    # C-2's invoice was written off in part: what is open keeps the class of its age
    # (140 days). C-1's invoices are 48 and 3 days late.
    assert by_class[("doubtful", "CNY")] == Decimal("4500.00")
    assert by_class[("in_collection", "CNY")] == Decimal("2600.00")
    # A bare ledger records no schedule with its facts: before the cycle ran nothing had
    # been classified (the cycle gave each open invoice its schedule from its date).
    before = {r["key"] for r in views.aging(date(2026, 3, 19), "class")["rows"]}
    assert before == {"not_due"}
    later = {(r["key"], r["currency"]): r["total"]
             for r in views.aging(date(2026, 5, 1), "class")["rows"]}
    assert later[("bad", "CNY")] == Decimal("4500.00")  # 182 days, no cycle since


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_aging_equals_the_open_amounts_of_each_account_as_of_any_date(ledger, views, data):
    # A random portfolio of invoices and payments over a year…
    tag = uuid.uuid4().hex[:8]  # each example writes customers of its own
    customers = [f"R{tag}-{n}" for n in range(data.draw(st.integers(1, 4), label="n"))]
    for customer_id in customers:
        ledger.register_customer(RegisterCustomer(customer_id=customer_id, name="x",
                                                  currency="CNY"))
        for k in range(data.draw(st.integers(1, 5))):
            issued = date(2026, 1, 1) + timedelta(days=data.draw(st.integers(0, 300)))
            ledger.execute(customer_id, invoice(
                f"I-{k}", str(Decimal(data.draw(st.integers(1, 10**6))).scaleb(-2)), issued,
                due_on=issued + timedelta(days=data.draw(st.integers(0, 90)))))
        for k in range(data.draw(st.integers(0, 4))):
            ledger.execute(customer_id, ReceivePayment(
                payment_id=f"P-{k}", currency="CNY",
                amount=Decimal(data.draw(st.integers(1, 10**6))).scaleb(-2),
                received_on=date(2026, 1, 1) + timedelta(days=data.draw(st.integers(0, 400)))))
    views.fresh()
    as_of = date(2026, 1, 1) + timedelta(days=data.draw(st.integers(-10, 500), label="as_of"))
    aging = views.aging(as_of)
    rows = {r["key"]: r for r in aging["rows"]}
    for customer_id in customers:
        # …computed independently: the account as of the date, bucketed by hand.
        account = ledger.account_as_of(customer_id, as_of)
        expected = dict.fromkeys(("current", "1-30", "31-60", "61-90", "91-180", "181-365",
                                  "365+"), Decimal(0))
        for inv in account.invoices.values():
            late = (as_of - inv.due_on).days
            bucket = ("current" if late <= 0 else "1-30" if late <= 30 else "31-60"
                      if late <= 60 else "61-90" if late <= 90 else "91-180" if late <= 180
                      else "181-365" if late <= 365 else "365+")
            expected[bucket] += inv.open_amount
        got = rows.get(customer_id)
        if account.outstanding == 0:
            assert got is None
            continue
        assert {b: got[b] for b in expected} == expected
        assert got["total"] == account.outstanding


def test_kpis_match_hand_computed_figures(ledger, views):
    # One CNY customer, January 2026 (31 days).
    ledger.register_customer(RegisterCustomer(customer_id="K-1", name="k", currency="CNY"))
    ledger.execute("K-1", invoice("I-0", "3000.00", date(2025, 12, 1)))    # due 12-31, before
    ledger.execute("K-1", invoice("I-1", "6000.00", date(2026, 1, 5)))     # due 02-04
    ledger.execute("K-1", invoice("I-2", "3000.00", date(2026, 1, 20)))    # due 02-19
    ledger.execute("K-1", ReceivePayment(payment_id="P-1", amount="2000.00", currency="CNY",
                                         received_on=date(2026, 1, 15)))   # pays I-0 in part
    views.fresh()
    [cny] = views.kpis(date(2026, 1, 1), date(2026, 1, 31))["currencies"]
    # AR(from) = 3000, credit sales = 9000, AR(to) = 1000 + 6000 + 3000 = 10000,
    # not yet due AR(to) = 9000 (I-1 and I-2).
    assert cny["figures"] == {"days": 31, "ar_from": Decimal("3000.00"),
                              "ar_to": Decimal("10000.00"), "credit_sales": Decimal("9000.00"),
                              "not_due_ar_to": Decimal("9000.00"), "promises_kept": 0,
                              "promises_broken": 0, "recovered": Decimal("0.00")}
    assert cny["dso"] == Decimal("34.44")                 # 10000 / 9000 × 31
    assert cny["best_possible_dso"] == Decimal("31.00")   # 9000 / 9000 × 31
    assert cny["add"] == Decimal("3.44")
    assert cny["cei"] == Decimal("66.67")                 # (3000+9000−10000)/(3000+9000−9000)
    assert cny["promise_kept_rate"] is None


def test_kpis_per_currency_and_promise_kept_rate(ledger, policy, views):
    portfolio.build(ledger)
    DailyCycle(ledger, policy).run(date(2026, 3, 11))  # PR-1 (due 03-10) unpaid: broken
    views.fresh()
    kpis = {k["currency"]: k for k in views.kpis(date(2026, 3, 1), date(2026, 3, 31))[
        "currencies"]}
    assert set(kpis) == {"CNY", "USD"}
    assert kpis["CNY"]["promise_kept_rate"] == Decimal("0.00")
    assert kpis["CNY"]["figures"]["promises_broken"] == 1


def test_reads_see_every_acknowledged_write(ledger, views):
    # Read-your-writes: no sleep, no polling; the read catches up first.
    ledger.register_customer(RegisterCustomer(customer_id="W-1", name="w", currency="CNY"))
    assert views.fresh().customer("W-1")["outstanding"] == Decimal("0.00")
    ledger.execute("W-1", invoice("I-1", "10.00", date(2026, 1, 1)))
    assert views.fresh().customer("W-1")["outstanding"] == Decimal("10.00")


def test_account_summary_now_and_as_of(ledger, views):
    portfolio.build(ledger)
    views.fresh()
    now = views.customer("C-1", today=date(2026, 3, 20))
    assert (now["outstanding"], now["overdue"], now["disputed"]) == (
        Decimal("2600.00"), Decimal("2600.00"), Decimal("500.00"))
    assert [(i["invoice_id"], i["days_overdue"]) for i in now["invoices"]] == [
        ("I-1", 48), ("I-2", 3)]
    past = views.customer("C-1", as_of=date(2026, 2, 28))
    assert (past["outstanding"], past["overdue"], past["disputed"]) == (
        Decimal("2600.00"), Decimal("600.00"), Decimal("0.00"))


def test_worklist_limitations_credit_check_messages_and_feed(ledger, policy, views):
    portfolio.build(ledger)
    DailyCycle(ledger, policy).run(date(2026, 3, 20))
    views.fresh()
    queue = views.worklist("li.wei")
    # Both of li.wei's customers owe overdue money; C-1 more, and for longer.
    assert [r["customer_id"] for r in queue] == ["C-1", "C-3"]
    assert queue[0]["overdue"] == Decimal("2100.00") and queue[0]["reasons"]
    assert [r["customer_id"] for r in views.worklist("zhang.min", date(2026, 3, 25))] == ["C-2"]
    # Limitation: C-2's invoice fell due 2025-10-31; restarted by nothing (the payment
    # bounced): three years on.
    ending = views.limitations(date(2028, 10, 1), 60)
    assert [(r["customer_id"], r["deadline"]) for r in ending] == [("C-2", date(2028, 10, 31))]
    check = credit_check(views, policy, "C-1", Decimal("48000"))
    assert check["allowed"] is False and check["exposure"] == Decimal("2600.00")
    assert credit_check(views, policy, "C-3", Decimal("100"))["allowed"] is True
    sent = views.messages(customer_id="C-1")
    # +48 days, 9 of them (2–10 March) under a promise that covered the 600.00 overdue:
    # 39 counted, the hold, with the warning letter of the step passed over.
    assert {m["kind"] for m in sent} == {"warning", "manager_review"}
    warning = next(m for m in sent if m["kind"] == "warning")
    assert "2100.00" in views.message(warning["message_id"])["body"]
    first = views.events(after=0, limit=5)
    assert [e["id"] for e in first["events"]] == sorted(e["id"] for e in first["events"])
    second = views.events(after=first["next"], limit=1000)
    assert second["events"][0]["id"] > first["next"]
    assert first["events"][0]["customer_id"] == "C-1"


def test_a_projector_killed_mid_batch_resumes_without_applying_an_event_twice(
    store, ledger, policy, views
):
    portfolio.build(ledger)
    DailyCycle(ledger, policy).run(date(2026, 3, 20))
    # A projector in its own process dies in the middle of its second batch.
    crashed = subprocess.run(
        [sys.executable, "-m", "tests.crash_projector", store.url, "8", "12"],
        cwd=REPO, capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 3, crashed.stderr
    assert views.projector.position() == 8  # the first batch committed, the second did not
    views.fresh()
    resumed = tables(views)
    views.projector.rebuild()
    assert tables(views) == resumed


@pytest.mark.parametrize("group_by", ["customer", "collector", "currency", "class"])
def test_aging_totals_do_not_depend_on_grouping(ledger, views, group_by):
    portfolio.build(ledger)
    views.fresh()
    totals = views.aging(date(2026, 3, 1), group_by)["totals"]
    assert json.dumps(totals, default=str) == json.dumps(
        views.aging(date(2026, 3, 1))["totals"], default=str)


def test_a_follower_applies_new_events_as_they_are_recorded(ledger, policy):
    import threading

    from huikuan.projections.views import Projector

    applied = threading.Condition()
    seen: list[int] = []

    def on_event(position: int) -> None:
        with applied:
            seen.append(position)
            applied.notify_all()

    projector = Projector(ledger, on_event=on_event)
    stop = threading.Event()
    follower = threading.Thread(target=projector.follow, args=(stop,))
    follower.start()
    try:
        recordings = ledger.register_customer(
            RegisterCustomer(customer_id="F-1", name="f", currency="CNY"))
        position = ledger.recorder.max_notification_id()
        with applied:
            assert applied.wait_for(lambda: position in seen, timeout=30)
        assert recordings.recorded
    finally:
        projector.stop_following(stop)
        follower.join(timeout=30)
    assert not follower.is_alive()


def test_the_three_routes_to_aging_agree(ledger, policy, views):
    # The bench's portfolio (skewed sizes, part payments, disputes, promises), one cycle.
    from bench.portfolio import TODAY, generate

    generate(ledger, 40, 400, overdue=0.3, seed=11)
    DailyCycle(ledger, policy).run(TODAY, allow_future=True)
    views.fresh()
    later = TODAY + timedelta(days=1)
    for as_of in (later, later + timedelta(days=40), later + timedelta(days=400)):
        for group_by in ("collector", "currency", "class"):
            routes = {path: views._aging(as_of, group_by, path)
                      for path in ("summary", "invoices", "movements", "due_moves")}
            assert routes["summary"]["rows"], group_by
            assert routes["summary"] == routes["invoices"] == routes["movements"], group_by
            assert routes["due_moves"] == routes["movements"], group_by
    # And the summary is kept as a rebuild from scratch would make it.
    live = tables(views)["hk_open_by_due"]
    views.projector.rebuild(batch_size=7)
    assert tables(views)["hk_open_by_due"] == live


def test_the_worklist_for_another_date_is_the_plugins_answer_for_that_date(
        ledger, policy, views):
    from huikuan.core.policy import view_of
    from huikuan.core.worklist import worklist

    portfolio.build(ledger)
    DailyCycle(ledger, policy).run(date(2026, 3, 20))
    views.fresh()
    today = date(2026, 3, 20)
    # The last cycle's date: the queue the cycle recorded, whatever the plugins say now.
    assert worklist(views, policy, "li.wei", None, None, today) == views.worklist("li.wei")
    # Another date: the priority plugin asked for that date, over the accounts with money
    # open, with their overdue on that date (nothing recorded).
    later = date(2026, 5, 1)
    queue = worklist(views, policy, "li.wei", later, None, today)
    assert [r["customer_id"] for r in queue] == ["C-1", "C-3"]
    for row in queue:
        view = view_of(ledger.account(row["customer_id"]))
        asked = policy.decide("huikuan_worklist_priority", account=view, as_of=later)
        assert (row["priority"], row["reasons"]) == (asked.score, list(asked.reasons))
        assert row["overdue"] == view.undisputed_overdue(later)
    recorded = {r["customer_id"]: r["priority"] for r in views.worklist("li.wei")}
    assert {r["customer_id"]: r["priority"] for r in queue} != recorded  # later, more urgent
    assert worklist(views, policy, "li.wei", later, 1, today) == queue[:1]


def test_before_any_cycle_the_plugins_queue_is_asked_again_only_for_accounts_that_changed(
        ledger, policy, views):
    from huikuan.core.worklist import rank, worklist

    portfolio.build(ledger)
    views.fresh()
    today = date(2026, 3, 20)
    loaded: list[str] = []
    load = views.accounts_by_id

    def counted(ids):
        for account in load(ids):
            loaded.append(account.customer_id)
            yield account

    views.accounts_by_id = counted  # type: ignore[method-assign]
    first = worklist(views, policy, None, None, None, today)
    assert first == rank(views.accounts_with_open_money(None), policy, today)
    assert first and len(loaded) == len({r["customer_id"] for r in first})
    # The same look again asks nothing: no account changed.
    loaded.clear()
    assert worklist(views, policy, None, None, None, today) == first
    assert worklist(views, policy, "li.wei", None, 1, today) == \
        rank(views.accounts_with_open_money("li.wei"), policy, today, 1)
    assert loaded == []
    # A payment changes one account: only it is asked again, and the queue follows it.
    paid = first[0]["customer_id"]
    account = ledger.account(paid)
    ledger.execute(paid, ReceivePayment(payment_id="P-asked", currency=account.currency,
                                        amount=account.outstanding / 2, received_on=today))
    views.fresh()
    again = worklist(views, policy, None, None, None, today)
    assert loaded == [paid]
    assert again == rank(views.accounts_with_open_money(None), policy, today)
    assert again != first
    # Paid up, it leaves the queue without being asked.
    loaded.clear()
    ledger.execute(paid, ReceivePayment(payment_id="P-rest", currency=account.currency,
                                        amount=ledger.account(paid).outstanding,
                                        received_on=today))
    views.fresh()
    assert paid not in {r["customer_id"] for r in worklist(views, policy, None, None, None,
                                                          today)}
    assert loaded == []
    # Another date is asked afresh.
    loaded.clear()
    later = worklist(views, policy, None, date(2026, 5, 1), None, today)
    assert later == rank(views.accounts_with_open_money(None), policy, date(2026, 5, 1))
    assert len(loaded) == len(views.open_account_versions(None))

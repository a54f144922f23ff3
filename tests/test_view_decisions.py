"""The views ask no plugin: deadlines and priorities are decided by the cycle and recorded,
so views folded again under another plugins.toml are the same, row for row."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from huikuan.adapters.settings import load_settings
from huikuan.core import decisions
from huikuan.core.commands import AcknowledgeDebt, AgreePaymentPlan, MakePromise
from huikuan.core.cycle import DailyCycle
from huikuan.core.outbox import Dispatcher
from huikuan.core.plugin import Settings
from huikuan.core.policy import PolicyHost, view_of
from huikuan.projections.views import snapshot_tables
from tests import portfolio
from tests.conftest import REPO
from tests.test_v1_store import FIXTURES

OTHER_POLICY = """
[huikuan]
plugins = ["commitments", "classes", "risk", "escalation", "templates", "compliance",
           "limitation", "email", "sms", "letters", "worklist"]   # no "priority"

[limitation]
years = 5
"""


def other_policy(tmp_path: Path, settings_env: dict[str, str]) -> tuple[Path, PolicyHost]:
    path = tmp_path / "other.toml"
    path.write_text(OTHER_POLICY, encoding="utf-8")
    return path, PolicyHost(load_settings(path, env=settings_env), load_entry_points=False)


def live_views(ledger, policy, views) -> dict[str, list[tuple[object, ...]]]:
    """The portfolio, a written promise, a plan and an acknowledgment, two cycles and a
    dispatch, the views following every write."""
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
    Dispatcher(ledger, policy).run_once(datetime(2026, 3, 20, 3, tzinfo=UTC))
    views.fresh()
    return snapshot_tables(views.db, views.conn)


def test_views_rebuilt_under_another_policy_are_the_same_row_for_row(
        store, ledger, policy, views, tmp_path, settings_env):
    live = live_views(ledger, policy, views)
    assert live["hk_worklist"] and all(row[-1] != "None" for row in live["hk_invoices"]
                                       if row[6] != "0")  # every open invoice has a deadline
    # The other policy would decide otherwise: five years, and nobody on the worklist.
    path, other = other_policy(tmp_path, settings_env)
    account = ledger.account("C-2")
    view = view_of(account)
    [invoice] = view.open_invoices()
    assert other.decide("huikuan_limitation_deadline", invoice=invoice, account=view) == date(
        2030, 10, 31)
    assert other.decide("huikuan_worklist_priority", account=view, as_of=date(2026, 3, 20)
                        ) is None
    # Rebuilt by the command line under it, in a process of its own: the same rows.
    done = subprocess.run(
        [sys.executable, "-m", "huikuan.adapters.cli", "projections", "rebuild"],
        env={**os.environ, **settings_env, "HUIKUAN_DATABASE_URL": store.url,
             "HUIKUAN_PLUGINS": str(path)},
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert snapshot_tables(views.db, views.conn) == live
    # And in this process, by a projector that has no plugins to ask.
    views.projector.rebuild(batch_size=7)
    assert snapshot_tables(views.db, views.conn) == live


def test_no_code_of_the_projections_can_reach_a_plugin():
    for path in (REPO / "projections").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for word in ("PolicyHost", "host.", "huikuan.plugins", "hookspecs"):
            assert word not in text, (path.name, word)


def test_the_cycle_records_deadlines_and_priorities_with_the_plugin_that_decided(
        ledger, policy, views):
    portfolio.build(ledger)
    DailyCycle(ledger, policy).run(date(2026, 3, 20))
    history = {e.type: e for e in ledger.history("C-2")}
    deadlines, priority = history["DeadlinesDecided"], history["PriorityDecided"]
    assert (deadlines.data["plugin"], deadlines.data["deadlines"]) == (
        "limitation", {"I-1": date(2028, 10, 31)})
    assert priority.data["plugin"] == "priority" and priority.data["priority"] > 0
    assert priority.data["decided_on"] == date(2026, 3, 20)
    assert priority.data["reasons"][0].endswith("CNY overdue")
    # The same date again: nothing new to record.
    version = ledger.account("C-2").version
    DailyCycle(ledger, policy).run(date(2026, 3, 20))
    assert ledger.account("C-2").version == version
    # A written promise restarts the limitation period: the next cycle records it.
    ledger.execute("C-2", MakePromise(promise_id="PR-9", amount="100.00", written=True,
                                      made_on=date(2026, 3, 21), due_on=date(2026, 4, 30)))
    DailyCycle(ledger, policy).run(date(2026, 3, 22))
    assert decisions.recorded_deadlines(ledger.account("C-2")) == {"I-1": date(2029, 3, 21)}
    ending = views.fresh().limitations(date(2029, 3, 1), 60)
    assert ("C-2", date(2029, 3, 21)) in [(r["customer_id"], r["deadline"]) for r in ending]


def test_accounts_not_yet_decided_for_read_as_version_1_did_until_the_cycle_decides(
        ledger, views, tmp_path, settings_env):
    portfolio.build(ledger)
    # No cycle has run: the deadlines are read from the facts with the rule as shipped.
    assert [(r["customer_id"], r["deadline"]) for r in views.fresh().limitations(
        date(2028, 10, 1), 60)] == [("C-2", date(2028, 10, 31))]
    # The first cycle, under a policy of five years, decides and records it.
    _, five_years = other_policy(tmp_path, settings_env)
    DailyCycle(ledger, five_years).run(date(2026, 3, 20))
    assert views.fresh().limitations(date(2028, 10, 1), 60) == []
    assert [(r["customer_id"], r["deadline"]) for r in views.limitations(
        date(2030, 10, 1), 60)] == [("C-2", date(2030, 10, 31))]
    # Nobody is ranked under it (no priority plugin): decided, so not read as version 1.
    assert views.worklist(None) == []
    assert views.worklist(None, date(2026, 4, 1)) == []


def test_the_reading_of_version_1_is_the_shipped_plugins_at_their_shipped_settings(ledger):
    from bench.portfolio import TODAY, generate

    shipped = PolicyHost(Settings(sections={}), load_entry_points=False)  # every default
    generate(ledger, 40, 400, overdue=0.3, seed=3)
    DailyCycle(ledger, shipped).run(TODAY, allow_future=True)  # stages, tasks, risk
    compared = 0
    for account_id in ledger.account_ids():
        view = view_of(ledger.get(account_id))
        for invoice in view.invoices:
            assert decisions.v1_deadline(invoice, view) == shipped.decide(
                "huikuan_limitation_deadline", invoice=invoice, account=view)
        for days in (-40, 0, 1, 5, 30, 400):
            as_of = TODAY + timedelta(days=days)
            found = shipped.decide("huikuan_worklist_priority", account=view, as_of=as_of)
            assert decisions.v1_priority(view, as_of).same_as(decisions.Priority(
                None, found.score, found.reasons, found.suggested_action))
            compared += 1
    assert compared == 40 * 6


def test_the_first_cycle_after_an_earlier_version_reviews_every_account(
        ledger, policy, views):
    from huikuan.core.cycle import CycleLog

    portfolio.build(ledger)
    # A cycle of the earlier version, signed with the plugins' fingerprint alone.
    cycle_log = CycleLog.start()
    cycle_log.trigger_event(CycleLog.CycleCompleted, as_of=date(2026, 3, 19), accounts=3,
                            counts={}, failures=0, policy=policy.fingerprint(),
                            reviewed_all=True)
    ledger.save(cycle_log)
    summary = DailyCycle(ledger, policy, views).run(date(2026, 3, 20))
    assert summary.reviewed_all and summary.accounts_reviewed == 3
    for customer_id in ("C-1", "C-2"):
        assert decisions.recorded_priority(ledger.account(customer_id)) is not None
    # Then only the accounts due, as before.
    assert not DailyCycle(ledger, policy, views).run(date(2026, 3, 21)).reviewed_all


@pytest.fixture
def v1_store(tmp_path, monkeypatch):
    """The store kept from version 1 (the first of those tests/test_v1_store.py keeps)."""
    path = tmp_path / "v1_store.sqlite3"
    with gzip.open(FIXTURES / "v1_store.sqlite3.gz") as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    env = {"HUIKUAN_DATABASE_URL": f"sqlite:///{path}",
           "HUIKUAN_PLUGINS": str(REPO / "plugins.toml"), "HUIKUAN_IN_PROCESS_WORKERS": "0"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def test_a_store_of_version_1_has_its_decisions_recorded_by_its_next_cycle(
        v1_store, policy):
    from huikuan.adapters.storage import open_ledger
    from huikuan.projections.queries import Views

    ledger = open_ledger(v1_store["HUIKUAN_DATABASE_URL"])
    views = Views(ledger).fresh()
    try:
        ending = views.limitations(date(2026, 11, 24), 3650)
        assert ending  # read from the facts as version 1 did
        summary = DailyCycle(ledger, policy, views).run(date(2026, 11, 25), allow_future=True)
        assert summary.reviewed_all and summary.accounts_reviewed == 40
        for account_id in ledger.account_ids():
            account = ledger.get(account_id)
            open_ids = {i.invoice_id for i in view_of(account).open_invoices()}
            assert open_ids <= set(decisions.recorded_deadlines(account))
        # The shipped limitation plugin decides as version 1 read: the same deadlines.
        assert views.fresh().limitations(date(2026, 11, 24), 3650) == ending
        live = snapshot_tables(views.db, views.conn)
        views.projector.rebuild()
        assert snapshot_tables(views.db, views.conn) == live
    finally:
        views.close()
        views.projector.close()
        ledger.close()


def test_the_decisions_have_stable_topics_and_read_back_from_the_store(ledger, policy):
    # Stored names: a change breaks every store that holds them (see test_storage).
    assert decisions.DeadlinesDecided.TOPIC == "huikuan:Account.DeadlinesDecided"
    assert decisions.PriorityDecided.TOPIC == "huikuan:Account.PriorityDecided"
    portfolio.build(ledger)
    DailyCycle(ledger, policy).run(date(2026, 3, 20))
    fresh = ledger.repository.get(ledger.account("C-1").id, deepcopy_from_cache=False)
    kinds = {type(e).__name__ for e in ledger.events.get(fresh.id)}
    assert {"DeadlinesDecided", "PriorityDecided"} <= kinds
    assert decisions.recorded_priority(fresh) == decisions.recorded_priority(
        ledger.account("C-1"))
    # And from a snapshot (the account's state is written as JSON there).
    ledger.take_snapshot(fresh.id)
    [snapshot] = ledger.snapshots.get(fresh.id)
    restored = snapshot.mutate(None)
    assert decisions.recorded_deadlines(restored) == decisions.recorded_deadlines(fresh)
    assert decisions.recorded_priority(restored) == decisions.recorded_priority(fresh)

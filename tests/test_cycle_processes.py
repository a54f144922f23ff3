"""A cycle shared between processes decides exactly what one process decides.

Two stores get the same portfolio (the bench's: skewed sizes, part payments, disputes,
promises, a share overdue); one is reviewed by this process alone, the other by three
processes, each opening the store and plugins.toml itself. Every view of the two,
row for row (but the positions in the log, which depend on who wrote first), and the
runs' summaries are the same; so are the next day's runs of the accounts due.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bench.portfolio import TODAY, generate
from huikuan.adapters.bootstrap import bootstrap
from huikuan.adapters.cycle_processes import ProcessHelpers, processes_from
from huikuan.projections.views import TABLES
from tests.conftest import REPO, Store


def views_without_positions(app) -> dict[str, list[tuple[str, ...]]]:
    db, conn = app.projector.db, app.views.conn
    found = {}
    for table in TABLES:
        if table == "hk_tracking":
            continue
        cursor = conn.execute(f"SELECT * FROM {table}")
        columns = [d[0] for d in cursor.description]
        keep = [n for n, c in enumerate(columns) if c != "position"]
        found[table] = sorted(tuple(str(row[n]) for n in keep) for row in cursor.fetchall())
    del db
    return found


def run_both(store: Store, other: Store) -> None:
    alone = bootstrap(env={}, plugins=REPO / "plugins.toml", database_url=store.url)
    shared = bootstrap(env={}, plugins=REPO / "plugins.toml", database_url=other.url)
    try:
        for app in (alone, shared):
            generate(app.ledger, 60, 600, overdue=0.3, seed=5)
        alone.cycle.helpers = None
        helpers = shared.cycle.helpers
        assert isinstance(helpers, ProcessHelpers)
        helpers.processes, helpers.from_accounts = 3, 1
        for day in (TODAY, TODAY + timedelta(days=1), TODAY + timedelta(days=9)):
            one = alone.cycle.run(day, allow_future=True)
            three = shared.cycle.run(day, allow_future=True)
            assert one.accounts_reviewed > 0
            assert (one.accounts, one.accounts_reviewed, one.accounts_changed, one.counts,
                    one.failures) == (three.accounts, three.accounts_reviewed,
                                      three.accounts_changed, three.counts, three.failures)
            alone.views.fresh()
            shared.views.fresh()
            assert views_without_positions(alone) == views_without_positions(shared), day
    finally:
        alone.close()
        shared.close()


def test_three_processes_decide_what_one_decides(store, tmp_path):
    other = Store(store.backend, tmp_path / "other")
    (tmp_path / "other").mkdir()
    try:
        run_both(store, other)
    finally:
        other.close()


def test_the_number_of_processes_is_read_from_the_environment():
    assert processes_from({"HUIKUAN_CYCLE_PROCESSES": "3"}) == 3
    assert processes_from({"HUIKUAN_CYCLE_PROCESSES": "0"}) == 1
    assert 1 <= processes_from({}) <= 4
    with pytest.raises(ValueError, match="HUIKUAN_CYCLE_PROCESSES"):
        processes_from({"HUIKUAN_CYCLE_PROCESSES": "many"})


def test_a_helper_refuses_another_policy_and_stops_when_the_run_is_gone(store, monkeypatch):
    import os

    # A helper process configures its own logging; called here, in the suite's process,
    # it would fix every logger for the tests after it (structlog caches on first use).
    monkeypatch.setattr("huikuan.adapters.logging.configure_logging", lambda **_: None)

    from huikuan.adapters.cycle_processes import review_share
    from huikuan.core.commands import RegisterCustomer
    from huikuan.core.cycle import CycleRunning
    from huikuan.core.ledger import account_id

    ledger = store.open()
    ledger.register_customer(RegisterCustomer(customer_id="P-1", name="p", currency="CNY"))
    env, plugins = {"HUIKUAN_DATABASE_URL": store.url}, str(REPO / "plugins.toml")
    with bootstrap(env=env, plugins=plugins) as app:
        policy = app.cycle.fingerprint()
    ids = [str(account_id("P-1"))]
    # plugins.toml changed since the run's process read it: nothing is decided.
    with pytest.raises(CycleRunning, match=r"plugins\.toml changed"):
        review_share(env, plugins, TODAY.isoformat(), ids, False, "another", os.getppid())
    # The run's process is gone (its lock with it): the helper stops.
    with pytest.raises(CycleRunning, match="process is gone"):
        review_share(env, plugins, TODAY.isoformat(), ids, False, policy, -1)
    assert ledger.account("P-1").reviewed_on is None
    done = review_share(env, plugins, TODAY.isoformat(), ids, False, policy, os.getppid())
    assert done.accounts_reviewed == 1


def test_helpers_log_as_the_run_s_process_does(store, capfd, monkeypatch):
    """``huikuan cycle`` logs at WARNING: its helpers must not print a line per account."""
    import structlog

    from huikuan.adapters import logging as hk_logging

    saved = structlog.get_config()
    monkeypatch.setattr(hk_logging, "_configured", hk_logging._configured)
    monkeypatch.setattr(hk_logging, "_level", hk_logging._level)
    hk_logging.configure_logging(level="WARNING", force=True)
    app = bootstrap(env={}, plugins=REPO / "plugins.toml", database_url=store.url)
    try:
        generate(app.ledger, 6, 30, overdue=0.5, seed=2)
        helpers = app.cycle.helpers
        assert isinstance(helpers, ProcessHelpers)
        helpers.processes, helpers.from_accounts = 2, 1
        capfd.readouterr()
        assert app.cycle.run(TODAY, allow_future=True).accounts_reviewed == 6
        assert "command.recorded" not in capfd.readouterr().err
    finally:
        app.close()
        structlog.configure(**saved)

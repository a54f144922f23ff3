"""The cycle looks only at the accounts due for review, and decides exactly as it would
looking at every account every day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bench.portfolio import TODAY, generate
from huikuan.adapters.settings import load_settings
from huikuan.core.account import Account
from huikuan.core.commands import LogContact, ReceivePayment
from huikuan.core.cycle import DailyCycle
from huikuan.core.plugin import Settings, hookimpl
from huikuan.core.policy import PolicyHost
from huikuan.projections.queries import Views
from tests.conftest import REPO, Store

IGNORED = {"timestamp", "chain_hash", "originator_id", "originator_version"}


def policy(settings_env: dict[str, str], interest: bool = True, **extra: object) -> PolicyHost:
    shipped = load_settings(REPO / "plugins.toml", env=settings_env)
    # Interest on, so its daily accrual is scheduled too (but then every overdue
    # account is due every day, which would hide the other plugins' dates).
    sections = {**shipped.sections,
                "interest": {"enabled": interest, "annual_rate": "0.0365"}}
    return PolicyHost(Settings(sections=sections, env=shipped.env), load_entry_points=False,
                      **extra)  # type: ignore[arg-type]


def decisions(ledger) -> dict[str, list[tuple[str, dict[str, object]]]]:
    """Each account's decisions in order, leaving out the review bookkeeping."""
    result: dict[str, list[tuple[str, dict[str, object]]]] = {}
    for aggregate_id in ledger.account_ids():
        account = ledger.get(aggregate_id)
        result[account.customer_id] = [
            (type(e).__name__, {k: v for k, v in vars(e).items() if k not in IGNORED})
            for e in ledger.events.get(aggregate_id)
            if isinstance(e, Account.Decision) and not isinstance(e, Account.ReviewScheduled)
        ]
    return result


@pytest.mark.parametrize("interest", [True, False], ids=["interest", "no-interest"])
def test_reviewing_only_the_accounts_due_decides_as_reviewing_all_every_day(
        store, tmp_path, settings_env, interest):
    (tmp_path / "all").mkdir()
    other = Store(store.backend, tmp_path / "all")
    try:
        scheduled, everyday = store.open(), other.open()
        host = policy(settings_env, interest)
        views, others = Views(scheduled), Views(everyday)
        for ledger in (scheduled, everyday):
            generate(ledger, 30, 300, overdue=0.4, seed=5)
        reviewed = {"scheduled": 0, "everyday": 0}
        for n in range(80):
            as_of = TODAY + timedelta(days=1 + 3 * n)
            if n == 30:  # facts in between: a payment and a contact on a few accounts
                for ledger in (scheduled, everyday):
                    for customer in ("B-0000001", "B-0000007", "B-0000012"):
                        ledger.execute(customer, ReceivePayment(
                            payment_id=f"late-{n}", amount="100.00", currency="CNY",
                            received_on=as_of - timedelta(days=1)))
                    ledger.execute("B-0000003", LogContact(
                        occurred_at=f"{as_of - timedelta(days=1)}T02:00:00+00:00",
                        channel="phone", direction="outbound", outcome="no_answer"))
            summary = DailyCycle(scheduled, host, views).run(as_of, allow_future=True)
            reviewed["scheduled"] += summary.accounts_reviewed
            assert summary.accounts == 30
            summary = DailyCycle(everyday, host).run(as_of, allow_future=True)
            reviewed["everyday"] += summary.accounts_reviewed
            if n % 4 == 0:
                # The collectors' queues rank the same, though only the accounts reviewed
                # were ranked afresh (the priority plugin names its dates too).
                queue = views.fresh().worklist(None)
                assert queue == others.fresh().worklist(None), as_of
                assert queue or n == 0
        assert decisions(scheduled) == decisions(everyday)
        others.close()
        assert sum(len(d) for d in decisions(everyday).values()) > 100  # plenty happened
        # …while looking at fewer accounts (with interest accruing daily on what is
        # overdue, and 40 % of customers overdue, most are due most days here).
        assert reviewed["everyday"] == 30 * 80
        assert reviewed["scheduled"] < reviewed["everyday"] * (0.9 if interest else 0.5)
        views.close()
    finally:
        other.close()


def test_a_fact_a_plugin_without_dates_or_a_new_policy_makes_accounts_due(
        ledger, settings_env):
    host = policy(settings_env)
    views = Views(ledger)
    generate(ledger, 5, 20, overdue=0.0, seed=2)
    day = date(2026, 11, 24)
    assert DailyCycle(ledger, host, views).run(day, allow_future=True).accounts_reviewed == 5

    # Nothing falls due tomorrow for these accounts: none is looked at…
    due = [ledger.get(i) for i in views.accounts_due(day + timedelta(days=1))[0]]
    summary = DailyCycle(ledger, host, views).run(day + timedelta(days=1), allow_future=True)
    assert summary.accounts_reviewed == len(due) < 5
    # …unless a fact was recorded for one.
    ledger.execute("B-0000004", LogContact(occurred_at="2026-11-25T02:00:00+00:00",
                                           channel="phone", direction="outbound",
                                           outcome="reached"))
    assert views.accounts_due(day + timedelta(days=2))[0][0] == ledger.account("B-0000004").id

    # A plugin with cycle hooks that cannot name dates: every account, every day.
    class Stubborn:
        @hookimpl
        def huikuan_classify(self, invoice):
            return None

    stubborn = policy(settings_env, extra_plugins=[("stubborn", Stubborn())])
    assert stubborn.daily_reviewers() == ["stubborn"]
    assert DailyCycle(ledger, stubborn, views).run(
        day + timedelta(days=2), allow_future=True).accounts_reviewed == 5
    # A changed policy (the stubborn plugin gone again): every account once more.
    assert DailyCycle(ledger, host, views).run(
        day + timedelta(days=3), allow_future=True).accounts_reviewed == 5
    views.close()

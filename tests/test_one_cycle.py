"""One cycle at a time per store: a second cycle, for any date, from any process, is
refused while one runs (HTTP 409, CLI exit 4); a stage never goes backwards and no
message is queued twice for one step because two cycles crossed.

The other cycle is a real process (tests/hold_cycle.py) held in the middle of its run
until the test lets it go: no sleeping, the test acts exactly while it runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from huikuan.core.account import STAGES, Account, account_id
from huikuan.core.commands import RegisterCustomer
from huikuan.core.cycle import CycleRunning, DailyCycle
from tests.conftest import REPO, invoice

DUE = date(2026, 1, 31)  # I-1, issued 2026-01-01 on 30-day terms
NOTICE_DAY = DUE + timedelta(days=1)
WARNING_DAY = DUE + timedelta(days=15)  # the ladder's warning letter


@pytest.fixture
def acme(ledger):
    ledger.register_customer(RegisterCustomer(
        customer_id="C-1", name="华东贸易有限公司", currency="CNY", registered_on=date(2026, 1, 1),
        contacts=[{"name": "财务", "email": "ap@acme.example", "phone": "+86 21 5555 0101"}]))
    ledger.execute("C-1", invoice("I-1", "1000.00", date(2026, 1, 1)))
    return "C-1"


@pytest.fixture
def held_cycle(store, settings_env) -> Iterator[subprocess.Popen[str]]:
    """A cycle for the notice day running in another process, held mid-run."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.hold_cycle", store.url, json.dumps(settings_env),
         NOTICE_DAY.isoformat()],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    assert process.stdout is not None
    try:
        # Its own word that it is deciding: from here until released it holds the store.
        # (Its log lines come first, on the same stream.)
        seen = []
        for line in process.stdout:
            seen.append(line)
            if line.strip() == "holding":
                break
        else:
            pytest.fail("the held cycle did not start: " + "".join(seen)
                        + process.communicate()[1])
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def release(process: subprocess.Popen[str]) -> str:
    """Let the held cycle go on; its last word (``done``, or ``refused: …``)."""
    out, errors = process.communicate("go\n", timeout=120)
    assert process.returncode == 0, errors
    return out.strip().splitlines()[-1]


def stages_entered(ledger, customer_id="C-1"):
    return [e.stage for e in ledger.events.get(account_id(customer_id))
            if isinstance(e, Account.StageEntered)]


def warning_letters(ledger, customer_id="C-1"):
    return [e.message_id for e in ledger.events.get(account_id(customer_id))
            if isinstance(e, Account.MessageQueued) and e.channel == "letter"]


def test_a_later_cycle_over_http_is_refused_while_an_earlier_one_runs(
        store, ledger, acme, api, held_cycle):
    admin = api.as_role("admin")
    refused = api.post("/v1/cycle", json={"as_of": WARNING_DAY.isoformat()}, headers=admin)
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["type"].endswith("cycle-running")
    assert "another cycle is running" in problem["detail"]
    assert refused.headers["content-type"].startswith("application/problem+json")
    # Nothing was decided by the refused cycle.
    assert stages_entered(store.open()) == []

    assert release(held_cycle) == "done"
    assert stages_entered(store.open()) == ["notice"]
    # The cycles run one after the other: the warning letter once, the stage only rising.
    after = WARNING_DAY + timedelta(days=1)
    for as_of in (WARNING_DAY, after):
        ran = api.post("/v1/cycle", json={"as_of": as_of.isoformat(), "review_all": True},
                       headers=admin)
        assert ran.status_code == 200, ran.text
    fresh = store.open()
    stages = stages_entered(fresh)
    assert stages == sorted(stages, key=STAGES.index)
    assert fresh.account(acme).stage == "warning"
    assert len(warning_letters(fresh)) == 1


def test_the_command_line_cycle_is_refused_while_another_runs(store, acme, held_cycle,
                                                              settings_env):
    env = {**os.environ, **settings_env, "HUIKUAN_DATABASE_URL": store.url,
           "HUIKUAN_PLUGINS": str(REPO / "plugins.toml")}
    busy = subprocess.run(
        [sys.executable, "-m", "huikuan.adapters.cli", "cycle", "--as-of",
         WARNING_DAY.isoformat()], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=120)
    assert busy.returncode == 4, busy.stderr
    assert "another cycle is running" in busy.stderr
    assert release(held_cycle) == "done"
    # Once it has finished, the same command runs.
    ran = subprocess.run(
        [sys.executable, "-m", "huikuan.adapters.cli", "cycle", "--as-of",
         WARNING_DAY.isoformat()], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=120)
    assert ran.returncode == 0, ran.stderr
    fresh = store.open()
    assert stages_entered(fresh) == ["notice", "warning"]
    assert len(warning_letters(fresh)) == 1


def test_cycles_of_one_process_wait_their_turn_too(ledger, acme, policy):
    # Without a lock given, the cycle holds one for its process.
    cycle = DailyCycle(ledger, policy)
    with cycle.lock() as acquired:
        assert acquired
        with pytest.raises(CycleRunning):
            DailyCycle(ledger, policy).run(NOTICE_DAY)
    assert DailyCycle(ledger, policy).run(NOTICE_DAY).counts["stage:notice"] == 1


def test_a_cycle_for_an_earlier_date_never_sets_back_what_a_later_one_decided(
        ledger, acme, policy, monkeypatch):
    # A cycle for the warning day stopped before it could record its completion (the
    # process died): the cycle log still allows the notice day, but the account was
    # decided for a later date and stays where that put it.
    later = DailyCycle(ledger, policy)
    monkeypatch.setattr(later, "_record_completed", lambda summary: None)
    later.run(WARNING_DAY)
    assert ledger.account(acme).stage == "warning"
    DailyCycle(ledger, policy).run(NOTICE_DAY)
    assert ledger.account(acme).stage == "warning"
    assert stages_entered(ledger) == ["warning"]

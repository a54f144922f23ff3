"""One bootstrap: the command line, the HTTP API and the workers are built from the same
settings (HUIKUAN_DATABASE_URL, HUIKUAN_PLUGINS), and "today" is the company's date."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient
from typer.testing import CliRunner

from huikuan.adapters import cli
from huikuan.adapters.bootstrap import bootstrap
from huikuan.adapters.http import create_app
from huikuan.adapters.settings import SettingsError
from huikuan.adapters.storage import ConfigurationError
from huikuan.adapters.workers import Workers
from huikuan.core.access import issue_key
from huikuan.core.clock import company_today, today_in
from huikuan.core.commands import RegisterCustomer
from huikuan.core.policy import ALWAYS_ON, PluginError
from tests.conftest import REPO

REPO_PLUGINS = REPO / "plugins.toml"  # the company in Shanghai

# Just before midnight UTC, 1 April has begun in Shanghai (UTC+8) but not in Los Angeles.
LATE_ON_31_MARCH_UTC = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
LOS_ANGELES = """
[huikuan]
plugins = ["classes", "risk"]

[company]
timezone = "America/Los_Angeles"
"""


def plugins_toml(tmp_path: Path, text: str = LOS_ANGELES) -> Path:
    path = tmp_path / "plugins.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ---- the company's date


def test_today_is_the_date_where_the_company_is_not_where_the_server_is():
    assert today_in("UTC", LATE_ON_31_MARCH_UTC) == date(2026, 3, 31)
    assert today_in("Asia/Shanghai", LATE_ON_31_MARCH_UTC) == date(2026, 4, 1)
    # Without a [company] timezone the company is in Shanghai.
    assert company_today({}, LATE_ON_31_MARCH_UTC) == date(2026, 4, 1)
    london = {"company": {"timezone": "Europe/London"}}  # UTC+1 in summer time
    assert company_today(london, LATE_ON_31_MARCH_UTC) == date(2026, 4, 1)
    new_york = {"company": {"timezone": "America/New_York"}}
    assert company_today(new_york, LATE_ON_31_MARCH_UTC) == date(2026, 3, 31)


def test_the_bootstraps_today_follows_plugins_toml(store, tmp_path):
    with bootstrap(env={"HUIKUAN_DATABASE_URL": store.url}) as app:  # ./plugins.toml
        assert app.today(LATE_ON_31_MARCH_UTC) == date(2026, 4, 1)
    los_angeles = {"HUIKUAN_DATABASE_URL": store.url,
                   "HUIKUAN_PLUGINS": str(plugins_toml(tmp_path))}
    with bootstrap(env=los_angeles) as app:
        assert app.today(datetime(2026, 4, 1, 3, 0, tzinfo=UTC)) == date(2026, 3, 31)


# ---- the bootstrap


def test_the_bootstrap_builds_every_part_from_one_environment(store, tmp_path):
    env = {"HUIKUAN_DATABASE_URL": store.url, "HUIKUAN_PLUGINS": str(plugins_toml(tmp_path)),
           "HUIKUAN_LETTER_DIR": str(tmp_path / "letters")}
    with bootstrap(env=env) as app:
        app.ledger.register_customer(RegisterCustomer(customer_id="C-1", name="华东贸易",
                                                      currency="CNY"))
        assert store.open().has_customer("C-1")  # the store HUIKUAN_DATABASE_URL names
        # The plugins it enables, and the rules that were core's (they always run).
        assert sorted(app.host.versions) == sorted(["classes", "risk", *ALWAYS_ON])
        assert app.settings.section("company")["timezone"] == "America/Los_Angeles"
        assert app.host.settings.env["HUIKUAN_LETTER_DIR"] == env["HUIKUAN_LETTER_DIR"]
        # One ledger under every part, one policy under those that ask it (the views never do).
        for part in (app.projector, app.views, app.cycle, app.dispatcher):
            assert part.ledger is app.ledger
        for part in (app.cycle, app.dispatcher):
            assert part.host is app.host
        assert not hasattr(app.views, "host") and not hasattr(app.projector, "host")
        assert app.views.projector is app.projector and app.cycle.schedule is app.views
        assert app.views.fresh().customer("C-1")["customer_id"] == "C-1"


def test_arguments_override_the_environment(store, tmp_path):
    elsewhere = {"HUIKUAN_DATABASE_URL": "sqlite:///" + str(tmp_path / "other.sqlite3"),
                 "HUIKUAN_PLUGINS": str(tmp_path / "missing.toml")}
    with bootstrap(env=elsewhere, plugins=plugins_toml(tmp_path),
                   database_url=store.url) as app:
        app.ledger.register_customer(RegisterCustomer(customer_id="C-1", name="x",
                                                      currency="CNY"))
        assert store.open().has_customer("C-1")
        assert sorted(app.host.versions) == sorted(["classes", "risk", *ALWAYS_ON])


def test_a_bad_setting_is_reported_when_its_part_is_first_needed(tmp_path):
    with pytest.raises(ConfigurationError, match="HUIKUAN_DATABASE_URL"):
        bootstrap(env={"HUIKUAN_DATABASE_URL": "mysql://db/huikuan"})
    url = "sqlite:///" + str(tmp_path / "events.sqlite3")
    # A command that only reads the ledger works whatever plugins.toml says.
    with bootstrap(env={"HUIKUAN_DATABASE_URL": url,
                        "HUIKUAN_PLUGINS": str(tmp_path / "missing.toml")}) as app:
        assert list(app.ledger.account_ids()) == []
        with pytest.raises(SettingsError, match=r"missing\.toml"):
            app.host  # noqa: B018
    unknown = plugins_toml(tmp_path, '[huikuan]\nplugins = ["nope"]\n')
    with (bootstrap(env={"HUIKUAN_DATABASE_URL": url, "HUIKUAN_PLUGINS": str(unknown)}) as app,
          pytest.raises(PluginError, match="'nope'")):
        app.cycle  # noqa: B018 (the views ask no plugin; the cycle does)


# ---- its users


@pytest.fixture
def frozen_clock(monkeypatch):
    """The server's clock stands at 23:30 UTC on 31 March 2026."""

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[override]
            return LATE_ON_31_MARCH_UTC.astimezone(tz)

    monkeypatch.setattr("huikuan.core.clock.datetime", Clock)


def test_the_command_line_takes_its_store_plugins_and_today_from_the_bootstrap(
    store, tmp_path, frozen_clock, monkeypatch
):
    # In this process the suite's logging stays (the CLI would send it to the runner's stderr).
    monkeypatch.setattr("huikuan.adapters.logging._configured", True)
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("客户编号,客户名称,发票号,金额,币种,开票日期,到期日,已收金额\n"
                      "SH-01,上海五金有限公司,FP-001,100.00,CNY,2026-03-01,2026-05-01,40.00\n",
                      encoding="utf-8")
    run = CliRunner()
    env = {"HUIKUAN_DATABASE_URL": store.url, "HUIKUAN_PLUGINS": str(REPO_PLUGINS)}
    done = run.invoke(cli.app, ["import", str(ledger)], env=env)
    assert done.exit_code == 0, done.output
    # Not due yet, so paid by the import's date at the latest: the company's today
    # (Shanghai: 1 April), not the server's (31 March).
    assert store.open().account("SH-01").payments["FP-001-paid"].received_on == date(2026, 4, 1)
    aging = run.invoke(cli.app, ["aging"], env=env)
    assert aging.exit_code == 0 and "Aging as of 2026-04-01" in aging.output, aging.output
    # The same CLI under a plugins.toml that puts the company in Los Angeles.
    los_angeles = {**env, "HUIKUAN_PLUGINS": str(plugins_toml(tmp_path))}
    aging = run.invoke(cli.app, ["aging"], env=los_angeles)
    assert aging.exit_code == 0 and "Aging as of 2026-03-31" in aging.output, aging.output
    broken = {**env, "HUIKUAN_PLUGINS": str(plugins_toml(tmp_path, 'plugins = "x"\n['))}
    failed = run.invoke(cli.app, ["cycle", "--as-of", "2026-04-01"], env=broken)
    assert failed.exit_code == 2 and "plugins:" in failed.output


def test_the_http_api_takes_its_store_and_plugins_from_the_bootstrap(
    store, tmp_path, monkeypatch
):
    ledger = store.open()
    key = issue_key(ledger, "admin")[1]
    monkeypatch.setenv("HUIKUAN_DATABASE_URL", store.url)
    monkeypatch.setenv("HUIKUAN_IN_PROCESS_WORKERS", "0")
    monkeypatch.setenv("HUIKUAN_PLUGINS", str(plugins_toml(tmp_path)))
    with TestClient(create_app()) as client:
        created = client.post("/v1/customers", headers={"Authorization": f"Bearer {key}"},
                              json={"customer_id": "C-1", "name": "华东贸易", "currency": "CNY"})
        assert created.status_code == 201, created.text
    assert store.open().has_customer("C-1")
    monkeypatch.setenv("HUIKUAN_PLUGINS", str(plugins_toml(tmp_path, 'plugins = "x"\n[')))
    with pytest.raises(ExceptionGroup) as caught, TestClient(create_app()):
        pass
    assert caught.group_contains(SettingsError, match="plugins.toml")


def test_the_workers_run_on_the_bootstraps_parts(store, tmp_path):
    with bootstrap(env={"HUIKUAN_DATABASE_URL": store.url,
                        "HUIKUAN_PLUGINS": str(plugins_toml(tmp_path))}) as app:
        workers = Workers(app)
        assert workers.dispatcher is app.dispatcher
        assert workers.projector.ledger is app.ledger
        workers.start()
        workers.stop()



def test_a_part_is_built_once_whichever_threads_ask_first(store, tmp_path):
    import threading

    with bootstrap(env={"HUIKUAN_DATABASE_URL": store.url,
                        "HUIKUAN_PLUGINS": str(plugins_toml(tmp_path))}) as app:
        start, seen = threading.Barrier(8), []

        def ask() -> None:
            start.wait()
            seen.append((app.host, app.views, app.cycle))

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len({tuple(map(id, parts)) for parts in seen}) == 1

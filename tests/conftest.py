"""Fixtures: every ledger test runs on SQLite and on PostgreSQL.

PostgreSQL is 127.0.0.1:5432, user postgres, database test (override with
HUIKUAN_TEST_POSTGRES_URL). Each test gets a schema of its own, dropped afterwards.
If PostgreSQL cannot be reached the tests fail: they never skip it silently.
To run SQLite alone on a machine without PostgreSQL: HUIKUAN_TEST_BACKENDS=sqlite.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest

from huikuan.adapters.storage import ledger_env
from huikuan.core.commands import IssueInvoice, RegisterCustomer
from huikuan.core.ledger import Ledger

POSTGRES_URL = os.environ.get(
    "HUIKUAN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
BACKENDS = [
    b.strip() for b in os.environ.get("HUIKUAN_TEST_BACKENDS", "sqlite,postgres").split(",")
]


def _postgres_connect() -> psycopg.Connection:
    try:
        return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.fail(
            f"PostgreSQL is unreachable at {POSTGRES_URL} ({error}). The suite runs on "
            "both backends; set HUIKUAN_TEST_BACKENDS=sqlite to run SQLite alone.",
            pytrace=False,
        )


class Store:
    """A fresh, empty event store on one backend; ``open()`` gives ledgers on it."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self.schema = "hk_" + uuid.uuid4().hex[:12]
        if backend == "sqlite":
            self.url = f"sqlite:///{tmp_path / 'events.sqlite3'}"
        else:
            with _postgres_connect() as conn:
                conn.execute(f'CREATE SCHEMA "{self.schema}"')
            self.url = f"{POSTGRES_URL}?schema={self.schema}"
        self.ledgers: list[Ledger] = []

    def open(self, cipher_key: str | None = None) -> Ledger:
        ledger = Ledger(env=ledger_env(self.url, cipher_key))
        self.ledgers.append(ledger)
        return ledger

    def execute(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        """Run SQL directly against the store's tables (as a tamperer would)."""
        table = "stored_events" if self.backend == "sqlite" else f'"{self.schema}".huikuan_events'
        sql = sql.replace("{events}", table)
        if self.backend == "sqlite":
            import sqlite3

            path = self.url[len("sqlite:///"):]
            with sqlite3.connect(path) as conn:
                rows = conn.execute(sql.replace("%s", "?"), params).fetchall()
            conn.close()
            return rows
        with _postgres_connect() as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    def close(self) -> None:
        for ledger in self.ledgers:
            ledger.close()
        if self.backend == "postgres":
            with _postgres_connect() as conn:
                conn.execute(f'DROP SCHEMA "{self.schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s = Store(request.param, tmp_path)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def ledger(store: Store) -> Ledger:
    return store.open()


@pytest.fixture
def customer(ledger: Ledger) -> Callable[..., str]:
    """Register a CNY customer (30-day terms) and return its id."""

    def make(customer_id: str = "C-1", **overrides: object) -> str:
        fields: dict[str, object] = {
            "customer_id": customer_id,
            "name": "华东贸易有限公司",
            "currency": "CNY",
            "registered_on": date(2026, 1, 1),
            **overrides,
        }
        ledger.register_customer(RegisterCustomer.model_validate(fields))
        return customer_id

    return make


def invoice(invoice_id: str, amount: str, issued_on: date, **fields: object) -> IssueInvoice:
    return IssueInvoice.model_validate(
        {"invoice_id": invoice_id, "amount": amount, "currency": "CNY",
         "issued_on": issued_on, **fields}
    )


def changed(command, **change):
    """A copy of ``command`` with some fields changed, validated like a new request."""
    return type(command).model_validate({**command.model_dump(), **change})


@pytest.fixture(autouse=True)
def quiet_logs():
    """Keep test output readable: warnings and errors only (tests of logging reconfigure)."""
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    yield
    structlog.reset_defaults()


REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def settings_env(tmp_path: Path) -> dict[str, str]:
    """The environment the plugins see: letters go to a temporary folder."""
    return {"HUIKUAN_LETTER_DIR": str(tmp_path / "letters")}


@pytest.fixture
def policy(settings_env: dict[str, str]):
    """The policy as shipped: the repository's plugins.toml with the built-in plugins."""
    from huikuan.adapters.settings import load_settings
    from huikuan.core.policy import PolicyHost

    return PolicyHost(load_settings(REPO / "plugins.toml", env=settings_env),
                      load_entry_points=False)


@pytest.fixture
def mailbox():
    from tests.receivers import Mailbox

    box = Mailbox()
    box.controller.start()
    yield box
    box.controller.stop()


@pytest.fixture
def webhook():
    from tests.receivers import Webhook

    hook = Webhook()
    hook.thread.start()
    yield hook
    hook.server.shutdown()
    hook.server.server_close()


@pytest.fixture
def views(ledger, policy):
    from huikuan.projections.queries import Views

    v = Views(ledger)
    yield v
    v.close()
    v.projector.close()


@pytest.fixture
def api(store, ledger, policy):
    """A test client of the HTTP API on this store, and a key per role; the ledger is
    wired as the bootstrap wires it (facts decided for at once, core.after_facts)."""
    from litestar.testing import TestClient

    from huikuan.adapters.bootstrap import Huikuan
    from huikuan.adapters.http import Services, create_app
    from huikuan.core.access import ROLES, issue_key

    views = Huikuan(ledger, {}, host=policy).views
    keys = {role: issue_key(ledger, role)[1] for role in ROLES}
    with TestClient(create_app(Services(ledger, policy, views))) as client:
        client.keys = keys  # type: ignore[attr-defined]
        client.as_role = lambda role: {"Authorization": f"Bearer {keys[role]}"}  # type: ignore[attr-defined]
        yield client
    views.close()
    views.projector.close()

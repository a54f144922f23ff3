"""The read views, folded from the event stream into tables beside the events.

The projector reads the notification log after its tracked position, a batch at a
time. For each account touched by a batch it takes the account as it stood before
the batch (a snapshot and a few events, not the whole history), applies the batch's
events with the domain's own ``apply``, and rewrites that account's rows; movements
of open amounts and class changes are appended with their business dates, which is
what as-of queries sum over. The view rows and the new tracking position are written
in one transaction, and the position is advanced only if no other projector moved it
meanwhile: each event is applied exactly once, and a crash mid-batch leaves the
tables as they were before it.

Tables (amounts are integers in the currency's minor unit):

- ``hk_accounts``: one row per customer: terms, collector, stage, hold, risk, credit;
- ``hk_invoices``: one row per invoice: open, disputed, class, limitation deadline;
- ``hk_movements``: every change of an invoice's open amount, on its business date;
- ``hk_class_changes``: every class decision, on its business date;
- ``hk_messages``, ``hk_promises``: what the policy queued; promises and their fate;
- ``hk_worklist``: each account's priority for the last cycle date (the priority plugin);
- ``hk_tracking``, ``hk_meta``: the position in the event log; the last cycle date.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import structlog

from core.account import Account
from core.cycle import CycleLog
from core.ledger import Ledger
from core.money import minor_units
from core.policy import PolicyHost, view_of
from projections.db import ViewDatabase

log = structlog.get_logger("huikuan.projections")

TRACKING_NAME = "views"

TABLES = (
    "hk_tracking", "hk_meta", "hk_accounts", "hk_invoices", "hk_movements",
    "hk_class_changes", "hk_messages", "hk_promises", "hk_worklist",
)

DDL = [
    "CREATE TABLE IF NOT EXISTS hk_tracking (name TEXT PRIMARY KEY, position BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS hk_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS hk_accounts (
        customer_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, name TEXT NOT NULL,
        currency TEXT NOT NULL, collector TEXT, credit_limit_minor BIGINT, credit_grade TEXT,
        tags TEXT NOT NULL, stage TEXT NOT NULL, supply_hold INTEGER NOT NULL,
        risk_score INTEGER NOT NULL, risk_grade TEXT NOT NULL, risk_signals TEXT NOT NULL,
        unapplied_minor BIGINT NOT NULL, version BIGINT NOT NULL)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS hk_accounts_id ON hk_accounts (account_id)",
    "CREATE INDEX IF NOT EXISTS hk_accounts_collector ON hk_accounts (collector)",
    """CREATE TABLE IF NOT EXISTS hk_invoices (
        customer_id TEXT NOT NULL, invoice_id TEXT NOT NULL, currency TEXT NOT NULL,
        amount_minor BIGINT NOT NULL, issued_on TEXT NOT NULL, due_on TEXT NOT NULL,
        open_minor BIGINT NOT NULL, disputed_minor BIGINT NOT NULL, class TEXT NOT NULL,
        limitation_deadline TEXT, PRIMARY KEY (customer_id, invoice_id))""",
    "CREATE INDEX IF NOT EXISTS hk_invoices_open ON hk_invoices (open_minor, due_on)",
    "CREATE INDEX IF NOT EXISTS hk_invoices_deadline ON hk_invoices (limitation_deadline)",
    """CREATE TABLE IF NOT EXISTS hk_movements (
        customer_id TEXT NOT NULL, invoice_id TEXT NOT NULL, on_date TEXT NOT NULL,
        delta_minor BIGINT NOT NULL, position BIGINT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS hk_movements_date ON hk_movements (on_date)",
    """CREATE TABLE IF NOT EXISTS hk_class_changes (
        customer_id TEXT NOT NULL, invoice_id TEXT NOT NULL, on_date TEXT NOT NULL,
        class TEXT NOT NULL, position BIGINT NOT NULL)""",
    """CREATE INDEX IF NOT EXISTS hk_class_changes_invoice
        ON hk_class_changes (customer_id, invoice_id, on_date)""",
    """CREATE TABLE IF NOT EXISTS hk_messages (
        message_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, kind TEXT NOT NULL,
        channel TEXT NOT NULL, status TEXT NOT NULL, created_on TEXT NOT NULL,
        subject TEXT NOT NULL, body TEXT NOT NULL, recipient TEXT, attempts INTEGER NOT NULL,
        position BIGINT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS hk_messages_customer ON hk_messages (customer_id, position)",
    """CREATE TABLE IF NOT EXISTS hk_promises (
        customer_id TEXT NOT NULL, promise_id TEXT NOT NULL, currency TEXT NOT NULL,
        amount_minor BIGINT NOT NULL, made_on TEXT NOT NULL, due_on TEXT NOT NULL,
        status TEXT NOT NULL, PRIMARY KEY (customer_id, promise_id))""",
    """CREATE TABLE IF NOT EXISTS hk_worklist (
        customer_id TEXT PRIMARY KEY, collector TEXT, computed_for TEXT NOT NULL,
        priority INTEGER NOT NULL, reasons TEXT NOT NULL, suggested_action TEXT NOT NULL,
        overdue_minor BIGINT NOT NULL, currency TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS hk_worklist_rank ON hk_worklist (collector, priority)",
]


def to_minor(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(minor_units(currency)))


def from_minor(value: int, currency: str) -> Decimal:
    return Decimal(int(value)).scaleb(-minor_units(currency))


class ConcurrentProjector(Exception):
    """Another projector advanced the position first; this batch is dropped and re-read."""


@dataclass
class _Batch:
    """What one batch of events changes, gathered before anything is written."""

    accounts: dict[UUID, Account] = field(default_factory=dict)
    movements: list[tuple[str, str, str, int, int]] = field(default_factory=list)
    class_changes: list[tuple[str, str, str, str, int]] = field(default_factory=list)
    message_positions: dict[str, int] = field(default_factory=dict)
    last_cycle: date | None = None


class Projector:
    """Keeps the read views up to date with the event log."""

    def __init__(self, ledger: Ledger, host: PolicyHost, *, batch_size: int = 500,
                 on_event: Callable[[int], None] | None = None) -> None:
        self.ledger = ledger
        self.host = host
        self.db = ViewDatabase(ledger.env)
        self.batch_size = batch_size
        self.on_event = on_event  # a hook for tests and progress bars
        # One projector, one connection, one batch at a time: request threads that all
        # want the views fresh take turns, and each finds the work of the one before.
        self._lock = threading.RLock()
        self._conn = self.db.connect()
        self.create_tables()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ---- schema

    def create_tables(self) -> None:
        with self.db.transaction(self._conn) as cur:
            for statement in DDL:
                cur.execute(statement)
            rows = self.db.execute(cur, "SELECT position FROM hk_tracking WHERE name = ?",
                                   (TRACKING_NAME,)).fetchall()
            if not rows:
                self.db.execute(cur, "INSERT INTO hk_tracking (name, position) VALUES (?, 0)",
                                (TRACKING_NAME,))

    def drop_tables(self) -> None:
        with self.db.transaction(self._conn) as cur:
            for table in TABLES:
                cur.execute(f"DROP TABLE IF EXISTS {table}")

    def rebuild(self, progress: Callable[[int, int], None] | None = None,
                batch_size: int | None = None) -> int:
        """Throw the views away and fold every event again. Returns the events applied.

        Larger batches rebuild faster (an account's rows are rewritten once per batch
        that touches it); the result is the same whatever the size.
        """
        with self._lock:
            self.drop_tables()
            self.create_tables()
            saved, self.batch_size = self.batch_size, batch_size or self.batch_size
            try:
                return self._catch_up(None, progress)
            finally:
                self.batch_size = saved

    # ---- following the log

    def position(self) -> int:
        with self._lock:
            rows = self.db.query(self._conn, "SELECT position FROM hk_tracking WHERE name = ?",
                                 (TRACKING_NAME,))
        return int(rows[0][0]) if rows else 0

    def catch_up(self, until: int | None = None,
                 progress: Callable[[int, int], None] | None = None) -> int:
        """Apply every event recorded after the tracked position (up to ``until``)."""
        with self._lock:
            return self._catch_up(until, progress)

    def _catch_up(self, until: int | None,
                  progress: Callable[[int, int], None] | None) -> int:
        applied = 0
        total = self.ledger.recorder.max_notification_id() or 0
        while True:
            position = self.position()
            if until is not None and position >= until:
                return applied
            rows = self.ledger.recorder.select_notifications(
                start=position, limit=self.batch_size, inclusive_of_start=False)
            if not rows:
                return applied
            try:
                self._apply(position, rows)
            except ConcurrentProjector:
                continue  # someone else applied this batch: read on from where they are
            applied += len(rows)
            if progress:
                progress(rows[-1].id, total)

    def follow(self, stop: threading.Event) -> None:
        """Follow new events until ``stop`` is set: by the library's subscription on
        PostgreSQL (LISTEN/NOTIFY), by polling the notification log on SQLite.

        Events are applied by ``catch_up`` (batching what has arrived), so following and
        catching up, in this process or another, never apply an event twice.
        """
        self.catch_up()
        if self.db.kind == "postgres":
            from eventsourcing.projection import ApplicationSubscription

            # A safety net beside the subscription: an event recorded while it is being
            # set up (before its LISTEN) would otherwise wait for the next one to show.
            def sweep() -> None:
                while not stop.wait(1.0):
                    try:
                        self.catch_up()
                    except Exception:  # closed under it while stopping: nothing to do
                        if stop.is_set():
                            return
                        raise

            threading.Thread(target=sweep, name="projections-sweep", daemon=True).start()

            with ApplicationSubscription(self.ledger, gt=self.position()) as subscription:
                self._subscription = subscription
                # stop_following sets the flag before it looks for the subscription: if it
                # looked too early, the flag is already set here.
                if stop.is_set():
                    return
                for _event, tracking in subscription:
                    if stop.is_set():
                        return
                    self.catch_up(until=tracking.notification_id)
            return
        while not stop.is_set():
            if not self.catch_up():
                stop.wait(0.2)  # nothing new: look again shortly (SQLite has no NOTIFY)

    def stop_following(self, stop: threading.Event) -> None:
        stop.set()
        subscription = getattr(self, "_subscription", None)
        if subscription is not None:
            subscription.stop()

    # ---- one batch

    def _apply(self, position: int, rows: Sequence[Any]) -> None:
        batch = _Batch()
        for row in rows:
            event = self.ledger.mapper.to_domain_event(row)
            if isinstance(event, CycleLog.CycleCompleted):
                batch.last_cycle = event.as_of
            elif isinstance(event, Account.Event | Account.Registered):
                self._fold(batch, event, row.id)
            if self.on_event:
                self.on_event(row.id)
        last = rows[-1].id
        with self.db.transaction(self._conn) as cur:
            moved = self.db.execute(
                cur, "UPDATE hk_tracking SET position = ? WHERE name = ? AND position = ?",
                (last, TRACKING_NAME, position))
            if moved.rowcount != 1:
                raise ConcurrentProjector
            self.db.executemany(cur, "INSERT INTO hk_movements VALUES (?, ?, ?, ?, ?)",
                                batch.movements)
            self.db.executemany(cur, "INSERT INTO hk_class_changes VALUES (?, ?, ?, ?, ?)",
                                batch.class_changes)
            if batch.last_cycle:
                self._set_meta(cur, "last_cycle", batch.last_cycle.isoformat())
            worklist_date = self._worklist_date(cur)
            for account in batch.accounts.values():
                self._write_account(cur, account, batch, worklist_date)
            if batch.last_cycle:
                self._refresh_worklist(cur, worklist_date, skip=set(batch.accounts))

    def _fold(self, batch: _Batch, event: Any, position: int) -> None:
        account_id = event.originator_id
        account = batch.accounts.get(account_id)
        before: dict[str, Decimal] = {}
        if account is None and event.originator_version == 1:
            account = event.mutate(None)
        else:
            if account is None:
                # The account as it stood before this batch: a snapshot and a few events.
                account = self.ledger.repository.get(
                    account_id, version=event.originator_version - 1)
            before = {i: inv.open_amount for i, inv in account.invoices.items()}
            event.mutate(account)
        batch.accounts[account_id] = account
        self._record_changes(batch, account, event, position, before)

    def _record_changes(self, batch: _Batch, account: Account, event: Any, position: int,
                        before: dict[str, Decimal]) -> None:
        # The open amount of an invoice changes on the event's business date; record how
        # much, so aging as of any date is a sum over these rows.
        currency = account.currency
        for invoice_id, old_open in before.items():
            invoice = account.invoices.get(invoice_id)
            new_open = invoice.open_amount if invoice else Decimal(0)
            if new_open != old_open:
                batch.movements.append((account.customer_id, invoice_id,
                                        event.occurred_on.isoformat(),
                                        to_minor(new_open - old_open, currency), position))
        if isinstance(event, Account.InvoiceIssued):
            invoice = account.invoices[event.invoice_id]
            # It opens in full; credit applied to it at once is an event of its own.
            batch.movements.append((account.customer_id, event.invoice_id,
                                    event.issued_on.isoformat(),
                                    to_minor(invoice.amount, currency), position))
        if isinstance(event, Account.ClassChanged):
            batch.class_changes.append((account.customer_id, event.invoice_id,
                                        event.decided_on.isoformat(), event.new, position))
        if isinstance(event, Account.WrittenOff):
            batch.class_changes.append((account.customer_id, event.invoice_id,
                                        event.written_off_on.isoformat(), "dead", position))
        if isinstance(event, Account.MessageQueued):
            batch.message_positions[event.message_id] = position

    # ---- writing an account's rows

    def _write_account(self, cur: Any, account: Account, batch: _Batch,
                       worklist_date: date | None) -> None:
        c = account.currency
        view = view_of(account)
        self.db.execute(cur, "DELETE FROM hk_accounts WHERE customer_id = ?",
                        (account.customer_id,))
        self.db.execute(
            cur, "INSERT INTO hk_accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (account.customer_id, str(account.id), account.name, c, account.collector,
             to_minor(account.credit_limit, c) if account.credit_limit is not None else None,
             account.credit_grade, json.dumps(account.tags), account.stage,
             int(account.supply_hold), int(account.risk["score"]), account.risk["grade"],
             json.dumps(sorted(account.risk["signals"])), to_minor(account.unapplied_credit, c),
             account.version))
        self.db.execute(cur, "DELETE FROM hk_invoices WHERE customer_id = ?",
                        (account.customer_id,))
        rows = []
        for invoice in view.invoices:
            deadline = None
            if invoice.open_amount > 0:
                found = self.host.decide("huikuan_limitation_deadline", invoice=invoice,
                                         account=view)
                deadline = found.isoformat() if found else None
            rows.append((account.customer_id, invoice.invoice_id, c,
                         to_minor(invoice.amount, c), invoice.issued_on.isoformat(),
                         invoice.due_on.isoformat(), to_minor(invoice.open_amount, c),
                         to_minor(invoice.disputed_amount, c), invoice.receivable_class,
                         deadline))
        self.db.executemany(cur, "INSERT INTO hk_invoices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            rows)
        self.db.execute(cur, "DELETE FROM hk_promises WHERE customer_id = ?",
                        (account.customer_id,))
        self.db.executemany(cur, "INSERT INTO hk_promises VALUES (?, ?, ?, ?, ?, ?, ?)", [
            (account.customer_id, p.promise_id, c, to_minor(p.amount, c),
             p.made_on.isoformat(), p.due_on.isoformat(), p.status)
            for p in account.promises.values()])
        for message in account.messages.values():
            position = batch.message_positions.get(message.message_id)
            if position is None:
                self.db.execute(
                    cur, "UPDATE hk_messages SET status = ?, attempts = ? WHERE message_id = ?",
                    (message.status, message.attempts, message.message_id))
            else:
                self.db.execute(cur, "DELETE FROM hk_messages WHERE message_id = ?",
                                (message.message_id,))
                self.db.execute(
                    cur, "INSERT INTO hk_messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (message.message_id, account.customer_id, message.kind, message.channel,
                     message.status, message.queued_on.isoformat(), message.subject,
                     message.body, message.recipient, message.attempts, position))
        if worklist_date is not None:
            self._write_priority(cur, account, worklist_date)

    def _write_priority(self, cur: Any, account: Account, as_of: date) -> None:
        view = view_of(account)
        self.db.execute(cur, "DELETE FROM hk_worklist WHERE customer_id = ?",
                        (account.customer_id,))
        overdue = view.undisputed_overdue(as_of)
        if overdue <= 0 and not view.demandable():
            return
        priority = self.host.decide("huikuan_worklist_priority", account=view, as_of=as_of)
        if priority is None:
            return
        self.db.execute(cur, "INSERT INTO hk_worklist VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (
            account.customer_id, account.collector, as_of.isoformat(), int(priority.score),
            json.dumps(list(priority.reasons), ensure_ascii=False), priority.suggested_action,
            to_minor(overdue, account.currency), account.currency))

    def _refresh_worklist(self, cur: Any, as_of: date | None, skip: set[UUID]) -> None:
        # A new cycle date: every account with open money gets its priority for it.
        if as_of is None:
            return
        rows = self.db.execute(cur, """SELECT a.account_id, a.version FROM hk_accounts a
            WHERE EXISTS (SELECT 1 FROM hk_invoices i
                          WHERE i.customer_id = a.customer_id AND i.open_minor > 0)""").fetchall()
        for account_id, version in rows:
            if UUID(account_id) in skip:
                continue
            account: Account = self.ledger.repository.get(UUID(account_id), version=int(version))
            self._write_priority(cur, account, as_of)

    def _worklist_date(self, cur: Any) -> date | None:
        rows = self.db.execute(cur, "SELECT value FROM hk_meta WHERE key = 'last_cycle'"
                               ).fetchall()
        return date.fromisoformat(rows[0][0]) if rows else None

    def _set_meta(self, cur: Any, key: str, value: str) -> None:
        self.db.execute(cur, "DELETE FROM hk_meta WHERE key = ?", (key,))
        self.db.execute(cur, "INSERT INTO hk_meta VALUES (?, ?)", (key, value))


def snapshot_tables(db: ViewDatabase, conn: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view, sorted: for comparing a live build with a rebuild."""
    result = {}
    for table in TABLES:
        if table == "hk_tracking":
            continue
        rows = db.query(conn, f"SELECT * FROM {table}")
        result[table] = sorted(tuple(str(v) for v in row) for row in rows)
    return result

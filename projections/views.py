"""The read views, folded from the event stream into tables beside the events.

The projector reads the notification log after its tracked position, a batch at a
time. For each account touched by a batch it takes the account as it stood before
the batch (kept from the batch before, or a snapshot and a few events, never the
whole history), applies the batch's events with the domain's own ``apply``, and
rewrites the rows that changed: the account's, and those of the invoices the events
say they changed (``invoices_changed``) or that still have money open. Movements of
open amounts and class changes are appended with their business dates, which is
what as-of queries sum over. The view rows and the new tracking position are written
in one transaction, and the position is advanced only if no other projector moved it
meanwhile: each event is applied exactly once, and a crash mid-batch leaves the
tables as they were before it.

Tables (amounts are integers in the currency's minor unit):

- ``hk_accounts``: one row per customer: terms, collector, stage, hold, risk, credit,
  the worst class of its open invoices as the cycle recorded it (the customer list
  works out the day's class from the schedules, as the customer view does);
- ``hk_invoices``: one row per invoice: open, disputed, written off, recovered, class
  (as the cycle recorded it), class schedule, limitation deadline;
- ``hk_movements``: every change of an invoice's open amount, on its business date;
- ``hk_class_schedule``: each invoice's class schedule (``ClassScheduled``), a row a
  step: the class on any date is that of the last step on or before it (core.classes);
- ``hk_class_changes``: every class the cycle recorded, on its business date (what an
  invoice without a schedule, or before it starts, is read by);
- ``hk_recoveries``: money received on written-off invoices (and taken back by a
  bounce), on its business date, for the KPIs;
- ``hk_messages``, ``hk_promises``: what the policy queued; promises and their fate;
- ``hk_worklist``: each account's recorded priority, its overdue amount on the last cycle date;
- ``hk_open_by_due``: what is open now per collector, currency, class and due date,
  kept in step with ``hk_invoices``: today's aging by collector, currency or class
  sums a few thousand rows however many invoices there are (an invoice with a
  schedule counts under its schedule written relative to its due date, the same for
  every invoice under one policy, and the class is read off it for the date asked);
- ``hk_due_moves``: the same sums split by the day the money moved, so aging by
  collector, currency or class on any date reads a few thousand rows too
  (``projections.due_moves``);
- ``hk_results``: what each collector's work brought, a row a fact, with the account's
  collector and stage when it was recorded: payments received (and bounces, against the
  payment they undo), contacts logged, promises made, kept and broken (projections.kpis);
- ``hk_costs``: every collection cost (催收成本): customer, the collector then, date,
  amount in its own currency, kind, the case it was spent on;
- ``hk_case_files``: per customer with any, its dunning stops, cases and guarantees
  (JSON, see ``projections.casefile``);
- ``hk_tracking``, ``hk_meta``: the position in the event log; the last cycle date and
  the date the worklist was last computed for; with a cipher key, its check value.

With ``HUIKUAN_CIPHER_KEY`` set, the personal columns (a customer's name, a message's
subject, body and recipient) are written sealed (``huikuan.projections.sealing``).

Nothing here asks a plugin. What the rows need from policy (a class, a stage, a
limitation deadline, a place in the worklist) was decided by the plugins when the
cycle reviewed the account and recorded as events (see ``core.decisions``), so the
views folded again under any plugins.toml are the same, row for row.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import structlog

from huikuan.core import classes, decisions
from huikuan.core.account import CLASSES, Account
from huikuan.core.cycle import CycleLog
from huikuan.core.ledger import Ledger, project
from huikuan.core.money import minor_units
from huikuan.core.plugin import AccountView
from huikuan.core.policy import view_of
from huikuan.projections import due_moves
from huikuan.projections.casefile import CASE_FILE_EVENTS, case_file_row, cost_row
from huikuan.projections.db import ViewDatabase
from huikuan.projections.kpis import result_row
from huikuan.projections.sealing import SEALED

log = structlog.get_logger("huikuan.projections")

TRACKING_NAME = "views"
# The shape of the tables below. Views built by an older huikuan are thrown away and
# folded again from the events when it changes: they are derived, never the record.
# 4: class schedules, recoveries, the customer list; 5: hk_costs, hk_case_files;
# 6: hk_results; 7: hk_due_moves; 8: hk_accounts.ranked_for, hk_invoices.schedule_from.
SCHEMA_VERSION = "8"
# In hk_accounts.review_from: review at the next cycle; review only when a fact comes.
REVIEW_NOW, REVIEW_NEVER = "", "9999-12-31"

TABLES = (
    "hk_tracking", "hk_meta", "hk_accounts", "hk_invoices", "hk_movements",
    "hk_class_changes", "hk_class_schedule", "hk_recoveries", "hk_messages", "hk_promises",
    "hk_worklist", "hk_open_by_due", "hk_costs", "hk_case_files", "hk_results",
    "hk_due_moves", "hk_currencies",
)

DDL = [
    "CREATE TABLE IF NOT EXISTS hk_tracking (name TEXT PRIMARY KEY, position BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS hk_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS hk_accounts (
        customer_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, name TEXT NOT NULL,
        currency TEXT NOT NULL, collector TEXT, credit_limit_minor BIGINT, credit_grade TEXT,
        tags TEXT NOT NULL, stage TEXT NOT NULL, supply_hold INTEGER NOT NULL,
        risk_score INTEGER NOT NULL, risk_grade TEXT NOT NULL, risk_signals TEXT NOT NULL,
        unapplied_minor BIGINT NOT NULL, version BIGINT NOT NULL,
        review_from TEXT NOT NULL, class TEXT NOT NULL, ranked_for TEXT)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS hk_accounts_id ON hk_accounts (account_id)",
    # (collector, customer_id): a collector's queue, and their customers listed in order.
    """CREATE INDEX IF NOT EXISTS hk_accounts_collector
        ON hk_accounts (collector, customer_id)""",
    "CREATE INDEX IF NOT EXISTS hk_accounts_review ON hk_accounts (review_from)",
    """CREATE TABLE IF NOT EXISTS hk_invoices (
        customer_id TEXT NOT NULL, invoice_id TEXT NOT NULL, currency TEXT NOT NULL,
        amount_minor BIGINT NOT NULL, issued_on TEXT NOT NULL, due_on TEXT NOT NULL,
        open_minor BIGINT NOT NULL, disputed_minor BIGINT NOT NULL, class TEXT NOT NULL,
        written_off_minor BIGINT NOT NULL, recovered_minor BIGINT NOT NULL, schedule TEXT,
        class_key TEXT NOT NULL, settled_on TEXT, limitation_deadline TEXT,
        schedule_from TEXT, PRIMARY KEY (customer_id, invoice_id))""",
    "CREATE INDEX IF NOT EXISTS hk_invoices_open ON hk_invoices (open_minor, due_on)",
    "CREATE INDEX IF NOT EXISTS hk_invoices_deadline ON hk_invoices (limitation_deadline)",
    # The day each invoice's class schedule starts: aging by class on an earlier day
    # reads such an invoice's class otherwise (projections.queries).
    "CREATE INDEX IF NOT EXISTS hk_invoices_schedule ON hk_invoices (schedule_from)",
    """CREATE TABLE IF NOT EXISTS hk_movements (
        customer_id TEXT NOT NULL, invoice_id TEXT NOT NULL, on_date TEXT NOT NULL,
        delta_minor BIGINT NOT NULL, position BIGINT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS hk_movements_date ON hk_movements (on_date)",
    """CREATE TABLE IF NOT EXISTS hk_class_changes (
        customer_id TEXT NOT NULL, invoice_id TEXT NOT NULL, on_date TEXT NOT NULL,
        class TEXT NOT NULL, position BIGINT NOT NULL)""",
    """CREATE INDEX IF NOT EXISTS hk_class_changes_invoice
        ON hk_class_changes (customer_id, invoice_id, on_date)""",
    "CREATE INDEX IF NOT EXISTS hk_class_changes_date ON hk_class_changes (on_date)",
    """CREATE TABLE IF NOT EXISTS hk_class_schedule (
        customer_id TEXT NOT NULL, invoice_id TEXT NOT NULL, from_on TEXT NOT NULL,
        class TEXT NOT NULL, PRIMARY KEY (customer_id, invoice_id, from_on))""",
    """CREATE TABLE IF NOT EXISTS hk_recoveries (
        customer_id TEXT NOT NULL, invoice_id TEXT NOT NULL, currency TEXT NOT NULL,
        on_date TEXT NOT NULL, delta_minor BIGINT NOT NULL, position BIGINT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS hk_recoveries_date ON hk_recoveries (on_date)",
    """CREATE TABLE IF NOT EXISTS hk_open_by_due (
        collector TEXT NOT NULL, currency TEXT NOT NULL, class TEXT NOT NULL,
        due_on TEXT NOT NULL, open_minor BIGINT NOT NULL,
        PRIMARY KEY (collector, currency, class, due_on))""",
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
    """CREATE TABLE IF NOT EXISTS hk_costs (
        customer_id TEXT NOT NULL, cost_id TEXT NOT NULL, collector TEXT,
        incurred_on TEXT NOT NULL, amount_minor BIGINT NOT NULL, currency TEXT NOT NULL,
        kind TEXT NOT NULL, handoff_id TEXT, position BIGINT NOT NULL,
        PRIMARY KEY (customer_id, cost_id))""",
    "CREATE INDEX IF NOT EXISTS hk_costs_date ON hk_costs (incurred_on)",
    """CREATE TABLE IF NOT EXISTS hk_results (
        customer_id TEXT NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL,
        on_date TEXT NOT NULL, collector TEXT, stage TEXT NOT NULL, currency TEXT NOT NULL,
        amount_minor BIGINT NOT NULL, position BIGINT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS hk_results_date ON hk_results (on_date)",
    "CREATE INDEX IF NOT EXISTS hk_results_ref ON hk_results (customer_id, ref, kind)",
    """CREATE TABLE IF NOT EXISTS hk_case_files (
        customer_id TEXT PRIMARY KEY, pauses TEXT NOT NULL, cases TEXT NOT NULL,
        guarantees TEXT NOT NULL)""",
    *due_moves.DDL,
]


def to_minor(amount: Decimal, currency: str) -> int:
    return int(amount.scaleb(minor_units(currency)))


def from_minor(value: int, currency: str) -> Decimal:
    return Decimal(int(value)).scaleb(-minor_units(currency))


class ConcurrentProjector(Exception):
    """Another projector advanced the position first; this batch is dropped and re-read."""


@dataclass
class _Touched:
    """One account a batch touches: its state after the batch, and which of its rows
    changed (None: any of them, so all are rewritten)."""

    account: Account
    cycle_date: date | None = None  # of the last cycle before the account's last event
    invoices: set[str] | None = field(default_factory=set)
    promises: set[str] | None = field(default_factory=set)
    messages: set[str] | None = field(default_factory=set)
    case_file: bool = False  # a stop, case or guarantee changed: rewrite hk_case_files


@dataclass
class _Batch:
    """What one batch of events changes, gathered before anything is written."""

    accounts: dict[UUID, _Touched] = field(default_factory=dict)
    movements: list[tuple[str, str, str, int, int]] = field(default_factory=list)
    class_changes: list[tuple[str, str, str, str, int]] = field(default_factory=list)
    # The latest schedule of each invoice the batch scheduled: its rows are replaced.
    schedules: dict[tuple[str, str], list[list[Any]]] = field(default_factory=dict)
    recoveries: list[tuple[str, str, str, str, int, int]] = field(default_factory=list)
    message_positions: dict[str, int] = field(default_factory=dict)
    costs: list[tuple[Any, ...]] = field(default_factory=list)
    results: list[tuple[Any, ...]] = field(default_factory=list)
    last_cycle: date | None = None
    refresh_for: date | None = None  # a cycle that reviewed every account: rank them all
    after: int = 0  # the position before the batch


class Projector:
    """Keeps the read views up to date with the event log."""

    def __init__(self, ledger: Ledger, *, batch_size: int = 500,
                 on_event: Callable[[int], None] | None = None,
                 keep_accounts: int = 2000) -> None:
        self.ledger = ledger
        self.db = ViewDatabase(ledger.env)
        self.batch_size = batch_size
        self.on_event = on_event  # a hook for tests and progress bars
        # One projector, one connection, one batch at a time: request threads that all
        # want the views fresh take turns, and each finds the work of the one before.
        self._lock = threading.RLock()
        self._conn = self.db.connect()
        self._upgrade()  # (creates the tables)
        # The accounts last written, newest last (see _remember).
        self._recent: OrderedDict[UUID, Account] = OrderedDict()
        self.keep_accounts = keep_accounts

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
            if not self.db.execute(cur, "SELECT 1 FROM hk_meta WHERE key = 'schema'"
                                   ).fetchall():
                self.db.execute(cur, "INSERT INTO hk_meta VALUES ('schema', ?)",
                                (SCHEMA_VERSION,))
            check = self.db.sealer.check
            if check and not self.db.execute(
                    cur, "SELECT 1 FROM hk_meta WHERE key = 'sealed'").fetchall():
                self.db.execute(cur, "INSERT INTO hk_meta VALUES ('sealed', ?)", (check,))

    def _upgrade(self) -> None:
        if self._has_table("hk_meta"):
            found = self.db.query(self._conn, "SELECT value FROM hk_meta WHERE key = 'schema'")
            version = found[0][0] if found else "1"
            if version != SCHEMA_VERSION:
                log.warning("projections.rebuilding", reason="the views' schema changed",
                            found=version, wanted=SCHEMA_VERSION)
                self.drop_tables()
            elif (sealed := self._sealed_with()) != self.db.sealer.check:
                # Views written in clear, or sealed under another key. If this key
                # cannot read the events either, say so and keep the views; if it can,
                # they are folded again, sealed as this key says.
                self.ledger.check_cipher()
                log.warning("projections.rebuilding",
                            reason="the views were sealed otherwise than the cipher key says",
                            found="sealed" if sealed else "clear",
                            wanted="sealed" if self.db.sealer.check else "clear")
                self.drop_tables()
        self.create_tables()

    def _sealed_with(self) -> str | None:
        found = self.db.query(self._conn, "SELECT value FROM hk_meta WHERE key = 'sealed'")
        return str(found[0][0]) if found else None

    def _has_table(self, name: str) -> bool:
        return self.db.has_table(self._conn, name)

    def drop_tables(self) -> None:
        with self.db.transaction(self._conn) as cur:
            for table in TABLES:
                cur.execute(f"DROP TABLE IF EXISTS {table}")
        if self.db.kind == "sqlite" and self.db.sealer.sealing:
            # The dropped pages were overwritten (secure_delete); copy them over the
            # database file now rather than at some later checkpoint. Busy readers only
            # delay it: SQLite checkpoints again as the log grows.
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def rebuild(self, progress: Callable[[int, int], None] | None = None,
                batch_size: int | None = None) -> int:
        """Throw the views away and fold every event again. Returns the events applied.

        Larger batches rebuild faster (an account's rows are written once per batch
        that touches it); the result is the same whatever the size.
        """
        with self._lock:
            self._recent.clear()
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
                break
            rows = self.ledger.recorder.select_notifications(
                start=position, limit=self.batch_size, inclusive_of_start=False)
            if not rows:
                break
            try:
                self._apply(position, rows)
            except ConcurrentProjector:
                continue  # someone else applied this batch: read on from where they are
            applied += len(rows)
            if progress:
                progress(rows[-1].id, total)
        return applied

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
        batch = _Batch(after=position)
        cycle_date = self._meta_date(self._conn, "last_cycle")
        for row in rows:
            event = self.ledger.mapper.to_domain_event(row)
            if isinstance(event, CycleLog.CycleCompleted):
                batch.last_cycle = cycle_date = event.as_of
                if event.reviewed_all:
                    batch.refresh_for = event.as_of
            elif isinstance(event, Account.Event | Account.Registered):
                self._fold(batch, event, row.id)
                batch.accounts[event.originator_id].cycle_date = cycle_date
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
            self.db.executemany(cur, "DELETE FROM hk_class_schedule WHERE customer_id = ? "
                                "AND invoice_id = ?", list(batch.schedules))
            self.db.executemany(cur, "INSERT INTO hk_class_schedule VALUES (?, ?, ?, ?)", [
                (*key, on.isoformat(), cls) for key, steps in batch.schedules.items()
                for on, cls in steps])
            self.db.executemany(cur, "INSERT INTO hk_recoveries VALUES (?, ?, ?, ?, ?, ?)",
                                batch.recoveries)
            self.db.executemany(cur, "INSERT INTO hk_costs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                batch.costs)
            self.db.executemany(cur, "INSERT INTO hk_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                batch.results)
            if batch.last_cycle:
                self._set_meta(cur, "last_cycle", batch.last_cycle.isoformat())
            if batch.refresh_for:
                self._refresh_worklist(cur, batch.refresh_for, skip=set(batch.accounts))
            self._write_accounts(cur, batch)
        for touched in batch.accounts.values():
            self._remember(touched.account)

    def _fold(self, batch: _Batch, event: Any, position: int) -> None:
        account_id = event.originator_id
        touched = batch.accounts.get(account_id)
        if event.originator_version == 1:
            account = event.mutate(None)
            batch.accounts[account_id] = _Touched(account)
            return
        if touched is None:
            touched = batch.accounts[account_id] = _Touched(self._account_before(event))
        account = touched.account
        # Only the invoices the event changes are looked at, before and after, so an
        # event costs the same in a large account as in a small one.
        changed = event.invoices_changed(account)
        ids = list(account.invoices) if changed is None else list(changed)
        before = {i: len(account.invoices[i].movements) if i in account.invoices else 0
                  for i in ids}
        taken_back = (dict(account.payments[event.payment_id].recovered)
                      if isinstance(event, Account.PaymentBounced) else {})
        result = result_row(account, event, position)  # who worked it, as it stood before
        if result is not None:
            batch.results.append(result)
        unscheduled = (isinstance(event, Account.ClassScheduled)
                       and account.invoices[event.invoice_id].class_steps is None)
        event.mutate(account)
        if changed is None:
            touched.invoices = touched.promises = touched.messages = None
            ids = list(account.invoices)
        elif touched.invoices is not None:
            touched.invoices.update(ids)
        for invoice_id in ids:
            invoice = account.invoices.get(invoice_id)
            if invoice is None:
                continue
            # The invoice's own movements: each change of its open amount, on its
            # business date, so aging as of any date is a sum over these rows.
            for on, delta in invoice.movements[before.get(invoice_id, 0):]:
                batch.movements.append((account.customer_id, invoice_id, on.isoformat(),
                                        to_minor(delta, account.currency), position))
        promise_id = getattr(event, "promise_id", None)
        if promise_id is not None and touched.promises is not None:
            touched.promises.add(promise_id)
        message_id = getattr(event, "message_id", None)
        if message_id is not None and touched.messages is not None:
            touched.messages.add(message_id)
        if isinstance(event, Account.MessageQueued):
            batch.message_positions[event.message_id] = position
        if isinstance(event, Account.ClassChanged):
            batch.class_changes.append((account.customer_id, event.invoice_id,
                                        event.decided_on.isoformat(), event.new, position))
        if isinstance(event, Account.WrittenOff) and event.marks_dead:
            batch.class_changes.append((account.customer_id, event.invoice_id,
                                        event.written_off_on.isoformat(), "dead", position))
        if isinstance(event, Account.ClassScheduled):
            invoice = account.invoices[event.invoice_id]
            steps = invoice.class_steps or []
            batch.schedules[(account.customer_id, event.invoice_id)] = steps
            if unscheduled and steps and steps[0][0] > invoice.issued_on:
                # An invoice recorded before schedules starts one late: from that day its
                # class is the schedule's, before it the cycle's (so today's aging
                # summary is not read for earlier days).
                batch.class_changes.append((account.customer_id, event.invoice_id,
                                            steps[0][0].isoformat(), steps[0][1], position))
        if isinstance(event, Account.RecoveryReceived):
            batch.recoveries.append((account.customer_id, event.invoice_id, account.currency,
                                     event.received_on.isoformat(),
                                     to_minor(event.amount, account.currency), position))
        for invoice_id, amount in taken_back.items():
            batch.recoveries.append((account.customer_id, invoice_id, account.currency,
                                     event.bounced_on.isoformat(),
                                     -to_minor(amount, account.currency), position))
        if isinstance(event, CASE_FILE_EVENTS):
            touched.case_file = True
        if isinstance(event, Account.CostRecorded):
            batch.costs.append(cost_row(account.customer_id, event, position))

    def _account_before(self, event: Any) -> Account:
        """The account as it stood just before ``event``: kept from an earlier batch if
        it is still at that version, else a snapshot and the events after it."""
        return self._account_at(event.originator_id, event.originator_version - 1)

    def _account_at(self, account_id: UUID, version: int) -> Account:
        """The account at ``version``: kept from a batch, else read from the store."""
        account = self._recent.get(account_id)
        if account is not None and account.version == version:
            return account
        found: Account = self.ledger.repository.get(account_id, version=version,
                                                    projector_func=project)
        return found

    def _remember(self, account: Account) -> None:
        # Accounts are written a batch at a time and often touched again in the next
        # one; keeping the latest few saves reading them back from the store.
        self._recent[account.id] = account
        self._recent.move_to_end(account.id)
        while len(self._recent) > self.keep_accounts:
            self._recent.popitem(last=False)

    # ---- writing the rows of the accounts a batch touched

    def _write_accounts(self, cur: Any, batch: _Batch) -> None:
        account_rows: list[tuple[Any, ...]] = []
        invoice_rows: list[tuple[Any, ...]] = []
        promise_rows: list[tuple[Any, ...]] = []
        whole: list[tuple[str]] = []  # customers all of whose invoice rows are rewritten
        invoice_keys: list[tuple[str, str]] = []
        promise_keys: list[tuple[str, str]] = []
        whole_promises: list[tuple[str]] = []
        case_files = [case_file_row(t.account) for t in batch.accounts.values() if t.case_file]
        # hk_open_by_due moves by what the rewritten rows count, less what they counted.
        customers = [t.account.customer_id for t in batch.accounts.values()]
        open_by_due = self._open_before(cur, customers)
        keys_before = due_moves.keys_before(self.db, cur, customers)
        keys_after: dict[tuple[str, str], due_moves.Key] = {}
        collectors: dict[str, str] = {}
        for touched in batch.accounts.values():
            account = touched.account
            customer, c = account.customer_id, account.currency
            collectors[customer] = account.collector or ""
            view = view_of(account)
            # Ranked for the last cycle before its last event, or the day the cycle last
            # reviewed it (its decisions come before the cycle's completion), or a cycle
            # in this batch that reviewed every account (as the accounts of the batches
            # before it are, by _refresh_worklist: the rows never depend on where a
            # batch happens to end).
            dates = [d for d in (touched.cycle_date, account.reviewed_on, batch.refresh_for)
                     if d is not None]
            ranked_for = max(dates) if dates else None
            account_rows.append((
                customer, str(account.id),
                self.db.sealer.seal(account.name, f"hk_accounts.name:{customer}"),
                c, account.collector,
                to_minor(account.credit_limit, c) if account.credit_limit is not None else None,
                account.credit_grade, json.dumps(account.tags), account.stage,
                int(account.supply_hold), int(account.risk["score"]), account.risk["grade"],
                json.dumps(sorted(account.risk["signals"])),
                to_minor(account.unapplied_credit, c), account.version,
                REVIEW_NOW if account.review_needed else
                account.next_review.isoformat() if account.next_review else REVIEW_NEVER,
                max((i.receivable_class for i in view.invoices if i.open_amount > 0),
                    key=CLASSES.index, default="not_due"),
                ranked_for.isoformat() if ranked_for else None))
            # A row changes when its invoice does, or, while money is open on it, when
            # its limitation deadline may: a decision names its invoices, but an invoice
            # no plugin has decided for yet is read as version 1 did, from the facts.
            if touched.invoices is None:
                whole.append((customer,))
                invoices = view.invoices
            else:
                wanted = touched.invoices
                invoices = tuple(i for i in view.invoices
                                 if i.invoice_id in wanted or i.open_amount > 0)
                invoice_keys.extend((customer, i.invoice_id) for i in invoices)
            for invoice in invoices:
                deadline = None
                if invoice.open_amount > 0:
                    found = decisions.limitation_deadline(account, view, invoice)
                    deadline = found.isoformat() if found else None
                open_minor = to_minor(invoice.open_amount, c)
                record = account.invoices[invoice.invoice_id]
                steps = classes.steps_of(record.class_steps)
                class_key = (classes.code_of(steps, invoice.due_on) if steps
                             else invoice.receivable_class)
                settled = record.settled_on()
                invoice_rows.append((
                    customer, invoice.invoice_id, c, to_minor(invoice.amount, c),
                    invoice.issued_on.isoformat(), invoice.due_on.isoformat(),
                    open_minor, to_minor(invoice.disputed_amount, c),
                    invoice.receivable_class, to_minor(invoice.written_off, c),
                    to_minor(invoice.recovered, c),
                    json.dumps([[on.isoformat(), cls] for on, cls in steps]) if steps else None,
                    class_key, settled.isoformat() if settled else None, deadline,
                    steps[0][0].isoformat() if steps else None))
                keys_after[(customer, invoice.invoice_id)] = (
                    account.collector or "", c, class_key, invoice.due_on.isoformat())
                if open_minor:
                    key = (account.collector or "", c, class_key, invoice.due_on.isoformat())
                    open_by_due[key] = open_by_due.get(key, 0) + open_minor
            if touched.promises is None:
                whole_promises.append((customer,))
                promises = list(account.promises.values())
            else:
                promises = [account.promises[p] for p in touched.promises]
                promise_keys.extend((customer, p) for p in touched.promises)
            promise_rows.extend(
                (customer, p.promise_id, c, to_minor(p.amount, c), p.made_on.isoformat(),
                 p.due_on.isoformat(), p.status) for p in promises)
            self._write_messages(cur, account, batch, touched.messages)
            if ranked_for is not None:
                self._write_priority(cur, account, view, ranked_for)
        # Set-based: one statement per table for the whole batch.
        db = self.db
        db.executemany(cur, "DELETE FROM hk_accounts WHERE customer_id = ?",
                       [(row[0],) for row in account_rows])
        db.executemany(cur, "INSERT INTO hk_accounts VALUES "
                       "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", account_rows)
        db.executemany(cur, "DELETE FROM hk_invoices WHERE customer_id = ?", whole)
        db.executemany(cur, "DELETE FROM hk_invoices WHERE customer_id = ? AND invoice_id = ?",
                       invoice_keys)
        db.executemany(cur, "INSERT INTO hk_invoices VALUES "
                       "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", invoice_rows)
        db.executemany(cur, "DELETE FROM hk_promises WHERE customer_id = ?", whole_promises)
        db.executemany(cur, "DELETE FROM hk_promises WHERE customer_id = ? AND promise_id = ?",
                       promise_keys)
        db.executemany(cur, "INSERT INTO hk_promises VALUES (?, ?, ?, ?, ?, ?, ?)",
                       promise_rows)
        db.executemany(cur, "DELETE FROM hk_case_files WHERE customer_id = ?",
                       [(row[0],) for row in case_files])
        db.executemany(cur, "INSERT INTO hk_case_files VALUES (?, ?, ?, ?)", case_files)
        changes = [(*key, delta) for key, delta in open_by_due.items() if delta]
        db.executemany(cur, """INSERT INTO hk_open_by_due VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (collector, currency, class, due_on)
            DO UPDATE SET open_minor = hk_open_by_due.open_minor + excluded.open_minor""",
                       changes)
        db.executemany(cur, "DELETE FROM hk_open_by_due WHERE collector = ? AND currency = ? "
                       "AND class = ? AND due_on = ? AND open_minor = 0",
                       [key[:4] for key in changes])
        due_moves.write(db, cur, due_moves.changes(db, cur, keys_before, keys_after, collectors,
                                                   batch.movements, batch.after))

    def _open_before(self, cur: Any, customers: list[str]) -> dict[tuple[str, ...], int]:
        """What the accounts about to be rewritten count in ``hk_open_by_due`` now, as
        negative amounts: every open row of theirs is rewritten (an invoice open before
        a batch is either still open or was changed by it)."""
        found: dict[tuple[str, ...], int] = {}
        for start in range(0, len(customers), 500):
            chunk = customers[start:start + 500]
            marks = ", ".join("?" * len(chunk))
            for collector, currency, class_, due_on, amount in self.db.execute(
                cur, f"""SELECT COALESCE(a.collector, ''), i.currency, i.class_key, i.due_on,
                                SUM(i.open_minor)
                         FROM hk_invoices i JOIN hk_accounts a ON a.customer_id = i.customer_id
                         WHERE i.customer_id IN ({marks}) AND i.open_minor <> 0
                         GROUP BY 1, 2, 3, 4""", chunk).fetchall():
                key = (collector, currency, class_, due_on)
                found[key] = found.get(key, 0) - int(amount)
        return found

    def _write_messages(self, cur: Any, account: Account, batch: _Batch,
                        changed: set[str] | None) -> None:
        messages = (account.messages.values() if changed is None
                    else [account.messages[m] for m in changed])
        seal = self.db.sealer.seal
        for message in messages:
            position = batch.message_positions.get(message.message_id)
            where = f":{message.message_id}"
            subject = seal(message.subject, "hk_messages.subject" + where)
            body = seal(message.body, "hk_messages.body" + where)
            if position is None:
                # Once sent, the subject and body are what was sent (core.outbox restates
                # a demand for what is owed then), not what was queued.
                self.db.execute(
                    cur, "UPDATE hk_messages SET status = ?, attempts = ?, subject = ?, body = ? "
                    "WHERE message_id = ?",
                    (message.status, message.attempts, subject, body, message.message_id))
            else:
                self.db.execute(cur, "DELETE FROM hk_messages WHERE message_id = ?",
                                (message.message_id,))
                self.db.execute(
                    cur, "INSERT INTO hk_messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (message.message_id, account.customer_id, message.kind, message.channel,
                     message.status, message.queued_on.isoformat(), subject, body,
                     seal(message.recipient, "hk_messages.recipient" + where),
                     message.attempts, position))

    def _write_priority(self, cur: Any, account: Account, view: AccountView,
                        as_of: date) -> None:
        self.db.execute(cur, "DELETE FROM hk_worklist WHERE customer_id = ?",
                        (account.customer_id,))
        overdue = view.undisputed_overdue(as_of)
        if overdue <= 0 and not view.demandable():
            return
        priority = decisions.worklist_priority(account, view, as_of)
        if priority.score is None:
            return
        self.db.execute(cur, "INSERT INTO hk_worklist VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (
            account.customer_id, account.collector, as_of.isoformat(), int(priority.score),
            json.dumps(list(priority.reasons), ensure_ascii=False), priority.suggested_action,
            to_minor(overdue, account.currency), account.currency))

    def _refresh_worklist(self, cur: Any, as_of: date, skip: set[UUID]) -> None:
        """A cycle reviewed every account (the first, after a policy change, or with a
        plugin that names no dates): every account with open money is listed for its
        date, with the priority last recorded (those on which the cycle recorded
        nothing are not in the batch). After a cycle of the accounts due, those it
        reviewed were written with the batch, and the others' place did not change
        (their plugins said so). Accounts already ranked for the date (the cycle recorded
        a decision on them, so they were written for it with their batch) are not read
        again."""
        rows = self.db.execute(cur, """SELECT a.account_id, a.version FROM hk_accounts a
            WHERE (a.ranked_for IS NULL OR a.ranked_for <> ?)
              AND (EXISTS (SELECT 1 FROM hk_invoices i
                           WHERE i.customer_id = a.customer_id AND i.open_minor > 0)
                   OR EXISTS (SELECT 1 FROM hk_worklist w
                              WHERE w.customer_id = a.customer_id))""",
                               (as_of.isoformat(),)).fetchall()
        for account_id, version in rows:
            if UUID(account_id) in skip:
                continue  # written with this batch
            account = self._account_at(UUID(account_id), int(version))
            self._write_priority(cur, account, view_of(account), as_of)
        # Every account is ranked for the date now, those with nothing open too, as an
        # account written with this batch would be: the rows never depend on where a
        # batch happens to end.
        self.db.execute(cur, "UPDATE hk_accounts SET ranked_for = ? "
                        "WHERE ranked_for IS NULL OR ranked_for < ?",
                        (as_of.isoformat(), as_of.isoformat()))

    def _meta_date(self, cur: Any, key: str) -> date | None:
        rows = self.db.execute(cur, "SELECT value FROM hk_meta WHERE key = ?", (key,)
                               ).fetchall()
        return date.fromisoformat(rows[0][0]) if rows and rows[0][0] else None

    def _set_meta(self, cur: Any, key: str, value: str) -> None:
        self.db.execute(cur, "DELETE FROM hk_meta WHERE key = ?", (key,))
        self.db.execute(cur, "INSERT INTO hk_meta VALUES (?, ?)", (key, value))


def snapshot_tables(db: ViewDatabase, conn: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view, sorted, sealed columns opened: for comparing a live build
    with a rebuild (a value is sealed with a fresh nonce each time it is written)."""
    result = {}
    for table in TABLES:
        if table == "hk_tracking":
            continue
        cursor = conn.execute(f"SELECT * FROM {table}")
        columns = [d[0] for d in cursor.description]
        rows = [list(row) for row in cursor.fetchall()]
        for column in SEALED.get(table, ()):
            i = columns.index(column)
            for row in rows:
                row[i] = db.sealer.open(row[i], f"{table}.{column}:{row[0]}")
        result[table] = sorted(tuple(str(v) for v in row) for row in rows)
    return result

"""Questions over the portfolio, answered from the read views with set-based SQL.

Answers are plain dicts shaped as the public contract's responses (amounts as
``Decimal``; the HTTP adapter writes them as strings). As-of questions sum the
movement rows up to the date; only a single account's summary as of a past date
replays that one account.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import structlog

from huikuan.core import classes, decisions
from huikuan.core.account import CLASSES, STAGES, Account
from huikuan.core.clock import company_today
from huikuan.core.errors import InvalidCommand, NotFound
from huikuan.core.interest import charges
from huikuan.core.ledger import Ledger, event_data, master_answer, recorded
from huikuan.core.money import zero
from huikuan.core.plugin import CreditPosition
from huikuan.core.worklist import Asked, queue
from huikuan.projections import due_moves
from huikuan.projections.casefile import proposal, shown, shown_of
from huikuan.projections.customers import (
    MAX_LIMIT,
    CustomerFilter,
    decode_cursor,
    list_customers,
)
from huikuan.projections.db import ViewDatabase
from huikuan.projections.kpis import collector_results, money_by_stage
from huikuan.projections.sealing import SealBroken
from huikuan.projections.views import Projector, from_minor

log = structlog.get_logger("huikuan.projections")

BUCKETS = ("current", "1-30", "31-60", "61-90", "91-180", "181-365", "365+")
GROUPS = {
    "customer": "i.customer_id",
    "collector": "COALESCE(a.collector, '')",
    "currency": "i.currency",
    # The class on the date: the invoice's schedule (its last step on or before it), or
    # before its schedule starts (or without one) the class the cycle last recorded.
    "class": """COALESCE((SELECT s.class FROM hk_class_schedule s
                WHERE s.customer_id = i.customer_id AND s.invoice_id = i.invoice_id
                  AND s.from_on <= ? ORDER BY s.from_on DESC LIMIT 1),
               (SELECT c.class FROM hk_class_changes c
                WHERE c.customer_id = i.customer_id AND c.invoice_id = i.invoice_id
                  AND c.on_date <= ? ORDER BY c.on_date DESC, c.position DESC LIMIT 1),
               'not_due')""",
}


def bucket_of(due_on: date, as_of: date) -> str:
    """The aging bucket of an invoice due ``due_on`` on ``as_of`` (as the SQL's CASE)."""
    late = (as_of - due_on).days
    for bucket, upto in zip(BUCKETS[:-1], (0, 30, 60, 90, 180, 365), strict=True):
        if late <= upto:
            return bucket
    return BUCKETS[-1]


def _worst_class(found: list[str]) -> str:
    return max(found, key=CLASSES.index) if found else "not_due"


def _aging_answer(as_of: date, group_by: str,
                  found: Iterable[tuple[str, str, str, int]]) -> dict[str, Any]:
    """The aging answer from (group, currency, bucket, amount in minor units) rows."""
    # Summed as integers, made amounts once per cell: the rows may be thousands.
    cells: dict[tuple[str, str], dict[str, int]] = {}
    for group, currency, bucket, amount in found:
        cell = cells.setdefault((group, currency), dict.fromkeys(BUCKETS, 0))
        cell[bucket] += int(amount)
    rows: dict[tuple[str, str], dict[str, Decimal]] = {}
    totals: dict[str, dict[str, Decimal]] = {}
    for (group, currency), cell in cells.items():
        if not any(cell.values()):
            continue  # moved out whole (the due_moves route's class corrections)
        row = rows[(group, currency)] = {b: from_minor(v, currency) if v else zero(currency)
                                         for b, v in cell.items()}
        total = totals.setdefault(currency, dict.fromkeys(BUCKETS, zero(currency)))
        for bucket, value in row.items():
            total[bucket] += value
    return {
        "as_of": as_of,
        "group_by": group_by,
        "buckets": list(BUCKETS),
        "rows": [
            {"key": group, "currency": currency, **row, "total": sum(row.values())}
            for (group, currency), row in sorted(rows.items())
        ],
        "totals": [
            {"currency": currency, **total, "total": sum(total.values())}
            for currency, total in sorted(totals.items())
        ],
    }


class Views:
    """The read side: every query of the contract, over the projected tables."""

    def __init__(self, ledger: Ledger, projector: Projector | None = None,
                 today: Callable[[], date] | None = None):
        self.ledger = ledger
        self.projector = projector or Projector(ledger)
        # "Today" when a question names no date: the company's (the bootstrap passes the
        # one plugins.toml sets), never the server's date.
        self.today = today or (lambda: company_today({}))
        self.db: ViewDatabase = self.projector.db
        # The plugins' worklist answers for dates with no decided queue (core.worklist).
        self.asked = Asked()
        # A connection per thread: the API answers many reads at once.
        self._local = threading.local()
        self._connections: list[Any] = []
        self._connections_lock = threading.Lock()

    @property
    def conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self.db.connect()
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()

    def fresh(self) -> Views:
        """Bring the views up to every event recorded so far (read-your-writes)."""
        self.projector.catch_up()
        return self

    def accounts_due(self, as_of: date) -> tuple[list[UUID], int]:
        """For the daily cycle (its ReviewSchedule port): the accounts with a fact since
        their last review or a review date on or before ``as_of``, and how many
        accounts there are."""
        self.fresh()
        due = self._q("SELECT account_id FROM hk_accounts WHERE review_from <= ? "
                      "ORDER BY customer_id", (as_of.isoformat(),))
        total = self._q("SELECT COUNT(*) FROM hk_accounts")[0][0]
        return [UUID(row[0]) for row in due], int(total)

    def _q(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return self.db.query(self.conn, sql, params)

    def opened(self, value: str | None, where: str, customer_id: str,
               message_id: str | None = None) -> str | None:
        """The clear value of a personal column (``where``: ``"hk_accounts.name:C-1"``,
        sealed when a cipher key is set). One that does not open (changed by hand) is
        read from the account itself, of which the views are only a fold."""
        try:
            return self.db.sealer.open(value, where)
        except SealBroken:
            column = where.split(":", 1)[0]
            log.warning("projections.seal_broken", column=column, customer_id=customer_id)
            account = self.ledger.account(customer_id)
            source = account if message_id is None else account.messages[message_id]
            found: str | None = getattr(source, column.split(".")[1])
            return found

    def customer_names(self) -> dict[str, str]:
        """Every customer's name by id: what a search by name, or a list sorted by name,
        filters and sorts on in this process, since SQL cannot see sealed names. With a
        cipher key each name is opened once per process (about 2 µs) and then cached."""
        return {c: self.opened(n, f"hk_accounts.name:{c}", c) or ""
                for c, n in self._q("SELECT customer_id, name FROM hk_accounts")}

    def account_heads(self, customer_ids: Collection[str]) -> dict[str, dict[str, Any]]:
        """Name, stage and supply hold of the customers named (a worklist page's rows)."""
        found: dict[str, dict[str, Any]] = {}
        ids = list(customer_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            for c, n, stage, hold in self._q(
                    "SELECT customer_id, name, stage, supply_hold FROM hk_accounts "
                    f"WHERE customer_id IN ({marks})", tuple(chunk)):
                found[c] = {"customer_id": c, "stage": stage, "supply_hold": bool(hold),
                            "name": self.opened(n, f"hk_accounts.name:{c}", c) or ""}
        return found

    # ---- aging

    def aging(self, as_of: date, group_by: str = "customer") -> dict[str, Any]:
        if group_by not in GROUPS:
            msg = f"group_by is one of {', '.join(GROUPS)}"
            raise ValueError(msg)
        moved = self._q("SELECT MAX(on_date) FROM hk_movements")[0][0]
        classed = self._q("SELECT MAX(on_date) FROM hk_class_changes")[0][0]
        # No class recorded by a cycle after as_of: each invoice's class then is its
        # schedule's, or the one the cycle recorded last (core.classes).
        classes_known = classed is None or classed <= as_of.isoformat()
        if group_by in ("collector", "currency", "class"):
            path = "due_moves"  # open by due date as of any day, a few thousand rows
        elif moved is not None and moved > as_of.isoformat():
            path = "movements"  # money moved after as_of: sum what had moved by then
        elif group_by != "customer" and classes_known:
            path = "summary"  # open now is open then, and so are the classes
        else:
            path = "invoices"
        return self._aging(as_of, group_by, path)

    def _aging(self, as_of: date, group_by: str, path: str) -> dict[str, Any]:
        """Aging by one of four equivalent routes (tests compare them): summing the
        movements up to ``as_of`` (any date), the open invoice rows (when nothing has
        moved since), ``hk_open_by_due`` (nor been classified since; not per customer),
        or ``hk_due_moves`` (any date).
        """
        edges = [as_of - timedelta(days=d) for d in (0, 30, 60, 90, 180, 365)]
        case = "CASE " + " ".join(
            f"WHEN i.due_on >= ? THEN '{bucket}'" for bucket in BUCKETS[:-1]
        ) + " ELSE '365+' END"
        key = GROUPS[group_by]
        params: list[Any] = []
        if path == "due_moves" and group_by != "class":
            # Bucketed by the database: a few rows come back, not one per due date.
            return _aging_answer(as_of, group_by, due_moves.open_by_due_on(
                self.db, self.conn, as_of.isoformat(), group_by,
                case.replace("i.due_on", "due_on"), tuple(e.isoformat() for e in edges)))
        if path == "due_moves":
            found = due_moves.open_by_due_on(self.db, self.conn, as_of.isoformat(), "class")
            cells = [(classes.class_from_code(key, date.fromisoformat(due_on), as_of),
                      currency, bucket_of(date.fromisoformat(due_on), as_of), amount)
                     for key, currency, due_on, amount in found]
            return _aging_answer(as_of, group_by, cells + self._reclassed(as_of))
        if path == "summary" and group_by == "class":
            found = self._q("""SELECT class, currency, due_on, SUM(open_minor)
                FROM hk_open_by_due WHERE open_minor <> 0 GROUP BY 1, 2, 3""")
            return _aging_answer(as_of, group_by, [
                (classes.class_from_code(code, date.fromisoformat(due_on), as_of), currency,
                 bucket_of(date.fromisoformat(due_on), as_of), amount)
                for code, currency, due_on, amount in found])
        if path == "summary":
            key = {"collector": "i.collector", "currency": "i.currency"}[group_by]
            sql = f"""
                SELECT {key} AS key, i.currency, {case} AS bucket, SUM(i.open_minor)
                FROM hk_open_by_due i WHERE i.open_minor <> 0
                GROUP BY 1, 2, 3"""
            tail: list[Any] = []
        elif path == "invoices":
            sql = f"""
                SELECT {key} AS key, i.currency, {case} AS bucket, SUM(i.open_minor)
                FROM hk_invoices i JOIN hk_accounts a ON a.customer_id = i.customer_id
                WHERE i.open_minor <> 0
                GROUP BY 1, 2, 3"""
            tail = []
        else:
            sql = f"""
                SELECT key, currency, bucket, SUM(open_minor) FROM (
                    SELECT {key} AS key, i.currency AS currency, {case} AS bucket,
                           SUM(m.delta_minor) AS open_minor
                    FROM hk_movements m
                    JOIN hk_invoices i ON i.customer_id = m.customer_id
                                      AND i.invoice_id = m.invoice_id
                    JOIN hk_accounts a ON a.customer_id = i.customer_id
                    WHERE m.on_date <= ?
                    GROUP BY i.customer_id, i.invoice_id, i.currency, i.due_on, a.collector
                    HAVING SUM(m.delta_minor) <> 0
                ) t GROUP BY key, currency, bucket"""
            tail = [as_of.isoformat()]
        if group_by == "class":
            params += [as_of.isoformat(), as_of.isoformat()]
        params += [e.isoformat() for e in edges] + tail
        return _aging_answer(as_of, group_by, self._q(sql, tuple(params)))

    def _reclassed(self, as_of: date) -> list[tuple[str, str, str, int]]:
        """What :meth:`_aging`'s ``due_moves`` route counts under the wrong class on
        ``as_of``, moved to the right one: the invoices whose class then is not read off
        their key. Those are the ones a cycle classified after that day, and those whose
        schedule starts after it (one recorded when schedules came, or decided again
        from a later fact): before its schedule an invoice's class is the one the cycle
        last recorded (core.classes). Their money open on the day is read from their
        movements, so the cost follows them, not the portfolio."""
        day = as_of.isoformat()
        rows = self._q(f"""
            WITH later AS (
                SELECT customer_id, invoice_id FROM hk_class_changes WHERE on_date > ?
                UNION
                SELECT customer_id, invoice_id FROM hk_invoices
                WHERE schedule_from > ? AND issued_on <= ?)
            SELECT i.class_key, i.currency, i.due_on, {GROUPS["class"]}, SUM(m.delta_minor)
            FROM later l
            JOIN hk_invoices i ON i.customer_id = l.customer_id
                              AND i.invoice_id = l.invoice_id
            JOIN hk_movements m ON m.customer_id = i.customer_id
                               AND m.invoice_id = i.invoice_id
            WHERE m.on_date <= ?
            GROUP BY i.customer_id, i.invoice_id, i.class_key, i.currency, i.due_on
            HAVING SUM(m.delta_minor) <> 0""", (day, day, day, day, day, day))
        moved: list[tuple[str, str, str, int]] = []
        for key, currency, due_on, exact, amount in rows:
            due = date.fromisoformat(due_on)
            bucket = bucket_of(due, as_of)
            moved.append((classes.class_from_code(key, due, as_of), currency, bucket,
                          -int(amount)))
            moved.append((exact, currency, bucket, int(amount)))
        return moved

    # ---- the customer list

    @property
    def names_sealed(self) -> bool:
        """Whether ``hk_accounts.name`` holds sealed names (a cipher key is set): the
        list's ``q`` then matches names in this process, each shown by
        :meth:`reveal_name`."""
        return bool(self.db.sealer.sealing)

    def reveal_name(self, stored: str, customer_id: str) -> str:
        """A name as ``hk_accounts`` stores it, in clear."""
        return self.opened(stored, f"hk_accounts.name:{customer_id}", customer_id) or ""

    def customers(self, found: CustomerFilter, limit: int = 50,
                  cursor: str | None = None, today: date | None = None) -> dict[str, Any]:
        """A page of the customer list, in customer id order (projections.customers)."""
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidCommand(f"limit is 1 to {MAX_LIMIT}", field="limit")
        if found.stage is not None and found.stage not in STAGES:
            raise InvalidCommand(f"stage is one of {', '.join(STAGES)}", field="stage")
        if found.class_ is not None and found.class_ not in CLASSES:
            raise InvalidCommand(f"class is one of {', '.join(CLASSES)}", field="class")
        return list_customers(
            self._q, found, limit=limit, after=decode_cursor(cursor) if cursor else None,
            today=today or self.today(), names_sealed=self.names_sealed,
            reveal_name=self.reveal_name)

    # ---- one account

    def customer(self, customer_id: str, as_of: date | None = None,
                 today: date | None = None) -> dict[str, Any]:
        """The account summary: from the views now, or from its own events as of a date."""
        if as_of is not None:
            account = self.ledger.account_as_of(customer_id, as_of)
            return with_charges({**summary_of(account, as_of), **master_answer(account, as_of)},
                                charges(account, as_of))
        rows = self._q("SELECT name, currency, stage, supply_hold, risk_score, risk_grade, "
                       "risk_signals, unapplied_minor FROM hk_accounts WHERE customer_id = ?",
                       (customer_id,))
        if not rows:
            raise NotFound(f"no customer {customer_id!r}", field="customer_id")
        name, currency, stage, hold, score, grade, signals, unapplied = rows[0]
        name = self.opened(name, f"hk_accounts.name:{customer_id}", customer_id) or ""
        day = today or self.today()
        invoices = []
        for (invoice_id, amount, open_, due_on, disputed, class_, written_off, recovered,
             schedule, settled_on) in self._q(
            "SELECT invoice_id, amount_minor, open_minor, due_on, disputed_minor, class, "
            "written_off_minor, recovered_minor, schedule, settled_on "
            "FROM hk_invoices WHERE customer_id = ? ORDER BY due_on, invoice_id",
            (customer_id,),
        ):
            due = date.fromisoformat(due_on)
            steps = tuple((date.fromisoformat(on), cls)
                          for on, cls in json.loads(schedule)) if schedule else None
            invoices.append({
                "invoice_id": invoice_id, "amount": from_minor(amount, currency),
                "open_amount": from_minor(open_, currency), "due_on": due,
                "days_overdue": max(0, (day - due).days) if open_ > 0 else 0,
                "disputed_amount": from_minor(disputed, currency),
                "class": classes.class_of(
                    steps, class_, day,
                    date.fromisoformat(settled_on) if settled_on else None),
                "written_off": from_minor(written_off, currency),
                "recovered": from_minor(recovered, currency),
            })
        summary = _summary(customer_id, name, currency, invoices,
                           from_minor(unapplied, currency), stage, bool(hold),
                           {"score": score, "grade": grade, "signals": json.loads(signals)}, day)
        # The master data from the account itself: the read tables keep only what they
        # sort and filter on (no contacts, no address).
        return with_charges({**summary, **self.ledger.master_data(customer_id, on=day),
                             **self._case_file(customer_id, day)},
                            self.ledger.charges(customer_id, day))

    def _case_file(self, customer_id: str, day: date) -> dict[str, Any]:
        """The customer's dunning stops, cases, guarantees and costs per currency."""
        rows = self._q("SELECT pauses, cases, guarantees FROM hk_case_files "
                       "WHERE customer_id = ?", (customer_id,))
        pauses, cases, guarantees = ((json.loads(v) for v in rows[0]) if rows
                                     else ([], [], []))
        costs = {currency: (from_minor(int(total), currency), int(count))
                 for currency, total, count in self._q(
                     "SELECT currency, SUM(amount_minor), COUNT(*) FROM hk_costs "
                     "WHERE customer_id = ? GROUP BY currency", (customer_id,))}
        return shown(pauses, cases, guarantees, costs, day)

    def credit_position(self, customer_id: str) -> CreditPosition:
        """The figures a credit check rests on; the plugins decide
        (``huikuan.core.credit.credit_check``)."""
        rows = self._q("SELECT currency, credit_limit_minor, supply_hold, unapplied_minor, "
                       "risk_grade, credit_grade FROM hk_accounts WHERE customer_id = ?",
                       (customer_id,))
        if not rows:
            raise NotFound(f"no customer {customer_id!r}", field="customer_id")
        currency, limit_minor, hold, unapplied, risk_grade, credit_grade = rows[0]
        open_minor = self._q("SELECT COALESCE(SUM(open_minor), 0) FROM hk_invoices "
                             "WHERE customer_id = ?", (customer_id,))[0][0]
        return CreditPosition(
            customer_id=customer_id, currency=currency,
            exposure=from_minor(int(open_minor) - int(unapplied), currency),
            credit_limit=from_minor(limit_minor, currency) if limit_minor is not None else None,
            supply_hold=bool(hold), risk_grade=risk_grade, credit_grade=credit_grade)

    # ---- worklist

    def worklist_date(self, as_of: date | None, today: date) -> tuple[date, bool]:
        """The date a worklist question means (``as_of``, else the last cycle's, else
        ``today``), and whether these views hold the queue decided for it."""
        computed = self._q("SELECT value FROM hk_meta WHERE key = 'last_cycle'")
        cycle_date = date.fromisoformat(computed[0][0]) if computed else None
        day = as_of or cycle_date or today
        return day, day == cycle_date

    def worklist(self, collector: str | None, as_of: date | None = None,
                 limit: int | None = None) -> list[dict[str, Any]]:
        """The queue as decided, most urgent first; ``limit``: only its head.

        For the last cycle's date (the default) this is the queue the policy recorded.
        For another date it is each account's last recorded place with its overdue on
        that date: the views ask no plugin (``huikuan.core.worklist`` does, for adapters
        that want the plugins' answer for that date).
        """
        day, decided = self.worklist_date(as_of, self.today())
        where, params = ("WHERE collector = ?", (collector,)) if collector else ("", ())
        if decided:
            rows = self._q(
                "SELECT customer_id, priority, reasons, suggested_action, overdue_minor, "
                f"currency FROM hk_worklist {where} "
                "ORDER BY priority DESC, overdue_minor DESC, customer_id"
                + (f" LIMIT {int(limit)}" if limit else ""), params)
            return [{"customer_id": c, "priority": p, "reasons": json.loads(r),
                     "suggested_action": s, "overdue": from_minor(o, cur), "currency": cur}
                    for c, p, r, s, o, cur in rows]
        return queue(self.accounts_with_open_money(collector),
                     lambda account, view: decisions.worklist_priority(account, view, day),
                     day, limit)

    def open_account_versions(self, collector: str | None) -> list[tuple[UUID, int]]:
        """(account id, version) of the accounts (of ``collector``, or all) with an
        invoice still open, as these views hold them."""
        where, params = ("WHERE a.collector = ?", (collector,)) if collector else ("", ())
        rows = self._q(
            "SELECT account_id, version FROM hk_accounts a " + where
            + (" AND " if where else " WHERE ")
            + "EXISTS (SELECT 1 FROM hk_invoices i WHERE i.customer_id = a.customer_id "
              "AND i.open_minor > 0)", params)
        return [(UUID(account_id), int(version)) for account_id, version in rows]

    def accounts_by_id(self, ids: Iterable[UUID]) -> Iterator[Account]:
        """The accounts named, as they stand."""
        for account_id in ids:
            account: Account = self.ledger.get(account_id)
            yield account

    def accounts_with_open_money(self, collector: str | None) -> Iterator[Account]:
        """The accounts (of ``collector``, or all) with an invoice still open."""
        where, params = ("WHERE a.collector = ?", (collector,)) if collector else ("", ())
        accounts = self._q(
            "SELECT account_id FROM hk_accounts a " + where
            + (" AND " if where else " WHERE ")
            + "EXISTS (SELECT 1 FROM hk_invoices i WHERE i.customer_id = a.customer_id "
              "AND i.open_minor > 0)", params)
        for (account_id,) in accounts:
            account: Account = self.ledger.get(UUID(account_id))
            yield account

    # ---- messages

    def messages(self, customer_id: str | None = None,
                 status: str | None = None) -> list[dict[str, Any]]:
        clauses, params = [], []
        if customer_id:
            clauses.append("customer_id = ?")
            params.append(customer_id)
        if status:
            clauses.append("status = ?")
            params.append(status)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self._q("SELECT message_id, customer_id, kind, channel, status, created_on, "
                       f"subject FROM hk_messages {where} ORDER BY position",
                       tuple(params))
        return [{"message_id": m, "customer_id": c, "kind": k, "channel": ch, "status": s,
                 "created_on": date.fromisoformat(d),
                 "subject": self.opened(subj, f"hk_messages.subject:{m}", c, m)}
                for m, c, k, ch, s, d, subj in rows]

    def message(self, message_id: str) -> dict[str, Any]:
        rows = self._q("SELECT message_id, customer_id, kind, channel, status, created_on, "
                       "subject, body, recipient, attempts FROM hk_messages "
                       "WHERE message_id = ?", (message_id,))
        if not rows:
            raise NotFound(f"no message {message_id!r}", field="message_id")
        m, c, k, ch, s, d, subj, body, recipient, attempts = rows[0]
        subj, body, recipient = (self.opened(value, f"hk_messages.{column}:{m}", c, m)
                                 for value, column in ((subj, "subject"), (body, "body"),
                                                       (recipient, "recipient")))
        # The proof of delivery, from the account itself: rarely asked, one per message.
        account = self.ledger.account(c)
        delivery = account.demand_deliveries.get(m)
        found = {"message_id": m, "customer_id": c, "kind": k, "channel": ch, "status": s,
                 "created_on": date.fromisoformat(d), "subject": subj, "body": body,
                 "recipient": recipient, "attempts": attempts,
                 "delivery": dict(delivery) if delivery is not None else None}
        if k == "handoff_review":
            found["proposal"] = proposal(self.ledger, account, m)
        return found

    # ---- limitation

    def limitations(self, as_of: date, within_days: int) -> list[dict[str, Any]]:
        """Receivables whose limitation period ends within ``within_days`` of ``as_of``,
        and those whose period has already ended (``expired``): a claim past its
        deadline is still owed and may still be paid or acknowledged, so it is never
        left out. Soonest (or longest expired) first."""
        rows = self._q(
            "SELECT customer_id, invoice_id, currency, open_minor, limitation_deadline "
            "FROM hk_invoices WHERE open_minor > 0 AND limitation_deadline IS NOT NULL "
            "AND limitation_deadline <= ? ORDER BY limitation_deadline, customer_id, invoice_id",
            ((as_of + timedelta(days=within_days)).isoformat(),))
        found = []
        for c, i, cur, o, d in rows:
            deadline = date.fromisoformat(d)
            found.append({"customer_id": c, "invoice_id": i, "open_amount": from_minor(o, cur),
                          "currency": cur, "deadline": deadline, "expired": deadline < as_of})
        return found

    # ---- KPIs

    def receivables(self, as_of: date, not_due_only: bool = False) -> dict[str, Decimal]:
        """Open receivables per currency at the end of ``as_of`` (optionally not yet due),
        from ``hk_due_moves`` (a few thousand rows, not every movement)."""
        day = as_of.isoformat()
        found = dict.fromkeys(due_moves.currencies_moved(self.db, self.conn, day), 0)
        for _, currency, due_on, amount in due_moves.open_by_due_on(
                self.db, self.conn, day, "currency"):
            if not not_due_only or due_on >= day:
                found[currency] = found.get(currency, 0) + int(amount)
        return {c: from_minor(v, c) for c, v in found.items()}

    def kpis(self, start: date, end: date) -> dict[str, Any]:
        """DSO, best possible DSO, ADD, CEI and promise-kept rate for ``start``–``end``.

        The period is ``start`` to ``end`` inclusive (n days). AR(start) is what was
        open when the period began (the end of the day before); AR(end) at its end;
        credit sales are the invoices issued within it. Figures per currency.
        """
        days = (end - start).days + 1
        ar_begin = self.receivables(start - timedelta(days=1))
        ar_end = self.receivables(end)
        not_due_end = self.receivables(end, not_due_only=True)
        sales = {c: from_minor(int(v), c) for c, v in self._q(
            "SELECT currency, SUM(amount_minor) FROM hk_invoices WHERE issued_on >= ? "
            "AND issued_on <= ? GROUP BY currency", (start.isoformat(), end.isoformat()))}
        recovered = {c: from_minor(int(v), c) for c, v in self._q(
            "SELECT currency, SUM(delta_minor) FROM hk_recoveries WHERE on_date >= ? "
            "AND on_date <= ? GROUP BY currency", (start.isoformat(), end.isoformat()))}
        promises: dict[str, dict[str, int]] = {}
        for currency, status, count in self._q(
            "SELECT currency, status, COUNT(*) FROM hk_promises WHERE due_on >= ? AND "
            "due_on <= ? GROUP BY currency, status", (start.isoformat(), end.isoformat())):
            promises.setdefault(currency, {})[status] = int(count)
        staged = money_by_stage(self._q, start, end)
        result = []
        for currency in sorted(set(ar_begin) | set(ar_end) | set(sales) | set(promises)
                               | set(recovered) | set(staged)):
            z = zero(currency)
            ar_from, ar_to = ar_begin.get(currency, z), ar_end.get(currency, z)
            credit_sales, current = sales.get(currency, z), not_due_end.get(currency, z)
            kept = promises.get(currency, {}).get("kept", 0)
            broken = promises.get(currency, {}).get("broken", 0)
            dso = (ar_to / credit_sales * days) if credit_sales else None
            best = (current / credit_sales * days) if credit_sales else None
            collectable = ar_from + credit_sales - current
            result.append({
                "currency": currency,
                "dso": _round(dso), "best_possible_dso": _round(best),
                "add": _round(dso - best) if dso is not None and best is not None else None,
                "cei": _round((ar_from + credit_sales - ar_to) / collectable * 100)
                if collectable else None,
                "promise_kept_rate": _round(Decimal(kept) / (kept + broken) * 100)
                if kept + broken else None,
                "recovered": recovered.get(currency, z),
                "figures": {"days": days, "ar_from": ar_from, "ar_to": ar_to,
                            "credit_sales": credit_sales, "not_due_ar_to": current,
                            "promises_kept": kept, "promises_broken": broken,
                            "recovered": recovered.get(currency, z)},
                # Money received at each stage of the ladder, and what collecting it cost.
                "recovery_by_stage": staged.get(currency, {}).get("recovery_by_stage", {}),
                "collection_cost": staged.get(currency, {}).get("collection_cost"),
            })
        return {"from": start, "to": end, "currencies": result}

    def collector_kpis(self, start: date, end: date) -> dict[str, Any]:
        """Each collector's results for ``start``–``end`` (projections.kpis)."""
        return collector_results(self._q, start, end)

    # ---- the event feed

    def events(self, after: int = 0, limit: int = 100,
               hidden: Collection[str] = ()) -> dict[str, Any]:
        """The global feed from ``after``: ``limit`` events, leaving out the topics in
        ``hidden`` (the key ring's, to any key but an admin's); ``next`` moves past what
        was left out too, so a page is short only at the end of the store."""
        customers = dict(self._q("SELECT account_id, customer_id FROM hk_accounts"))
        items: list[dict[str, Any]] = []
        position = after
        while len(items) < limit:
            rows = self.ledger.recorder.select_notifications(
                start=position, limit=limit - len(items), inclusive_of_start=False)
            if not rows:
                break
            for row in rows:
                position = row.id
                if row.topic in hidden:
                    continue
                event = self.ledger.mapper.to_domain_event(row)
                items.append({
                    "id": row.id, "customer_id": customers.get(str(row.originator_id)),
                    "type": type(event).__name__, "topic": row.topic,
                    "version": row.originator_version,
                    "occurred_on": getattr(event, "occurred_on", None),
                    "recorded_at": getattr(event, "timestamp", None),
                    "data": {k: v for k, v in event_data(event).items()
                             if k not in SECRET_FIELDS},
                    **recorded(event),
                })
        return {"events": items, "next": position}


SECRET_FIELDS = frozenset({"key_hash", "password_hash"})
"""Fields no feed shows to anyone: a key's or a password's hash is needed only to check
it."""


def _round(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"))


def with_charges(answer: dict[str, Any], owed: dict[str, Any]) -> dict[str, Any]:
    """The customer answer with its interest and fees (core.interest.charges): the totals,
    the fees one by one, and each invoice's interest beside its principal."""
    per_invoice = owed["invoice_interest"]
    zero_ = zero(answer["currency"])
    invoices = [{**i, "interest": per_invoice.get(i["invoice_id"], zero_)}
                for i in answer["invoices"]]
    return {**answer, "invoices": invoices, "interest": owed["interest"],
            "fees": owed["fees"], "fees_detail": owed["fees_detail"]}


def summary_of(account: Account, as_of: date) -> dict[str, Any]:
    """The account summary of an account object, with days counted to ``as_of``."""
    none = zero(account.currency)  # written with the currency's places
    invoices = [
        {"invoice_id": i.invoice_id, "amount": i.amount, "open_amount": i.open_amount,
         "due_on": i.due_on,
         "days_overdue": Account.days_overdue(i, as_of) if i.open_amount > 0 else 0,
         "disputed_amount": account.disputed_amount(i),
         "class": classes.class_of(classes.steps_of(i.class_steps), i.class_, as_of,
                                   i.settled_on()),
         "written_off": i.written_off + none, "recovered": i.recovered + none}
        for i in sorted(account.invoices.values(), key=lambda i: (i.due_on, i.invoice_id))
    ]
    risk = {"score": account.risk["score"], "grade": account.risk["grade"],
            "signals": list(account.risk["signals"])}
    summary = _summary(account.customer_id, account.name, account.currency, invoices,
                       account.unapplied_credit, account.stage, account.supply_hold, risk,
                       as_of)
    return {**summary, **shown_of(account, as_of)}


def _summary(customer_id: str, name: str, currency: str, invoices: list[dict[str, Any]],
             unapplied: Decimal, stage: str, hold: bool, risk: dict[str, Any],
             day: date) -> dict[str, Any]:
    z = zero(currency)
    return {
        "customer_id": customer_id, "name": name, "currency": currency,
        "outstanding": sum((i["open_amount"] for i in invoices), z),
        "overdue": sum((i["open_amount"] for i in invoices if i["due_on"] < day), z),
        "disputed": sum((i["disputed_amount"] for i in invoices), z),
        "unapplied_credit": unapplied,
        "class": _worst_class([i["class"] for i in invoices if i["open_amount"] > 0]),
        "stage": stage, "supply_hold": hold, "risk": risk, "invoices": invoices,
        "recovered": sum((i["recovered"] for i in invoices), z),
    }

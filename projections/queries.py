"""Questions over the portfolio, answered from the read views with set-based SQL.

Answers are plain dicts shaped as the public contract's responses (amounts as
``Decimal``; the HTTP adapter writes them as strings). As-of questions sum the
movement rows up to the date; only a single account's summary as of a past date
replays that one account.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import structlog

from huikuan.core import decisions
from huikuan.core.account import CLASSES, Account
from huikuan.core.clock import company_today
from huikuan.core.errors import NotFound
from huikuan.core.ledger import Ledger, event_data
from huikuan.core.money import zero
from huikuan.core.plugin import CreditPosition
from huikuan.core.worklist import queue
from huikuan.projections.db import ViewDatabase
from huikuan.projections.sealing import SealBroken
from huikuan.projections.views import Projector, from_minor

log = structlog.get_logger("huikuan.projections")

BUCKETS = ("current", "1-30", "31-60", "61-90", "91-180", "181-365", "365+")
GROUPS = {
    "customer": "i.customer_id",
    "collector": "COALESCE(a.collector, '')",
    "currency": "i.currency",
    "class": """COALESCE((SELECT c.class FROM hk_class_changes c
                WHERE c.customer_id = i.customer_id AND c.invoice_id = i.invoice_id
                  AND c.on_date <= ? ORDER BY c.on_date DESC, c.position DESC LIMIT 1),
               'not_due')""",
}


def _worst_class(classes: list[str]) -> str:
    return max(classes, key=CLASSES.index) if classes else "not_due"


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

    # ---- aging

    def aging(self, as_of: date, group_by: str = "customer") -> dict[str, Any]:
        if group_by not in GROUPS:
            msg = f"group_by is one of {', '.join(GROUPS)}"
            raise ValueError(msg)
        moved = self._q("SELECT MAX(on_date) FROM hk_movements")[0][0]
        classed = self._q("SELECT MAX(on_date) FROM hk_class_changes")[0][0]
        if moved is not None and moved > as_of.isoformat():
            path = "movements"  # money moved after as_of: sum what had moved by then
        elif group_by != "customer" and (classed is None or classed <= as_of.isoformat()):
            path = "summary"  # open now is open then, and so are the classes
        else:
            path = "invoices"
        return self._aging(as_of, group_by, path)

    def _aging(self, as_of: date, group_by: str, path: str) -> dict[str, Any]:
        """Aging by one of three equivalent routes (tests compare them): summing the
        movements up to ``as_of`` (any date), the open invoice rows (when nothing has
        moved since), or ``hk_open_by_due`` (nor been classified since; not per customer).
        """
        edges = [as_of - timedelta(days=d) for d in (0, 30, 60, 90, 180, 365)]
        case = "CASE " + " ".join(
            f"WHEN i.due_on >= ? THEN '{bucket}'" for bucket in BUCKETS[:-1]
        ) + " ELSE '365+' END"
        key = GROUPS[group_by]
        params: list[Any] = []
        if path == "summary":
            key = {"collector": "i.collector", "currency": "i.currency",
                   "class": "i.class"}[group_by]
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
        if group_by == "class" and path != "summary":
            params.append(as_of.isoformat())
        params += [e.isoformat() for e in edges] + tail
        rows: dict[tuple[str, str], dict[str, Decimal]] = {}
        totals: dict[str, dict[str, Decimal]] = {}
        for group, currency, bucket, amount in self._q(sql, tuple(params)):
            value = from_minor(int(amount), currency)
            row = rows.setdefault((group, currency), dict.fromkeys(BUCKETS, zero(currency)))
            row[bucket] += value
            total = totals.setdefault(currency, dict.fromkeys(BUCKETS, zero(currency)))
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

    # ---- one account

    def customer(self, customer_id: str, as_of: date | None = None,
                 today: date | None = None) -> dict[str, Any]:
        """The account summary: from the views now, or from its own events as of a date."""
        if as_of is not None:
            return summary_of(self.ledger.account_as_of(customer_id, as_of), as_of)
        rows = self._q("SELECT name, currency, stage, supply_hold, risk_score, risk_grade, "
                       "risk_signals, unapplied_minor FROM hk_accounts WHERE customer_id = ?",
                       (customer_id,))
        if not rows:
            raise NotFound(f"no customer {customer_id!r}", field="customer_id")
        name, currency, stage, hold, score, grade, signals, unapplied = rows[0]
        name = self.opened(name, f"hk_accounts.name:{customer_id}", customer_id) or ""
        day = today or self.today()
        invoices = []
        for invoice_id, amount, open_, due_on, disputed, class_ in self._q(
            "SELECT invoice_id, amount_minor, open_minor, due_on, disputed_minor, class "
            "FROM hk_invoices WHERE customer_id = ? ORDER BY due_on, invoice_id",
            (customer_id,),
        ):
            due = date.fromisoformat(due_on)
            invoices.append({
                "invoice_id": invoice_id, "amount": from_minor(amount, currency),
                "open_amount": from_minor(open_, currency), "due_on": due,
                "days_overdue": max(0, (day - due).days) if open_ > 0 else 0,
                "disputed_amount": from_minor(disputed, currency), "class": class_,
            })
        return _summary(customer_id, name, currency, invoices, from_minor(unapplied, currency),
                        stage, bool(hold), {"score": score, "grade": grade,
                                            "signals": json.loads(signals)}, day)

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
        delivery = self.ledger.account(c).demand_deliveries.get(m)
        return {"message_id": m, "customer_id": c, "kind": k, "channel": ch, "status": s,
                "created_on": date.fromisoformat(d), "subject": subj, "body": body,
                "recipient": recipient, "attempts": attempts,
                "delivery": dict(delivery) if delivery is not None else None}

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
        """Open receivables per currency at the end of ``as_of`` (optionally not yet due)."""
        extra = " AND i.due_on >= ?" if not_due_only else ""
        params = (as_of.isoformat(), as_of.isoformat()) if not_due_only else (as_of.isoformat(),)
        rows = self._q(
            "SELECT i.currency, SUM(m.delta_minor) FROM hk_movements m JOIN hk_invoices i "
            "ON i.customer_id = m.customer_id AND i.invoice_id = m.invoice_id "
            f"WHERE m.on_date <= ?{extra} GROUP BY i.currency", params)
        return {c: from_minor(int(v), c) for c, v in rows}

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
        promises: dict[str, dict[str, int]] = {}
        for currency, status, count in self._q(
            "SELECT currency, status, COUNT(*) FROM hk_promises WHERE due_on >= ? AND "
            "due_on <= ? GROUP BY currency, status", (start.isoformat(), end.isoformat())):
            promises.setdefault(currency, {})[status] = int(count)
        result = []
        for currency in sorted(set(ar_begin) | set(ar_end) | set(sales) | set(promises)):
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
                "figures": {"days": days, "ar_from": ar_from, "ar_to": ar_to,
                            "credit_sales": credit_sales, "not_due_ar_to": current,
                            "promises_kept": kept, "promises_broken": broken},
            })
        return {"from": start, "to": end, "currencies": result}

    # ---- the event feed

    def events(self, after: int = 0, limit: int = 100) -> dict[str, Any]:
        rows = self.ledger.recorder.select_notifications(
            start=after, limit=limit, inclusive_of_start=False)
        customers = dict(self._q("SELECT account_id, customer_id FROM hk_accounts"))
        items = []
        for row in rows:
            event = self.ledger.mapper.to_domain_event(row)
            data = event_data(event)
            items.append({
                "id": row.id, "customer_id": customers.get(str(row.originator_id)),
                "type": type(event).__name__, "topic": row.topic,
                "version": row.originator_version,
                "occurred_on": getattr(event, "occurred_on", None),
                "recorded_at": getattr(event, "timestamp", None), "data": data,
            })
        return {"events": items, "next": rows[-1].id if rows else after}


def _round(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"))


def summary_of(account: Account, as_of: date) -> dict[str, Any]:
    """The account summary of an account object, with days counted to ``as_of``."""
    invoices = [
        {"invoice_id": i.invoice_id, "amount": i.amount, "open_amount": i.open_amount,
         "due_on": i.due_on,
         "days_overdue": Account.days_overdue(i, as_of) if i.open_amount > 0 else 0,
         "disputed_amount": account.disputed_amount(i), "class": i.class_}
        for i in sorted(account.invoices.values(), key=lambda i: (i.due_on, i.invoice_id))
    ]
    risk = {"score": account.risk["score"], "grade": account.risk["grade"],
            "signals": list(account.risk["signals"])}
    return _summary(account.customer_id, account.name, account.currency, invoices,
                    account.unapplied_credit, account.stage, account.supply_hold, risk, as_of)


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
    }

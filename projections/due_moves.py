"""``hk_due_moves``: open money by due date, split by the day it moved (账龄 on any date).

``hk_open_by_due`` answers today's aging in a few thousand rows. This table is the same
sums split by the business date each part moved: a row per collector, currency, class
key, due date *and* movement date, holding the sum of the movements of the invoices under
that key on that date. Summed over every movement date a key's rows give its
``hk_open_by_due`` row; summed up to a date they give what was open at the end of it. So
aging by collector, currency or class as of any date reads rows of the dates wanted (or
today's figures less the days since), not every invoice's movements: at a million
invoices, some tens of thousands of rows whatever the date.

An invoice's key can change after its money moved: its customer's collector is
reassigned (aging groups by the collector the customer has now, as the per-invoice route
does), or its class schedule is recorded or replaced. The projector then moves the
invoice's earlier movements from the old key to the new one in the same transaction
(:func:`changes`), reading them from ``hk_movements``; that is rare, and costs what the
invoice moved.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from huikuan.projections.db import ViewDatabase

Key = tuple[str, str, str, str]  # collector, currency, class key, due date
Row = tuple[str, str, str, str, str]  # the key and the movement's date

DDL = [
    """CREATE TABLE IF NOT EXISTS hk_due_moves (
        collector TEXT NOT NULL, currency TEXT NOT NULL, class TEXT NOT NULL,
        due_on TEXT NOT NULL, on_date TEXT NOT NULL, delta_minor BIGINT NOT NULL,
        PRIMARY KEY (collector, currency, class, due_on, on_date))""",
    "CREATE INDEX IF NOT EXISTS hk_due_moves_date ON hk_due_moves (on_date)",
    # The day money in each currency first moved (the KPIs list a currency from then).
    """CREATE TABLE IF NOT EXISTS hk_currencies (
        currency TEXT PRIMARY KEY, first_on TEXT NOT NULL)""",
    # An invoice's own movements, for moving them to its new key.
    """CREATE INDEX IF NOT EXISTS hk_movements_invoice
        ON hk_movements (customer_id, invoice_id)""",
]


def keys_before(db: ViewDatabase, cur: Any,
                customers: list[str]) -> dict[tuple[str, str], Key]:
    """Every invoice's key as the views hold it now (before a batch rewrites them)."""
    found: dict[tuple[str, str], Key] = {}
    for start in range(0, len(customers), 500):
        chunk = customers[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        for customer, invoice, collector, currency, class_key, due_on in db.execute(
                cur, f"""SELECT i.customer_id, i.invoice_id, COALESCE(a.collector, ''),
                                i.currency, i.class_key, i.due_on
                         FROM hk_invoices i JOIN hk_accounts a ON a.customer_id = i.customer_id
                         WHERE i.customer_id IN ({marks})""", chunk).fetchall():
            found[(customer, invoice)] = (collector, currency, class_key, due_on)
    return found


def changes(db: ViewDatabase, cur: Any, before: dict[tuple[str, str], Key],
            after: dict[tuple[str, str], Key], collectors: dict[str, str],
            movements: Iterable[tuple[str, str, str, int, int]],
            up_to: int) -> dict[Row, int]:
    """What a batch adds to ``hk_due_moves``.

    ``before``: the keys of the touched customers' invoices before the batch; ``after``:
    the keys of the invoices it rewrote; ``collectors``: each touched customer's
    collector after it (an invoice not rewritten keeps its key but for the collector);
    ``movements``: the batch's new ``hk_movements`` rows; ``up_to``: the last position
    before the batch (the movements an invoice had before it)."""
    added: dict[Row, int] = {}

    def key_now(ref: tuple[str, str]) -> Key | None:
        if ref in after:
            return after[ref]
        old = before.get(ref)
        if old is None:
            return None
        return (collectors.get(ref[0], old[0]), *old[1:])

    moved: dict[tuple[str, str], tuple[Key, Key]] = {}
    for ref, old in before.items():
        new = key_now(ref)
        if new is not None and new != old:
            moved[ref] = (old, new)
    by_customer: dict[str, set[str]] = {}
    for customer, invoice in moved:
        by_customer.setdefault(customer, set()).add(invoice)
    customers = sorted(by_customer)
    for start in range(0, len(customers), 500):
        chunk = customers[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        for customer, invoice, on_date, delta in db.execute(
                cur, f"""SELECT customer_id, invoice_id, on_date, SUM(delta_minor)
                         FROM hk_movements WHERE customer_id IN ({marks}) AND position <= ?
                         GROUP BY customer_id, invoice_id, on_date""",
                [*chunk, up_to]).fetchall():
            if invoice not in by_customer[customer]:
                continue
            old, new = moved[(customer, invoice)]
            _add(added, (*old, on_date), -int(delta))
            _add(added, (*new, on_date), int(delta))
    for customer, invoice, on_date, delta, _position in movements:
        key = key_now((customer, invoice))
        if key is None:  # a movement is always of an invoice the batch rewrote
            msg = f"no key for the movement of {customer}/{invoice}"
            raise LookupError(msg)
        _add(added, (*key, on_date), delta)
    # Rows that add nothing stay in the answer: they say money in a currency moved then.
    return added


def _add(added: dict[Row, int], row: Row, delta: int) -> None:
    added[row] = added.get(row, 0) + delta


def write(db: ViewDatabase, cur: Any, added: dict[Row, int]) -> None:
    """Add a batch's changes (from :func:`changes`) to ``hk_due_moves``, and the days
    its money moved to ``hk_currencies``."""
    first: dict[str, str] = {}
    for _, currency, _, _, on_date in added:
        first[currency] = min(first.get(currency, on_date), on_date)
    db.executemany(cur, """INSERT INTO hk_currencies VALUES (?, ?)
        ON CONFLICT (currency) DO UPDATE SET first_on = excluded.first_on
        WHERE excluded.first_on < hk_currencies.first_on""", list(first.items()))
    rows = [(*row, delta) for row, delta in added.items() if delta]
    db.executemany(cur, """INSERT INTO hk_due_moves VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (collector, currency, class, due_on, on_date)
        DO UPDATE SET delta_minor = hk_due_moves.delta_minor + excluded.delta_minor""", rows)
    db.executemany(cur, "DELETE FROM hk_due_moves WHERE collector = ? AND currency = ? "
                   "AND class = ? AND due_on = ? AND on_date = ? AND delta_minor = 0",
                   [row[:5] for row in rows])


def open_by_due_on(db: ViewDatabase, conn: Any, as_of: str, group: str,
                   due: str = "due_on",
                   due_params: tuple[Any, ...] = ()) -> list[tuple[str, str, str, int]]:
    """(group, currency, ``due``, open at the end of ``as_of``) for ``group`` one of
    ``collector``, ``currency`` or ``class`` (the class key); ``due``: the due date, or
    an SQL expression of it with ``due_params`` (an aging bucket), so the database adds
    up the rows. Reads today's ``hk_open_by_due``, the rows up to the date, or today's
    figures less the rows after it, whichever reads fewer."""
    # Two queries: each is one step down the date index (asked together, SQLite reads
    # the whole index).
    first = db.query(conn, "SELECT MIN(on_date) FROM hk_due_moves")[0][0]
    last = db.query(conn, "SELECT MAX(on_date) FROM hk_due_moves")[0][0]
    if first is None:
        return []
    now = f"SELECT {group} AS g, currency, due_on, open_minor AS amount FROM hk_open_by_due"
    rows: str
    params: tuple[Any, ...]
    if as_of >= last:
        rows, params = now, ()
    elif _days(as_of, first) < _days(last, as_of):
        rows = (f"SELECT {group} AS g, currency, due_on, delta_minor AS amount "
                "FROM hk_due_moves WHERE on_date <= ?")
        params = (as_of,)
    else:
        rows = (f"{now} UNION ALL SELECT {group} AS g, currency, due_on, "
                "-delta_minor AS amount FROM hk_due_moves WHERE on_date > ?")
        params = (as_of,)
    sql = f"""SELECT g, currency, {due}, SUM(amount) FROM ({rows}) t
              GROUP BY 1, 2, 3 HAVING SUM(amount) <> 0"""
    return [tuple(r) for r in db.query(conn, sql, (*due_params, *params))]


def currencies_moved(db: ViewDatabase, conn: Any, as_of: str) -> set[str]:
    """The currencies in which money had moved by the end of ``as_of``."""
    return {c for (c,) in db.query(conn, "SELECT currency FROM hk_currencies "
                                   "WHERE first_on <= ?", (as_of,))}


def _days(later: str, earlier: str) -> int:
    from datetime import date

    return (date.fromisoformat(later) - date.fromisoformat(earlier)).days

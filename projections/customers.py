"""The customer list (客户列表): find customers by id or name, collector, stage, class or
hold, a page at a time, from the read tables.

Pages follow ``customer_id`` (keyset paging): the cursor is the last id a page gave, so
paging on while customers are registered or changed never repeats a row and never skips
one that existed throughout, however deep the page. Each query reads one index range of
``hk_accounts`` and the open invoice rows of the page's customers only (for what they
owe and what is overdue today), never an account's events.

``q`` matches a fragment of the customer id or the name, ignoring case (Chinese has none).
When the read tables hold names sealed (``Views.names_sealed``, with a cipher key set),
the database cannot look inside them: the name is then matched here, each row's name
revealed in turn, reading the rows in id order until the page is full. That costs one
reveal per row read, so a rare fragment reads up to every row after the cursor.

The class is that of ``GET /customers/{id}`` on the same day: the worst class, on that
day, of the open invoices, each read off its class schedule (core.classes) — a date's
answer, so it is worked out for the rows read, never kept in a column that a day
passing would make wrong. Filtering by ``class`` is therefore matched here too, reading
rows in id order as for sealed names.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from huikuan.core import classes
from huikuan.core.account import CLASSES
from huikuan.core.commands import ID_PATTERN
from huikuan.core.errors import InvalidCommand
from huikuan.projections.views import from_minor

MAX_LIMIT = 500
# Rows read at a time when the names are matched here rather than by the database.
SCAN_BATCH = 1000


@dataclass(frozen=True)
class CustomerFilter:
    """What a customer list is narrowed to; None (or empty ``q``): not narrowed."""

    q: str | None = None
    collector: str | None = None
    stage: str | None = None
    class_: str | None = None
    hold: bool | None = None


def encode_cursor(customer_id: str) -> str:
    """The cursor after ``customer_id``: opaque to clients, stable across writes."""
    return base64.urlsafe_b64encode(f"c:{customer_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The customer id a cursor continues after; 422 on ``cursor`` for anything else."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.startswith("c:") or not re.fullmatch(ID_PATTERN, text[2:]):
        raise InvalidCommand("not a cursor this list gave", field="cursor")
    return text[2:]


def _like(fragment: str) -> str:
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def list_customers(
    query: Callable[[str, tuple[Any, ...]], list[Any]], found: CustomerFilter, *,
    limit: int, after: str | None, today: date, names_sealed: bool = False,
    reveal_name: Callable[[str, str], str] = lambda stored, _: stored,
) -> dict[str, Any]:
    """One page of customers after ``after`` (a customer id), with ``next``, the cursor
    of the page after it (None at the end). ``query`` runs SQL on the read tables."""
    clauses: list[str] = ["customer_id > ?"]
    params: list[Any] = []
    for column, value in (("collector", found.collector), ("stage", found.stage)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if found.hold is not None:
        clauses.append("supply_hold = ?")
        params.append(int(found.hold))
    fragment = (found.q or "").strip().lower()
    if fragment and not names_sealed:
        clauses.append("(LOWER(customer_id) LIKE ? ESCAPE '\\' OR LOWER(name) LIKE ? ESCAPE '\\')")
        params += [_like(fragment)] * 2
    # Sealed names and classes are matched here, so more rows than the page may be read.
    names_here = bool(fragment) and names_sealed
    matching_here = names_here or found.class_ is not None
    batch = max(limit + 1, SCAN_BATCH) if matching_here else limit + 1
    sql = ("SELECT customer_id, name, currency, collector, stage, risk_grade, "
           f"supply_hold FROM hk_accounts WHERE {' AND '.join(clauses)} "
           f"ORDER BY customer_id LIMIT {int(batch)}")
    page: list[tuple[Any, ...]] = []
    position = after or ""
    while len(page) <= limit:
        rows = query(sql, (position, *params))
        worst = worst_classes(query, [r[0] for r in rows], today) if rows else {}
        for row in rows:
            name = reveal_name(row[1], row[0])
            if names_here and fragment not in row[0].lower() and fragment not in name.lower():
                continue
            class_ = worst.get(row[0], "not_due")
            if found.class_ is not None and class_ != found.class_:
                continue
            customer_id, _, currency, collector, stage, grade, hold = row
            page.append((customer_id, name, currency, collector, stage, class_, grade, hold))
            if len(page) > limit:
                break
        if len(rows) < batch:
            break
        position = rows[-1][0]
    more = len(page) > limit
    page = page[:limit]
    owed = _owed(query, [row[0] for row in page], today)
    customers = []
    for customer_id, name, currency, collector, stage, class_, grade, hold in page:
        outstanding, overdue = owed.get(customer_id, (0, 0))
        customers.append({
            "customer_id": customer_id, "name": name, "currency": currency,
            "collector": collector, "outstanding": from_minor(outstanding, currency),
            "overdue": from_minor(overdue, currency), "stage": stage, "class": class_,
            "risk_grade": grade, "supply_hold": bool(hold),
        })
    return {"customers": customers,
            "next": encode_cursor(page[-1][0]) if more and page else None}


def _owed(query: Callable[[str, tuple[Any, ...]], list[Any]], customer_ids: list[str],
          today: date) -> dict[str, tuple[int, int]]:
    """What each customer owes and how much of it is overdue ``today``, in minor units:
    as ``GET /customers/{id}`` counts them (due before today is overdue)."""
    if not customer_ids:
        return {}
    marks = ", ".join("?" * len(customer_ids))
    rows = query(
        "SELECT customer_id, SUM(open_minor), "
        "SUM(CASE WHEN due_on < ? THEN open_minor ELSE 0 END) FROM hk_invoices "
        f"WHERE customer_id IN ({marks}) AND open_minor <> 0 GROUP BY customer_id",
        (today.isoformat(), *customer_ids))
    return {c: (int(total), int(overdue)) for c, total, overdue in rows}


def worst_classes(query: Callable[[str, tuple[Any, ...]], list[Any]],
                  customer_ids: list[str], today: date) -> dict[str, str]:
    """The worst class on ``today`` of each customer's open invoices, as the customer's
    own view gives it (customers with none open are left out: ``not_due``)."""
    marks = ", ".join("?" * len(customer_ids))
    worst: dict[str, str] = {}
    for customer_id, legacy, schedule, settled_on in query(
        "SELECT customer_id, class, schedule, settled_on FROM hk_invoices "
        f"WHERE customer_id IN ({marks}) AND open_minor > 0", tuple(customer_ids)):
        steps = tuple((date.fromisoformat(on), cls)
                      for on, cls in json.loads(schedule)) if schedule else None
        found = classes.class_of(steps, legacy, today,
                                 date.fromisoformat(settled_on) if settled_on else None)
        if customer_id not in worst or CLASSES.index(found) > CLASSES.index(worst[customer_id]):
            worst[customer_id] = found
    return worst

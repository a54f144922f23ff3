"""Each collector's results (催收员业绩) and money received by stage, from ``hk_results``.

A row is written for each fact that counts toward a collector's results, with the
account's collector and escalation stage *as they stood when it was recorded*, so a
reassignment later does not move past results to the new collector:

- ``payment``: a payment received (its whole amount, on ``received_on``);
- ``bounce``: a payment that failed, dated ``bounced_on``, counted against the
  collector and stage of the payment it undoes (``ref`` is the payment's id);
- ``contact``: a contact logged (the collector it names, else the account's);
- ``promise_made``, ``promise_kept``, ``promise_broken``: kept and broken count for
  the collector the promise was made with (``ref`` is the promise's id).

The contract's figures (``GET /v1/kpis/collectors``): for a period, per collector and
currency, ``recovered`` (payments less bounces in the period), ``accounts`` (the
accounts assigned to the collector now, in that currency), ``contacts``,
``promises_made``, ``promises_kept``, ``promises_broken``, ``cost`` (collection costs
recorded in the period, ``hk_costs``, in their own currency) and ``cost_per_recovered``
(cost ÷ recovered in the same currency; null when nothing was recovered).
``GET /v1/kpis`` adds ``recovery_by_stage`` (what was received at each stage) and
``collection_cost`` (cost ÷ recovered) per currency.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from huikuan.core.account import Account
from huikuan.core.money import minor_units

Query = Callable[[str, tuple[Any, ...]], list[Any]]

def result_row(account: Account, event: Any, position: int) -> tuple[Any, ...] | None:
    """The ``hk_results`` row of ``event`` (None for an event that counts for no one),
    with ``account`` as it stood just before it."""
    currency, collector, stage = account.currency, account.collector, account.stage

    def row(kind: str, ref: str, on: date, amount: Decimal = Decimal(0),
            who: str | None = collector) -> tuple[Any, ...]:
        minor = int(amount.scaleb(minor_units(currency)))
        return (account.customer_id, kind, ref, on.isoformat(), who, stage, currency, minor,
                position)

    if isinstance(event, Account.PaymentReceived):
        return row("payment", event.payment_id, event.received_on, event.amount)
    if isinstance(event, Account.PaymentBounced):
        amount = account.payments[event.payment_id].amount
        return row("bounce", event.payment_id, event.bounced_on, -amount)
    if isinstance(event, Account.ContactLogged):
        return row("contact", event.contact_id, event.contact_date,
                   who=event.collector or collector)
    if isinstance(event, Account.PromiseMade):
        return row("promise_made", event.promise_id, event.made_on, event.amount)
    if isinstance(event, Account.PromiseKept):
        return row("promise_kept", event.promise_id, event.decided_on)
    if isinstance(event, Account.PromiseBroken):
        return row("promise_broken", event.promise_id, event.decided_on)
    return None


def _attributed(query: Query, start: date, end: date) -> list[tuple[Any, ...]]:
    """(kind, collector, stage, currency, amount in minor units, customer) of the rows
    in the period, each bounce and promise outcome given the collector and stage of
    the payment or promise it belongs to."""
    rows = query(
        "SELECT r.kind, COALESCE(o.collector, r.collector), COALESCE(o.stage, r.stage), "
        "r.currency, r.amount_minor, r.customer_id FROM hk_results r "
        "LEFT JOIN hk_results o ON o.customer_id = r.customer_id AND o.ref = r.ref AND "
        "o.kind = CASE r.kind WHEN 'bounce' THEN 'payment' "
        "WHEN 'promise_kept' THEN 'promise_made' WHEN 'promise_broken' THEN 'promise_made' "
        "ELSE '' END "
        "WHERE r.on_date >= ? AND r.on_date <= ?", (start.isoformat(), end.isoformat()))
    return [tuple(row) for row in rows]


def _money(minor: int, currency: str) -> Decimal:
    return Decimal(int(minor)).scaleb(-minor_units(currency))


def _ratio(cost: Decimal, recovered: Decimal) -> Decimal | None:
    return (cost / recovered).quantize(Decimal("0.0001")) if recovered > 0 else None


def collector_results(query: Query, start: date, end: date) -> dict[str, Any]:
    """``GET /v1/kpis/collectors``: per collector and currency, for ``start``–``end``."""
    figures: dict[tuple[str | None, str], dict[str, Any]] = {}

    def at(collector: str | None, currency: str) -> dict[str, Any]:
        return figures.setdefault((collector, currency), {
            "recovered": 0, "accounts": 0, "contacts": 0, "promises_made": 0,
            "promises_kept": 0, "promises_broken": 0, "cost": 0})

    for kind, collector, _stage, currency, minor, _customer in _attributed(query, start, end):
        found = at(collector, currency)
        if kind in ("payment", "bounce"):
            found["recovered"] += int(minor)
        elif kind == "contact":
            found["contacts"] += 1
        else:
            found[kind.replace("promise_", "promises_")] += 1
    for collector, currency, count in query(
            "SELECT collector, currency, COUNT(*) FROM hk_accounts "
            "GROUP BY collector, currency", ()):
        at(collector, currency)["accounts"] = int(count)
    for collector, currency, minor in query(
            "SELECT collector, currency, SUM(amount_minor) FROM hk_costs "
            "WHERE incurred_on >= ? AND incurred_on <= ? GROUP BY collector, currency",
            (start.isoformat(), end.isoformat())):
        at(collector, currency)["cost"] = int(minor)
    rows = []
    for (collector, currency), found in sorted(figures.items(),
                                               key=lambda item: (item[0][0] or "", item[0][1])):
        recovered = _money(found["recovered"], currency)
        cost = _money(found["cost"], currency)
        rows.append({"collector": collector, "currency": currency, **found,
                     "recovered": recovered, "cost": cost,
                     "cost_per_recovered": _ratio(cost, recovered)})
    return {"from": start, "to": end, "collectors": rows}


def money_by_stage(query: Query, start: date, end: date) -> dict[str, dict[str, Any]]:
    """Per currency: ``recovery_by_stage`` (received, less bounces, at each stage) and
    ``collection_cost`` (costs in the period ÷ what was received), for ``/v1/kpis``."""
    by_stage: dict[str, dict[str, int]] = {}
    for kind, _collector, stage, currency, minor, _customer in _attributed(query, start, end):
        if kind in ("payment", "bounce"):
            counted = by_stage.setdefault(currency, {})
            counted[stage] = counted.get(stage, 0) + int(minor)
    costs = {currency: int(minor) for currency, minor in query(
        "SELECT currency, SUM(amount_minor) FROM hk_costs WHERE incurred_on >= ? AND "
        "incurred_on <= ? GROUP BY currency", (start.isoformat(), end.isoformat()))}
    answer: dict[str, dict[str, Any]] = {}
    for currency in sorted(set(by_stage) | set(costs)):
        stages: dict[str, Decimal] = {
            s: _money(v, currency) for s, v in sorted(by_stage.get(currency, {}).items())}
        recovered = Decimal(sum(stages.values(), Decimal(0)))
        cost = _money(costs.get(currency, 0), currency)
        answer[currency] = {"recovery_by_stage": stages,
                            "collection_cost": _ratio(cost, recovered)}
    return answer

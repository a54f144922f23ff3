"""The read side: the views and one account's history, the event feed, the audit.

Every read first brings the views up to the latest event, so a client always reads
its own acknowledged writes. A query that names no date means today where the
company is (``[company] timezone``), not the server's date.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Request
from litestar.params import FromPath, QueryParameter

from huikuan.adapters.api import answers as a
from huikuan.adapters.api.access import KEY_KEEPERS, caller, services
from huikuan.adapters.api.routing import answer, operation
from huikuan.core import commands as c
from huikuan.core.access import KEYRING_TOPICS
from huikuan.core.account import account_id
from huikuan.core.audit import verify
from huikuan.core.clock import company_today
from huikuan.core.credit import credit_check as check_credit
from huikuan.core.errors import InvalidCommand
from huikuan.core.integrity import refused
from huikuan.core.money import plain_decimal
from huikuan.core.users import USERRING_TOPICS
from huikuan.core.vocabulary import MessageStatus
from huikuan.core.worklist import worklist as rank_worklist
from huikuan.projections.customers import MAX_LIMIT, CustomerFilter
from huikuan.projections.queries import Views


def _views(request: Request[Any, Any, Any]) -> Views:
    return services(request).views.fresh()


def _today(request: Request[Any, Any, Any]) -> date:
    return company_today(services(request).host.settings.sections)


def _date(value: str | None, name: str) -> date | None:
    # As a body's dates: YYYY-MM-DD only (not 20260101 or 2026-W01-1, which Python reads
    # too), within the business range, so no view's date arithmetic leaves the calendar.
    if value is None:
        return None
    try:
        return c.business_date(value)
    except ValueError as error:
        raise InvalidCommand(f"{name}: {error}", field=name) from None


def _vouched(request: Request[Any, Any, Any], customer_id: str) -> bool:
    """Whether the store holds the account, after the ledger's guard vouched for its
    stored events (409 tampered if they do not hold): the views are folded from them."""
    return bool(services(request).ledger.guard.vouch(account_id(customer_id),
                                                     f"customer {customer_id!r}"))


@operation("GET", "/customers/{customer_id:str}", "getCustomer", tag="views")
def customer_summary(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    as_of: Annotated[str | None, QueryParameter()] = None,
) -> a.CustomerSummary:
    """What the customer owes, how late, how risky; optionally as of a business date."""
    when = _date(as_of, "as_of")
    stored = _vouched(request, customer_id)
    summary = _views(request).customer(customer_id, when)
    if not stored:
        raise refused(f"customer {customer_id!r}", "its events are gone; the views still "
                      "hold what they were")
    return answer(a.CustomerSummary, summary)


@operation("GET", "/customers", "listCustomers", tag="views")
def customers(
    request: Request[Any, Any, Any],
    q: Annotated[str | None, QueryParameter(max_length=200)] = None,
    collector: Annotated[str | None, QueryParameter(max_length=200)] = None,
    stage: Annotated[str | None, QueryParameter()] = None,
    class_: Annotated[str | None, QueryParameter(name="class")] = None,
    hold: Annotated[bool | None, QueryParameter()] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, QueryParameter(max_length=400)] = None,
) -> a.CustomerList:
    """Find customers: by a fragment of the id or name (``q``, any case, Chinese too),
    collector, stage, class or supply hold; a page at a time in customer id order, each
    page's ``next`` the cursor of the one after (null at the end)."""
    found = CustomerFilter(q=q, collector=collector, stage=stage, class_=class_, hold=hold)
    return answer(a.CustomerList, _views(request).customers(found, limit, cursor,
                                                            _today(request)))


@operation("GET", "/customers/{customer_id:str}/history", "getCustomerHistory", tag="views")
def customer_history(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    as_of: Annotated[str | None, QueryParameter()] = None,
    recorded_by: Annotated[str | None, QueryParameter(max_length=200)] = None,
) -> a.CustomerHistory:
    """Every event of the account in order; with as_of, what had happened by then; with
    recorded_by (``key:<key_id>``, ``user:<name>``, ``cycle``…), what that one recorded."""
    ledger = services(request).ledger
    when = _date(as_of, "as_of")
    entries = ledger.history(customer_id, as_of=when, recorded_by=recorded_by)
    fields: dict[str, Any] = {
        "customer_id": customer_id,
        "events": [
            {"version": e.version, "type": e.type, "occurred_on": e.occurred_on,
             "recorded_at": e.recorded_at, "data": e.data,
             "recorded_by": e.recorded_by, "reason": e.reason}
            for e in entries
        ],
    }
    if when is not None:
        fields["balance_as_of"] = ledger.account_as_of(customer_id, when).balance
    return answer(a.CustomerHistory, fields)


@operation("GET", "/customers/{customer_id:str}/credit-check", "checkCredit", tag="views")
def credit_check(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    amount: Annotated[str, QueryParameter()],
) -> a.CreditCheck:
    """May we ship this much more? (前款不结，后货不送)"""
    # Read as a body's amount is (plain decimal notation, bounded before any sum), so
    # 1e999999999 is a 422, not an overflow.
    try:
        value = plain_decimal(amount)
    except ValueError as error:
        raise InvalidCommand(str(error), field="amount") from None
    if value < 0:
        raise InvalidCommand("amount must not be negative", field="amount")
    stored = _vouched(request, customer_id)
    decided = check_credit(_views(request), services(request).host, customer_id, value)
    if not stored:
        raise refused(f"customer {customer_id!r}", "its events are gone; the views still "
                      "hold what they were")
    return answer(a.CreditCheck, decided)


@operation("GET", "/aging", "getAging", tag="views")
def aging(
    request: Request[Any, Any, Any],
    as_of: Annotated[str | None, QueryParameter()] = None,
    group_by: Annotated[str, QueryParameter()] = "customer",
) -> a.Aging:
    """Receivables by age, per customer, collector, currency or class."""
    if group_by not in ("customer", "collector", "currency", "class"):
        raise InvalidCommand("group_by is customer, collector, currency or class", field="group_by")
    day = _date(as_of, "as_of") or _today(request)
    return answer(a.Aging, _views(request).aging(day, group_by))


@operation("GET", "/worklist", "getWorklist", tag="views")
def worklist(
    request: Request[Any, Any, Any],
    collector: Annotated[str | None, QueryParameter(max_length=200)] = None,
    as_of: Annotated[str | None, QueryParameter()] = None,
    limit: Annotated[int | None, QueryParameter(ge=1, le=100000)] = None,
) -> list[a.WorkItem]:
    """A collector's queue, most urgent first; ``limit`` returns only its head."""
    queue = rank_worklist(_views(request), services(request).host, collector,
                          _date(as_of, "as_of"), limit, _today(request))
    return [answer(a.WorkItem, item) for item in queue]


@operation("GET", "/messages", "listMessages", tag="views")
def messages(
    request: Request[Any, Any, Any],
    customer_id: Annotated[str | None, QueryParameter(pattern=c.ID_PATTERN)] = None,
    status: Annotated[MessageStatus | None, QueryParameter()] = None,
) -> list[a.MessageSummary]:
    """Letters, e-mails, texts and tasks the policy produced."""
    found = _views(request).messages(customer_id, status)
    return [answer(a.MessageSummary, message) for message in found]


@operation("GET", "/messages/{message_id:str}", "getMessage", tag="views")
def message(request: Request[Any, Any, Any], message_id: FromPath[str]) -> a.Message:
    """One message with its rendered body."""
    return answer(a.Message, _views(request).message(message_id))


@operation("GET", "/kpis", "getKpis", tag="views")
def kpis(
    request: Request[Any, Any, Any],
    from_: Annotated[str, QueryParameter(name="from")],
    to: Annotated[str, QueryParameter()],
) -> a.Kpis:
    """DSO, best possible DSO, CEI, ADD and promise-kept rate, per currency."""
    start, end = _date(from_, "from"), _date(to, "to")
    assert start is not None and end is not None
    if end < start:
        raise InvalidCommand("to is before from", field="to")
    return answer(a.Kpis, _views(request).kpis(start, end))


@operation("GET", "/kpis/collectors", "getCollectorKpis", tag="views")
def collector_kpis(
    request: Request[Any, Any, Any],
    from_: Annotated[str, QueryParameter(name="from")],
    to: Annotated[str, QueryParameter()],
) -> a.CollectorResults:
    """Each collector's results (催收员业绩): recovered, accounts, contacts, promises made,
    kept and broken, cost and cost per recovered, per currency."""
    start, end = _date(from_, "from"), _date(to, "to")
    assert start is not None and end is not None
    if end < start:
        raise InvalidCommand("to is before from", field="to")
    return answer(a.CollectorResults, _views(request).collector_kpis(start, end))


@operation("GET", "/limitations", "listLimitations", tag="views")
def limitations(
    request: Request[Any, Any, Any],
    as_of: Annotated[str | None, QueryParameter()] = None,
    within_days: Annotated[int, QueryParameter(ge=0, le=36500)] = 90,
) -> list[a.Limitation]:
    """Receivables whose limitation period ends within that many days, and those whose
    period has ended (``expired``: true), never left out."""
    day = _date(as_of, "as_of") or _today(request)
    return [answer(a.Limitation, row) for row in _views(request).limitations(day, within_days)]


@operation("GET", "/events", "listEvents", tag="views")
def events(
    request: Request[Any, Any, Any],
    after: Annotated[int, QueryParameter(ge=0, le=2**62)] = 0,
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
) -> a.EventFeed:
    """The global event feed, in order, with a cursor. The key ring's and the user
    ring's events are shown to admin keys alone (and to them without any hash)."""
    hidden = () if caller(request)[1] in KEY_KEEPERS else (*KEYRING_TOPICS, *USERRING_TOPICS)
    return answer(a.EventFeed, _views(request).events(after, limit, hidden))


@operation("GET", "/audit/verify", "verifyAudit", tag="audit")
def audit_verify(request: Request[Any, Any, Any]) -> a.AuditVerification:
    """Check every stored event against its hash chain, and the store against the
    latest anchor (``anchor``)."""
    ledger = services(request).ledger
    report = verify(ledger, ledger.guard.anchors)
    first = report.first_failure
    return answer(a.AuditVerification, {
        "ok": report.ok,
        "anchor": {"ok": report.anchor.ok, "taken_at": report.anchor.taken_at,
                   "sequence": report.anchor.sequence, "signed": report.anchor.signed},
        "events_checked": report.events_checked,
        "snapshots_checked": report.snapshots_checked,
        "heads_digest": report.heads_digest,
        "failures": report.failure_count,
        "first_failure": None
        if first is None
        else {
            "customer_id": first.customer_id,
            "originator_id": first.originator_id,
            "version": first.originator_version,
            "topic": first.topic,
            "reason": first.reason,
            "position": first.notification_id,
        },
    })


READS = [customers, customer_summary, customer_history, credit_check, aging, worklist, messages,
         message, kpis, collector_kpis, limitations, events, audit_verify]

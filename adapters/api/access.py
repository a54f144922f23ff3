"""Who may call what: the API key's role against one table of operations.

A request carries ``Authorization: Bearer <api-key>``, in exactly that form (the scheme
as written, one space, the key, nothing more). No key, another form, or a key that is
unknown, revoked or expired is a 401 whose detail says which; a working key whose role
may not call the operation is a 403. The key id (never the key) is bound to the
request's log line.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

import anyio.to_thread
import structlog
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from huikuan.core.access import ROLES, Caller, Refusal, identify
from huikuan.core.actor import MAX_REASON, Actor, acting
from huikuan.core.clock import company_today
from huikuan.core.errors import InvalidCommand

if TYPE_CHECKING:
    from huikuan.adapters.http import Services

EVERYONE: Final = frozenset(ROLES)
FACT_WRITERS: Final = EVERYONE - {"auditor"}
"""Record sales, invoices, deliveries, payments, credit notes (and read)."""
CASE_WRITERS: Final = FACT_WRITERS - {"integration"}
"""Also keep the case file: disputes, contacts, promises, plans, signals."""
MANAGERS: Final = frozenset({"admin", "manager"})
"""Also write off, run the collection cycle, override a credit refusal, hand a case off
and stop dunning for long."""
KEY_KEEPERS: Final = frozenset({"admin"})
"""Make, list and revoke API keys, and see the key ring's events."""

#: The role matrix: which roles may call each operation, by its operationId.
MAY: Final[dict[str, frozenset[str]]] = {
    # facts
    "registerCustomer": FACT_WRITERS,
    "issueInvoice": FACT_WRITERS,
    "confirmDelivery": FACT_WRITERS,
    "receivePayment": FACT_WRITERS,
    "bouncePayment": FACT_WRITERS,
    "issueCreditNote": FACT_WRITERS,
    "raiseDispute": CASE_WRITERS,
    "resolveDispute": CASE_WRITERS,
    "logContact": CASE_WRITERS,
    "makePromise": CASE_WRITERS,
    "agreePaymentPlan": CASE_WRITERS,
    "acknowledgeDebt": CASE_WRITERS,
    "reportRiskSignal": CASE_WRITERS,
    "writeOff": MANAGERS,
    "recordDemandDelivery": CASE_WRITERS,
    # a collector may change contacts and address only (MASTER_DATA_BY_ROLE)
    "changeCustomer": MANAGERS | {"collector"},
    # the case work: collectors keep the facts; a hand-off is a manager's decision, and
    # so is a dunning stop longer than [pauses] collector_max_days (checked in the route)
    "pauseDunning": CASE_WRITERS,
    "endPause": CASE_WRITERS,
    "handOff": MANAGERS,
    "updateHandoff": CASE_WRITERS,
    "recordCost": CASE_WRITERS,
    "recordGuarantee": CASE_WRITERS,
    # giving up money owed is a manager's decision
    "waiveFee": MANAGERS,
    "waiveInterest": MANAGERS,
    # documents: statements are issued and confirmed by those who keep the case file
    "issueStatement": CASE_WRITERS,
    "confirmStatement": CASE_WRITERS,
    # policy
    "runCycle": MANAGERS,
    # views
    "getCustomer": EVERYONE,
    "listCustomers": EVERYONE,
    "getCustomerHistory": EVERYONE,
    "checkCredit": EVERYONE,
    "getAging": EVERYONE,
    "getWorklist": EVERYONE,
    "listMessages": EVERYONE,
    "getMessage": EVERYONE,
    "getMessageDocument": EVERYONE,
    "getStatement": EVERYONE,
    "getIssuedStatement": EVERYONE,
    "getKpis": EVERYONE,
    "getCollectorKpis": EVERYONE,
    "listLimitations": EVERYONE,
    "listEvents": EVERYONE,
    # audit
    "verifyAudit": EVERYONE,
    # keys: admin alone
    "createKey": KEY_KEEPERS,
    "listKeys": KEY_KEEPERS,
    "revokeKey": KEY_KEEPERS,
}


#: The master data a role may change, where the role may change only some of it.
MASTER_DATA_BY_ROLE: Final[dict[str, frozenset[str]]] = {
    "collector": frozenset({"contacts", "address"}),
}


def services(connection: ASGIConnection[Any, Any, Any, Any]) -> Services:
    found: Services = connection.app.state.services
    return found


EXPECTED = "Authorization: Bearer <api-key> (the word Bearer as written, one space, the key)"
"""The one form of the header a key is accepted in (RFC 6750's b64token after it)."""
_BEARER = re.compile(r"Bearer ([A-Za-z0-9._~+/-]+=*)")
_CALLER = "huikuan.caller"


def _identify(connection: ASGIConnection[Any, Any, Any, Any]) -> Caller | Refusal:
    """Who the request's key is, or why it is refused; the header is read strictly."""
    given = connection.headers.getall("authorization", [])
    if not given:
        return Refusal(f"an API key is required: {EXPECTED}")
    match = _BEARER.fullmatch(given[0]) if len(given) == 1 else None
    if match is None:
        return Refusal(f"the Authorization header must read {EXPECTED}")
    found = services(connection)
    return identify(found.ledger, match.group(1), company_today(found.host.settings.sections))


def _known(connection: ASGIConnection[Any, Any, Any, Any], found: Caller | Refusal) -> Caller:
    state = connection.scope.setdefault("state", {})
    state[_CALLER] = found
    if found.key_id is not None:
        structlog.contextvars.bind_contextvars(key_id=found.key_id)
    if isinstance(found, Refusal):
        raise NotAuthorizedException(found.reason)
    structlog.contextvars.bind_contextvars(role=found.role)
    return found


def caller(connection: ASGIConnection[Any, Any, Any, Any]) -> tuple[str, str]:
    """The calling key's id and role (as the guard found them); 401 without a working key."""
    found = connection.scope.get("state", {}).get(_CALLER)
    if found is None:
        found = _identify(connection)
    known = _known(connection, found)
    return known.key_id, known.role


async def may_call(connection: ASGIConnection[Any, Any, Any, Any],
                   handler: BaseRouteHandler) -> None:
    """The guard of every operation: a working key, of a role the matrix allows. The key
    ring is read fresh for every request (in a thread: it is a query), so a key revoked
    by any process is refused at once."""
    found = await anyio.to_thread.run_sync(_identify, connection)
    known = _known(connection, found)
    if known.role not in MAY[str(getattr(handler, "operation_id", ""))]:
        raise PermissionDeniedException(f"the {known.role} role may not do this")
    # Who records what this request writes, and why: the one place the HTTP API says it
    # (the request's context carries it to the ledger, which stamps every event saved).
    acting.set(Actor.key(known.key_id, _reason(connection)))


def _reason(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The ``X-Reason`` header (UTF-8; at most 500 characters, no control character),
    or None; 422 naming it otherwise."""
    given = connection.headers.getall("x-reason", [])
    if not given:
        return None
    if len(given) > 1:
        raise InvalidCommand("X-Reason is given once", field="X-Reason")
    try:  # header bytes arrive decoded as Latin-1: read them as the UTF-8 they are
        text = given[0].encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        raise InvalidCommand("X-Reason is UTF-8 text", field="X-Reason") from None
    text = text.strip()
    if not text:
        return None
    if len(text) > MAX_REASON:
        raise InvalidCommand(f"X-Reason is at most {MAX_REASON} characters",
                             field="X-Reason")
    if any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in text):
        raise InvalidCommand("X-Reason holds no control characters", field="X-Reason")
    return text

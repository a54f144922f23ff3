"""Who may call what: the API key's role against one table of operations.

A request carries ``Authorization: Bearer <api-key>``. No key or an unknown one is a
401; a known key whose role may not call the operation is a 403.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Final

import structlog
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from huikuan.core.access import ROLES, key_hash, role_of

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
    # the case work: collectors keep the facts; a hand-off is a manager's decision, and
    # so is a dunning stop longer than [pauses] collector_max_days (checked in the route)
    "pauseDunning": CASE_WRITERS,
    "endPause": CASE_WRITERS,
    "handOff": MANAGERS,
    "updateHandoff": CASE_WRITERS,
    "recordCost": CASE_WRITERS,
    "recordGuarantee": CASE_WRITERS,
    # policy
    "runCycle": MANAGERS,
    # views
    "getCustomer": EVERYONE,
    "getCustomerHistory": EVERYONE,
    "checkCredit": EVERYONE,
    "getAging": EVERYONE,
    "getWorklist": EVERYONE,
    "listMessages": EVERYONE,
    "getMessage": EVERYONE,
    "getKpis": EVERYONE,
    "listLimitations": EVERYONE,
    "listEvents": EVERYONE,
    # audit
    "verifyAudit": EVERYONE,
}


def services(connection: ASGIConnection[Any, Any, Any, Any]) -> Services:
    found: Services = connection.app.state.services
    return found


_KEY_CACHE: dict[str, tuple[float, tuple[str, str] | None]] = {}
KEY_CACHE_SECONDS = 5.0


def _role(found_in: Services, key: str) -> tuple[str, str] | None:
    # A key's role is looked up in the key ring at most every few seconds per key,
    # not on every request (each look is a read of the store).
    digest = key_hash(key)
    now = time.monotonic()
    cached = _KEY_CACHE.get(digest)
    if cached is not None and now - cached[0] < KEY_CACHE_SECONDS:
        return cached[1]
    found = role_of(found_in.ledger, key)
    if len(_KEY_CACHE) > 10_000:
        _KEY_CACHE.clear()
    _KEY_CACHE[digest] = (now, found)
    return found


def caller(connection: ASGIConnection[Any, Any, Any, Any]) -> tuple[str, str]:
    """The calling key's id and role; 401 without a known key."""
    header = connection.headers.get("authorization", "")
    scheme, _space, key = header.partition(" ")
    found = (
        _role(services(connection), key.strip())
        if (scheme.lower() == "bearer" and key.strip())
        else None
    )
    if found is None:
        raise NotAuthorizedException("a valid API key is required (Authorization: Bearer …)")
    return found


def may_call(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The guard of every operation: a known key, of a role the matrix allows."""
    key_id, role = caller(connection)
    structlog.contextvars.bind_contextvars(api_key=key_id)
    if role not in MAY[str(getattr(handler, "operation_id", ""))]:
        raise PermissionDeniedException(f"the {role} role may not do this")

"""The HTTP API (Litestar): the public contract's endpoints under ``/v1``.

Handlers are synchronous and run in threads, because the event store is blocking.
Errors are RFC 9457 problem details. Every read first brings the views up to the
latest event, so a client always reads its own acknowledged writes.
"""

import os
import time
import uuid
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

import structlog
from litestar import Litestar, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Components, SecurityScheme
from litestar.params import FromPath, JSONBody, QueryParameter
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from huikuan.adapters.settings import load_settings
from huikuan.adapters.storage import open_ledger
from huikuan.core import commands as c
from huikuan.core.access import key_hash, role_of
from huikuan.core.account import Account
from huikuan.core.audit import verify
from huikuan.core.cycle import DailyCycle
from huikuan.core.errors import Conflict, DomainError, InvalidCommand, NotFound
from huikuan.core.ledger import Ledger
from huikuan.core.policy import PolicyHost
from huikuan.projections.queries import Views

log = structlog.get_logger("huikuan.http")

EVERYONE = ("admin", "manager", "collector", "integration", "auditor")
FACT_WRITERS = ("admin", "manager", "collector", "integration")
CASE_WRITERS = ("admin", "manager", "collector")
MANAGERS = ("admin", "manager")
PROBLEM = "application/problem+json"


@dataclass
class Services:
    ledger: Ledger
    host: PolicyHost
    views: Views


def _services(connection: ASGIConnection[Any, Any, Any, Any]) -> Services:
    services: Services = connection.app.state.services
    return services


_KEY_CACHE: dict[str, tuple[float, tuple[str, str] | None]] = {}
KEY_CACHE_SECONDS = 5.0


def _role(services: Services, key: str) -> tuple[str, str] | None:
    # A key's role is looked up in the key ring at most every few seconds per key,
    # not on every request (each look is a read of the store).
    digest = key_hash(key)
    now = time.monotonic()
    cached = _KEY_CACHE.get(digest)
    if cached is not None and now - cached[0] < KEY_CACHE_SECONDS:
        return cached[1]
    found = role_of(services.ledger, key)
    if len(_KEY_CACHE) > 10_000:
        _KEY_CACHE.clear()
    _KEY_CACHE[digest] = (now, found)
    return found


def requires(*roles: str) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]:
    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        header = connection.headers.get("authorization", "")
        scheme, _space, key = header.partition(" ")
        found = (
            _role(_services(connection), key.strip())
            if (scheme.lower() == "bearer" and key.strip())
            else None
        )
        if found is None:
            raise NotAuthorizedException("a valid API key is required (Authorization: Bearer …)")
        key_id, role = found
        structlog.contextvars.bind_contextvars(api_key=key_id)
        if role not in roles:
            raise PermissionDeniedException(f"the {role} role may not do this")

    return guard


# ---- problem details


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None


def _problem_spec(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=Problem, media_type=PROBLEM, description=description)


PROBLEMS = {
    400: _problem_spec("Malformed JSON"),
    401: _problem_spec("Missing or unknown API key"),
    403: _problem_spec("The key's role may not do this"),
    404: _problem_spec("Unknown customer, invoice, payment, dispute or message"),
    409: _problem_spec("The id was used before with different content"),
    413: _problem_spec("The body is too large"),
    422: _problem_spec("The request breaks a rule; errors names the fields"),
}


def problem(
    status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return Response(body, status_code=status, media_type=PROBLEM)


def on_domain_error(_: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    assert isinstance(error, DomainError)
    errors = [{"field": error.field or "", "message": error.message}]
    if isinstance(error, NotFound):
        return problem(404, "Not Found", error.message, errors)
    if isinstance(error, Conflict):
        return problem(409, "Conflict", error.message, errors)
    return problem(422, "Unprocessable Content", error.message, errors)


def on_validation_error(_: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    assert isinstance(error, ValidationException)
    extra = error.extra if isinstance(error.extra, list) else []
    if not extra or any(e.get("source") is None and "JSON" in str(e) for e in extra):
        return problem(400, "Bad Request", error.detail or "the request body is not valid JSON")
    errors = [{"field": str(e.get("key", "")), "message": str(e.get("message", ""))} for e in extra]
    for error_ in errors:
        if error_["field"] == "data":  # Litestar's name for the whole body
            error_.update(field="", message="a JSON object is required as the body")
    return problem(422, "Unprocessable Content", "the request is not valid", errors)


def on_model_error(_: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    # A command assembled in a handler (path id + body) that breaks a rule of its shape.
    assert isinstance(error, PydanticValidationError)
    errors = [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in error.errors()
    ]
    return problem(422, "Unprocessable Content", "the request is not valid", errors)


def on_http_error(_: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    assert isinstance(error, HTTPException)
    titles = {
        400: "Bad Request",
        401: "Unauthorized",
        403: "Forbidden",
        404: "Not Found",
        405: "Method Not Allowed",
        413: "Content Too Large",
    }
    response = problem(
        error.status_code,
        titles.get(error.status_code, "Error"),
        error.detail or titles.get(error.status_code, "Error"),
    )
    if error.status_code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def on_unexpected(_: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    # The traceback names code, never request data.
    log.error("http.unexpected", error=type(error).__name__, exc_info=error)
    return problem(500, "Internal Server Error", "something went wrong on our side")


# ---- writes


def _recorded(command: c.Command, events: tuple[Any, ...]) -> dict[str, Any]:
    """What a new invoice or payment came to, from the events just recorded (once
    saved, the account object may already be serving the next command)."""
    if isinstance(command, c.IssueInvoice):
        issued = next(e for e in events if isinstance(e, Account.InvoiceIssued))
        credited = sum((e.amount for e in events if isinstance(e, Account.CreditApplied)
                        and e.invoice_id == issued.invoice_id), Decimal(0))
        return {"due_on": issued.due_on.isoformat(), "open_amount": str(issued.amount - credited)}
    if isinstance(command, c.ReceivePayment):
        received = next(e for e in events if isinstance(e, Account.PaymentReceived))
        return {"applied": [{"invoice_id": a["invoice_id"], "amount": str(a["amount"])}
                            for a in received.allocations],
                "unapplied": str(received.unapplied)}
    return {}


def _record(
    request: Request[Any, Any, Any], customer_id: str, command: c.Command
) -> Response[dict[str, Any]]:
    services = _services(request)
    outcome = services.ledger.execute(customer_id, command)
    body = {"customer_id": customer_id, **command.model_dump(mode="json")}
    if outcome.recorded:
        body.update(_recorded(command, outcome.events))
    else:  # a repeat: as the account has it
        account = outcome.account
        if isinstance(command, c.IssueInvoice):
            invoice = account.invoices[command.invoice_id]
            body.update(due_on=invoice.due_on.isoformat(), open_amount=str(invoice.open_amount))
        if isinstance(command, c.ReceivePayment):
            payment = account.payments[command.payment_id]
            body.update(applied=[{"invoice_id": i, "amount": str(a)}
                                 for i, a in payment.allocations.items()],
                        unapplied=str(payment.unapplied))
    return Response(body, status_code=201 if outcome.recorded else 200)


def _customer_fact(
    path: str, command_type: type[c.Command], roles: tuple[str, ...], name: str
) -> Any:
    @post(
        f"/v1/customers/{{customer_id:str}}/{path}",
        responses=PROBLEMS,
        guards=[requires(*roles)],
        sync_to_thread=True,
        name=name,
        status_code=201,
        tags=["facts"],
        summary=command_type.__doc__.splitlines()[0] if command_type.__doc__ else None,
    )
    def handler(
        request: Request[Any, Any, Any],
        customer_id: FromPath[str],
        data: JSONBody[command_type],  # type: ignore[valid-type]
    ) -> Response[dict[str, Any]]:
        return _record(request, customer_id, data)

    return handler


class BounceBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    bounced_on: c.BusinessDate
    reason: c.Text | None = None


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resolved_on: c.BusinessDate
    outcome: Literal["rejected", "credited"]
    credited_amount: c.NonNegativeAmount | None = None


class CycleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: c.BusinessDate
    review_all: bool = False
    """Look at every account, not only those a fact or a scheduled date makes due."""


@post(
    "/v1/customers",
    responses=PROBLEMS,
    guards=[requires(*FACT_WRITERS)],
    sync_to_thread=True,
    status_code=201,
    tags=["facts"],
)
def register_customer(
    request: Request[Any, Any, Any], data: JSONBody[c.RegisterCustomer]
) -> Response[dict[str, Any]]:
    """Register a customer's account."""
    outcome = _services(request).ledger.register_customer(data)
    return Response(
        {
            **data.model_dump(mode="json"),
            "registered_on": outcome.account.registered_on.isoformat()
            if outcome.account.registered_on
            else None,
        },
        status_code=201 if outcome.recorded else 200,
    )


@post(
    "/v1/customers/{customer_id:str}/payments/{payment_id:str}/bounce",
    responses=PROBLEMS,
    guards=[requires(*FACT_WRITERS)],
    sync_to_thread=True,
    status_code=201,
    tags=["facts"],
)
def bounce_payment(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    payment_id: FromPath[str],
    data: JSONBody[BounceBody],
) -> Response[dict[str, Any]]:
    """The payment failed (银行退票): its allocations are undone."""
    command = c.BouncePayment(payment_id=payment_id, **data.model_dump())
    return _record(request, customer_id, command)


@post(
    "/v1/customers/{customer_id:str}/disputes/{dispute_id:str}/resolve",
    responses=PROBLEMS,
    guards=[requires(*CASE_WRITERS)],
    sync_to_thread=True,
    status_code=201,
    tags=["facts"],
)
def resolve_dispute(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    dispute_id: FromPath[str],
    data: JSONBody[ResolveBody],
) -> Response[dict[str, Any]]:
    """The dispute ends: rejected, or credited."""
    command = c.ResolveDispute(dispute_id=dispute_id, **data.model_dump())
    return _record(request, customer_id, command)


@post(
    "/v1/cycle",
    responses=PROBLEMS,
    guards=[requires(*MANAGERS)],
    sync_to_thread=True,
    status_code=200,
    tags=["policy"],
)
def run_cycle(request: Request[Any, Any, Any], data: JSONBody[CycleBody]) -> dict[str, Any]:
    """Run the collection cycle for a business date over every account."""
    services = _services(request)
    summary = DailyCycle(services.ledger, services.host, services.views).run(
        data.as_of, review_all=data.review_all)
    return {
        "as_of": summary.as_of.isoformat(),
        "accounts": summary.accounts,
        "accounts_reviewed": summary.accounts_reviewed,
        "accounts_changed": summary.accounts_changed,
        "counts": dict(summary.counts),
        "failures": summary.failures,
    }


# ---- reads


def _views(request: Request[Any, Any, Any]) -> Views:
    return _services(request).views.fresh()


def _date(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise InvalidCommand(f"{name} is a date written YYYY-MM-DD", field=name) from None
    if not c.EARLIEST <= parsed <= c.LATEST:
        raise InvalidCommand(f"{name} lies between {c.EARLIEST} and {c.LATEST}", field=name)
    return parsed


@get(
    "/v1/customers/{customer_id:str}",
    responses=PROBLEMS,
    guards=[requires(*EVERYONE)],
    sync_to_thread=True,
    tags=["views"],
)
def customer_summary(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    as_of: Annotated[str | None, QueryParameter()] = None,
) -> dict[str, Any]:
    """What the customer owes, how late, how risky; optionally as of a business date."""
    return _views(request).customer(customer_id, _date(as_of, "as_of"))


@get(
    "/v1/customers/{customer_id:str}/history",
    responses=PROBLEMS,
    guards=[requires(*EVERYONE)],
    sync_to_thread=True,
    tags=["views"],
)
def customer_history(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    as_of: Annotated[str | None, QueryParameter()] = None,
) -> dict[str, Any]:
    """Every event of the account in order; with as_of, what had happened by then."""
    ledger = _services(request).ledger
    when = _date(as_of, "as_of")
    entries = ledger.history(customer_id, as_of=when)
    body: dict[str, Any] = {
        "customer_id": customer_id,
        "events": [
            {
                "version": e.version,
                "type": e.type,
                "occurred_on": e.occurred_on,
                "recorded_at": e.recorded_at.isoformat(),
                "data": e.data,
            }
            for e in entries
        ],
    }
    if when is not None:
        body["balance_as_of"] = ledger.account_as_of(customer_id, when).balance
    return body


@get(
    "/v1/customers/{customer_id:str}/credit-check",
    responses=PROBLEMS,
    guards=[requires(*EVERYONE)],
    sync_to_thread=True,
    tags=["views"],
)
def credit_check(
    request: Request[Any, Any, Any],
    customer_id: FromPath[str],
    amount: Annotated[str, QueryParameter()],
) -> dict[str, Any]:
    """May we ship this much more? (前款不结，后货不送)"""
    try:
        value = Decimal(amount)
    except ArithmeticError:
        raise InvalidCommand("amount is a decimal such as 1250.00", field="amount") from None
    if not value.is_finite() or value < 0:
        raise InvalidCommand("amount is a decimal such as 1250.00", field="amount")
    return _views(request).credit_check(customer_id, value)


@get(
    "/v1/aging",
    responses=PROBLEMS,
    guards=[requires(*EVERYONE)],
    sync_to_thread=True,
    tags=["views"],
)
def aging(
    request: Request[Any, Any, Any],
    as_of: Annotated[str | None, QueryParameter()] = None,
    group_by: Annotated[str, QueryParameter()] = "customer",
) -> dict[str, Any]:
    """Receivables by age, per customer, collector, currency or class."""
    if group_by not in ("customer", "collector", "currency", "class"):
        raise InvalidCommand("group_by is customer, collector, currency or class", field="group_by")
    return _views(request).aging(_date(as_of, "as_of") or date.today(), group_by)


@get(
    "/v1/worklist",
    responses=PROBLEMS,
    guards=[requires(*EVERYONE)],
    sync_to_thread=True,
    tags=["views"],
)
def worklist(
    request: Request[Any, Any, Any],
    collector: Annotated[str | None, QueryParameter()] = None,
    as_of: Annotated[str | None, QueryParameter()] = None,
    limit: Annotated[int | None, QueryParameter(ge=1, le=100000)] = None,
) -> list[dict[str, Any]]:
    """A collector's queue, most urgent first; ``limit`` returns only its head."""
    return _views(request).worklist(collector, _date(as_of, "as_of"), limit)


@get(
    "/v1/messages",
    responses=PROBLEMS,
    guards=[requires(*EVERYONE)],
    sync_to_thread=True,
    tags=["views"],
)
def messages(
    request: Request[Any, Any, Any],
    customer_id: Annotated[str | None, QueryParameter()] = None,
    status: Annotated[str | None, QueryParameter()] = None,
) -> list[dict[str, Any]]:
    """Letters, e-mails, texts and tasks the policy produced."""
    return _views(request).messages(customer_id, status)


@get(
    "/v1/messages/{message_id:str}",
    responses=PROBLEMS,
    guards=[requires(*EVERYONE)],
    sync_to_thread=True,
    tags=["views"],
)
def message(request: Request[Any, Any, Any], message_id: FromPath[str]) -> dict[str, Any]:
    """One message with its rendered body."""
    return _views(request).message(message_id)


@get(
    "/v1/kpis",
    responses=PROBLEMS,
    guards=[requires(*EVERYONE)],
    sync_to_thread=True,
    tags=["views"],
)
def kpis(
    request: Request[Any, Any, Any],
    from_: Annotated[str, QueryParameter(name="from")],
    to: Annotated[str, QueryParameter()],
) -> dict[str, Any]:
    """DSO, best possible DSO, CEI, ADD and promise-kept rate, per currency."""
    start, end = _date(from_, "from"), _date(to, "to")
    assert start is not None and end is not None
    if end < start:
        raise InvalidCommand("to is before from", field="to")
    return _views(request).kpis(start, end)


@get(
    "/v1/limitations",
    responses=PROBLEMS,
    guards=[requires(*EVERYONE)],
    sync_to_thread=True,
    tags=["views"],
)
def limitations(
    request: Request[Any, Any, Any],
    as_of: Annotated[str | None, QueryParameter()] = None,
    within_days: Annotated[int, QueryParameter(ge=0, le=36500)] = 90,
) -> list[dict[str, Any]]:
    """Receivables whose limitation period ends within that many days."""
    return _views(request).limitations(_date(as_of, "as_of") or date.today(), within_days)


@get(
    "/v1/events",
    responses=PROBLEMS,
    guards=[requires(*EVERYONE)],
    sync_to_thread=True,
    tags=["views"],
)
def events(
    request: Request[Any, Any, Any],
    after: Annotated[int, QueryParameter(ge=0, le=2**62)] = 0,
    limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """The global event feed, in order, with a cursor."""
    return _views(request).events(after, limit)


@get(
    "/v1/audit/verify",
    responses=PROBLEMS,
    guards=[requires(*EVERYONE)],
    sync_to_thread=True,
    tags=["audit"],
)
def audit_verify(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Check every stored event against its hash chain."""
    report = verify(_services(request).ledger)
    first = report.first_failure
    return {
        "ok": report.ok,
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
    }


@get("/health", sync_to_thread=False, tags=["health"])
def health() -> dict[str, str]:
    """Liveness: no key needed."""
    return {"status": "ok"}


FACTS = [
    _customer_fact("invoices", c.IssueInvoice, FACT_WRITERS, "issue_invoice"),
    _customer_fact("deliveries", c.ConfirmDelivery, FACT_WRITERS, "confirm_delivery"),
    _customer_fact("payments", c.ReceivePayment, FACT_WRITERS, "receive_payment"),
    _customer_fact("credit-notes", c.IssueCreditNote, FACT_WRITERS, "issue_credit_note"),
    _customer_fact("disputes", c.RaiseDispute, CASE_WRITERS, "raise_dispute"),
    _customer_fact("contacts", c.LogContact, CASE_WRITERS, "log_contact"),
    _customer_fact("promises", c.MakePromise, CASE_WRITERS, "make_promise"),
    _customer_fact("payment-plans", c.AgreePaymentPlan, CASE_WRITERS, "agree_payment_plan"),
    _customer_fact("acknowledgments", c.AcknowledgeDebt, CASE_WRITERS, "acknowledge_debt"),
    _customer_fact("risk-signals", c.ReportRiskSignal, CASE_WRITERS, "report_risk_signal"),
    _customer_fact("write-offs", c.WriteOff, MANAGERS, "write_off"),
]


def request_logging(app: Any) -> Any:
    """One log line per request: id, method, path, status, time. No bodies, no headers."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        headers = dict(scope.get("headers") or [])
        request_id = headers.get(b"x-request-id", b"").decode()[:64] or uuid.uuid4().hex[:16]

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await app(scope, receive, send_with_id)
        finally:
            log.info(
                "http.request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )

    return middleware


def create_app(services: Services | None = None) -> Litestar:
    """The application; without ``services`` it opens the configured store at start-up."""

    @asynccontextmanager
    async def lifespan(app: Litestar):  # type: ignore[no-untyped-def]
        # Blocking handlers run in threads; size the pool for the machine, not anyio's 40.
        import anyio.to_thread

        threads = int(os.environ.get("HUIKUAN_THREADS", str((os.cpu_count() or 2) * 4)))
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        owned = services is None
        workers = None
        if owned:
            ledger = open_ledger()
            host = PolicyHost(load_settings())
            app.state.services = Services(ledger, host, Views(ledger))
            # The projection follower and the dispatcher run beside the API unless they
            # run as processes of their own (`huikuan workers`, for several replicas).
            if os.environ.get("HUIKUAN_IN_PROCESS_WORKERS", "1") != "0":
                from huikuan.adapters.workers import Workers

                workers = Workers(ledger, host)
                workers.start()
        else:
            app.state.services = services
        try:
            yield
        finally:
            if workers is not None:
                workers.stop()
            if owned:
                app.state.services.views.close()
                app.state.services.ledger.close()

    return Litestar(
        route_handlers=[
            register_customer,
            *FACTS,
            bounce_payment,
            resolve_dispute,
            run_cycle,
            customer_summary,
            customer_history,
            credit_check,
            aging,
            worklist,
            messages,
            message,
            kpis,
            limitations,
            events,
            audit_verify,
            health,
        ],
        lifespan=[lifespan],
        middleware=[request_logging],
        exception_handlers={
            DomainError: on_domain_error,
            ValidationException: on_validation_error,
            PydanticValidationError: on_model_error,
            HTTPException: on_http_error,
            Exception: on_unexpected,
        },
        request_max_body_size=1024 * 1024,
        openapi_config=OpenAPIConfig(
            title="huikuan",
            version="1",
            path="/schema",
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}
            ),
            security=[{"bearer": []}],
        ),
        debug=False,
    )


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    import uvicorn

    workers = int(os.environ.get("HUIKUAN_WORKERS", "1"))
    uvicorn.run(
        "huikuan.adapters.http:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=os.environ.get("HUIKUAN_SERVER_LOG_LEVEL", "info"),
        access_log=False,
    )

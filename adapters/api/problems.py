"""Errors as RFC 9457 problem details (``application/problem+json``), never a traceback."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from huikuan.core.credit import CreditRefused
from huikuan.core.cycle import CycleRunning
from huikuan.core.errors import Conflict, DomainError, NotFound, Tampered

log = structlog.get_logger("huikuan.http")

PROBLEM = "application/problem+json"


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None
    reasons: list[str] | None = None
    """Why the credit check refused the sale (type ending in credit-refused)."""


def _problem_spec(description: str) -> ResponseSpec:
    return ResponseSpec(data_container=Problem, media_type=PROBLEM, description=description)


PROBLEMS = {
    400: _problem_spec("Malformed JSON"),
    401: _problem_spec("No API key in the one accepted form (Authorization: Bearer "
                       "<api-key>), or a key that is unknown, revoked or expired; detail "
                       "says which"),
    403: _problem_spec("The key's role may not do this"),
    404: _problem_spec("Unknown customer, invoice, payment, dispute, message or key"),
    409: _problem_spec("The id was used before with different content; (type ending in "
                       "cycle-running) another cycle is running on the store; (type ending "
                       "in credit-refused) the credit check refuses the invoice, reasons "
                       "say why; (type ending in tampered) the account's stored events do "
                       "not verify; or the message is not sent yet"),
    413: _problem_spec("The body is too large"),
    415: _problem_spec("The body is not sent as application/json"),
    422: _problem_spec("The request breaks a rule; errors names the fields"),
}


# A problem a client may want to tell from others of its status (RFC 9457 ``type``).
CYCLE_RUNNING = "urn:huikuan:problem:cycle-running"
TAMPERED = "urn:huikuan:problem:tampered"
CREDIT_REFUSED = "urn:huikuan:problem:credit-refused"


def problem(
    status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None,
    type_: str = "about:blank",
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": type_,
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
    if isinstance(error, Tampered):
        return problem(409, "Tampered", error.message, errors, type_=TAMPERED)
    if isinstance(error, CycleRunning):
        return problem(409, "Cycle Running", error.message, errors, type_=CYCLE_RUNNING)
    if isinstance(error, CreditRefused):
        refused = problem(409, "Credit Refused", error.message, errors, type_=CREDIT_REFUSED)
        refused.content["reasons"] = list(error.reasons)
        return refused
    if isinstance(error, Conflict):
        return problem(409, "Conflict", error.message, errors)
    return problem(422, "Unprocessable Content", error.message, errors)


def on_validation_error(_: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    assert isinstance(error, ValidationException)
    extra = error.extra if isinstance(error.extra, list) else []
    # Pydantic's own "Invalid JSON" is a malformed body (400); any other message, one
    # that merely mentions JSON ("never JSON numbers") included, is a field's (422).
    if not extra or any(e.get("source") is None
                        and str(e.get("message", "")).startswith("Invalid JSON")
                        for e in extra):
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
        415: "Unsupported Media Type",
    }
    response = problem(
        error.status_code,
        titles.get(error.status_code, "Error"),
        error.detail or titles.get(error.status_code, "Error"),
    )
    for name, value in (error.headers or {}).items():  # Accept-Post with a 415
        response.headers[name] = value
    if error.status_code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def on_unexpected(_: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    # The traceback names code, never request data.
    log.error("http.unexpected", error=type(error).__name__, exc_info=error)
    return problem(500, "Internal Server Error", "something went wrong on our side")


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: on_domain_error,
    ValidationException: on_validation_error,
    PydanticValidationError: on_model_error,
    HTTPException: on_http_error,
    Exception: on_unexpected,
}

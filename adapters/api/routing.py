"""The defaults every operation of the v1 API shares, in one place.

Handlers are synchronous and run in threads, because the event store is blocking; each
is named by an operationId that reads as what it does, has a row in the role matrix
(:data:`huikuan.adapters.api.access.MAY`, checked by its guard), and
documents its problem answers. A write answers 201 when it recorded the fact and 200,
with the same body, for an idempotent repeat.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from pydantic import BaseModel, ValidationError

from huikuan.adapters.api.access import MAY, may_call
from huikuan.adapters.api.problems import PROBLEMS

AnswerT = TypeVar("AnswerT", bound=BaseModel)


def operation(
    method: Literal["GET", "POST", "PATCH"],
    path: str,
    operation_id: str,
    *,
    tag: str,
    writes: type[BaseModel] | None = None,
    summary: str | None = None,
    creates: bool = False,
    document: ResponseSpec | None = None,
) -> Callable[[Callable[..., Any]], HTTPRouteHandler]:
    """A route under ``/v1``; ``writes``: the answer of a write that may be a repeat;
    ``creates``: a write that is never a repeat (201 alone); ``document``: what a read
    that answers a file (a PDF, a spreadsheet) says of its 200. The summary is the first
    line of the handler's docstring unless given."""
    if operation_id not in MAY:
        msg = f"{operation_id} has no row in the role matrix"
        raise LookupError(msg)
    responses: dict[int, ResponseSpec] = dict(PROBLEMS)
    if method == "GET":
        del responses[415]  # no body, so no media type to refuse
    if document is not None:
        responses[200] = document
    if writes is not None:
        responses[200] = ResponseSpec(
            data_container=writes,
            description="A repeat of a write recorded before with the same content: "
            "the same answer, nothing recorded again",
        )

    def route(handler: Callable[..., Any]) -> HTTPRouteHandler:
        route_handler = HTTPRouteHandler(
            path,
            http_method=method,
            operation_id=operation_id,
            tags=[tag],
            summary=summary or (handler.__doc__ or "").strip().partition("\n")[0] or None,
            status_code=201 if writes is not None or creates else 200,
            responses=responses,
            guards=[may_call],
            sync_to_thread=True,
        )
        return route_handler(handler)

    return route


class AnswerDoesNotFit(Exception):
    """A handler built an answer its own model refuses: our fault, answered as a 500."""


def answer(model: type[AnswerT], fields: Mapping[str, Any]) -> AnswerT:
    """``fields`` as the operation's answer model."""
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        # Not the client's 422: the request was fine, the answer is wrong. Named by
        # field and error type only: the values may be a debtor's data.
        wrong = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])} ({e['type']})" for e in error.errors()
        )
        raise AnswerDoesNotFit(f"{model.__name__}: {wrong}") from None

"""The gate every request passes before its operation reads it: no input is a 500.

The operations' models check each field's rule (an amount, a date, an id). What no model
can check is checked here, the same way for every operation, one added later included,
because the gate reads the operation's own signature:

- a path value holds no control character (PostgreSQL refuses a NUL in text: a 500, not
  "no such customer") and is not made of dots alone (``.`` and ``..`` are path steps);
- a query parameter holds no control character, is given once unless the operation takes
  a list, and an integer parameter is written in ASCII digits (never ``1e3`` or ``true``);
- a JSON body comes as ``application/json`` (415 otherwise: a JSON body sent as
  ``text/plain`` is not read as if it were JSON), is UTF-8 and well-formed (400), is
  nested at most :data:`MAX_DEPTH` deep, names each key of an object once, holds no
  number longer than :data:`MAX_NUMBER_DIGITS` digits and no string with a control
  character or half of a surrogate pair (422, naming where).

The body is read with a parser that bounds its own recursion, before Litestar reads it
again for the operation's model; the size is bounded before either
(``request_max_body_size``, 413).

The gate is the app's ``before_request`` hook. Litestar keeps only the innermost layer's
hook, so a router or an operation must not set its own (``tests/test_bad_input.py``
holds every operation to it).
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Iterator
from typing import Any, Final

from litestar import Request
from litestar.enums import ParamType, RequestEncodingType
from litestar.exceptions import ClientException, HTTPException
from litestar.params import BodyKwarg, ParameterKwarg
from litestar.typing import FieldDefinition

from huikuan.core.errors import InvalidCommand

MAX_DEPTH: Final = 16
"""How deep a body may nest arrays and objects: the deepest command nests 3 (a customer's
contacts); a parser that recursed to any depth could be run out of stack."""

MAX_NUMBER_DIGITS: Final = 18
"""The longest integer a body may hold: every count of the contract fits (and a 64-bit
integer always holds one this long); an amount is a string anyway."""

JSON: Final = "application/json"

_QUERY_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
"""No control character at all in a path or query value: none of them is in any id,
date, amount, name or code a URL carries."""

_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
"""In a body's strings: the control characters :func:`huikuan.core.commands.plain_text`
refuses (a tab and a line feed may stand in a note), and lone surrogates, which no
UTF-8 store can hold."""

_CONTROL_MESSAGE = "must not contain control characters or half a surrogate pair"

_INTEGER = re.compile(r"-?[0-9]{1,18}")

_NOT_QUERY = frozenset({"request", "data", "state", "headers", "cookies", "query", "scope",
                        "socket", "body"})
"""Names Litestar gives a handler from the connection, not from the query string."""


class _TooLong(Exception):
    """A JSON number longer than any count."""


class _Repeated(Exception):
    """A key named twice in one JSON object."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _Constant(Exception):
    """``NaN``, ``Infinity`` or ``-Infinity``: not JSON, though Python's parser reads them."""


async def admit(request: Request[Any, Any, Any]) -> None:
    """Litestar's ``before_request`` hook: refuse what no operation may be given.

    Runs after the guard, so a caller without a key hears 401 before anything else."""
    handler = request.route_handler
    parameters: dict[str, FieldDefinition] = getattr(
        getattr(handler, "parsed_fn_signature", None), "parameters", {})
    _check_path(request.path_params)
    _check_query(request, _query_parameters(parameters, request.path_params))
    data = parameters.get("data")
    if data is not None and _is_json_body(data):
        body = await request.body()
        if body:
            _check_media_type(request)
            check_json(body)


def _check_path(values: dict[str, Any]) -> None:
    for name, value in values.items():
        if not isinstance(value, str):
            continue
        if _QUERY_CONTROL.search(value):
            raise InvalidCommand(f"{name} must not contain control characters", field=name)
        if not value.strip("."):
            raise InvalidCommand(f"{name} is not made of dots alone", field=name)


def _query_parameters(parameters: dict[str, FieldDefinition],
                      path: dict[str, Any]) -> dict[str, FieldDefinition]:
    """The operation's query parameters by the name they have in the URL."""
    found = {}
    for name, field in parameters.items():
        kwarg = field.kwarg_definition
        if isinstance(kwarg, ParameterKwarg):
            if kwarg.param_type is not ParamType.QUERY:
                continue
            found[kwarg.query or getattr(kwarg, "name", None) or name] = field
        elif kwarg is None and name not in _NOT_QUERY and name not in path:
            found[name] = field
    return found


def _check_query(request: Request[Any, Any, Any], known: dict[str, FieldDefinition]) -> None:
    seen: set[str] = set()
    for name, value in request.query_params.multi_items():
        if _QUERY_CONTROL.search(name):
            raise InvalidCommand("a query parameter's name must not contain control "
                                 "characters", field="")
        if _QUERY_CONTROL.search(value):
            raise InvalidCommand(f"{name} must not contain control characters", field=name)
        field = known.get(name)
        if field is None:
            continue  # not read by this operation
        if name in seen and not field.is_non_string_sequence:
            raise InvalidCommand(f"{name} is given once", field=name)
        seen.add(name)
        if _is_integer(field) and not _INTEGER.fullmatch(value):
            raise InvalidCommand(f"{name} is a whole number written in ASCII digits (at "
                                 "most 18)", field=name)


def _is_integer(field: FieldDefinition) -> bool:
    annotation = field.annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        kinds = [a for a in typing.get_args(annotation) if a is not type(None)]
    else:
        kinds = [annotation]
    return bool(kinds) and all(kind is int for kind in kinds)


def _is_json_body(data: FieldDefinition) -> bool:
    kwarg = data.kwarg_definition
    return not isinstance(kwarg, BodyKwarg) or kwarg.media_type == RequestEncodingType.JSON


def _check_media_type(request: Request[Any, Any, Any]) -> None:
    media_type, options = request.content_type
    media_type = media_type.strip().lower()
    json_type = media_type == JSON or (
        media_type.startswith("application/") and media_type.endswith("+json"))
    charset = options.get("charset", "utf-8").strip().lower()
    if not json_type or charset not in ("utf-8", "utf8"):
        accept = "Accept-Patch" if request.method == "PATCH" else "Accept-Post"
        raise HTTPException(
            status_code=415,
            detail=f"the body is JSON, sent as {JSON} (UTF-8); not "
                   f"{request.headers.get('content-type', 'without a Content-Type')[:80]!r}",
            headers={accept: JSON},
        )


def check_json(body: bytes) -> Any:
    """``body`` read as strict JSON, or the problem it makes: 400 if it is no JSON, 422 if
    it is JSON no operation takes (too deep, a key twice, a number too long, a control
    character or a lone surrogate in a string)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ClientException("the body is not UTF-8") from None
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_int=_integer,
                           parse_constant=_constant)
    except RecursionError:
        raise InvalidCommand(f"the body nests deeper than {MAX_DEPTH} levels",
                             field="") from None
    except _Repeated as repeated:
        raise InvalidCommand(f"{repeated.key[:64]!r} is given twice in one object",
                             field=_printable(repeated.key)) from None
    except _TooLong:
        raise InvalidCommand(f"a number in the body is longer than {MAX_NUMBER_DIGITS} "
                             "digits", field="") from None
    except (_Constant, ValueError) as error:
        raise ClientException(f"the body is not valid JSON: {_reason(error)}") from None
    for where, depth, item in _walk(value):
        if depth > MAX_DEPTH and isinstance(item, (dict, list)):
            raise InvalidCommand(f"the body nests deeper than {MAX_DEPTH} levels",
                                 field="")
        if isinstance(item, str) and _TEXT_CONTROL.search(item):
            raise InvalidCommand(_CONTROL_MESSAGE, field=where)
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _Repeated(key)
        found[key] = value
    return found


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _TooLong
    return int(text)


def _constant(text: str) -> Any:
    raise _Constant(f"{text} is not a JSON value")


def _reason(error: Exception) -> str:
    return error.msg if isinstance(error, json.JSONDecodeError) else str(error)


def _printable(key: str) -> str:
    return key if not _TEXT_CONTROL.search(key) else key.encode("unicode_escape").decode()


def _walk(value: Any) -> Iterator[tuple[str, int, Any]]:
    """(where, depth, item) for every value and key in the body, without recursion."""
    stack: list[tuple[str, int, Any]] = [("", 1, value)]
    while stack:
        where, depth, item = stack.pop()
        yield where, depth, item
        if isinstance(item, dict):
            for key, inner in item.items():
                path = f"{where}.{_printable(key)}" if where else _printable(key)
                if _TEXT_CONTROL.search(key):
                    raise InvalidCommand(f"a key {_CONTROL_MESSAGE}", field=path)
                stack.append((path, depth + 1, inner))
        elif isinstance(item, list):
            stack.extend((f"{where}.{n}" if where else str(n), depth + 1, inner)
                         for n, inner in enumerate(item))

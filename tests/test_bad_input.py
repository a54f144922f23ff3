"""No input is ever a 500, and a refused request records nothing (issue 12, the red team's
bad-input class kept in the suite).

The operations are read from the OpenAPI document the app serves, so an operation added
later is fuzzed without a change here: every write operation's body (bad JSON shapes, and
each field given bad values, amounts, dates, integers and strings), and every read
operation's path and query parameters. On both backends, through HTTP. Each case asserts a
status below 500, a problem+json answer for a refusal, and that a refusal left the store's
event count as it was. Hypothesis then mixes values the lists do not hold.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

PLAIN = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")

LOOSE_AMOUNTS = ["1e3", "1E+2", "+5", " 5 ", ".5", "5.", "1_000", "1,000.00", "\u0661\u0662",
                 "\uff11\uff12", "NaN", "Infinity", "-Infinity", "sNaN", "1e999999999",
                 "9" * 40, "0." + "0" * 40 + "1", "0x10", "5\n", "", 12.5, 1000, 1e400]
"""What the issue found accepted as money, and more of the kind: never recorded."""

BAD_DATES = ["9999-12-31", "0001-01-01", "2026-02-30", "20260101", "2026-W01-1",
             "2026-1-1", "9999-12-31T23:59:59-12:00", "2026-02-01T00:00:00", 20260101,
             "\uff12\uff10\uff12\uff16-01-01"]

BAD_TIMESTAMPS = ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00",
                  "2026-02-02T10:00:00", "2026-02-02", 1767225600, "2026-02-02T25:61:00Z",
                  "2026-02-02T10:00:00+99:99"]

NASTY_TEXT = ["", ".", "..", "\x00", "a\x00b", "\x1b[31m", "\x7f", "\u202e", "\U0001f642",
              "x" * 100_000, "'; DROP TABLE x; --", "%00", "../../etc/passwd"]
"""Strings no id, code or date is, and that a name or a note takes whole or refuses."""

ANYWHERE = [None, True, 1.5, -1, 2**63, 10**30, [], {}, {"$ref": "#/x"},
            [[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]], *NASTY_TEXT]
"""Values given to every field of every body."""

BAD_INTEGERS = [True, False, "30", 30.0, 1e3, -1, 2**63, "\uff13\uff10"]

JSON_BODIES: list[tuple[str, bytes, str]] = [
    ("deep list 20", b"[" * 20 + b"]" * 20, "application/json"),
    ("deep list 100000", b"[" * 100_000 + b"]" * 100_000, "application/json"),
    ("deep object 1000", b'{"a":' * 1000 + b"1" + b"}" * 1000, "application/json"),
    ("malformed", b"{not json", "application/json"),
    ("not UTF-8", b'{"a": "\xff"}', "application/json"),
    ("NaN", b'{"a": NaN}', "application/json"),
    ("huge number", b'{"a": ' + b"9" * 5000 + b"}", "application/json"),
    ("lone surrogate", b'{"a": "\\ud800"}', "application/json"),
    ("array", b"[]", "application/json"),
    ("string", b'"x"', "application/json"),
    ("null", b"null", "application/json"),
    ("too large", b'{"a": "' + b"x" * 1_100_000 + b'"}', "application/json"),
    ("as text/plain", b"{}", "text/plain"),
    ("form encoded", b"a=1", "application/x-www-form-urlencoded"),
    ("utf-16", "{}".encode("utf-16"), "application/json; charset=utf-16"),
]
"""Whole bodies no operation takes; with duplicate keys and a valid body under a wrong
media type made per operation below."""

BAD_QUERY = ["\x00", "a\x00b", "\x1f", "\x7f", ".", "..", "", " ", "1e999999999", "-1",
             "99999999999999999999999", "1e3", "1_000", "\uff11\uff12", "NaN", "true",
             "2026-13-40", "9999-12-31", "0001-01-01", "20260101", "x" * 5000,
             "\U0001f642", "'; DROP TABLE x; --", "%"]

IDS = {"customer_id": "C-1", "invoice_id": "I-1", "payment_id": "P-1", "dispute_id": "D-1"}


class Tally:
    """What the fuzz tried and saw, per backend: reported in the test's output."""

    def __init__(self, api: Any, ledger: Any) -> None:
        self.api, self.ledger = api, ledger
        self.statuses: Counter[int] = Counter()
        self.server_errors: list[str] = []
        self.recorded_on_refusal: list[str] = []

    def events(self) -> int:
        return int(self.ledger.recorder.max_notification_id() or 0)

    def send(self, method: str, url: str, label: str, *, body: Any = None,
             content: bytes | None = None, content_type: str = "application/json") -> int:
        before = self.events()
        if content is None and body is not None:
            content = json.dumps(body).encode()
        headers = {**self.api.as_role("admin")}
        if content is not None:
            headers["Content-Type"] = content_type
        response = self.api.request(method, url, content=content, headers=headers)
        status = response.status_code
        self.statuses[status] += 1
        where = f"{method} {url[:80]} {label[:80]}"
        if status >= 500:
            self.server_errors.append(f"{status} {where}: {response.text[:200]}")
        elif status >= 400:
            assert response.headers["content-type"].startswith("application/problem+json"), where
            if self.events() != before:
                self.recorded_on_refusal.append(f"{status} {where}")
        else:
            for name, value in _amounts(response.json()):
                assert PLAIN.fullmatch(value), (where, name, value)
        return status

    def report(self, what: str) -> str:
        return (f"{what}: {sum(self.statuses.values())} cases, "
                f"{len(self.server_errors)} 5xx, statuses {dict(sorted(self.statuses.items()))}")


def _amounts(answer: Any, name: str = "") -> list[tuple[str, str]]:
    if isinstance(answer, dict):
        return [found for key, value in answer.items() for found in _amounts(value, key)]
    if isinstance(answer, list):
        return [found for value in answer for found in _amounts(value, name)]
    if isinstance(answer, str) and (name.endswith("amount") or name in (
            "credit_limit", "unapplied", "outstanding", "overdue", "exposure")):
        return [(name, answer)]
    return []


@pytest.fixture
def fuzzed(api, ledger):
    """An account with an invoice, a payment, a dispute and messages queued, so that a
    body which passes its checks reaches the ledger; and the served document."""
    admin = api.as_role("admin")
    for path, body in [
        ("/v1/customers", {"customer_id": "C-1", "name": "华东贸易", "currency": "CNY"}),
        ("/v1/customers/C-1/invoices", {"invoice_id": "I-1", "amount": "1000.00",
                                        "currency": "CNY", "issued_on": "2026-01-01"}),
        ("/v1/customers/C-1/payments", {"payment_id": "P-1", "amount": "10.00",
                                        "currency": "CNY", "received_on": "2026-01-05"}),
        ("/v1/customers/C-1/disputes", {"dispute_id": "D-1", "invoice_id": "I-1",
                                        "amount": "5.00", "raised_on": "2026-01-06"}),
        ("/v1/cycle", {"as_of": "2026-02-20"}),
    ]:
        assert api.post(path, json=body, headers=admin).status_code in (200, 201), path
    messages = api.get("/v1/messages?customer_id=C-1", headers=admin).json()
    ids = {**IDS, "message_id": messages[0]["message_id"] if messages else "m-none"}
    return Tally(api, ledger), api.get("/schema/openapi.json").json(), ids


def test_every_operation_passes_the_gate(api):
    """Litestar keeps one before_request hook per handler, the innermost layer's: a router
    or an operation setting its own would silently take the gate off its routes."""
    from litestar.routes import HTTPRoute

    from huikuan.adapters.api.inputs import admit

    handlers = [handler for route in api.app.routes if isinstance(route, HTTPRoute)
                for handler in route.route_handlers]
    assert len(handlers) > 20
    assert [h for h in handlers if h.resolve_before_request() is not admit] == []


ISSUE_12 = [
    # (what, method, path, body or raw bytes, content type, status, field named)
    ("JSON nested 100k deep", "POST", "/v1/customers/C-1/invoices",
     b"[" * 100_000 + b"]" * 100_000, "application/json", 422, ""),
    ("a timestamp with no UTC form", "POST", "/v1/customers/C-1/contacts",
     {"occurred_at": "9999-12-31T23:59:59-12:00", "channel": "phone",
      "direction": "outbound", "outcome": "reached"}, "application/json", 422, "occurred_at"),
    ("a query amount that overflows", "GET", "/v1/customers/C-1/credit-check?amount=1e999999999",
     None, "", 422, "amount"),
    ("a NUL in a path value", "GET", "/v1/customers/%00", None, "", 422, "customer_id"),
    ("a NUL in a query value", "GET", "/v1/worklist?collector=%00", None, "", 422, "collector"),
    ("a path id of dots", "GET", "/v1/customers/%2E%2E/history", None, "", 422, "customer_id"),
    ("a date Python reads but the contract does not", "GET", "/v1/aging?as_of=20260220",
     None, "", 422, "as_of"),
    ("an integer parameter in exponent form", "GET", "/v1/events?limit=1e3", None, "", 422,
     "limit"),
    ("a parameter given twice", "GET", "/v1/events?after=1&after=2", None, "", 422, "after"),
    ("a message status no message has", "GET", "/v1/messages?status=snet", None, "", 422,
     "status"),
    ("terms given as true", "POST", "/v1/customers",
     {"customer_id": "C-2", "name": "x", "currency": "CNY", "payment_terms_days": True},
     "application/json", 422, "payment_terms_days"),
    ("terms with a point", "POST", "/v1/customers",
     {"customer_id": "C-2", "name": "x", "currency": "CNY", "payment_terms_days": 30.0},
     "application/json", 422, "payment_terms_days"),
    ("a flag given as 1", "POST", "/v1/customers/C-1/promises",
     {"promise_id": "PR-1", "amount": "1.00", "due_on": "2026-02-20", "made_on": "2026-02-02",
      "written": 1}, "application/json", 422, "written"),
    ("JSON sent as text/plain", "POST", "/v1/customers",
     b'{"customer_id": "C-2", "name": "x", "currency": "CNY"}', "text/plain", 415, None),
    ("a key given twice", "POST", "/v1/customers",
     b'{"customer_id": "C-2", "customer_id": "C-3", "name": "x", "currency": "CNY"}',
     "application/json", 422, "customer_id"),
    ("an id of dots", "POST", "/v1/customers", {"customer_id": "..", "name": "x",
                                                "currency": "CNY"},
     "application/json", 422, "customer_id"),
    ("an id of one dot", "POST", "/v1/customers/C-1/payments",
     {"payment_id": ".", "amount": "1.00", "currency": "CNY", "received_on": "2026-02-01"},
     "application/json", 422, "payment_id"),
    ("a NUL in a name", "POST", "/v1/customers",
     {"customer_id": "C-2", "name": "x\x00", "currency": "CNY"}, "application/json", 422,
     "name"),
    ("a NUL in an e-mail address", "POST", "/v1/customers",
     {"customer_id": "C-2", "name": "x", "currency": "CNY",
      "contacts": [{"name": "y", "email": "a\x00@b.example"}]}, "application/json", 422,
     "contacts.0.email"),
    ("an amount as a JSON number", "POST", "/v1/customers/C-1/invoices",
     {"invoice_id": "I-2", "amount": 1000, "currency": "CNY", "issued_on": "2026-01-01"},
     "application/json", 422, "amount"),
]


def test_the_red_teams_cases_are_clear_problems_recording_nothing(fuzzed):
    tally, _document, _ids = fuzzed
    for what, method, path, body, media_type, status, field in ISSUE_12:
        before = tally.events()
        content = body if isinstance(body, bytes) else None if body is None else json.dumps(body)
        headers = {**tally.api.as_role("admin"),
                   **({"Content-Type": media_type} if media_type else {})}
        response = tally.api.request(method, path, content=content, headers=headers)
        assert response.status_code == status, (what, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), what
        if field is not None:
            assert field in [e["field"] for e in response.json()["errors"]], (what, response.json())
        else:
            assert response.headers["accept-post"] == "application/json", what
        assert tally.events() == before, what


def test_an_amount_is_taken_only_in_plain_decimal_notation(fuzzed):
    tally, _document, _ids = fuzzed
    for amount in LOOSE_AMOUNTS:
        status = tally.send("POST", "/v1/customers/C-1/payments", repr(amount), body={
            "payment_id": "P-2", "amount": amount, "currency": "CNY",
            "received_on": "2026-02-01"})
        assert status == (400 if amount == 1e400 else 422), amount  # 1e400 is no JSON
    assert tally.recorded_on_refusal == []


def test_an_amount_is_answered_as_recorded_in_its_currencys_places(fuzzed):
    tally, _document, _ids = fuzzed
    api, admin = tally.api, tally.api.as_role("admin")
    body = {"invoice_id": "I-2", "amount": "1000", "currency": "CNY", "issued_on": "2026-01-02"}
    first = api.post("/v1/customers/C-1/invoices", json=body, headers=admin)
    assert (first.status_code, first.json()["amount"]) == (201, "1000.00")
    again = api.post("/v1/customers/C-1/invoices", json={**body, "amount": "1000.00"},
                     headers=admin)
    assert (again.status_code, again.json()) == (200, first.json())
    history = api.get("/v1/customers/C-1/history", headers=admin).json()["events"]
    assert [e["data"]["amount"] for e in history if e["type"] == "InvoiceIssued"][-1] == "1000.00"
    check = api.get("/v1/customers/C-1/credit-check?amount=0012.50", headers=admin)
    assert check.status_code == 200


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, ops in sorted(document["paths"].items())
            for method, op in sorted(ops.items()) if path.startswith("/v1/")]


def _url(path: str, ids: dict[str, str], **replaced: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return quote(replaced.get(name, ids.get(name, "X-1")), safe="")
    return re.sub(r"\{(\w+)\}", value, path)


def _schema(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    for choice in ("oneOf", "anyOf"):
        if choice in schema:
            options = [o for o in schema[choice] if o.get("type") != "null"]
            return _schema(document, options[0]) if options else {}
    return schema


def _kind(schema: dict[str, Any], name: str) -> str:
    if schema.get("pattern") == PLAIN.pattern:
        return "amount"
    if schema.get("format") == "date-time":
        return "timestamp"
    if schema.get("format") == "date":
        return "date"
    return {"integer": "integer", "boolean": "flag"}.get(str(schema.get("type")), "text")


def _valid(document: dict[str, Any], schema: dict[str, Any], name: str, serial: int,
           creates: str = "") -> Any:
    """A value of ``schema`` the operation would likely take: the base that a case spoils
    in one place (an operation added later gets one from its schema alone). Ids name what
    the fixture recorded, but a new one for what the operation ``creates`` (the last
    step of its path: ``invoices`` makes a new ``invoice_id`` each case)."""
    schema = _schema(document, schema)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind, kind_of = _kind(schema, name), schema.get("type")
    if kind_of == "object" or "properties" in schema:
        return {field: _valid(document, sub, field, serial, creates)
                for field, sub in schema.get("properties", {}).items()
                if field in schema.get("required", [])}
    if kind_of == "array":
        return [_valid(document, schema.get("items", {}), name, serial, creates)]
    typical = {"amount": "1.00", "timestamp": "2026-02-02T10:00:00+08:00",
               "date": "2026-02-10", "integer": int(schema.get("minimum", 1)), "flag": False}
    if kind in typical:
        return typical[kind]
    name = name.removesuffix("s") if name.endswith("_ids") else name
    if name.endswith("_id"):
        fresh = creates.replace("-", "_") == name.removesuffix("_id") + "s"
        return f"F-{serial}" if fresh else IDS.get(name, f"F-{serial}")
    return {"currency": "CNY", "timezone": "Asia/Shanghai"}.get(name, "x")


def _bad_values(kind: str) -> list[Any]:
    specific = {"amount": LOOSE_AMOUNTS, "date": BAD_DATES, "timestamp": BAD_TIMESTAMPS,
                "integer": BAD_INTEGERS, "flag": [1, 0, "true", "yes", None]}
    return specific.get(kind, []) + ANYWHERE


def _writes(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for method, path, op in _operations(document):
        content = op.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            found.append((method, path, _schema(document, content["application/json"]["schema"])))
    return found


def test_no_bad_body_is_a_500_nor_recorded_on_any_write(fuzzed):
    tally, document, ids = fuzzed
    writes = _writes(document)
    assert len(writes) >= 16  # the contract's writes at least: the document is read right
    serial = iter(range(10**6))
    for method, path, schema in writes:
        url, creates = _url(path, ids), path.rsplit("/", 1)[1]
        base = _valid(document, schema, "", next(serial), creates)
        for label, content, media_type in JSON_BODIES:
            tally.send(method, url, label, content=content, content_type=media_type)
        text = json.dumps(base)
        duplicated = text[:-1] + ", " + text[1:] if len(base) else '{"a": 1, "a": 2}'
        tally.send(method, url, "duplicate keys", content=duplicated.encode())
        tally.send(method, url, "a valid body as text/plain", content=text.encode(),
                   content_type="text/plain")
        for field, sub in schema.get("properties", {}).items():
            for value in _bad_values(_kind(_schema(document, sub), field)):
                fresh = _valid(document, schema, "", next(serial), creates)
                status = tally.send(method, url, f"{field}={value!r}",
                                    body={**fresh, field: value})
                if _kind(_schema(document, sub), field) == "amount" and (
                        value is not None or field in schema.get("required", [])):
                    # None of them is plain decimal notation: refused by the field's rule
                    # (400 for 1e400, which is no JSON), never recorded nor a conflict.
                    assert status in (400, 422), (path, field, value, status)
        tally.send(method, url, "an unknown field", body={**base, "unknown\x00": 1})
    print("\n" + tally.report("bad bodies"))
    assert tally.server_errors == [], tally.server_errors[:10]
    assert tally.recorded_on_refusal == [], tally.recorded_on_refusal[:10]


def test_no_bad_path_or_query_value_is_a_500_on_any_read(fuzzed):
    tally, document, ids = fuzzed
    reads = [(path, op) for method, path, op in _operations(document) if method == "GET"]
    assert len(reads) >= 11
    for path, op in reads:
        parameters = op.get("parameters", [])
        given = {p["name"]: "2026-02-20" if p["name"] in ("as_of", "from", "to") else
                 "10.00" if p["name"] == "amount" else "1"
                 for p in parameters if p["in"] == "query" and p.get("required")}
        for parameter in parameters:
            name = parameter["name"]
            for value in BAD_QUERY:
                if parameter["in"] == "path":
                    url = _url(path, ids, **{name: value})
                    tally.send("GET", url + "?" + _query(given), f"{name}={value!r}")
                elif parameter["in"] == "query":
                    url = _url(path, ids) + "?" + _query({**given, name: value})
                    tally.send("GET", url, f"{name}={value!r}")
            if parameter["in"] == "query":
                twice = "&".join(filter(None, [_query(given), f"{name}=1", f"{name}=1"]))
                tally.send("GET", _url(path, ids) + "?" + twice, f"{name} twice")
    print("\n" + tally.report("bad path and query values"))
    assert tally.server_errors == [], tally.server_errors[:10]
    assert tally.recorded_on_refusal == [], tally.recorded_on_refusal[:10]


def _query(values: dict[str, str]) -> str:
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in values.items())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text() | st.sampled_from(NASTY_TEXT),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=8)
amount_like = st.from_regex(r"\A[-+ ]?[0-9\u0660-\u0669\uff10-\uff19_,.eE]{0,14}\s?\Z")


def test_any_value_in_any_field_of_any_write_is_never_a_500(fuzzed):
    """Hypothesis: a field of a write, given any JSON value (or a string shaped almost like
    an amount); an amount recorded is written in plain decimal notation."""
    tally, document, ids = fuzzed
    writes = _writes(document)
    serial = iter(range(10**6, 2 * 10**6))

    @settings(max_examples=300, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(which=st.integers(0, len(writes) - 1), data=st.data())
    def case(which: int, data: st.DataObject) -> None:
        method, path, schema = writes[which]
        fields = sorted(schema.get("properties", {}))
        field = data.draw(st.sampled_from(fields))
        kind = _kind(_schema(document, schema["properties"][field]), field)
        value = data.draw(amount_like if kind == "amount" else json_values)
        body = {**_valid(document, schema, "", next(serial), path.rsplit("/", 1)[1]),
                field: value}
        status = tally.send(method, _url(path, ids), f"{field}={value!r}", body=body)
        if kind == "amount" and status < 400:
            assert isinstance(value, str) and PLAIN.fullmatch(value), (path, field, value)

    case()
    print("\n" + tally.report("hypothesis"))
    assert tally.server_errors == [], tally.server_errors[:10]
    assert tally.recorded_on_refusal == [], tally.recorded_on_refusal[:10]

"""The collector's desk (催收工作台): server-rendered pages under ``/app/``.

Each page reads the same views the API reads; each form writes through the same commands
(the same validation, idempotency and role matrix, :data:`huikuan.adapters.api.access.MAY`)
with the signed-in person as who recorded it (``user:<name>``). A refused form is shown
again with the error beside it, and records nothing. Server-rendered HTML with plain
forms: it works with no script at all, and nothing comes from outside huikuan (the font
is the one the PDFs embed, served from here).
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

import structlog
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Redirect, Template
from pydantic import ValidationError

from huikuan.adapters.api.access import MANAGERS, MAY, services
from huikuan.adapters.api.casework import collector_max_days
from huikuan.adapters.web.session import (
    COOKIE,
    LIFETIME,
    Brake,
    login_token,
    open_session,
    password_mark,
    session_of,
)
from huikuan.adapters.web.words import term, words
from huikuan.core import case_commands as cc
from huikuan.core import commands as c
from huikuan.core.actor import Actor, acting_as
from huikuan.core.clock import company_today
from huikuan.core.errors import DomainError, NotFound
from huikuan.core.printing import WRITTEN, letter_for
from huikuan.core.users import User, sign_in, user
from huikuan.projections.customers import CustomerFilter
from huikuan.projections.queries import BUCKETS

log = structlog.get_logger("huikuan.web")
LOGIN_COOKIE = "huikuan_login"
BRAKE = Brake()
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _key(request: Request[Any, Any, Any]) -> bytes:
    key: bytes = request.app.state.session_key
    return key


def _who(request: Request[Any, Any, Any]) -> tuple[User, str] | None:
    """The person signed in and their CSRF token, or None (no session, an expired one,
    a person disabled, or a password changed since the session began)."""
    session = session_of(request.cookies.get(COOKIE), _key(request))
    if session is None:
        return None
    person = user(services(request).ledger, session.name)
    if person is None or password_mark(person.password_hash) != session.keyed_to:
        return None
    return person, session.csrf(_key(request))


def _today(request: Request[Any, Any, Any]) -> date:
    return company_today(services(request).host.settings.sections)


def _page(request: Request[Any, Any, Any], page: str, who: tuple[User, str] | None,
          status: int = 200, **context: Any) -> Template:
    language = who[0].language if who else "zh-CN"
    return Template(template_name=f"{page}.html", status_code=status,
                    media_type="text/html; charset=utf-8", context={
        "user": who[0] if who else None, "csrf": who[1] if who else "",
        "lang": language, "w": words(language), "t": lambda x: term(language, x),
        **context})


def _signed_out() -> Redirect:
    return Redirect("/app/login")


@get("/", sync_to_thread=False, include_in_schema=False)
def home() -> Redirect:
    return Redirect("/app/worklist")


def _login_form(request: Request[Any, Any, Any], status: int = 200,
                **context: Any) -> Template:
    """The sign-in page with a CSRF token of its own, bound to a cookie (no site but
    this one can sign a person in as someone else)."""
    nonce = secrets.token_hex(12)
    page = _page(request, "login", None, status=status,
                 login_token=login_token(_key(request), nonce), **context)
    page.set_cookie(LOGIN_COOKIE, nonce, max_age=3600, path="/app", httponly=True,
                    secure=True, samesite="strict")
    return page


@get("/login", sync_to_thread=False)
def login_page(request: Request[Any, Any, Any]) -> Template:
    return _login_form(request)


@post("/login", sync_to_thread=True, status_code=303)
def login(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    name = str(data.get("name", "")).strip()
    client = request.client.host if request.client else None
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not hmac.compare_digest(
            login_token(_key(request), nonce).encode(),
            str(data.get("csrf", "")).encode("utf-8", "replace")):
        log.warning("signin.csrf_refused", client=client)
        return _login_form(request, status=403, error="bad_sign_in", name=name)
    if not BRAKE.attempt(name):
        log.warning("signin.held", user=name, client=client)
        return _login_form(request, status=429, error="held", name=name)
    person = sign_in(services(request).ledger, name, str(data.get("password", "")))
    if person is None:
        log.warning("signin.failed", user=name, client=client)
        return _login_form(request, status=401, error="bad_sign_in", name=name)
    BRAKE.passed(name)
    log.info("signin", user=name)
    response: Response[Any] = Redirect("/app/worklist", status_code=303)
    response.set_cookie(COOKIE, open_session(name, person.password_hash, _key(request)),
                        max_age=LIFETIME, path="/app", httponly=True, secure=True,
                        samesite="strict")
    response.delete_cookie(LOGIN_COOKIE, path="/app")
    return response


@post("/logout", sync_to_thread=False, status_code=303)
def logout(request: Request[Any, Any, Any], data: Form) -> Response[Any]:
    who = _who(request)
    response: Response[Any] = Redirect("/app/login", status_code=303)
    if who is not None and data.get("csrf") == who[1]:
        response.delete_cookie(COOKIE, path="/app")
    return response


@get("/worklist", sync_to_thread=True)
def worklist(request: Request[Any, Any, Any],
             collector: Annotated[str | None, QueryParameter(max_length=200)] = None) -> Any:
    from huikuan.core.worklist import worklist as rank

    who = _who(request)
    if who is None:
        return _signed_out()
    person = who[0]
    # A collector sees their own queue; a manager everyone's, or one collector's.
    chosen = collector or None if person.role in MANAGERS or person.role == "auditor" \
        else person.name
    views = services(request).views.fresh()
    items = rank(views, services(request).host, chosen, None, 200, _today(request))
    stages = views.account_heads([item["customer_id"] for item in items])
    return _page(request, "worklist", who, items=items, stages=stages, collector=chosen,
                 may_filter=person.role != "collector")


@get("/customers", sync_to_thread=True)
def customers(request: Request[Any, Any, Any],
              q: Annotated[str | None, QueryParameter(max_length=200)] = None,
              cursor: Annotated[str | None, QueryParameter(max_length=200)] = None) -> Any:
    who = _who(request)
    if who is None:
        return _signed_out()
    views = services(request).views.fresh()
    try:
        page = views.customers(CustomerFilter(q=q or None), limit=50, cursor=cursor)
    except DomainError:
        page = {"customers": [], "next": None}
    return _page(request, "customers", who, listed=page, q=q or "")


def _customer(request: Request[Any, Any, Any], who: tuple[User, str], customer_id: str,
              status: int = 200, **context: Any) -> Any:
    served = services(request)
    views = served.views.fresh()
    try:
        summary = views.customer(customer_id, today=_today(request))
    except NotFound:
        return _page(request, "missing", who, status=404, customer_id=customer_id)
    history = served.ledger.history(customer_id)
    timeline = [e for e in reversed(history) if e.type not in ("PriorityDecided",
                                                                "ReviewScheduled",
                                                                "DeadlinesDecided")][:80]
    messages = views.messages(customer_id, None)
    return _page(request, "customer", who, status=status, c=summary, timeline=timeline,
                 messages=messages, written=WRITTEN, today=_today(request),
                 fresh=uuid.uuid4().hex[:12], manager=who[0].role in MANAGERS, **context)


@get("/customers/{customer_id:str}", sync_to_thread=True)
def customer(request: Request[Any, Any, Any], customer_id: FromPath[str],
             saved: Annotated[str | None, QueryParameter(max_length=20)] = None) -> Any:
    who = _who(request)
    if who is None:
        return _signed_out()
    return _customer(request, who, customer_id, saved=saved)


FORMS = {"contact": "logContact", "promise": "makePromise", "dispute": "raiseDispute",
         "pause": "pauseDunning", "signal": "reportRiskSignal", "reassign": "changeCustomer"}


def _command(form: str, data: dict[str, str], who: User, today: date) -> c.Command:
    """The command a form asks for: the same model the API validates."""
    def given(name: str) -> str | None:
        value = str(data.get(name, "")).strip()
        return value or None

    if form == "contact":
        return c.LogContact(occurred_at=datetime.now().astimezone(), channel=given("channel"),
                            direction=given("direction"), outcome=given("outcome"),
                            note=given("note"), collector=who.name)
    if form == "promise":
        return c.MakePromise(promise_id=given("promise_id"), amount=given("amount"),
                             due_on=given("due_on"), made_on=today)
    if form == "dispute":
        return c.RaiseDispute(dispute_id=given("dispute_id"), invoice_id=given("invoice_id"),
                              amount=given("amount"), raised_on=today, reason=given("note"))
    if form == "pause":
        return cc.PauseDunning(pause_id=given("pause_id"), reason=given("reason"),
                               from_on=given("from_on") or today, until_on=given("until_on"))
    if form == "signal":
        return c.ReportRiskSignal(signal=given("signal"), observed_on=today,
                                  note=given("note"))
    return c.ChangeCustomer(collector=given("collector"), effective_on=today)


@post("/customers/{customer_id:str}/{form:str}", sync_to_thread=True, status_code=303)
def write(request: Request[Any, Any, Any], customer_id: FromPath[str], form: FromPath[str],
          data: Form) -> Any:
    who = _who(request)
    if who is None:
        return _signed_out()
    person, csrf = who
    if form not in FORMS:
        return _page(request, "missing", who, status=404, customer_id=customer_id)
    if data.get("csrf") != csrf:
        log.warning("web.csrf_refused", user=person.name, form=form)
        return _customer(request, who, customer_id, status=403, error=(form, "csrf"))
    # Reassigning changes the collector: a manager's (a collector may change contacts
    # and the address only, as PATCH /customers says).
    allowed = MANAGERS if form == "reassign" else MAY[FORMS[form]]
    if person.role not in allowed:
        return _customer(request, who, customer_id, status=403,
                         error=(form, f"the {person.role} role may not do this"))
    today = _today(request)
    try:
        command = _command(form, data, person, today)
        if (form == "pause" and person.role not in MANAGERS and isinstance(
                command, cc.PauseDunning)):
            most = collector_max_days(services(request).host.settings)
            until = command.until_on
            if until is None or (until - command.from_on).days + 1 > most:
                return _customer(request, who, customer_id, status=403, error=(
                    form, f"a collector may stop dunning for at most {most} days, with an "
                          "end date"))
        with acting_as(Actor.user(person.name)):
            services(request).ledger.execute(customer_id, command)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        return _customer(request, who, customer_id, status=422, error=(form, f"{where}: "
                                                                             f"{message}"))
    except DomainError as error:
        return _customer(request, who, customer_id, status=422, error=(
            form, f"{error.field + ': ' if error.field else ''}{error.message}"))
    return Redirect(f"/app/customers/{customer_id}?saved={form}", status_code=303)


@get("/messages/{message_id:str}/document", sync_to_thread=True)
def letter(request: Request[Any, Any, Any], message_id: FromPath[str]) -> Any:
    who = _who(request)
    if who is None:
        return _signed_out()
    served = services(request)
    try:
        found = served.views.fresh().message(message_id)
        document, _ = letter_for(served.ledger, served.host, found["customer_id"],
                                 message_id, _today(request))
    except NotFound:
        return _page(request, "missing", who, status=404, customer_id=message_id)
    return Response(document, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{message_id}.pdf"'})


@get("/portfolio", sync_to_thread=True)
def portfolio(request: Request[Any, Any, Any],
              from_: Annotated[str | None, QueryParameter(name="from")] = None,
              to: Annotated[str | None, QueryParameter()] = None) -> Any:
    who = _who(request)
    if who is None:
        return _signed_out()
    today = _today(request)
    try:
        end = c.business_date(to) if to else today
        start = c.business_date(from_) if from_ else end - timedelta(days=89)
    except ValueError:
        end, start = today, today - timedelta(days=89)
    if start > end:
        start = end - timedelta(days=89)
    views = services(request).views.fresh()
    # A collector's portfolio is their own accounts; a manager's (an auditor's) everyone's.
    own = who[0].name if who[0].role == "collector" else None
    by_collector = [row for row in views.aging(end, "collector")["rows"]
                    if own is None or row["key"] == own]
    by_currency = (views.aging(end, "currency")["totals"] if own is None
                   else [{**row, "currency": row["currency"]} for row in by_collector])
    mine = _customer_ids(views, own) if own is not None else None
    holds = views.customers(CustomerFilter(hold=True, collector=own), limit=500)["customers"]
    limitations = [row for row in views.limitations(end, 90)
                   if mine is None or row["customer_id"] in mine]
    # The KPIs read every movement of the period (1.5 s at 100k invoices): computed when
    # a period is asked for, so the page itself answers at once.
    asked = from_ is not None or to is not None
    kpis = views.kpis(start, end)["currencies"] if asked and own is None else []
    results = [row for row in views.collector_kpis(start, end)["collectors"]
               if own is None or row["collector"] == own] if asked else []
    return _page(request, "portfolio", who, today=end, start=start, by_currency=by_currency,
                 by_collector=by_collector, buckets=list(BUCKETS), kpis=kpis,
                 results=results, holds=holds, limitations=limitations, bar=_bars, own=own,
                 asked=asked)


def _customer_ids(views: Any, collector: str) -> set[str]:
    """Every customer of one collector (the list, page by page)."""
    found: set[str] = set()
    cursor = None
    while True:
        page = views.customers(CustomerFilter(collector=collector), limit=500, cursor=cursor)
        found |= {row["customer_id"] for row in page["customers"]}
        cursor = page["next"]
        if cursor is None:
            return found


def _bars(row: dict[str, Any], buckets: list[str]) -> list[tuple[str, Decimal, int]]:
    """Each bucket of an aging row with its bar's width out of 100."""
    values = [Decimal(str(row[b])) for b in buckets]
    most = max(values, default=Decimal(0)) or Decimal(1)
    return [(b, v, int(v / most * 100)) for b, v in zip(buckets, values, strict=True)]


@get("/static/font.otf", sync_to_thread=True, include_in_schema=False)
def font() -> Response[bytes]:
    """The CJK font the letters embed (cut to GB 2312), so a page reads the same on a
    machine with no Chinese font."""
    from huikuan.plugins.documents import _full_font, _small_font

    small = _small_font()
    path = small[0] if small is not None else _full_font()
    with open(path, "rb") as file:
        return Response(file.read(), media_type="font/otf",
                        headers={"Cache-Control": "public, max-age=86400"})


PAGES = [home, login_page, login, logout, worklist, customers, customer, write, letter,
         portfolio, font]

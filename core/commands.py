"""Commands: what a client asks the ledger to record, validated before the account sees it.

These pydantic models check the *shape* of a request (ids, dates, decimal strings,
known codes); the account then checks it against the facts already recorded (its
currency, what is still open, what exists). The field names are those of the public
HTTP contract, so the HTTP adapter, the CLI and the importer all speak one language;
core.handlers says which account method records each command.

Amounts are strings in plain decimal notation (``"1250.00"``: ASCII digits, an optional
minus sign and fraction, nothing else) or, from Python, ``Decimal``; a number is refused,
because a float cannot hold most decimal amounts exactly and an integer on the wire is
one typo from a float. Integers are JSON integers (never ``true``), flags JSON booleans
(never ``"yes"`` or ``1``), timestamps RFC 3339 strings with an offset. The shared types
below hold those rules, so a command added later inherits them by using them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from huikuan.core.money import MAX_INTEGER_DIGITS, is_currency, plain_decimal

ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"


def _not_only_dots(value: str) -> str:
    # ``.`` and ``..`` would be read as path steps in the URL that names the resource.
    if not value.strip("."):
        raise ValueError("an id is not made of dots alone")
    return value


Id = Annotated[str, StringConstraints(pattern=ID_PATTERN), AfterValidator(_not_only_dots)]
"""A client-chosen id: 1–64 letters, digits, ``.``, ``_``, ``-``; not dots alone."""

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def plain_text(value: str) -> str:
    # Control characters have no place in a name or a note, and keeping them out
    # keeps every stored event in one canonical JSON form (see core.audit).
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(plain_text),
]
Text = Annotated[str, StringConstraints(max_length=2000), AfterValidator(plain_text)]
Ref = Annotated[str, StringConstraints(max_length=200), AfterValidator(plain_text)]


def _decimal(value: Any) -> Any:
    if isinstance(value, str):
        return plain_decimal(value)
    if isinstance(value, Decimal):
        return value
    raise ValueError('amounts are decimal strings such as "1250.00", never JSON numbers')


def _bounded(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("amount must be a finite number")
    if value != 0 and value.adjusted() >= MAX_INTEGER_DIGITS:
        raise ValueError(f"amount must be below 10^{MAX_INTEGER_DIGITS}")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        # A Decimal given from Python as 1E+3 is echoed 1000, never in exponent form.
        value = value.quantize(Decimal(1))
    return value


Amount = Annotated[Decimal, BeforeValidator(_decimal), Field(gt=0), AfterValidator(_bounded)]
"""A positive amount; the account checks its decimal places against its currency."""

NonNegativeAmount = Annotated[
    Decimal, BeforeValidator(_decimal), Field(ge=0), AfterValidator(_bounded)
]


EARLIEST, LATEST = date(1900, 1, 1), date(2199, 12, 31)


def _iso_date(value: Any) -> Any:
    # Business dates are YYYY-MM-DD only: no timestamps, no numbers; and within reason,
    # so that adding terms or limitation years to one can never leave the calendar.
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value, flags=re.ASCII):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a date") from None
    if isinstance(value, date) and not hasattr(value, "hour"):
        if not EARLIEST <= value <= LATEST:
            raise ValueError(f"a business date lies between {EARLIEST} and {LATEST}")
        return value
    raise ValueError("a date is written YYYY-MM-DD")


BusinessDate = Annotated[date, BeforeValidator(_iso_date)]


def business_date(value: str) -> date:
    """``value`` read as a business date, as a body's dates are (``YYYY-MM-DD``, between
    :data:`EARLIEST` and :data:`LATEST`), or ValueError saying why: for the dates of a
    query or a command line, which no model reads."""
    parsed: date = _iso_date(value)
    return parsed


def _timestamp(value: Any) -> Any:
    # RFC 3339 with an offset, or an aware datetime from Python; never a number of
    # seconds. Its calendar date is checked against the business range before anything
    # converts it (9999-12-31T23:59:59-12:00 has no UTC form).
    if isinstance(value, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt ][0-9:.]+([Zz]|[+-]\d{2}:\d{2})", value,
                            flags=re.ASCII):
            raise ValueError("a timestamp is written RFC 3339 with an offset, such as "
                             "2026-09-02T14:30:00+08:00")
        year = int(value[:4])
        if not EARLIEST.year <= year <= LATEST.year:
            raise ValueError(f"a timestamp lies between {EARLIEST} and {LATEST}")
        return value
    if isinstance(value, datetime):
        if not EARLIEST <= value.date() <= LATEST:
            raise ValueError(f"a timestamp lies between {EARLIEST} and {LATEST}")
        return value
    raise ValueError("a timestamp is written RFC 3339 with an offset")


Timestamp = Annotated[AwareDatetime, BeforeValidator(_timestamp)]
"""When something happened, to the second, with its UTC offset (RFC 3339)."""


def _whole_number(value: Any) -> Any:
    # Pydantic's lax mode (the one Litestar validates bodies in) would take true as 1,
    # "30" as 30 and 30.0 as 30.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number written as a JSON integer")
    return value


Integer = Annotated[int, BeforeValidator(_whole_number)]
"""A JSON integer: not a boolean, a string or a number with a point."""


def _flag(value: Any) -> Any:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


Flag = Annotated[bool, BeforeValidator(_flag)]
"""A JSON boolean: not 1, "yes" or "true"."""


def _currency(value: str) -> str:
    if not is_currency(value):
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return value


Currency = Annotated[str, AfterValidator(_currency)]


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except Exception:  # ZoneInfo raises several types for a bad key
        raise ValueError(f"{value!r} is not an IANA time zone") from None
    return value


TimeZone = Annotated[str, AfterValidator(_timezone)]

Grade = Literal["A", "B", "C", "D", "E"]
Channel = Literal["phone", "sms", "email", "letter", "visit", "wechat"]
Direction = Literal["outbound", "inbound"]
ContactOutcome = Literal["reached", "no_answer", "refused", "promised", "disputed", "wrong_number"]
ReportedSignal = Literal[
    "office_downgrade",
    "management_turnover",
    "lawsuit",
    "finance_avoiding",
    "owner_unreachable",
    "owner_accident",
    "internal_conflict",
    "speculation",
    "postdated_cheques",
    "bank_changes",
    "dumping_below_cost",
    "oversized_order",
    "overexpansion",
    "own_receivables_stuck",
]


class Command(BaseModel):
    """A request to record a fact (core.handlers maps each to the account method that
    records it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ContactPerson(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Name
    role: Ref | None = None
    email: (
        Annotated[str, StringConstraints(pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$",
                                         max_length=254)] | None
    ) = None
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9 ()-]{3,32}$")] | None = None


class PostalAddress(BaseModel):
    """Where letters go (邮寄地址), in parts rather than one free text: a letter prints it
    in the order of its language (a Chinese envelope runs province, city, street, big to
    small; an English one street first, city and postal code, country), and a courier's
    form wants the postal code and city on their own. ``line1`` is the street and number
    as written locally (district included: 浦东新区张江路123号); ``country`` an ISO 3166
    code (``CN``), left out for the company's own country."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    line1: Name
    line2: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200),
                     AfterValidator(plain_text)] | None = None
    city: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100),
                    AfterValidator(plain_text)] | None = None
    province: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100),
                        AfterValidator(plain_text)] | None = None
    postal_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9 -]{1,11}$")
                           ] | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None


Tag = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._:-]{1,40}$")]
Tags = Annotated[list[Tag], Field(max_length=20), AfterValidator(lambda tags: sorted(set(tags)))]
Contacts = Annotated[list[ContactPerson], Field(max_length=50)]
Language = Literal["zh-CN", "en"]


class RegisterCustomer(Command):
    """Open a customer's account (客户建档)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "HD-001",
                    "name": "华东机电有限公司",
                    "currency": "CNY",
                    "payment_terms_days": 30,
                    "credit_limit": "200000.00",
                    "credit_grade": "B",
                    "collector": "li.wei",
                    "contacts": [
                        {
                            "name": "王会计",
                            "role": "AP",
                            "email": "ap@huadong.example",
                            "phone": "+86 21 5555 0101",
                        }
                    ],
                }
            ]
        },
    )
    customer_id: Id
    name: Name
    currency: Currency
    payment_terms_days: Annotated[Integer, Field(ge=0, le=3650)] = 30
    credit_limit: NonNegativeAmount | None = None
    credit_grade: Grade | None = None
    timezone: TimeZone = "Asia/Shanghai"
    collector: Ref | None = None
    contacts: Contacts = Field(default_factory=list)
    tax_id: Ref | None = None
    registered_on: BusinessDate | None = None
    tags: Tags = Field(default_factory=list)
    """Labels the collection policy can select on (``vip``, ``key-account``…)."""
    language: Language = "zh-CN"
    """The language of the letters, e-mails and texts the customer receives."""
    address: PostalAddress | None = None
    """The postal address letters are sent to."""


class ChangeCustomer(Command):
    """A change of the customer's master data (客户资料变更): only the fields given.

    A field left out stays as it is; ``null`` clears one that may be empty (the credit
    limit, grade, collector, tax id, address); ``[]`` empties the tags or contacts.
    ``effective_on`` is the business date the change counts from (the adapters default
    it to today where the company is): new payment terms apply to invoices issued from
    that date, and history as of an earlier date shows the master data as it was.
    ``currency`` may be given only as it is (an account's currency never changes).
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {"collector": "wang.fang", "payment_terms_days": 45,
                 "effective_on": "2026-12-01"},
                {"contacts": [{"name": "王会计", "role": "AP", "email": "ap@huadong.example"}],
                 "address": {"line1": "浦东新区张江路123号", "city": "上海市",
                             "postal_code": "201203"}},
            ]
        },
    )
    name: Name | None = None
    collector: Ref | None = None
    payment_terms_days: Annotated[int, Field(ge=0, le=3650, strict=True)] | None = None
    credit_limit: NonNegativeAmount | None = None
    credit_grade: Grade | None = None
    timezone: TimeZone | None = None
    language: Language | None = None
    tags: Tags | None = None
    contacts: Contacts | None = None
    address: PostalAddress | None = None
    tax_id: Ref | None = None
    currency: Currency | None = None
    effective_on: BusinessDate | None = None

    @field_validator("name", "payment_terms_days", "timezone", "language", "tags", "contacts",
                     "currency")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        # Runs only for a value given: an explicit null for a field that cannot be empty.
        if value is None:
            msg = f"{info.field_name} cannot be null (leave it out to keep it as it is)"
            raise ValueError(msg)
        return value


MASTER_FIELDS = (
    "name", "collector", "payment_terms_days", "credit_limit", "credit_grade", "timezone",
    "language", "tags", "contacts", "address", "tax_id",
)
"""The customer's master data a change may set, in the order answers give them."""


class IssueInvoice(Command):
    """A sale invoiced: a receivable falling due on ``due_on`` (default: issued + terms)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "invoice_id": "INV-2026-0001",
                    "amount": "12500.00",
                    "currency": "CNY",
                    "issued_on": "2026-08-01",
                    "contract_ref": "HT-88",
                }
            ]
        },
    )
    invoice_id: Id
    amount: Amount
    currency: Currency
    issued_on: BusinessDate
    due_on: BusinessDate | None = None
    contract_ref: Ref | None = None
    order_ref: Ref | None = None


class ConfirmDelivery(Command):
    """Proof of delivery (回单签收)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "invoice_id": "INV-2026-0001",
                    "delivered_on": "2026-08-03",
                    "receipt_ref": "QS-88",
                    "signed_by": "王会计",
                }
            ]
        },
    )
    invoice_id: Id
    delivered_on: BusinessDate
    receipt_ref: Ref | None = None
    signed_by: Name | None = None


class Allocation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    invoice_id: Id
    amount: Amount


class ReceivePayment(Command):
    """A payment; without allocations it settles the oldest due first."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "payment_id": "PAY-0001",
                    "amount": "5000.00",
                    "currency": "CNY",
                    "received_on": "2026-09-10",
                    "method": "bank_transfer",
                    "allocations": [{"invoice_id": "INV-2026-0001", "amount": "5000.00"}],
                }
            ]
        },
    )
    payment_id: Id
    amount: Amount
    currency: Currency
    received_on: BusinessDate
    method: Ref | None = None
    allocations: list[Allocation] | None = Field(default=None, max_length=1000)


class BouncePayment(Command):
    """The payment failed (银行退票). The payment id is given beside the command."""

    payment_id: Id
    bounced_on: BusinessDate
    reason: Text | None = None


class IssueCreditNote(Command):
    """An allowance (折让) against an invoice."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "credit_note_id": "CN-01",
                    "invoice_id": "INV-2026-0001",
                    "amount": "250.00",
                    "issued_on": "2026-08-20",
                    "reason": "折让",
                }
            ]
        },
    )
    credit_note_id: Id
    invoice_id: Id
    amount: Amount
    issued_on: BusinessDate
    reason: Text | None = None


class RaiseDispute(Command):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "dispute_id": "D-01",
                    "invoice_id": "INV-2026-0001",
                    "amount": "1000.00",
                    "raised_on": "2026-09-25",
                    "reason": "质量异议",
                }
            ]
        },
    )
    dispute_id: Id
    invoice_id: Id
    amount: Amount
    raised_on: BusinessDate
    reason: Text | None = None


class ResolveDispute(Command):
    dispute_id: Id
    resolved_on: BusinessDate
    outcome: Literal["rejected", "credited"]
    credited_amount: NonNegativeAmount | None = None


class LogContact(Command):
    """A contact in the case file: who, when, channel, what was said, outcome."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "occurred_at": "2026-09-02T14:30:00+08:00",
                    "channel": "phone",
                    "direction": "outbound",
                    "outcome": "promised",
                    "note": "will pay by the 20th",
                    "collector": "li.wei",
                }
            ]
        },
    )
    occurred_at: Timestamp
    channel: Channel
    direction: Direction
    outcome: ContactOutcome
    contact_id: Id | None = None
    note: Text | None = None
    evidence_ref: Ref | None = None
    collector: Ref | None = None


class MakePromise(Command):
    """A promise to pay (付款承诺书)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "promise_id": "PR-01",
                    "amount": "7000.00",
                    "made_on": "2026-09-12",
                    "due_on": "2026-09-20",
                    "written": True,
                    "document_ref": "付款承诺书-01",
                }
            ]
        },
    )
    promise_id: Id
    amount: Amount
    due_on: BusinessDate
    made_on: BusinessDate
    written: Flag = False
    document_ref: Ref | None = None


class Installment(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    due_on: BusinessDate
    amount: Amount


class AgreePaymentPlan(Command):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "plan_id": "PL-01",
                    "agreed_on": "2026-10-01",
                    "installments": [
                        {"due_on": "2026-10-31", "amount": "3000.00"},
                        {"due_on": "2026-11-30", "amount": "3000.00"},
                    ],
                }
            ]
        },
    )
    plan_id: Id
    agreed_on: BusinessDate
    installments: list[Installment] = Field(min_length=1, max_length=120)


class AcknowledgeDebt(Command):
    """The debtor acknowledged the debt in writing: the limitation period restarts."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "acknowledged_on": "2026-10-15",
                    "document_ref": "对账函-2026Q3",
                    "invoice_ids": ["INV-2026-0001"],
                }
            ]
        },
    )
    acknowledged_on: BusinessDate
    document_ref: Ref | None = None
    invoice_ids: list[Id] | None = Field(default=None, max_length=1000)
    acknowledgment_id: Id | None = None


class ReportRiskSignal(Command):
    """A danger sign observed by a collector."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "signal": "finance_avoiding",
                    "observed_on": "2026-10-02",
                    "note": "finance staff not answering",
                }
            ]
        },
    )
    signal: ReportedSignal
    observed_on: BusinessDate
    note: Text | None = None
    signal_id: Id | None = None


class WriteOff(Command):
    """Write-off (核销); the claim stays on record."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "invoice_id": "INV-2026-0001",
                    "amount": "1000.00",
                    "written_off_on": "2027-12-31",
                    "reason": "uncollectable",
                }
            ]
        },
    )
    invoice_id: Id
    amount: Amount
    written_off_on: BusinessDate
    reason: Text | None = None
    write_off_id: Id | None = None


DeliveryMethod = Literal["courier", "registered_mail", "hand", "email", "sms", "notary",
                         "other"]
"""How a demand was proven delivered: a courier (EMS 签收), registered mail (挂号信), by
hand (当面签收), an e-mail or text receipt, a notary's service (公证送达), other."""


class RecordDemandDelivery(Command):
    """Proof that a demand sent reached the debtor (送达证据): the limitation period of
    its invoices starts again from ``delivered_on`` (Civil Code art. 195)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "message_id": "m-0123456789abcdef01234567",
                    "delivered_on": "2026-10-20",
                    "proof_ref": "EMS 1234567890",
                    "method": "courier",
                }
            ]
        },
    )
    message_id: Id
    delivered_on: BusinessDate
    proof_ref: Ref | None = None
    """A courier tracking number, a signed receipt's reference."""
    method: DeliveryMethod | None = None

"""What the API answers: one model per success body, so the OpenAPI document types them.

Each model is the shape the handler has always written, field for field and in the
same order: the models document and serialise the answers, they do not change them.
Amounts are ``Decimal`` here and plain decimal strings on the wire (``"414680.89"``);
dates are ``YYYY-MM-DD``. Names that are not Python names (``class``, ``1-30``,
``from``) are aliases, and the app serialises by alias.

A write answers with the command it recorded: ``customer_id``, then the command's own
fields, then what the ledger worked out (a due date, an open amount, allocations). Such
an answer subclasses the command after :class:`Recorded`, so that ``customer_id`` comes
first (pydantic orders fields from the most basic class up) and a field the command
gains is answered too.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.plugins import OpenAPISchemaPlugin
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from huikuan.core import commands as c
from huikuan.core.money import PLAIN_DECIMAL


class DecimalAsString(OpenAPISchemaPlugin):
    """Documents every ``Decimal`` (money, rates, KPIs) as the string it is on the wire,
    in requests and answers alike; Litestar would call it a number."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        return value is Decimal

    def to_openapi_schema(self, field_definition: Any, schema_creator: Any) -> Schema:
        return Schema(
            type=OpenAPIType.STRING,
            description="a decimal number written as a string in plain notation (ASCII "
            "digits, an optional minus sign and fraction; no exponent); an amount has as "
            "many places as its currency",
            pattern=PLAIN_DECIMAL.pattern,
            examples=["1250.00"],
        )


def written(answer: BaseModel) -> msgspec.Raw:
    """An answer as JSON, by alias, written by pydantic in one pass (the app's encoder for
    every model: a dict of Python values encoded again costs several times as much)."""
    return msgspec.Raw(answer.model_dump_json(by_alias=True))


Money = Decimal
"""An amount in its account's currency: a decimal string on the wire."""

IsoTimestamp = Annotated[datetime, PlainSerializer(datetime.isoformat, when_used="json")]
"""A timestamp written by ``datetime.isoformat`` (``+00:00``, not ``Z``), as history has it."""


class Answer(BaseModel):
    """A success body; the docstrings of its fields are their descriptions in the document."""

    model_config = ConfigDict(use_attribute_docstrings=True)


# ---- writes


class Recorded(Answer):
    """The account a fact was recorded on; a write's answer starts with it."""

    customer_id: str


class CustomerRegistered(c.RegisterCustomer, Answer):
    """The customer as registered, with the registration date the account has."""


class CreditOverride(Answer):
    """A sale the credit check refused, let through by a manager or an admin."""

    reasons: list[str]
    """Why the check refused it."""
    override_reason: str
    overridden_by: str | None
    """Who overrode it: ``key:<key_id>``."""


class InvoiceRecorded(c.IssueInvoice, Recorded):
    due_on: date
    """The due date: as given, or issued + the customer's payment terms."""
    open_amount: Money
    """What is still open of it, after any credit on the account was applied."""
    credit_override: CreditOverride | None = None
    """Set when the credit check refused the sale and a manager overrode it."""


class DeliveryRecorded(c.ConfirmDelivery, Recorded):
    pass


class AppliedAmount(Answer):
    invoice_id: str
    amount: Money


class PaymentRecorded(c.ReceivePayment, Recorded):
    applied: list[AppliedAmount]
    """How the payment was allocated to invoices."""
    unapplied: Money
    """What was left over: credit on the account."""
    recovered: list[AppliedAmount] = []
    """What it recovered of money written off before, per invoice (a recovery)."""
    stage: str = "none"
    """The account's stage once the payment is recorded: the account is decided again at
    once (a stage falls back when nothing undisputed is left open)."""
    supply_hold: bool = False
    """Whether supply is held once the payment is recorded: one that settles what caused
    a hold releases it in this request."""


class PaymentBounced(c.BouncePayment, Recorded):
    stage: str = "none"
    """The account's stage once the bounce is recorded."""
    supply_hold: bool = False
    """Whether supply is held once the bounce is recorded (held again at once when the
    money it reopens is what caused a hold)."""


class CreditNoteRecorded(c.IssueCreditNote, Recorded):
    stage: str = "none"
    """The account's stage once the credit note is recorded."""
    supply_hold: bool = False
    """Whether supply is held once the credit note is recorded."""


class DisputeRecorded(c.RaiseDispute, Recorded):
    stage: str = "none"
    """The account's stage once the dispute is recorded."""
    supply_hold: bool = False
    """Whether supply is held once the dispute is recorded (disputed money is not chased)."""


class DisputeResolved(c.ResolveDispute, Recorded):
    stage: str = "none"
    """The account's stage once the resolution is recorded."""
    supply_hold: bool = False
    """Whether supply is held once the resolution is recorded."""


class ContactRecorded(c.LogContact, Recorded):
    pass


class PromiseRecorded(c.MakePromise, Recorded):
    concerns: list[str] = []
    """What the policy's promise review flagged (e.g. a date beyond the maximum grace);
    empty for a promise it has nothing against."""


class PaymentPlanRecorded(c.AgreePaymentPlan, Recorded):
    pass


class AcknowledgmentRecorded(c.AcknowledgeDebt, Recorded):
    pass


class RiskSignalRecorded(c.ReportRiskSignal, Recorded):
    pass


class WriteOffRecorded(c.WriteOff, Recorded):
    stage: str = "none"
    """The account's stage once the write-off is recorded."""
    supply_hold: bool = False
    """Whether supply is held once the write-off is recorded."""


class DemandDeliveryRecorded(c.RecordDemandDelivery, Recorded):
    invoice_ids: list[str]
    """The invoices the demand is about: their limitation period starts again."""


class CycleFailure(Answer):
    """An account the cycle could not review; the others went on."""

    customer_id: str
    plugin: str
    hook: str
    error: str


class CycleRun(Answer):
    as_of: date
    accounts: int
    accounts_reviewed: int
    accounts_changed: int
    counts: dict[str, int]
    """How many of each action (message:notice, stage:warning, promise_broken…)."""
    failures: list[CycleFailure]


# ---- one account


class Risk(Answer):
    score: int
    grade: str
    signals: list[str]


class InvoiceLine(Answer):
    invoice_id: str
    amount: Money
    open_amount: Money
    due_on: date
    days_overdue: int
    disputed_amount: Money
    class_: str = Field(alias="class")
    """The receivable class on the day asked (the thresholds of ``[classes]``, whether or
    not a cycle ran): not_due, in_collection, doubtful, bad or dead (written off in full
    too). A settled invoice keeps the class of the day it was settled."""
    written_off: Money
    """What was written off (核销): what is still open keeps its class."""
    recovered: Money
    """What was received on the written-off part after the write-off."""
    interest: Money = Decimal(0)
    """Late interest (罚息) accrued through the view's day, not waived: beside the
    principal, never in ``open_amount``."""


class FeeShown(Answer):
    """A fee (催收费) charged as the account entered a step."""

    fee_id: str
    amount: Money
    stage: str
    charged_on: date
    waived: bool
    """Waived on or before the view's day."""
    waived_on: date | None
    settled: Money = Decimal(0)
    """Paid by payments under ``[interest] settle = "costs_interest_principal"``."""
    owed: Money = Decimal(0)
    """What is still owed of it on the view's day (zero once waived)."""


class CustomerContact(Answer):
    """A person at the customer (as registered or changed)."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="allow")
    name: str | None = None
    role: str | None = None
    email: str | None = None
    phone: str | None = None


class CustomerAddress(Answer):
    """Where letters go: ``line1`` (street and number, district included), ``line2``,
    ``city``, ``province``, ``postal_code``, ``country`` (ISO 3166, e.g. ``CN``)."""

    model_config = ConfigDict(use_attribute_docstrings=True, extra="allow")
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    province: str | None = None
    postal_code: str | None = None
    country: str | None = None


class TermsChange(Answer):
    effective_on: date
    """Invoices issued from this date get these terms."""
    days: int


class MasterData(Answer):
    """The customer's master data (客户资料), as registered or since changed."""

    collector: str | None
    payment_terms_days: int
    """The terms of an invoice issued on the answer's date (today, or ``as_of``)."""
    credit_limit: Money | None
    credit_grade: str | None
    timezone: str
    language: str
    tags: list[str]
    contacts: list[CustomerContact]
    address: CustomerAddress | None
    tax_id: str | None
    registered_on: date | None
    payment_terms_changes: list[TermsChange]
    """The payment terms set since registration, by the date they apply from."""


class CustomerHead(Answer):
    customer_id: str
    name: str
    currency: str


class CustomerChanged(MasterData, CustomerHead):
    """The master data after the change (pydantic puts a base's fields first: the
    customer, then the master data, then these)."""

    changed: list[str]
    """The fields this request changed; empty when it changed nothing (nothing recorded)."""
    effective_on: date
    """The business date the change counts from."""


class ListedCustomer(Answer):
    customer_id: str
    name: str
    currency: str
    collector: str | None
    outstanding: Money
    overdue: Money
    """Open and due before today."""
    stage: str
    class_: str = Field(alias="class")
    """The worst class of the open invoices."""
    risk_grade: str
    supply_hold: bool


class CustomerList(Answer):
    customers: list[ListedCustomer]
    next: str | None
    """The cursor of the next page (pass it as ``cursor``); null on the last page."""


class PauseShown(Answer):
    """A dunning stop (暂缓催收) not over yet."""

    pause_id: str
    reason: str
    from_on: date
    until_on: date | None
    """The last day it was set to hold (inclusive); None: until ended."""
    invoice_ids: list[str] | None
    """None: the whole account."""
    ended_on: date | None
    """Ended early on this day."""
    last_day: date | None
    """The last day it holds, as things stand; None: no end set."""
    active: bool
    """It holds on the view's date (false: it begins later)."""


class CaseShown(Answer):
    """A hand-off (移交) as a case."""

    handoff_id: str
    to: str
    """agency, lawyer, litigation, arbitration or internal_legal."""
    party: str | None
    status: str
    """handed_off, accepted, filed, hearing, judgment, enforcement, settled, closed or
    returned."""
    case_number: str | None
    handed_on: date
    filed_on: date | None
    recovered: Money
    """What the party reported recovered (the money itself comes in as payments)."""
    invoice_ids: list[str]
    reference: str | None
    returned_on: date | None
    updated_on: date | None
    last_note: str | None
    accepted_proposal: str | None
    """The hand-off review task whose proposal it accepted, if any."""


class GuaranteeShown(Answer):
    """A guarantee (担保) in the case file."""

    guarantee_id: str
    kind: str
    given_on: date
    guarantor: str
    amount: Money | None
    document_ref: str | None


class CostTotal(Answer):
    """Collection costs (催收成本) recorded, in one currency."""

    currency: str
    total: Decimal
    count: int


class AccountPosition(Answer):
    customer_id: str
    name: str
    currency: str
    outstanding: Money
    overdue: Money
    disputed: Money
    unapplied_credit: Money
    class_: str = Field(alias="class")
    """The worst class of the open invoices."""
    stage: str
    """The escalation stage: none, reminded, notice, warning, hold, lawyer_letter, handoff."""
    supply_hold: bool
    risk: Risk
    invoices: list[InvoiceLine]
    recovered: Money
    """Money received on written-off invoices after their write-off (recoveries)."""
    pauses: list[PauseShown] = []
    """Dunning stops holding on the view's date, or to begin later."""
    cases: list[CaseShown] = []
    """Every hand-off, returned ones too."""
    guarantees: list[GuaranteeShown] = []
    costs: list[CostTotal] = []
    """Collection costs, totalled per currency."""
    interest: Money = Decimal(0)
    """Late interest accrued through the view's day on every invoice, not waived
    (``[interest]``; day by day on the principal open each day)."""
    fees: Money = Decimal(0)
    """Fees charged by the view's day and not waived (``[[escalation.steps]] fee``)."""
    fees_detail: list[FeeShown] = []
    """Every fee charged by the view's day, waived ones too."""


class CustomerSummary(MasterData, AccountPosition):
    """What the customer owes (v1's fields first), then the master data."""


class HistoryEvent(Answer):
    version: int
    type: str
    occurred_on: date | None
    recorded_at: IsoTimestamp
    data: dict[str, Any]
    """The event's own fields, as stored."""
    recorded_by: str | None = None
    """Who recorded it: ``key:<key_id>``, ``user:<name>``, ``cycle``, ``dispatcher``,
    ``import`` or ``system``; null for an event recorded before huikuan kept it."""
    reason: str | None = None
    """The reason the request gave (``X-Reason``, or the fact's own ``reason``)."""


class CustomerHistory(Answer):
    customer_id: str
    events: list[HistoryEvent]
    balance_as_of: Money | None = None
    """Only with as_of: what was open at the end of that day (absent otherwise)."""

    @model_serializer(mode="wrap")
    def _absent_without_as_of(self, write: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # The key is left out, not null, when the request named no date.
        written: dict[str, Any] = write(self)
        if self.balance_as_of is None:
            written.pop("balance_as_of", None)
        return written


class CreditCheck(Answer):
    allowed: bool
    reasons: list[str]
    exposure: Money
    credit_limit: Money | None
    currency: str


# ---- the portfolio


class AgingTotal(Answer):
    currency: str
    current: Money
    days_1_30: Money = Field(alias="1-30")
    days_31_60: Money = Field(alias="31-60")
    days_61_90: Money = Field(alias="61-90")
    days_91_180: Money = Field(alias="91-180")
    days_181_365: Money = Field(alias="181-365")
    days_over_365: Money = Field(alias="365+")
    total: Money


class AgingKey(Answer):
    key: str
    """The customer, collector, currency or class the row is for."""


class AgingRow(AgingTotal, AgingKey):
    pass


class Aging(Answer):
    as_of: date
    group_by: str
    buckets: list[str]
    rows: list[AgingRow]
    totals: list[AgingTotal]


class WorkItem(Answer):
    customer_id: str
    priority: int
    reasons: list[str]
    suggested_action: str
    overdue: Money
    currency: str


class MessageSummary(Answer):
    message_id: str
    customer_id: str
    kind: str
    channel: str
    status: str
    created_on: date
    subject: str


class MessageDelivery(Answer):
    """Proof that the demand reached the debtor (``POST /messages/{id}/delivery``)."""

    delivered_on: date
    proof_ref: str | None
    method: str | None


class HandoffProposal(Answer):
    """The case a hand-off review task proposes: post it (with ``handed_on``, and a
    ``party``) to ``/customers/{id}/handoffs`` to accept it."""

    handoff_id: str
    to: str
    invoice_ids: list[str]
    """The task's invoices still open."""
    amount: Money
    """What is owed on them, undisputed, now."""
    currency: str
    message_id: str
    accepted_as: str | None
    """The hand-off that accepted it (None: not yet)."""


class Message(MessageSummary):
    body: str
    recipient: str | None
    attempts: int
    delivery: MessageDelivery | None = None
    """None until proof of delivery is recorded."""
    proposal: HandoffProposal | None = None
    """A hand-off review task's proposed case (absent for other messages)."""

    @model_serializer(mode="wrap")
    def _proposal_of_a_review_only(self, write: SerializerFunctionWrapHandler) -> dict[str, Any]:
        written: dict[str, Any] = write(self)
        if self.kind != "handoff_review":
            written.pop("proposal", None)
        return written


class KpiFigures(Answer):
    days: int
    ar_from: Money
    ar_to: Money
    credit_sales: Money
    not_due_ar_to: Money
    promises_kept: int
    promises_broken: int
    recovered: Money
    """Received in the period on money written off before (recoveries)."""


class CurrencyKpis(Answer):
    currency: str
    dso: Decimal | None
    best_possible_dso: Decimal | None
    add: Decimal | None
    cei: Decimal | None
    promise_kept_rate: Decimal | None
    recovered: Money
    """Money recovered in the period after a write-off."""
    figures: KpiFigures
    recovery_by_stage: dict[str, Money] = {}
    """Money received in the period (less bounces) by the escalation stage the account
    was at when it came: ``none``, ``reminded``, ``notice``, … ``handoff``."""
    collection_cost: Decimal | None = None
    """Collection costs recorded in the period ÷ the money received (null: none received)."""


class Kpis(Answer):
    from_: date = Field(alias="from")
    to: date
    currencies: list[CurrencyKpis]


class CollectorKpis(Answer):
    collector: str | None
    """null: accounts with no collector."""
    currency: str
    recovered: Money
    """Payments received in the period, less bounces, on accounts the collector had when
    each payment was recorded (a bounce counts against the payment it undoes)."""
    accounts: int
    """Accounts assigned to the collector now, in this currency."""
    contacts: int
    """Contacts logged in the period (by the collector a contact names, else the
    account's collector then)."""
    promises_made: int
    promises_kept: int
    promises_broken: int
    """Promises made in the period, and kept or broken in it (for whom they were made)."""
    cost: Money
    """Collection costs recorded in the period (in their own currency)."""
    cost_per_recovered: Decimal | None
    """cost ÷ recovered; null when nothing was recovered."""


class CollectorResults(Answer):
    from_: date = Field(alias="from")
    to: date
    collectors: list[CollectorKpis]


class Limitation(Answer):
    customer_id: str
    invoice_id: str
    open_amount: Money
    currency: str
    deadline: date
    """The last day a claim can be brought (诉讼时效届满日)."""
    expired: bool
    """The period ended before ``as_of``: the claim is still listed, never dropped."""


class FeedEvent(Answer):
    id: int
    """The event's position in the store: the cursor to page from."""
    customer_id: str | None
    type: str
    topic: str
    version: int
    occurred_on: date | None
    recorded_at: datetime | None
    data: dict[str, Any]
    recorded_by: str | None = None
    """Who recorded it (as in an account's history); null before huikuan kept it."""
    reason: str | None = None
    """The reason the request gave, if any."""


class EventFeed(Answer):
    events: list[FeedEvent]
    next: int
    """Pass it as after for the next page."""


class AuditFailureFound(Answer):
    customer_id: str | None
    originator_id: str
    version: int
    topic: str
    reason: str
    position: int


class AnchorVerification(Answer):
    ok: bool
    """False when an anchored aggregate lost events, is gone or was rewritten, or an
    anchor is missing or forged."""
    taken_at: str | None
    """When the latest anchor was taken (None: none yet)."""
    sequence: int
    signed: bool
    """Signed with the audit key (HMAC), not a plain digest."""


class AuditVerification(Answer):
    ok: bool
    anchor: AnchorVerification
    events_checked: int
    snapshots_checked: int
    heads_digest: str
    failures: int
    first_failure: AuditFailureFound | None


class Health(Answer):
    status: str


class StatementLineShown(Answer):
    on: date
    kind: str
    """invoice, payment, payment_bounced, credit_note, dispute_credited, write_off,
    recovery or charges_settled."""
    ref: str
    amount: Money
    """+ owed more, − owed less."""
    balance: Money


class OpenItemShown(Answer):
    invoice_id: str
    issued_on: date
    due_on: date
    amount: Money
    open_amount: Money
    disputed: Money
    days_overdue: int
    class_: str = Field(alias="class")
    interest: Money


class StatementShown(Answer):
    """A statement of account (对账单); as CSV, XLSX or PDF with ``format``."""

    customer_id: str
    customer_name: str
    currency: str
    from_on: date
    as_of: date
    opening_balance: Money
    lines: list[StatementLineShown]
    closing_balance: Money
    """What the customer owed at the end of ``as_of``: open invoices less unapplied
    credit."""
    open_items: list[OpenItemShown]
    unapplied_credit: Money
    interest: Money
    fees: Money

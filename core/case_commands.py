"""Commands of the case work: dunning stops, hand-offs and their updates, collection costs
and guarantees, validated before the account sees them (as :mod:`huikuan.core.commands`,
whose shapes they share; the field names are the public contract's).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from huikuan.core.commands import (
    Amount,
    BusinessDate,
    Command,
    Currency,
    Id,
    Name,
    Ref,
    Text,
    plain_text,
)
from huikuan.core.vocabulary import CostKind, GuaranteeKind, HandoffTo

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
                   AfterValidator(plain_text)]

UpdateStatus = Literal["accepted", "filed", "hearing", "judgment", "enforcement", "settled",
                       "closed", "returned"]
"""What an update may say of a case (every ``CaseStatus`` but the first, ``handed_off``)."""


class PauseDunning(Command):
    """A dunning stop (暂缓催收): no message and no step of the ladder for ``invoice_ids``
    (without them, the whole account) from ``from_on`` through ``until_on`` (inclusive;
    without it, until the stop is ended)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "pause_id": "PA-01",
                    "reason": "客户年度审计，财务承诺审计后付款",
                    "from_on": "2026-03-01",
                    "until_on": "2026-03-31",
                    "invoice_ids": ["INV-2026-0001"],
                }
            ]
        },
    )
    pause_id: Id
    reason: Reason
    from_on: BusinessDate
    until_on: BusinessDate | None = None
    invoice_ids: list[Id] | None = Field(default=None, min_length=1, max_length=1000)


class EndPause(Command):
    """A dunning stop ends early: from ``ended_on`` the ladder runs again."""

    pause_id: Id
    ended_on: BusinessDate


class HandOff(Command):
    """The claim on some invoices (without ``invoice_ids``, every invoice open on
    ``handed_on``) handed to a party (移交): the ladder leaves them to it."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "handoff_id": "H-01",
                    "to": "litigation",
                    "handed_on": "2026-06-01",
                    "party": "上海某某律师事务所",
                    "invoice_ids": ["INV-2026-0001"],
                    "reference": "委托合同 2026-17",
                    "filed_on": "2026-06-10",
                }
            ]
        },
    )
    handoff_id: Id
    to: HandoffTo
    handed_on: BusinessDate
    party: Name | None = None
    invoice_ids: list[Id] | None = Field(default=None, min_length=1, max_length=1000)
    reference: Ref | None = None
    filed_on: BusinessDate | None = None
    """The day the suit or arbitration was filed (litigation, arbitration, or a lawyer or
    the legal department going to court): the limitation period starts again."""
    message_id: Id | None = None
    """The hand-off review task whose proposal this accepts (``GET /messages/{id}``)."""


class UpdateHandoff(Command):
    """A case's progress."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "on": "2026-09-15",
                    "status": "judgment",
                    "note": "一审判决支持全部诉请",
                    "case_number": "(2026)沪0115民初12345号",
                    "recovered_amount": "5000.00",
                }
            ]
        },
    )
    handoff_id: Id
    on: BusinessDate
    status: UpdateStatus
    note: Text | None = None
    case_number: Ref | None = None
    recovered_amount: Amount | None = None
    """What the party reports recovered with this update (added up on the case);
    information only: the money comes in through ``POST …/payments``."""
    update_id: Id | None = None
    """The update's id (default: taken from its content, so a repeat records nothing)."""


class RecordCost(Command):
    """A collection cost (催收成本), in the currency it was paid in."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "cost_id": "CO-01",
                    "amount": "3000.00",
                    "currency": "CNY",
                    "incurred_on": "2026-06-12",
                    "kind": "court_fee",
                    "handoff_id": "H-01",
                    "note": "案件受理费",
                }
            ]
        },
    )
    cost_id: Id
    amount: Amount
    currency: Currency
    incurred_on: BusinessDate
    kind: CostKind
    handoff_id: Id | None = None
    note: Text | None = None


class RecordGuarantee(Command):
    """A guarantee (担保) in the case file."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "guarantee_id": "G-01",
                    "kind": "personal",
                    "given_on": "2026-04-02",
                    "guarantor": "张三（法定代表人）",
                    "amount": "50000.00",
                    "document_ref": "保证合同 BZ-2026-03",
                }
            ]
        },
    )
    guarantee_id: Id
    kind: GuaranteeKind
    given_on: BusinessDate
    guarantor: Name
    amount: Amount | None = None
    """Up to how much, in the account's currency (none: not limited)."""
    document_ref: Ref | None = None


class WaiveFee(Command):
    """A fee (催收费) waived: from ``waived_on`` it is no longer owed."""

    model_config = ConfigDict(
        extra="forbid", frozen=True,
        json_schema_extra={"examples": [{"fee_id": "notice-2026-02-05",
                                         "waived_on": "2026-02-20",
                                         "reason": "客户全额付款，免收催收费"}]},
    )
    fee_id: Id
    waived_on: BusinessDate
    reason: Reason | None = None


class WaiveInterest(Command):
    """Some of an invoice's late interest waived (减免利息), at most what is owed on
    ``waived_on``."""

    model_config = ConfigDict(
        extra="forbid", frozen=True,
        json_schema_extra={"examples": [{"waiver_id": "IW-01", "invoice_id": "INV-2026-0001",
                                         "amount": "120.00", "waived_on": "2026-03-01",
                                         "reason": "按期结清本金，减免利息"}]},
    )
    waiver_id: Id
    invoice_id: Id
    amount: Amount
    waived_on: BusinessDate
    reason: Reason | None = None


class IssueStatement(Command):
    """A statement of account (对账单) issued to the customer: its figures are recorded."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True,
        json_schema_extra={"examples": [{"statement_id": "ST-2026-12", "as_of": "2026-11-30",
                                         "from": "2026-06-01", "send": True}]},
    )
    statement_id: Id
    as_of: BusinessDate
    from_on: BusinessDate | None = Field(default=None, alias="from")
    """The first day of the period (default: the first day of the month eleven months
    before ``as_of``)."""
    send: bool = False
    """Also e-mail it to the customer, the PDF attached."""


class Difference(BaseModel):
    """A difference the customer states on the confirmation slip (part of a command)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    invoice_id: Id
    amount: Amount
    """The amount the customer contests on that invoice."""
    note: Text | None = None


class ConfirmStatement(Command):
    """The customer's signed, sealed confirmation (对账函) of a statement."""

    model_config = ConfigDict(
        extra="forbid", frozen=True,
        json_schema_extra={"examples": [{
            "statement_id": "ST-2026-12", "confirmed_on": "2026-12-10", "signed_by": "王芳",
            "document_ref": "对账函 DZH-2026-12",
            "differences": [{"invoice_id": "INV-2026-0007", "amount": "300.00",
                             "note": "货损，未扣"}]}]},
    )
    statement_id: Id
    confirmed_on: BusinessDate
    signed_by: Name
    document_ref: Ref | None = None
    differences: list[Difference] = Field(default_factory=list, max_length=1000)
